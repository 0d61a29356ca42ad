"""Retrain the account risk model, compare it with the champion, inspect its errors by typology
and register it as a candidate.

Run it interactively with ``marimo edit notebooks/retrain_model.py`` or headless with
``python notebooks/retrain_model.py``. Where it reads and writes comes from the environment, as
for the pipeline: NEXUSFIN_WAREHOUSE (opened read-only), NEXUSFIN_LAKE, NEXUSFIN_MODELS,
NEXUSFIN_DATA_ROOT (for the ground truth of a generated world, when there is one) and
NEXUSFIN_SCORING. Promotion is not done here: the Dagster ``training_job`` (or
``nexusfin models promote``) puts the registered candidate through the blocking gate.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os
    from pathlib import Path

    import marimo as mo
    import polars as pl

    from nexusfin.scoring.config import load_scoring_config

    warehouse = Path(os.environ.get("NEXUSFIN_WAREHOUSE", "var/demo/warehouse.duckdb"))
    lake = Path(os.environ.get("NEXUSFIN_LAKE", "var/demo/lake"))
    models = Path(os.environ.get("NEXUSFIN_MODELS", "var/demo/models"))
    data_root = Path(os.environ.get("NEXUSFIN_DATA_ROOT", "var/demo/world"))
    config = load_scoring_config()
    mo.md(f"Warehouse `{warehouse}` (read-only), lake `{lake}`, registry `{models}`; "
          f"scoring configuration {config.source} ({config.fingerprint}).")
    return Path, config, data_root, lake, mo, models, pl, warehouse


@app.cell
def _(config, mo, warehouse):
    from nexusfin.warehouse import read_only_query

    features = read_only_query(warehouse, "SELECT * EXCLUDE (date) FROM account_features ORDER BY as_of, account_id")
    from nexusfin.scoring.labels import training_labels

    sars = read_only_query(warehouse, "SELECT * FROM sar_filings")
    # the analysts' decisions read back by the pipeline (table alert_dispositions, once it ran)
    has_review = read_only_query(warehouse, "SELECT count(*) FROM information_schema.tables "
                                            "WHERE table_name = 'alert_dispositions'").item()
    dispositions = read_only_query(warehouse, "SELECT * FROM alert_dispositions") if has_review else None
    sar_filings, review_counts = training_labels(sars, dispositions, config.features.window_days)
    mo.md(f"**{features.height:,}** feature rows over **{features['as_of'].n_unique()}** days "
          f"({features['as_of'].min()} .. {features['as_of'].max()}); **{sars.height:,}** historical SARs; "
          f"review decisions: {review_counts}.")
    return features, sar_filings


@app.cell
def _(config, features, mo, sar_filings):
    from nexusfin.scoring.model import train

    candidate = train(features, sar_filings, config)
    mo.md(f"Trained on {candidate.train_range[0]} .. {candidate.train_range[1]} ({candidate.n_train:,} rows, "
          f"{candidate.n_train_positive} SAR-labelled); held back {candidate.holdback_range[0]} .. "
          f"{candidate.holdback_range[1]}. Threshold from capacity: **{candidate.threshold:.4f}**. "
          f"Held-back metrics: {candidate.holdback_metrics}")
    return (candidate,)


@app.cell
def _(candidate, config, features, mo, models, pl, sar_filings):
    from nexusfin.scoring.promotion import compare
    from nexusfin.scoring.registry import Registry

    registry = Registry(models)
    champion = registry.load("champion")[0] if registry.has("champion") else None
    holdback = features.filter(pl.col("as_of").is_between(*candidate.holdback_range))
    comparison = compare(candidate.model, champion, holdback, sar_filings, config)
    mo.md(f"**Candidate vs champion** on the held-back window {comparison.window[0]} .. {comparison.window[1]} "
          f"({comparison.rows:,} rows, {comparison.positives} SAR-labelled): {comparison.reason}")
    return comparison, holdback, registry


@app.cell
def _(candidate, config, data_root, holdback, mo, pl):
    from nexusfin.layout import DataRoot
    from nexusfin.scoring.evaluate import evaluate_scores, load_truth_accounts

    truth_dir = DataRoot(data_root).truth
    if (truth_dir / "truth_scenarios.parquet").is_file():
        scored = holdback.select("account_id", "as_of", "window_start", "max_alert_strength").with_columns(
            pl.Series("score", candidate.score(holdback)),
            pl.col("max_alert_strength").alias("baseline_score"))
        truth_eval = evaluate_scores(scored, load_truth_accounts(truth_dir),
                                     alerts_per_day=config.queue.alerts_per_day,
                                     open_days=config.queue.open_days, threshold=candidate.threshold)
        errors = truth_eval.typologies
        view = mo.vstack([mo.md("**Errors by typology** (held-back days, against the full ground truth):"),
                          truth_eval.summary, errors])
    else:
        truth_eval, errors = None, None
        view = mo.md("No ground truth beside this data (a real institution's history): errors by typology need "
                     "labels; the SAR-based comparison above is what there is.")
    view  # noqa: B018 (marimo shows the last expression of a cell)
    return errors, truth_eval


@app.cell
def _(candidate, config, features, mo, registry):
    from nexusfin.features.build import feature_version

    registered = registry.register(candidate, training_data=features, config_fingerprint=config.fingerprint,
                                   feature_version=feature_version(config),
                                   note="registered from notebooks/retrain_model.py")
    mo.md(f"Registered **{registered.version}** as candidate (SHA-256 `{registered.manifest['sha256'][:16]}…`). "
          "Promote it through the gate: the Dagster training_job with candidate_version set, or "
          f"`nexusfin models promote {registered.version}`.")
    return (registered,)


if __name__ == "__main__":
    app.run()
