"""The ``nexusfin`` command line.

Heavy imports (the generator, importers, dagster) happen inside the commands so that
``nexusfin --help`` stays instant.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help="nexusfin: suspicious-transaction analytics for crime-terror nexus finance.",
    no_args_is_help=True,
    add_completion=False,
)
# wide enough for the summary tables when output goes to a file or CI log
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 120)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Data root to write landing/ and truth/ into.")],
    days: Annotated[int, typer.Option(min=1, help="Number of UTC days to generate.")] = 14,
    accounts: Annotated[int, typer.Option(min=100, help="Number of customer accounts.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same world.")] = 7,
    fmt: Annotated[
        str, typer.Option("--format", help="Landing file format: parquet, csv or jsonl.")
    ] = "parquet",
    defect_rate: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share of malformed landing rows to inject.")
    ] = 0.0,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-01-05",
    config: Annotated[
        Path | None, typer.Option(help="Regulatory configuration YAML (thresholds).")
    ] = None,
) -> None:
    """Generate a synthetic world: SAR-like transaction streams with labeled typologies."""
    from nexusfin.settings import load_regulatory
    from synthetic import WorldConfig
    from synthetic import generate as run_generate

    if fmt not in ("parquet", "csv", "jsonl"):
        raise typer.BadParameter("choose parquet, csv or jsonl", param_hint="--format")
    cfg = WorldConfig(
        seed=seed,
        n_accounts=accounts,
        days=days,
        start=date.fromisoformat(start),
        fmt=fmt,
        defect_rate=defect_rate,
        regulatory=load_regulatory(config),
    )
    with _progress() as progress:
        task = progress.add_task("generating days", total=days)
        report = run_generate(cfg, out, progress=lambda done, total: progress.update(task, completed=done, total=total))
    _print_generation(report, out)


def _print_generation(report: dict, out: Path) -> None:
    console.print(
        f"[green]wrote[/] {report['n_transactions']:,} transactions, {report['n_accounts']:,} accounts "
        f"in {report.get('seconds', 0):.1f} s to [bold]{out}[/]"
    )
    typologies = report.get("typologies") or {}
    if typologies:
        table = Table(title="planted scenarios (ground truth)")
        for col in ("typology", "scenarios", "accounts", "transactions"):
            table.add_column(col, justify="left" if col == "typology" else "right")
        rows = sorted(typologies.items()) + [
            (f"hard negative: {k}", v) for k, v in sorted((report.get("hard_negatives") or {}).items())
        ]
        for name, row in rows:
            table.add_row(
                name, f"{row.get('scenarios', 0):,}", f"{row.get('accounts', 0):,}", f"{row.get('transactions', 0):,}"
            )
        console.print(table)
    if report.get("n_defects"):
        console.print(f"injected defects (labeled in truth/truth_defects.parquet): {report['n_defects']:,} "
                      f"{report.get('defects', {})}")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(exists=True, help="File or folder in the public layout.")],
    fmt: Annotated[str, typer.Option("--format", help="Source format (see --help for the list).")],
    out: Annotated[Path, typer.Option(help="Data root to write landing/ and truth/ into.")],
    errors: Annotated[
        str, typer.Option(help="raise: stop at the first bad row; skip: divert bad rows to OUT/rejected/ (counted).")
    ] = "raise",
) -> None:
    """Map a public data set (AMLworld, AMLSim, SAML-D, ethereum-etl + TagPack, OpenSanctions FtM,
    OFAC SDN) to nexusfin's contracts, keeping its labels as ground truth."""
    from nexusfin.importers import FORMATS, PublicFormatError, import_dataset

    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    if errors not in ("raise", "skip"):
        raise typer.BadParameter("choose raise or skip", param_hint="--errors")
    try:
        with _progress() as progress:
            task = progress.add_task(f"importing {fmt}", total=None)
            report = import_dataset(
                fmt, path, out, errors=errors,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except PublicFormatError as exc:
        err_console.print(f"[red]import failed:[/] {exc}")
        raise typer.Exit(2) from exc
    console.print_json(json.dumps(_jsonable(report)))


def _jsonable(obj: object) -> object:
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    return json.loads(json.dumps(obj, default=str))


@app.command()
def run(
    landing: Annotated[Path, typer.Option(help="Data root holding landing/ (as written by generate or import).")],
    lake: Annotated[Path, typer.Option(help="Folder of the Parquet lake.")],
    warehouse: Annotated[
        Path | None, typer.Option(help="DuckDB warehouse file (default: LAKE/../warehouse.duckdb).")
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    to: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD.")] = None,
    score: Annotated[bool, typer.Option(help="Also score the days and queue alerts (trains a first model when "
                                              "the registry has no champion).")] = False,
    models: Annotated[Path | None, typer.Option(help="Model registry (default: LAKE/../models).")] = None,
    train_until: Annotated[str | None, typer.Option(help="Last day a first model trains on, YYYY-MM-DD.")] = None,
) -> None:
    """Materialize the asset graph in-process through Dagster and print a summary."""
    # the library never imports dagster at module level: the code location is loaded only here
    from pipelines.runner import run_pipeline

    warehouse = warehouse or lake.parent / "warehouse.duckdb"
    with _progress() as progress:
        task = progress.add_task("ingest + detect days", total=None)
        summary = run_pipeline(
            landing, lake, warehouse,
            start=date.fromisoformat(from_) if from_ else None,
            end=date.fromisoformat(to) if to else None,
            on_day=lambda done, total: progress.update(task, completed=done, total=total),
            score=score, models=models, train_last_day=date.fromisoformat(train_until) if train_until else None,
        )
    print_run_summary(summary)
    if not summary.success:
        raise typer.Exit(1)


def print_run_summary(summary) -> None:
    if not summary.reference_ok:
        for name in summary.reference_checks_failed:
            err_console.print(f"[red]reference snapshot gate failed:[/] {name}")
        for message in summary.reference_errors:
            err_console.print(f"[red]reference snapshot failed:[/] {message}")
    elif not summary.days:
        err_console.print("[yellow]no landing files matched:[/] nothing to ingest "
                          "(expected landing/transactions/transactions_YYYY-MM-DD.<parquet|csv|jsonl>)")
    table = Table(title="pipeline run")
    for col in ("day", "rows read", "accepted", "quarantined", "alerts", "featured", "queued", "checks passed",
                "failed", "warned", "status"):
        table.add_column(col, justify="left" if col in ("day", "status") else "right")
    for d in summary.days:
        table.add_row(d.day, f"{d.rows_read:,}", f"{d.rows_accepted:,}", f"{d.rows_quarantined:,}",
                      f"{d.n_alerts:,}" if d.detected else "-",
                      f"{d.featured_accounts:,}" if d.featured_accounts else "-",
                      f"{d.queued:,}" if d.scored else "-",
                      str(d.checks_passed), str(len(d.checks_failed)), str(len(d.checks_warned)),
                      "[green]ok" if d.success else "[red]FAILED")
    console.print(table)
    totals = [sum(getattr(d, f) for d in summary.days) for f in ("rows_read", "rows_accepted", "rows_quarantined")]
    console.print(
        f"rows read {totals[0]:,} = accepted {totals[1]:,} + quarantined {totals[2]:,}; "
        f"days ok {sum(d.success for d in summary.days)}/{len(summary.days)}"
    )
    if any(d.detected for d in summary.days):
        by_family: dict[str, int] = {}
        for d in summary.days:
            for fam, n in d.alerts.items():
                by_family[fam] = by_family.get(fam, 0) + n
        console.print(f"alerts published {summary.n_alerts:,}: "
                      + ", ".join(f"{fam} {n:,}" for fam, n in by_family.items()))
    for d in summary.days:
        for name in d.checks_failed:
            err_console.print(f"[red]{d.day} blocking check failed:[/] {name}")
        for name in d.checks_warned:
            console.print(f"[yellow]{d.day} warning:[/] {name}")
        if d.error:
            err_console.print(f"[red]{d.day}:[/] {d.error}")
    tr = getattr(summary, "training", None)
    if tr is not None:
        line = (f"training: candidate {tr.version or '-'}, promoted {tr.promoted}"
                + (f", failed checks {tr.checks_failed}" if tr.checks_failed else "") + (f"; {tr.error}" if tr.error else ""))
        (console if tr.success else err_console).print(line)
    console.print(f"lake:      {summary.lake}\nwarehouse: {summary.warehouse}\ndagster:   {summary.dagster_home} (make dagster shows the runs)")


def load_alerts(lake: Path):
    """Every published detector alert in the lake (all families, all days)."""
    import polars as pl

    from nexusfin.detect import ALERTS

    files = sorted(Path(lake).glob("detections/family=*/date=*/part-0.parquet"))
    if not files:
        return ALERTS.empty()
    return pl.concat([ALERTS.conform(pl.read_parquet(f, hive_partitioning=False)) for f in files])


def _fmt(value: object, column: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if column in ("recall", "precision", "rate", "recall_any_rule"):
            return f"{value:.0%}" if value in (0.0, 1.0) else f"{value:.1%}"
        return f"{value:,.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if column == "rules" and not str(value).startswith("("):  # one rule a line: names never break
        return str(value).replace(", ", "\n")
    return str(value)


def _frame_table(df, title: str, columns: list[tuple[str, str]]) -> Table:
    """A rich table of the frame's columns that exist, in the given order (name, header)."""
    import polars as pl

    present = [(c, h) for c, h in columns if c in df.columns]
    rows = [[_fmt(row[c], c) for c, _ in present] for row in df.iter_rows(named=True)]
    table = Table(title=title)
    for i, (c, h) in enumerate(present):
        text = df.schema[c] == pl.String or c == "targeted"
        # text columns keep their longest line (a rule or typology name) whole, up to 30 characters
        widest = max((len(line) for r in rows for line in r[i].splitlines()), default=0)
        table.add_column(h, justify="left" if text else "right", overflow="fold",
                         min_width=min(widest, 30) if text else None)
    for r in rows:
        table.add_row(*r)
    return table


def print_evaluation(ev, out: Console | None = None) -> None:
    """The evaluation tables: per typology, per rule, and per hard-negative population."""
    out = out or console
    out.print(_frame_table(ev.typologies, "detection vs ground truth, per typology", [
        ("typology", "typology"), ("scenarios", "scenarios"), ("detected", "detected"), ("recall", "recall"),
        ("alerts", "alerts"), ("precision", "precision"), ("recall_any_rule", "any rule"),
        ("rules", "rules"),
    ]))
    out.print("recall: scenarios with an alert of the typology's own rules; any rule: of any rule; precision: "
              "share of those rules' alerts that touch a suspicious scenario", style="dim")
    out.print(_frame_table(ev.rules, "precision per rule", [
        ("rule", "rule"), ("alerts", "alerts"), ("true_alerts", "true alerts"), ("precision", "precision"),
    ]))
    out.print(_frame_table(ev.hard_negatives, "alert rate on hard-negative populations (legitimate look-alikes)", [
        ("kind", "population"), ("accounts", "accounts"), ("alerted", "alerted"), ("rate", "alert rate"),
        ("rules", "rules that fired"),
    ]))
    out.print(f"{ev.n_alerts:,} alerts over {ev.days} day(s)"
              + (f", {ev.n_accounts:,} accounts" if ev.n_accounts else ""))


def evaluation_json(ev) -> dict:
    return {
        "n_alerts": ev.n_alerts, "n_accounts": ev.n_accounts, "days": ev.days,
        "typologies": ev.typologies.to_dicts(), "rules": ev.rules.to_dicts(),
        "hard_negatives": ev.hard_negatives.to_dicts(),
    }


@app.command()
def evaluate(
    truth: Annotated[
        Path | None, typer.Option(help="Ground truth: a data root or its truth/ folder (detector protocol).")
    ] = None,
    lake: Annotated[
        Path | None, typer.Option(help="Parquet lake holding detections/ (default: NEXUSFIN_LAKE or var/demo/lake).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the evaluation as JSON.")] = None,
    protocol: Annotated[
        str, typer.Option(help="detector: detector alerts vs truth (default); amlworld: train and test a "
                               "transaction classifier, temporal 60/20/20 split, minority-class F1.")
    ] = "detector",
    data: Annotated[
        Path | None, typer.Option(help="amlworld protocol: data root written by nexusfin import (with truth/).")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="amlworld protocol: split (graph of each split, as published) or causal.")
    ] = "split",
) -> None:
    """Compare the lake's detector alerts (every family, every day) with ground truth: recall and
    precision per typology, precision per rule, alert rate on the hard-negative populations.
    With --protocol amlworld: the published AMLworld protocol on --data (see docs/amlworld.md)."""
    import polars as pl

    from nexusfin.detect.evaluate import evaluate as run_evaluate

    if protocol == "amlworld":
        _evaluate_amlworld(data, json_out, mode)
        return
    if protocol != "detector":
        raise typer.BadParameter("choose detector or amlworld", param_hint="--protocol")
    if truth is None:
        raise typer.BadParameter("--truth is required (detector protocol)", param_hint="--truth")
    lake = lake or Path(os.environ.get("NEXUSFIN_LAKE", "var/demo/lake"))
    truth_dir = truth if truth.name == "truth" else truth / "truth"
    if not truth_dir.is_dir():
        err_console.print(f"[red]no ground truth at {truth_dir}[/]")
        raise typer.Exit(2)
    if not (lake / "detections").is_dir():
        err_console.print(f"[red]no detections folder under {lake}:[/] wrong --lake, or the pipeline has not run "
                          "(nexusfin run)")
        raise typer.Exit(2)
    alerts = load_alerts(lake)
    if alerts.is_empty():
        err_console.print(f"[yellow]no detector alerts under {lake / 'detections'}:[/] run the pipeline first "
                          "(nexusfin run); every typology shows recall 0")
    accounts = lake / "reference" / "accounts.parquet"
    n_accounts = pl.scan_parquet(accounts).select(pl.len()).collect().item() if accounts.is_file() else None
    try:
        ev = run_evaluate(alerts, truth, n_accounts=n_accounts)
    except FileNotFoundError as exc:
        err_console.print(f"[red]evaluation failed:[/] {exc}")
        raise typer.Exit(2) from exc
    print_evaluation(ev)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(evaluation_json(ev), indent=2, default=str) + "\n")
        console.print(f"evaluation written to {json_out}")


def _evaluate_amlworld(data: Path | None, json_out: Path | None, mode: str) -> None:
    from nexusfin.txnmodel import DataError, evaluate
    from nexusfin.txnmodel.report import caveat, print_result

    if data is None:
        raise typer.BadParameter("--data is required with --protocol amlworld", param_hint="--data")
    if mode not in ("split", "causal"):
        raise typer.BadParameter("choose split or causal", param_hint="--mode")
    try:
        with console.status("amlworld protocol: features, fit, threshold, test"):
            result = evaluate(data, mode=mode, progress=lambda msg: console.log(msg))
    except (DataError, ValueError) as exc:
        err_console.print(f"[red]evaluation failed:[/] {exc}")
        raise typer.Exit(2) from exc
    print_result(result, console, data)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"protocol": "amlworld", **result.to_json(), "caveat": caveat(data)}
        json_out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        console.print(f"evaluation written to {json_out}")


@app.command()
def schemas(
    table: Annotated[str | None, typer.Argument(help="One table; all when omitted.")] = None,
) -> None:
    """Print the data contracts from schemas/ (columns, types, constraints, descriptions)."""
    from nexusfin.contracts import describe

    console.print(describe([table] if table else None), markup=False, highlight=False)


def _register_subcommands() -> None:
    from nexusfin.cli_models import app as models_app

    app.add_typer(models_app, name="models")
    from nexusfin.cli_review import app as review_app

    app.add_typer(review_app, name="review")


_register_subcommands()

if __name__ == "__main__":
    app()
