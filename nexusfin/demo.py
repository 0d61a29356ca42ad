"""`make demo`: generate a synthetic world and run every stage that exists on it.

Stages run on the embedded default: local Parquet files and one DuckDB file under ``--out``:
ingest, detection and features per day through Dagster; the first model trained on the SAR labels
of the first weeks and promoted through its gate; scores and the ranked alert queue per day; then
the detector alerts, the queue and their evaluation against the world's ground truth.

The demo world is short (4 weeks), so it scores with 7-day feature windows and a 5-day held-back
window (``--out``/scoring.yaml, written here); the packaged defaults use 14 and 7.
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

    console.rule("[bold]4. detector evaluation against the ground truth")
    n_accounts = pl.scan_parquet(lake / "reference" / "accounts.parquet").select(pl.len()).collect().item()
    print_evaluation(evaluate(alerts, world / "truth", n_accounts=n_accounts))


DEMO_SCORING = """# demo: a 4-week world, so shorter windows than the packaged defaults (14-day features, 7 held back)
features:
  window_days: 7
training:
  holdback_days: 5
  snapshot_stride_days: 1
"""


def _show_scoring(summary, lake: Path, world: Path, models: Path, train_last: date) -> None:
    """The model that was trained, the queue, two alerts with their reasons, and the queue's
    evaluation against the ground truth on the days after the training range."""
    import polars as pl

    from nexusfin.features import read_features
    from nexusfin.scoring.config import load_scoring_config
    from nexusfin.scoring.evaluate import evaluate_scores, load_truth_accounts
    from nexusfin.scoring.registry import Registry

    console.rule("[bold]5. model: trained on SAR labels, promoted through its gate")
    tr = summary.training
    reg = Registry(models)
    if tr is not None:
        console.print(f"training run: {'ok' if tr.success else 'FAILED'}; candidate {tr.version}; "
                      f"promoted: {tr.promoted}" + (f"; error: {tr.error}" if tr.error else ""))
    if not reg.has("champion"):
        console.print("[red]no champion model: scoring did not run[/]")
        return
    champ = reg.get("champion")
    m = champ.manifest
    console.print(f"champion {champ.version}: trained {m['train_range'][0]}..{m['train_range'][1]} "
                  f"({m['n_train']:,} rows, {m['n_train_positive']} SAR-labelled), held back "
                  f"{m['holdback_range'][0]}..{m['holdback_range'][1]}; threshold {m['threshold']:.4f} from a capacity "
                  f"of {load_scoring_config().queue.alerts_per_day} alerts/day; card {champ.path / 'card.md'}")
    console.print(f"promotion log: {reg.log_file} ({len(reg.log())} entries)")

    console.rule("[bold]6. the ranked alert queue (deduplicated against open alerts)")
    files = sorted((lake / "alerts").glob("date=*/part-0.parquet"))
    queue = pl.read_parquet([str(f) for f in files]) if files else pl.DataFrame()
    if queue.is_empty():
        console.print("no model alerts were queued")
        return
    console.print(f"{queue.height:,} alerts over {queue['as_of'].n_unique()} days "
                  f"({queue.height / max(queue['as_of'].n_unique(), 1):.1f}/day); "
                  f"{queue.filter(pl.col('facilitator_path_accounts').is_not_null()).height} with a money path to a "
                  f"facilitator, {int(queue['convergent'].sum())} crime-terror convergent")
    show = pl.concat([queue.filter(pl.col("facilitator_path_accounts").is_not_null()).sort("score", descending=True)
                      .head(1), queue.sort("score", descending=True).head(2)]).unique("alert_id", keep="first",
                                                                                  maintain_order=True).head(2)
    for a in show.iter_rows(named=True):
        console.print(f"[bold]{a['alert_id']}[/] {a['as_of']} account {a['account_id']} (party {a['party_id']})")
        console.print(f"  {a['explanation']}")

    console.rule("[bold]7. queue evaluation against the ground truth (days after the training range)")
    days = sorted(d for d in queue["as_of"].unique().to_list() if d > train_last)
    scores_files = [str(f) for d in days if (f := lake / "scores" / f"date={d}" / "part-0.parquet").is_file()]
    if not scores_files:
        console.print("no scored days after the training range")
        return
    scores = pl.read_parquet(scores_files)
    feats = read_features(lake, days).select("account_id", "as_of", "window_start")
    rows = feats.join(scores.select("account_id", "as_of", "score", "baseline_score"), on=["account_id", "as_of"])
    cfg = load_scoring_config()
    ev = evaluate_scores(rows, load_truth_accounts(world / "truth"), alerts_per_day=cfg.queue.alerts_per_day,
                         open_days=cfg.queue.open_days, threshold=champ.threshold)
    from nexusfin.cli_models import print_budget_tables

    print_budget_tables(ev, f"{days[0]}..{days[-1]}: {ev.n_suspicious_accounts} truly suspicious accounts active",
                        "recall per typology at the analyst budget", console)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("var/demo"))
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--train-days", type=int, default=21,
                        help="the first model trains on the first N days (the rest are scored as new days)")
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
    if args.train_days >= args.days:
        parser.error("--train-days must be fewer than --days (later days are scored as new)")
    console.rule("[bold]1. synthetic world")
    if _world_is_current(world, wanted):
        console.print(f"reusing the world already generated in {world}")
        report = json.loads((world / "manifest.json").read_text())
    else:
        # a new world invalidates what was built from the old one
        for stale in (args.out / "lake", args.out / "warehouse.duckdb", args.out / "dagster_home",
                      args.out / "models"):
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

    console.rule("[bold]2. pipeline: landing → lake → warehouse → detections → features → model → scores → alerts "
                 "(Dagster, in-process)")
    import time

    from nexusfin.cli import print_run_summary
    from nexusfin.detect import warm_up
    from pipelines.runner import run_pipeline

    t0 = time.perf_counter()
    warm_up()  # compile (first time on a machine) or load the numba kernels once, before the first day
    console.print(f"detector kernels ready in {time.perf_counter() - t0:.1f} s")
    import os
    from datetime import timedelta

    scoring_file = args.out / "scoring.yaml"
    scoring_file.write_text(DEMO_SCORING)
    os.environ.setdefault("NEXUSFIN_SCORING", str(scoring_file.resolve()))
    train_last = date.fromisoformat(args.start) + timedelta(days=args.train_days - 1)
    summary = run_pipeline(world, args.out / "lake", args.out / "warehouse.duckdb",
                           dagster_home=args.out / "dagster_home", models=args.out / "models", score=True,
                           train_last_day=train_last)
    print_run_summary(summary)

    if summary.days:
        _show_detections(args.out / "lake", world)
        _show_scoring(summary, args.out / "lake", world, args.out / "models", train_last)

    root = DataRoot(world)
    console.rule("[bold]where the results are")
    console.print(f"landing files (one per day): {root.landing_transactions}")
    console.print(f"reference snapshots:         {root.reference}")
    console.print(f"ground truth (evaluation):   {root.truth}")
    console.print(f"Parquet lake:                {args.out / 'lake'}")
    console.print(f"detector alerts:             {args.out / 'lake' / 'detections'} "
                  "(warehouse view detector_alerts)")
    console.print(f"features, scores, alerts:    {args.out / 'lake'}/features, scores, alerts "
                  "(warehouse views account_features, account_scores, alert_queue)")
    console.print(f"model registry:              {args.out / 'models'} (nexusfin models list)")
    console.print(f"DuckDB warehouse:            {args.out / 'warehouse.duckdb'} (open read-only)")
    console.print(f"evaluation again:            nexusfin evaluate --truth {root.truth} --lake {args.out / 'lake'}")
    console.print("Dagster UI over these runs:  make dagster  → http://localhost:3000")
    _show_review(args.out)
    return 0 if summary.success else 1


def _show_review(out: Path) -> None:
    """Demo users for the review app (random passwords, written beside its store, never in the
    repository) and how to open it."""
    import secrets

    from nexusfin.review.store import ReviewStore

    store = ReviewStore(out / "review" / "review.sqlite")
    creds = out / "review" / "demo-credentials.txt"
    if not store.users():
        lines = []
        for username, full_name, role in (("analyst", "Demo Analyst", "analyst"),
                                          ("supervisor", "Demo Supervisor", "supervisor")):
            password = secrets.token_urlsafe(12)
            store.add_user(username, full_name, role, password, actor="demo")
            lines.append(f"{username}\t{role}\t{password}")
        creds.write_text("\n".join(lines) + "\n")
        creds.chmod(0o600)
    console.rule("[bold]8. analyst review app")
    console.print("start it:    make review   (or: nexusfin review --warehouse "
                  f"{out / 'warehouse.duckdb'} --store {store.path})")
    console.print("then open:   http://127.0.0.1:8501")
    if creds.exists():
        console.print(f"sign in with a demo user from {creds}:")
        console.print(creds.read_text().rstrip(), markup=False, highlight=False)
    console.print("add users:   nexusfin review users add NAME --role analyst|supervisor")
    console.print("audit chain: nexusfin review verify-audit")


if __name__ == "__main__":
    raise SystemExit(main())
