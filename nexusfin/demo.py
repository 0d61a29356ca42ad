"""`make demo`: generate a synthetic world and run every stage that exists on it.

Stages run on the embedded default: local Parquet files and one DuckDB file under ``--out``:
ingest and detection per day through Dagster, then the alerts and their evaluation against the
world's ground truth.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import date
from pathlib import Path

from rich.console import Console

# wide enough for the tables when output goes to a file or CI log (as the command line does)
console = Console(width=None if sys.stdout.isatty() else 120)


def _world_is_current(root: Path, wanted: dict) -> bool:
    manifest = root / "manifest.json"
    if not manifest.is_file():
        return False
    have = json.loads(manifest.read_text()).get("config", {})
    return all(str(have.get(k)) == str(v) for k, v in wanted.items())


def _show_detections(lake: Path, world: Path) -> None:
    """Alerts per rule, two example alerts with their evidence, and the evaluation table."""
    import polars as pl
    from rich.table import Table

    from nexusfin.cli import load_alerts, print_evaluation
    from nexusfin.detect.evaluate import evaluate

    alerts = load_alerts(lake)
    console.rule("[bold]3. detections: alerts with their evidence")
    table = Table(title=f"{alerts.height:,} alerts, per rule")
    for col in ("detector", "rule", "alerts", "accounts", "median strength", "total USD"):
        table.add_column(col, justify="left" if col in ("detector", "rule") else "right")
    per_rule = (
        alerts.group_by("detector", "rule")
        .agg(pl.len().alias("n"), pl.col("account_id").n_unique().alias("accounts"),
             pl.col("strength").median().alias("strength"), pl.col("total_usd").sum().alias("usd"))
        .sort("detector", "rule")
    )
    for det, rule, n, accts, strength, usd in per_rule.iter_rows():
        table.add_row(det, rule, f"{n:,}", f"{accts:,}", f"{strength:.2f}", f"{usd:,.0f}")
    console.print(table)
    # two examples: the strongest alert of the two families with the most alerts
    top = per_rule.group_by("detector").agg(pl.col("n").sum()).sort("n", "detector", descending=[True, False])
    for det in top.get_column("detector").head(2).to_list():
        a = alerts.filter(pl.col("detector") == det).sort("strength", "alert_id", descending=[True, False]).row(
            0, named=True)
        ids = a["evidence_txn_ids"]
        shown = ", ".join(ids[:8]) + (f", … ({len(ids)} in all)" if len(ids) > 8 else "")
        console.print(f"[bold]{a['alert_id']}[/] {a['rule']} on account {a['account_id']} (party {a['party_id']}), "
                      f"strength {a['strength']:.2f}, {a['start_ts']:%Y-%m-%d %H:%M} → {a['end_ts']:%Y-%m-%d %H:%M}")
        console.print(f"  {a['explanation']}")
        console.print(f"  evidence: {shown}")
        if a["path_accounts"]:
            console.print(f"  path: {' → '.join(a['path_accounts'])}")

    console.rule("[bold]4. evaluation against the ground truth")
    n_accounts = pl.scan_parquet(lake / "reference" / "accounts.parquet").select(pl.len()).collect().item()
    print_evaluation(evaluate(alerts, world / "truth", n_accounts=n_accounts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("var/demo"))
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2026-01-05")
    parser.add_argument("--defect-rate", type=float, default=0.002)
    args = parser.parse_args(argv)

    from nexusfin.cli import _print_generation
    from nexusfin.layout import DataRoot
    from synthetic import WorldConfig, generate

    world = args.out / "world"
    wanted = {"seed": args.seed, "n_accounts": args.accounts, "days": args.days, "start": args.start,
              "defect_rate": args.defect_rate}
    console.rule("[bold]1. synthetic world")
    if _world_is_current(world, wanted):
        console.print(f"reusing the world already generated in {world}")
        report = json.loads((world / "manifest.json").read_text())
    else:
        # a new world invalidates what was built from the old one
        for stale in (args.out / "lake", args.out / "warehouse.duckdb", args.out / "dagster_home"):
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
        cfg = WorldConfig(
            seed=args.seed,
            n_accounts=args.accounts,
            days=args.days,
            start=date.fromisoformat(args.start),
            defect_rate=args.defect_rate,
        )
        report = generate(cfg, world)
    _print_generation(report, world)

    console.rule("[bold]2. pipeline: landing → lake → warehouse → detections (Dagster, in-process)")
    import time

    from nexusfin.cli import print_run_summary
    from nexusfin.detect import warm_up
    from pipelines.runner import run_pipeline

    t0 = time.perf_counter()
    warm_up()  # compile (first time on a machine) or load the numba kernels once, before the first day
    console.print(f"detector kernels ready in {time.perf_counter() - t0:.1f} s")
    summary = run_pipeline(world, args.out / "lake", args.out / "warehouse.duckdb",
                           dagster_home=args.out / "dagster_home")
    print_run_summary(summary)

    if summary.days:
        _show_detections(args.out / "lake", world)

    root = DataRoot(world)
    console.rule("[bold]where the results are")
    console.print(f"landing files (one per day): {root.landing_transactions}")
    console.print(f"reference snapshots:         {root.reference}")
    console.print(f"ground truth (evaluation):   {root.truth}")
    console.print(f"Parquet lake:                {args.out / 'lake'}")
    console.print(f"detector alerts:             {args.out / 'lake' / 'detections'} "
                  "(warehouse view detector_alerts)")
    console.print(f"DuckDB warehouse:            {args.out / 'warehouse.duckdb'} (open read-only)")
    console.print(f"evaluation again:            nexusfin evaluate --truth {root.truth} --lake {args.out / 'lake'}")
    console.print("Dagster UI over these runs:  make dagster  → http://localhost:3000")
    return 0 if summary.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
