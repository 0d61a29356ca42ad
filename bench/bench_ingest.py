"""Ingest + gates for one 10-million-transaction day (issue: pipeline scale target < 30 s, < 6 GB).

Phase 1 (its own process) writes a landing day of N rows against 1M accounts, with a small share
of defective rows; phase 2 (a fresh process, so peak memory is the gate's alone) times:
read + row-level validation + atomic lake/quarantine writes (``ingest_file``), the every-row
contract check of the accepted partition, and the GX suite (sampled; the metadata says so).

    python -m bench.bench_ingest [--rows 10000000] [--accounts 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

DAY = date(2026, 1, 5)


def prepare(folder: Path, rows: int, n_accounts: int, defect_share: float, seed: int = 0) -> None:
    from nexusfin.contracts import contract

    rng = np.random.default_rng(seed)
    n_wallets = n_accounts // 20
    acct_ids = pl.Series("account_id", np.arange(n_accounts)).cast(pl.String).str.zfill(8)
    acct_ids = "A" + acct_ids
    wallet = np.zeros(n_accounts, dtype=bool)
    wallet[-n_wallets:] = True
    accounts = pl.DataFrame({
        "account_id": acct_ids,
        "account_type": np.where(wallet, "wallet", "checking"),
        "wallet": wallet,
    }).select("account_id", "account_type",
              pl.when(pl.col("wallet")).then(pl.lit("ethereum")).otherwise(None).alias("chain"))
    accounts.write_parquet(folder / "accounts.parquet")

    channel = rng.choice(np.array(["card", "ach", "wire", "cash", "crypto", "internal"]), size=rows,
                         p=[0.45, 0.2, 0.1, 0.15, 0.05, 0.05])
    is_cash, is_crypto = channel == "cash", channel == "crypto"
    src = rng.integers(0, n_accounts - n_wallets, rows)
    dst = rng.integers(0, n_accounts - n_wallets, rows)
    src[is_crypto] = rng.integers(n_accounts - n_wallets, n_accounts, is_crypto.sum())
    dst[is_crypto] = rng.integers(n_accounts - n_wallets, n_accounts, is_crypto.sum())
    deposit = is_cash & (rng.random(rows) < 0.7)
    withdrawal = is_cash & ~deposit
    amount = np.round(rng.lognormal(4.5, 1.3, rows), 2) + 0.01
    ts = datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1e6 + np.sort(rng.integers(0, 86_400_000_000, rows))
    df = pl.DataFrame({
        "txn_id": pl.Series(np.arange(rows)).cast(pl.String),
        "ts": pl.Series(ts.astype(np.int64)).cast(pl.Datetime("us", "UTC")),
        "src_account": acct_ids.gather(src),
        "dst_account": acct_ids.gather(dst),
        "amount": amount,
        "currency": np.where(is_crypto, "ETH", "USD"),
        "amount_usd": amount,
        "channel": channel,
        "txn_type": np.where(deposit, "deposit", np.where(withdrawal, "withdrawal", np.where(is_crypto, "transfer", "payment"))),
        "src_country": "US",
        "dst_country": "US",
        "_cash": is_cash,
        "_crypto": is_crypto,
        "_deposit": deposit,
        "_withdrawal": withdrawal,
    }).with_columns(
        ("T" + pl.col("txn_id").str.zfill(9)).alias("txn_id"),
        pl.when(pl.col("_deposit")).then(None).otherwise(pl.col("src_account")).alias("src_account"),
        pl.when(pl.col("_withdrawal")).then(None).otherwise(pl.col("dst_account")).alias("dst_account"),
        pl.when(pl.col("_cash")).then(pl.lit("US-TX-78040:B03-BR0042")).otherwise(None).alias("location"),
        pl.lit(None, dtype=pl.String).alias("conducted_by"),
        pl.when(pl.col("_crypto")).then(pl.lit("ethereum")).otherwise(None).alias("chain"),
        pl.lit(None, dtype=pl.String).alias("tx_hash"),
        pl.lit(None, dtype=pl.String).alias("memo"),
    ).drop("_cash", "_crypto", "_deposit", "_withdrawal")
    # defects: unknown currency, negative amount, orphan account, in equal shares
    n_bad = int(rows * defect_share)
    bad = rng.choice(rows, size=n_bad, replace=False)
    kinds = np.arange(n_bad) % 3
    idx = pl.Series("i", np.arange(rows))
    df = df.with_columns(
        pl.when(idx.is_in(pl.Series(bad[kinds == 0]).implode())).then(pl.lit("ZZZ")).otherwise("currency").alias("currency"),
        pl.when(idx.is_in(pl.Series(bad[kinds == 1]).implode())).then(-pl.col("amount")).otherwise("amount").alias("amount"),
        pl.when(idx.is_in(pl.Series(bad[kinds == 2]).implode()) & pl.col("dst_account").is_not_null())
        .then(pl.lit("GHOST")).otherwise("dst_account").alias("dst_account"),
    )
    contract("transactions").write(df, folder / "landing" / f"transactions_{DAY.isoformat()}.parquet",
                                   enforce_nullability=False)


def measure(folder: Path, gx_sample: int) -> dict:
    from bench._harness import peak_rss_mb
    from nexusfin.contracts import contract
    from nexusfin.lake.ingest import ingest_file
    from nexusfin.quality.gx_suites import transactions_suite, validate

    t0 = time.perf_counter()
    accounts = pl.read_parquet(folder / "accounts.parquet")
    path = folder / "landing" / f"transactions_{DAY.isoformat()}.parquet"
    t_read0 = time.perf_counter()
    pl.read_parquet(path)
    t_read = time.perf_counter() - t_read0
    t1 = time.perf_counter()
    report = ingest_file(path, folder / "lake", day=DAY, accounts=accounts, now=datetime(2026, 2, 1, tzinfo=UTC))
    t_ingest = time.perf_counter() - t1
    t2 = time.perf_counter()
    accepted = pl.read_parquet(report.lake_file)
    violations = contract("lake_transactions").violations(accepted)
    t_contract = time.perf_counter() - t2
    t3 = time.perf_counter()
    outcome = validate(accepted, transactions_suite(max_amount_usd=1e9, ctr_threshold_usd=10_000.0),
                       suite="transactions", id_column="txn_id", sample_rows=gx_sample)
    t_gx = time.perf_counter() - t3
    total = time.perf_counter() - t0
    return {
        "rows": report.rows_read, "accepted": report.rows_accepted, "quarantined": report.rows_quarantined,
        "reconciles": report.reconciles, "contract_violations": violations,
        "gx_rows_validated": outcome.rows_validated, "gx_critical_passed": outcome.passed("critical"),
        "seconds_read_parquet_only": t_read, "seconds_ingest": t_ingest, "seconds_contract_check": t_contract,
        "seconds_gx": t_gx, "seconds_total": total, "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--defect-share", type=float, default=0.001)
    parser.add_argument("--gx-sample", type=int, default=250_000)
    parser.add_argument("--phase", choices=["all", "prepare", "measure"], default="all")
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args(argv)
    if args.phase == "prepare":
        prepare(args.dir, args.rows, args.accounts, args.defect_share)
        return 0
    if args.phase == "measure":
        print(json.dumps(measure(args.dir, args.gx_sample)))
        return 0

    from bench._harness import write_result

    with tempfile.TemporaryDirectory(prefix="nexusfin-bench-ingest-") as tmp:
        base = [sys.executable, "-m", "bench.bench_ingest", "--dir", tmp, "--rows", str(args.rows),
                "--accounts", str(args.accounts), "--defect-share", str(args.defect_share),
                "--gx-sample", str(args.gx_sample)]
        subprocess.run([*base, "--phase", "prepare"], check=True)
        out = subprocess.run([*base, "--phase", "measure"], check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
    rows = result["rows"]
    table = [
        {"phase": "read the day's Parquet (reference)", "seconds": result["seconds_read_parquet_only"]},
        {"phase": "ingest: read + every-row rules + quarantine + atomic writes", "seconds": result["seconds_ingest"]},
        {"phase": "every-row contract check of the accepted partition", "seconds": result["seconds_contract_check"]},
        {"phase": f"GX suite on a {result['gx_rows_validated']:,}-row sample (incl. import)", "seconds": result["seconds_gx"]},
        {"phase": "total (one fresh process)", "seconds": result["seconds_total"]},
    ]
    notes = [
        f"{rows:,} rows in one day against {args.accounts:,} accounts; {result['quarantined']:,} quarantined, "
        f"{result['accepted']:,} accepted; reconciles: {result['reconciles']}",
        f"throughput {rows / result['seconds_total']:,.0f} rows/s end to end; peak RSS {result['peak_rss_mb']:,.0f} MB",
        "targets: < 30 s and < 6 GB for a 10M-row day",
    ]
    write_result("ingest", {"title": "Ingest + quality gates, one 10M-transaction day", "rows": table,
                            "notes": notes, "raw": result})
    for r in table:
        print(f"{r['phase']:<70} {r['seconds']:8.2f} s")
    for n in notes:
        print(n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
