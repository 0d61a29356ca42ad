"""Benchmark: generate ~10 million transactions in a fresh process; report seconds,
transactions/s and peak RSS; write var/bench/generate.json.

    python -m bench.bench_generate [--accounts 1000000] [--days 30] [--fmt parquet]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 30.0
TARGET_RSS_GB = 4.0
DEFAULT_OUT = "var/bench/generate.json"


def _run(accounts: int, days: int, fmt: str, seed: int, q) -> None:
    from synthetic import WorldConfig, generate

    with tempfile.TemporaryDirectory(prefix="nexusfin-bench-") as tmp:
        t0 = time.perf_counter()
        rep = generate(WorldConfig(seed=seed, n_accounts=accounts, days=days, fmt=fmt), tmp)
        secs = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    q.put(
        {
            "seconds": secs,
            "n_transactions": rep["n_transactions"],
            "n_accounts": rep["n_accounts"],
            "peak_rss_gb": rss_kb / 1024**2,
            "bytes_written": size,
        }
    )


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--fmt", default="parquet")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    ctx = mp.get_context("spawn")  # a fresh interpreter: RSS is the generator's alone
    q = ctx.Queue()
    p = ctx.Process(target=_run, args=(args.accounts, args.days, args.fmt, args.seed, q))
    p.start()
    res = q.get()
    p.join()
    res.update(
        {
            "accounts": args.accounts,
            "days": args.days,
            "fmt": args.fmt,
            "seed": args.seed,
            "transactions_per_second": res["n_transactions"] / res["seconds"],
            "target_seconds": TARGET_SECONDS,
            "target_peak_rss_gb": TARGET_RSS_GB,
        }
    )
    res["ok"] = bool(
        res["n_transactions"] >= 10_000_000
        and res["seconds"] < TARGET_SECONDS
        and res["peak_rss_gb"] < TARGET_RSS_GB
    )
    res["title"] = "Synthetic generator: 10M transactions"
    res["rows"] = [
        {
            "transactions": res["n_transactions"],
            "accounts": res["n_accounts"],
            "days": args.days,
            "format": args.fmt,
            "seconds": round(res["seconds"], 2),
            "transactions/s": round(res["transactions_per_second"]),
            "peak RSS GB": round(res["peak_rss_gb"], 2),
            "ok": res["ok"],
        }
    ]
    res["notes"] = [
        f"targets: >= 10M transactions in < {TARGET_SECONDS:g} s and < {TARGET_RSS_GB:g} GB peak RSS",
        "fresh spawned process; world, plan, every day file, labels, truth and SARs included",
    ]
    if args.out == DEFAULT_OUT:
        from bench._harness import write_result

        out = write_result("generate", res)
    else:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=2))
    rows = [
        ("transactions", f"{res['n_transactions']:,}"),
        ("accounts", f"{res['n_accounts']:,}"),
        ("days", str(args.days)),
        ("seconds", f"{res['seconds']:.2f} (target < {TARGET_SECONDS:g})"),
        ("transactions/s", f"{res['transactions_per_second']:,.0f}"),
        ("peak RSS", f"{res['peak_rss_gb']:.2f} GB (target < {TARGET_RSS_GB:g})"),
        ("written", f"{res['bytes_written'] / 1e9:.2f} GB"),
        ("verdict", "PASS" if res["ok"] else "FAIL"),
    ]
    w = max(len(k) for k, _ in rows)
    print("generate benchmark")
    for k, v in rows:
        print(f"  {k:<{w}}  {v}")
    print(f"  -> {out}")
    return res


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
