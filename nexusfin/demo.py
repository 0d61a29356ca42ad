"""`make demo`: generate a synthetic world and run every stage that exists on it.

Stages run on the embedded default: local Parquet files and one DuckDB file under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import date
from pathlib import Path

from rich.console import Console

console = Console()


def _world_is_current(root: Path, wanted: dict) -> bool:
    manifest = root / "manifest.json"
    if not manifest.is_file():
        return False
    have = json.loads(manifest.read_text()).get("config", {})
    return all(str(have.get(k)) == str(v) for k, v in wanted.items())


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

    console.rule("[bold]2. pipeline: landing → lake → warehouse (Dagster, in-process)")
    from nexusfin.cli import print_run_summary
    from pipelines.runner import run_pipeline

    summary = run_pipeline(world, args.out / "lake", args.out / "warehouse.duckdb",
                           dagster_home=args.out / "dagster_home")
    print_run_summary(summary)

    root = DataRoot(world)
    console.rule("[bold]where the results are")
    console.print(f"landing files (one per day): {root.landing_transactions}")
    console.print(f"reference snapshots:         {root.reference}")
    console.print(f"ground truth (evaluation):   {root.truth}")
    console.print(f"Parquet lake:                {args.out / 'lake'}")
    console.print(f"DuckDB warehouse:            {args.out / 'warehouse.duckdb'} (open read-only)")
    console.print("Dagster UI over these runs:  make dagster  → http://localhost:3000")
    return 0 if summary.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
