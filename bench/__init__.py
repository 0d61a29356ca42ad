"""Benchmarks: `make bench` (python -m bench) runs every bench_*.py in a fresh process."""
