"""Scores against the full ground truth of a generated (or imported) world.

A feature row (account, as_of) is truly suspicious when the account takes part in a suspicious
scenario whose activity (start_ts..end_ts) overlaps the row's window. On the evaluated days the
queue policy is replayed exactly as the pipeline runs it (threshold, daily capacity, no second
alert while one is open); the baseline replays the same capacity over detector alerts alone,
strongest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score

from nexusfin.layout import DataRoot


def load_truth_accounts(truth: str | Path) -> pl.DataFrame:
    """account_id, typology, scenario_id, start_day, end_day of every suspicious account label."""
    truth = Path(truth)
    folder = truth if truth.name == "truth" else DataRoot(truth).truth
    labels = pl.read_parquet(folder / "truth_account_labels.parquet")
    scen = pl.read_parquet(folder / "truth_scenarios.parquet").select(
        "scenario_id", pl.col("start_ts").dt.date().alias("start_day"), pl.col("end_ts").dt.date().alias("end_day"))
    return (labels.filter(pl.col("label") == "suspicious").join(scen, on="scenario_id")
            .select("account_id", "typology", "scenario_id", "start_day", "end_day"))


def truth_rows(rows: pl.DataFrame, truth_accounts: pl.DataFrame) -> pl.DataFrame:
    """``rows`` (account_id, as_of, window_start, ...) with ``y_true`` and the active ``typologies``."""
    keyed = rows.with_row_index("_row")
    hit = (
        keyed.select("_row", "account_id", "as_of", "window_start")
        .join(truth_accounts, on="account_id", how="inner")
        .filter((pl.col("start_day") <= pl.col("as_of")) & (pl.col("end_day") >= pl.col("window_start")))
        .group_by("_row").agg(pl.col("typology").unique().sort().alias("typologies"))
    )
    return (keyed.join(hit, on="_row", how="left")
            .with_columns(pl.col("typologies").is_not_null().alias("y_true"),
                          pl.col("typologies").fill_null(pl.lit([], pl.List(pl.String))))
            .drop("_row"))


def replay_queue(rows: pl.DataFrame, score: str, *, alerts_per_day: int, open_days: int,
                 threshold: float | None = None, eligible: str | None = None) -> pl.DataFrame:
    """The alerts a queue policy raises over the days of ``rows``, day by day in order."""
    opened: dict[str, date] = {}
    out = []
    for (day,), day_rows in rows.sort("as_of").group_by("as_of", maintain_order=True):
        pool = day_rows
        if threshold is not None:
            pool = pool.filter(pl.col(score) >= threshold)
        if eligible is not None:
            pool = pool.filter(pl.col(eligible))
        cutoff = day - timedelta(days=open_days)
        still_open = [a for a, d in opened.items() if d >= cutoff]  # as the pipeline: raised in the last open_days days
        if still_open:
            pool = pool.filter(~pl.col("account_id").is_in(still_open))
        top = pool.sort([score, "account_id"], descending=[True, False]).head(alerts_per_day)
        for a in top.get_column("account_id").to_list():
            opened[a] = day
        out.append(top)
    return pl.concat(out) if out else rows.head(0)


@dataclass
class ScoreEvaluation:
    summary: pl.DataFrame  # method, alerts, alerts_per_day, precision, recall, pr_auc
    typologies: pl.DataFrame  # typology, accounts, recall_model, recall_baseline
    days: tuple[date, date]
    n_rows: int
    n_positive_rows: int
    n_suspicious_accounts: int


def evaluate_scores(scored: pl.DataFrame, truth_accounts: pl.DataFrame, *, alerts_per_day: int, open_days: int,
                    threshold: float | None) -> ScoreEvaluation:
    """``scored``: feature rows of the evaluated days with ``score`` and ``baseline_score``."""
    rows = truth_rows(scored, truth_accounts)
    y = rows.get_column("y_true").to_numpy()
    days = sorted(rows.get_column("as_of").unique().to_list())
    n_days = max(len(days), 1)
    # the accounts (and their typologies) truly active in the evaluated days
    positives = rows.filter(pl.col("y_true")).explode("typologies").select("account_id", "typologies").unique()
    suspicious = positives.get_column("account_id").unique()
    model_q = replay_queue(rows, "score", alerts_per_day=alerts_per_day, open_days=open_days, threshold=threshold)
    base_rows = rows.with_columns((pl.col("baseline_score") > 0).alias("_has_alert"))
    base_q = replay_queue(base_rows, "baseline_score", alerts_per_day=alerts_per_day, open_days=open_days,
                          eligible="_has_alert")

    def summary(name: str, q: pl.DataFrame, s: np.ndarray) -> dict:
        found = q.filter(pl.col("y_true")).get_column("account_id").unique()
        return {
            "method": name, "alerts": len(q), "alerts_per_day": len(q) / n_days,
            "precision": float(q.get_column("y_true").mean()) if len(q) else 0.0,
            "recall": float(len(found) / len(suspicious)) if len(suspicious) else float("nan"),
            "pr_auc": float(average_precision_score(y, s)) if y.any() else float("nan"),
        }

    summ = pl.DataFrame([
        summary("model", model_q, rows.get_column("score").to_numpy()),
        summary("detector alerts only", base_q, rows.get_column("baseline_score").to_numpy()),
    ])

    def found_by(q: pl.DataFrame) -> pl.DataFrame:
        return q.filter(pl.col("y_true")).explode("typologies").select("account_id", "typologies").unique()

    fm, fb = found_by(model_q), found_by(base_q)
    typ = (
        positives.group_by("typologies").agg(pl.len().alias("accounts"))
        .join(fm.group_by("typologies").agg(pl.len().alias("found_model")), on="typologies", how="left")
        .join(fb.group_by("typologies").agg(pl.len().alias("found_baseline")), on="typologies", how="left")
        .with_columns(pl.col("found_model", "found_baseline").fill_null(0))
        .with_columns((pl.col("found_model") / pl.col("accounts")).alias("recall_model"),
                      (pl.col("found_baseline") / pl.col("accounts")).alias("recall_baseline"))
        .rename({"typologies": "typology"})
        .sort("typology")
    )
    return ScoreEvaluation(summ, typ, (days[0], days[-1]) if days else (None, None), len(rows), int(y.sum()),
                           len(suspicious))
