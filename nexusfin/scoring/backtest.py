"""Features, training and evaluation over a whole generated world, without the pipeline: what a
modeler runs in a notebook and what ``bench/`` measures quality with.

The world's days are split by time into a training range and the test days. The training range's
last ``holdback_days`` are held back (calibration, threshold, champion comparison) and its training
rows end ``window_days`` before them, so no training row shares a transaction with a held-back or
test row. The test days are scored and replayed through the queue policy against the full ground
truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from nexusfin.detect.evaluate import detect_world
from nexusfin.features import (
    Reference,
    ReferenceLinkage,
    features_for_window,
    load_reference,
    reference_linkage,
    window_alerts,
)
from nexusfin.layout import DataRoot
from nexusfin.scoring.config import ScoringConfig, load_scoring_config
from nexusfin.scoring.evaluate import ScoreEvaluation, evaluate_scores, load_truth_accounts
from nexusfin.scoring.model import TrainedModel, train
from nexusfin.scoring.queue import score_features


@dataclass
class WorldFeatures:
    features: pl.DataFrame
    paths: pl.DataFrame
    alerts: pl.DataFrame
    reference: Reference
    linkage: ReferenceLinkage
    days: list[date]


def world_days(world: str | Path) -> list[date]:
    return sorted(DataRoot(world).landing_days())


def world_features(world: str | Path, config: ScoringConfig | None = None, detector_config=None,
                   days: list[date] | None = None, progress: Callable[[date], None] | None = None
                   ) -> WorldFeatures:
    """Feature rows of every day of a generated world (or of ``days``): detectors run once over
    the whole world, screening once over its reference snapshot, then one window per day."""
    config = config or load_scoring_config()
    root = DataRoot(world)
    reference = load_reference(root.reference)
    link = reference_linkage(reference, config)
    alerts, _ = detect_world(world, detector_config)
    all_days = sorted(root.landing_days())
    files = [str(root.landing_days()[d]) for d in all_days]
    tx = pl.read_parquet(files)
    feats, paths = [], []
    w = config.features.window_days
    for day in days or all_days:
        first = day - timedelta(days=w - 1)
        win = tx.filter(pl.col("ts").dt.date().is_between(first, day))
        wf = features_for_window(win, reference, link, window_alerts(alerts, first, day), config, day)
        feats.append(wf.features)
        paths.append(wf.paths)
        if progress:
            progress(day)
    return WorldFeatures(pl.concat(feats), pl.concat(paths), alerts, reference, link, list(days or all_days))


@dataclass
class WorldSplit:
    train_days: list[date]  # training range, its last holdback_days held back
    test_days: list[date]


def split_world(days: list[date], config: ScoringConfig, test_days: int) -> WorldSplit:
    """Training range then test days, in time order. Inside the training range the last
    holdback_days are held back and training rows stop window_days before them, so no training
    row shares a transaction with a held-back or a test row."""
    days = sorted(days)
    w, hold = config.features.window_days, config.training.holdback_days
    # the first window_days - 1 days have partial windows: not used
    usable = days[w - 1:]
    if len(usable) < test_days + hold + w + 2:
        raise ValueError(f"{len(days)} days are too few for {test_days} test days, {hold} held-back days, a "
                         f"{w}-day purge and some training days (at least {test_days + hold + w + 2 + w - 1})")
    return WorldSplit(usable[:-test_days], usable[-test_days:])


@dataclass
class WorldEvaluation:
    model: TrainedModel
    evaluation: ScoreEvaluation
    split: WorldSplit
    scored: pl.DataFrame


def evaluate_world(wf: WorldFeatures, truth: str | Path, config: ScoringConfig, test_days: int) -> WorldEvaluation:
    """Train on the SAR labels of the training range, evaluate the test days against the truth."""
    split = split_world(wf.days, config, test_days)
    trained = train(wf.features.filter(pl.col("as_of").is_in(split.train_days)), wf.reference.sar_filings, config,
                    first_data_day=wf.days[0])
    test = wf.features.filter(pl.col("as_of").is_in(split.test_days))
    scored = score_features(test, trained.model, "backtest", trained.threshold)
    rows = test.select("account_id", "as_of", "window_start").join(
        scored.select("account_id", "as_of", "score", "baseline_score"), on=["account_id", "as_of"])
    ev = evaluate_scores(rows, load_truth_accounts(truth), alerts_per_day=config.queue.alerts_per_day,
                         open_days=config.queue.open_days, threshold=trained.threshold)
    return WorldEvaluation(trained, ev, split, scored)
