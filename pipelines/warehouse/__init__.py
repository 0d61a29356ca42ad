"""The DuckDB warehouse: views over the lake, reference tables."""
