"""`nexusfin models ...`: the model registry and model evaluation from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="The scoring model registry: list, show, promote through the gate, evaluate on a world.",
                  no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _models(models: Path | None) -> Path:
    return models or Path(os.environ.get("NEXUSFIN_MODELS", "var/demo/models"))


ModelsOpt = Annotated[Path | None, typer.Option(help="Registry folder (default NEXUSFIN_MODELS or var/demo/models).")]


@app.command("list")
def list_(models: ModelsOpt = None) -> None:
    """Every registered version with its aliases, training range and held-back metrics."""
    from nexusfin.scoring.registry import Registry

    reg = Registry(_models(models))
    aliases = reg.aliases()
    t = Table(title=f"models in {reg.root}")
    for c in ("version", "alias", "trained on", "held back", "threshold", "PR-AUC", "recall@budget", "note"):
        t.add_column(c)
    for v in reg.versions():
        m = reg.get(v).manifest
        hm = m.get("holdback_metrics", {})
        t.add_row(v, ",".join(a for a, x in aliases.items() if x == v), "..".join(m["train_range"]),
                  "..".join(m["holdback_range"]), f"{m['threshold']:.4f}", f"{hm.get('pr_auc', float('nan')):.3f}",
                  f"{hm.get('recall_at_budget', float('nan')):.3f}", m.get("note", ""))
    console.print(t)
    console.print(f"promotion log: {reg.log_file} ({len(reg.log())} entries)")


@app.command()
def show(version: Annotated[str, typer.Argument(help="A version, or champion / candidate.")],
         models: ModelsOpt = None) -> None:
    """Print a version's model card."""
    from nexusfin.scoring.registry import Registry, RegistryError

    try:
        mv = Registry(_models(models)).get(version)
    except RegistryError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    console.print((mv.path / "card.md").read_text(), markup=False, highlight=False)


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="A registered version (e.g. one registered from a notebook).")],
    landing: Annotated[Path, typer.Option(help="Data root the pipeline reads (for the reference snapshots).")] = Path(
        "var/demo/world"),
    lake: Annotated[Path, typer.Option(help="Parquet lake holding features/.")] = Path("var/demo/lake"),
    models: ModelsOpt = None,
) -> None:
    """Put a registered version through the promotion gate (Dagster training_job): it becomes champion
    only if it is not worse than the champion on its held-back window."""
    from pipelines.resources import DetectorSettings, NexusfinStorage, ScoringSettings
    from pipelines.runner import _instance, run_training

    storage = NexusfinStorage(data_root=str(landing), lake=str(lake), warehouse=str(lake.parent / "warehouse.duckdb"))
    res = {"storage": storage, "detectors": DetectorSettings(), "scoring": ScoringSettings(models=str(_models(models)))}
    out = run_training(res, _instance(lake.parent / "dagster_home"), candidate_version=version,
                       note="nexusfin models promote")
    if out.promoted:
        console.print(f"[green]{version} is the champion[/]")
        return
    err_console.print(f"[red]{version} not promoted:[/] {out.error or out.checks_failed}")
    raise typer.Exit(1)


@app.command()
def evaluate(
    world: Annotated[Path, typer.Option(help="A generated world (data root with landing/ and truth/).")],
    test_days: Annotated[int, typer.Option(help="Latest days scored as unseen; the earlier ones train.")] = 14,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the evaluation as JSON.")] = None,
) -> None:
    """Train on a world's SAR labels (temporal split) and evaluate its test days against the ground
    truth: PR-AUC, precision and recall at the analyst budget, recall per typology, next to a
    baseline of detector alerts alone."""
    from nexusfin.scoring.backtest import evaluate_world, world_features
    from nexusfin.scoring.config import load_scoring_config

    cfg = load_scoring_config()
    wf = world_features(world, cfg)
    ev = evaluate_world(wf, world, cfg, test_days)
    print_score_evaluation(ev)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(score_evaluation_json(ev), indent=2, default=str) + "\n")
        console.print(f"evaluation written to {json_out}")


def score_evaluation_json(ev) -> dict:
    e = ev.evaluation
    return {"train_range": [str(d) for d in ev.model.train_range], "holdback_range": [str(d) for d in ev.model.holdback_range],
            "test_days": [str(e.days[0]), str(e.days[1])], "threshold": ev.model.threshold,
            "n_rows": e.n_rows, "n_positive_rows": e.n_positive_rows, "suspicious_accounts": e.n_suspicious_accounts,
            "summary": e.summary.to_dicts(), "typologies": e.typologies.to_dicts()}


def print_score_evaluation(ev) -> None:
    e, m = ev.evaluation, ev.model
    console.print(f"trained {m.train_range[0]}..{m.train_range[1]} ({m.n_train:,} rows, {m.n_train_positive} "
                  f"SAR-labelled), held back {m.holdback_range[0]}..{m.holdback_range[1]}, threshold {m.threshold:.4f}; "
                  f"test {e.days[0]}..{e.days[1]}: {e.n_rows:,} account-days, {e.n_suspicious_accounts} truly "
                  "suspicious accounts")
    print_budget_tables(e, "at the analyst budget (queue replayed day by day)", "recall per typology")


def print_budget_tables(e, title: str, typology_title: str, out: Console | None = None) -> None:
    """The queue evaluation at the analyst budget (nexusfin.scoring.evaluate): model vs detector
    alerts, then recall per typology."""
    out = out or console
    t = Table(title=title)
    for c in ("method", "alerts", "alerts/day", "precision", "recall", "PR-AUC"):
        t.add_column(c, justify="left" if c == "method" else "right")
    for r in e.summary.iter_rows(named=True):
        t.add_row(r["method"], f"{r['alerts']}", f"{r['alerts_per_day']:.1f}", f"{r['precision']:.3f}",
                  f"{r['recall']:.3f}", f"{r['pr_auc']:.3f}")
    out.print(t)
    t = Table(title=typology_title)
    for c in ("typology", "accounts", "model", "detector alerts only"):
        t.add_column(c, justify="left" if c == "typology" else "right")
    for r in e.typologies.iter_rows(named=True):
        t.add_row(r["typology"], f"{r['accounts']}", f"{r['recall_model']:.2f}", f"{r['recall_baseline']:.2f}")
    out.print(t)
