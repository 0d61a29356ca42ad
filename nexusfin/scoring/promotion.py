"""The promotion gate: a candidate replaces the champion only when it is not worse on the
candidate's held-back window (the most recent labelled days, unseen by the candidate's training).

Both models score the same held-back feature rows; "not worse" means PR-AUC and recall at the
analyst budget each at least the champion's minus ``training.max_regression``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from nexusfin.features import read_features
from nexusfin.scoring.config import ScoringConfig
from nexusfin.scoring.model import TrainedModel, ranking_metrics, sar_labels, score_with, train
from nexusfin.scoring.registry import ModelVersion, Registry


@dataclass
class Comparison:
    passed: bool
    reason: str
    candidate: dict[str, float]
    champion: dict[str, float] | None
    window: tuple[str, str]
    rows: int
    positives: int


def holdback_rows(lake: str | Path, mv: ModelVersion) -> pl.DataFrame:
    first, last = (date.fromisoformat(d) for d in mv.manifest["holdback_range"])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return read_features(lake, days)


def compare(candidate_model, champion_model, rows: pl.DataFrame, sar_filings: pl.DataFrame,
            config: ScoringConfig) -> Comparison:
    y = sar_labels(rows, sar_filings).to_numpy()
    days = rows.get_column("as_of").to_numpy()
    budget = config.queue.alerts_per_day
    cand = ranking_metrics(y, score_with(candidate_model, rows), days, budget)
    window = (str(rows["as_of"].min()), str(rows["as_of"].max())) if len(rows) else ("", "")
    if champion_model is None:
        return Comparison(True, "no champion yet: the first model becomes champion", cand, None, window, len(rows),
                          int(y.sum()))
    champ = ranking_metrics(y, score_with(champion_model, rows), days, budget)
    tol = config.training.max_regression
    worse = [k for k in ("pr_auc", "recall_at_budget") if not cand[k] >= champ[k] - tol]
    if worse:
        reason = "candidate worse than champion on " + ", ".join(
            f"{k} ({cand[k]:.4f} < {champ[k]:.4f} - {tol})" for k in worse)
        return Comparison(False, reason, cand, champ, window, len(rows), int(y.sum()))
    reason = (f"candidate not worse than champion: pr_auc {cand['pr_auc']:.4f} vs {champ['pr_auc']:.4f}, "
              f"recall_at_budget {cand['recall_at_budget']:.4f} vs {champ['recall_at_budget']:.4f}")
    return Comparison(True, reason, cand, champ, window, len(rows), int(y.sum()))


def training_days(lake: str | Path, first: date | None = None, last: date | None = None) -> list[date]:
    root = Path(lake) / "features"
    days = sorted(date.fromisoformat(p.parent.name.removeprefix("date=")) for p in root.glob("date=*/part-0.parquet"))
    return [d for d in days if (first is None or d >= first) and (last is None or d <= last)]


def train_from_lake(lake: str | Path, sar_filings: pl.DataFrame, config: ScoringConfig,
                    first: date | None = None, last: date | None = None) -> tuple[TrainedModel, pl.DataFrame]:
    """Train on the lake's feature days in ``first..last``; returns the model and its training frame."""
    days = training_days(lake, first, last)
    feats = read_features(lake, days)
    return train(feats, sar_filings, config), feats


def train_and_register(lake: str | Path, registry: Registry, sar_filings: pl.DataFrame, config: ScoringConfig,
                       first: date | None = None, last: date | None = None, note: str = ""
                       ) -> tuple[ModelVersion, Comparison]:
    """Train a candidate, register it, and compare it with the champion on its held-back window
    (the comparison is returned; promotion is a separate, gated step)."""
    from nexusfin.features.build import feature_version

    trained, feats = train_from_lake(lake, sar_filings, config, first, last)
    mv = registry.register(trained, training_data=feats, config_fingerprint=config.fingerprint,
                           feature_version=feature_version(config), note=note)
    champion = registry.load("champion")[0] if registry.has("champion") else None
    cmp = compare(trained.model, champion, holdback_rows(lake, mv), sar_filings, config)
    return mv, cmp


def compare_registered(lake: str | Path, registry: Registry, version: str, sar_filings: pl.DataFrame,
                       config: ScoringConfig) -> Comparison:
    """Compare an already registered version (e.g. one a modeler registered from a notebook) with
    the champion on that version's held-back window."""
    model, mv = registry.load(version)
    champion = registry.load("champion")[0] if registry.has("champion") else None
    return compare(model, champion, holdback_rows(lake, mv), sar_filings, config)
