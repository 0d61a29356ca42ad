"""The account risk model: a scikit-learn Pipeline (feature selection from the contract, then a
HistGradientBoostingClassifier), trained on historical SAR labels, calibrated on a held-back
window with ``FrozenEstimator``, with an alert threshold set from analyst capacity by
``TunedThresholdClassifierCV``.

Labels are the institution's own SARs (schemas/sar_filings.yaml): incomplete and noisy, as in
real life. A feature row (account, as_of) is labelled 1 when the account has a SAR whose activity
period overlaps the row's window.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.metrics import average_precision_score, make_scorer
from sklearn.model_selection import TunedThresholdClassifierCV
from sklearn.pipeline import Pipeline

from nexusfin.features.build import FEATURE_COLUMNS
from nexusfin.scoring.config import ModelConfig, ScoringConfig


class TrainingError(ValueError):
    """The training data cannot produce a model (too few labels, empty ranges, ...)."""


# nullable features where null means "no path": far beyond any real value (not "unknown"), so the
# trees see one ordered scale (and a column that is all null in a training set stays usable)
FAR = {"hops_to_facilitator": 99.0, "hops_from_facilitator": 99.0, "hops_to_terror": 99.0,
       "days_since_facilitator_flow": 999.0}


def make_pipeline(config: ModelConfig) -> Pipeline:
    cols = list(FEATURE_COLUMNS)
    select = ColumnTransformer(
        [(f"no_path_{c}", SimpleImputer(strategy="constant", fill_value=v, keep_empty_features=True), [c])
         for c, v in FAR.items()]
        + [("features", "passthrough", [c for c in cols if c not in FAR])],
        remainder="drop", verbose_feature_names_out=False,
    ).set_output(transform="polars")
    hgb = HistGradientBoostingClassifier(
        max_iter=config.max_iter, learning_rate=config.learning_rate, max_leaf_nodes=config.max_leaf_nodes,
        max_depth=config.max_depth, min_samples_leaf=config.min_samples_leaf, l2_regularization=config.l2_regularization,
        class_weight=config.class_weight, early_stopping=False, random_state=config.random_state,
    )
    return Pipeline([("select", select), ("hgb", hgb)])


def sar_labels(features: pl.DataFrame, sar_filings: pl.DataFrame) -> pl.Series:
    """1 for feature rows whose account has a SAR with activity overlapping the row's window."""
    keyed = features.select("account_id", "as_of", "window_start").with_row_index("_row")
    sar = sar_filings.select("account_id", "activity_start", "activity_end")
    hit = (
        keyed.join(sar, on="account_id", how="inner")
        .filter((pl.col("activity_start") <= pl.col("as_of")) & (pl.col("activity_end") >= pl.col("window_start")))
        .get_column("_row").unique()
    )
    y = np.zeros(len(features), dtype=np.int8)
    y[hit.to_numpy()] = 1
    return pl.Series("sar_label", y)


def capacity_recall(y_true, y_pred, *, capacity_rate: float) -> float:
    """Recall of the labelled rows, scaled down when more rows are flagged than analysts can review
    (a threshold that floods the queue is worth only the share of it that gets read)."""
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    if not y_true.any():
        return 0.0
    recall = float((y_true & y_pred).sum() / y_true.sum())
    rate = float(y_pred.mean()) if len(y_pred) else 0.0
    return recall if rate <= capacity_rate else recall * capacity_rate / rate


@dataclass
class TrainedModel:
    """A calibrated model with its alert threshold and what it was trained on."""

    model: CalibratedClassifierCV
    threshold: float
    capacity_rate: float
    reference_values: dict[str, float | None]  # training medians: the baseline of the explanations
    train_range: tuple[date, date]
    holdback_range: tuple[date, date]
    n_train: int
    n_train_positive: int
    n_holdback: int
    n_holdback_positive: int
    holdback_metrics: dict[str, float] = field(default_factory=dict)
    score_quantiles: list[float] = field(default_factory=list)  # held-back scores: the drift reference
    feature_columns: tuple[str, ...] = FEATURE_COLUMNS

    @property
    def pipeline(self) -> Pipeline:
        """The fitted, uncalibrated pipeline (its log-odds drive the explanations)."""
        return self.model.calibrated_classifiers_[0].estimator.estimator

    def score(self, features: pl.DataFrame) -> np.ndarray:
        """Calibrated probability that the account is SAR-worthy, per row."""
        return score_with(self.model, features)


def score_with(model: CalibratedClassifierCV, features: pl.DataFrame) -> np.ndarray:
    """Calibrated probabilities (trees walked by nexusfin.scoring.forest; same values as
    ``model.predict_proba``)."""
    from nexusfin.scoring.forest import FastScorer

    scorer = _SCORERS.get(model)
    if scorer is None:  # built once per model object; never stored on the model (it is persisted)
        scorer = _SCORERS[model] = FastScorer(model)
    return scorer.predict(features, FEATURE_COLUMNS)


_SCORERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def split_days(days: list[date], holdback_days: int) -> tuple[list[date], list[date]]:
    days = sorted(set(days))
    if len(days) <= holdback_days:
        raise TrainingError(f"{len(days)} feature days cannot hold {holdback_days} held-back days plus training days")
    return days[:-holdback_days], days[-holdback_days:]


def _non_overlapping(train: pl.DataFrame, holdback_first: date, window_days: int) -> pl.DataFrame:
    # a training row whose window reaches into the held-back window would leak its transactions
    return train.filter(pl.col("as_of") < holdback_first - timedelta(days=window_days - 1))


def ranking_metrics(y: np.ndarray, score: np.ndarray, days: np.ndarray, budget_per_day: int) -> dict[str, float]:
    """PR-AUC and recall/precision when each day's top ``budget_per_day`` rows are reviewed."""
    y = np.asarray(y).astype(bool)
    if not y.any():
        return {"pr_auc": float("nan"), "recall_at_budget": float("nan"), "precision_at_budget": float("nan")}
    order = pl.DataFrame({"d": days, "s": score, "y": y}).with_columns(
        pl.col("s").rank("ordinal", descending=True).over("d").alias("r"))
    top = order.filter(pl.col("r") <= budget_per_day)
    return {
        "pr_auc": float(average_precision_score(y, score)),
        "recall_at_budget": float(top.get_column("y").sum() / y.sum()),
        "precision_at_budget": float(top.get_column("y").mean()) if len(top) else 0.0,
    }


def typical_values(rows: pl.DataFrame) -> dict[str, float | None]:
    """The training median of every feature; None (no path) where most rows have none."""
    X = rows.select(FEATURE_COLUMNS)
    nulls = X.null_count().row(0, named=True)
    med = X.median().row(0, named=True)
    return {c: None if nulls[c] * 2 > X.height or med[c] is None else float(med[c]) for c in FEATURE_COLUMNS}


def train(features: pl.DataFrame, sar_filings: pl.DataFrame, config: ScoringConfig,
          first_data_day: date | None = None) -> TrainedModel:
    """Fit on the training days, calibrate and set the threshold on the held-back days.

    ``features`` are feature rows of many days (snapshots); the latest ``holdback_days`` days are
    held back, training rows are every ``snapshot_stride_days``-th day before them whose window
    ends before the held-back window starts and is complete (``first_data_day``: the first day of
    the history, default the first feature day).
    """
    tc = config.training
    if features.is_empty():
        raise TrainingError("no feature rows to train on")
    days = sorted(features.get_column("as_of").unique().to_list())
    train_days, hold_days = split_days(days, tc.holdback_days)
    purge_end = hold_days[0] - timedelta(days=config.features.window_days - 1)
    # rows of the first window_days - 1 days of data have partial windows: not trained on
    full_from = (first_data_day or days[0]) + timedelta(days=config.features.window_days - 1)
    train_days = [d for d in train_days if full_from <= d < purge_end][:: -tc.snapshot_stride_days][::-1]
    y_all = sar_labels(features, sar_filings)
    data = features.with_columns(y_all)
    train_rows = _non_overlapping(data.filter(pl.col("as_of").is_in(train_days)), hold_days[0],
                                  config.features.window_days)
    if train_rows.is_empty():
        raise TrainingError(
            f"no training rows: the feature days {days[0]}..{days[-1]} leave none ending {config.features.window_days} "
            f"days before the held-back days {hold_days[0]}..{hold_days[-1]} (give a longer history)")
    hold_rows = data.filter(pl.col("as_of").is_in(hold_days))
    n_pos, n_hold_pos = int(train_rows["sar_label"].sum()), int(hold_rows["sar_label"].sum())
    if min(n_pos, n_hold_pos) < tc.min_positive_labels:
        raise TrainingError(
            f"too few SAR-labelled rows: {n_pos} in training, {n_hold_pos} held back "
            f"(training.min_positive_labels = {tc.min_positive_labels})")
    pipe = make_pipeline(config.model)
    pipe.fit(train_rows.select(FEATURE_COLUMNS), train_rows.get_column("sar_label").to_numpy())
    calibrated = CalibratedClassifierCV(FrozenEstimator(pipe), method=config.model.calibration)
    X_hold, y_hold = hold_rows.select(FEATURE_COLUMNS), hold_rows.get_column("sar_label").to_numpy()
    calibrated.fit(X_hold, y_hold)
    # capacity: analysts review alerts_per_day new accounts a day, and an account alerted once is not
    # alerted again while its alert is open: the threshold is tuned on each account's best held-back
    # row, allowing alerts_per_day x held-back days of them
    hold_scores = score_with(calibrated, hold_rows)
    best = (hold_rows.with_columns(pl.Series("_s", hold_scores)).sort("_s", descending=True)
            .unique("account_id", keep="first"))
    capacity_rate = min(1.0, config.queue.alerts_per_day * len(hold_days) / max(best.height, 1))
    tuner = TunedThresholdClassifierCV(
        calibrated, scoring=make_scorer(capacity_recall, capacity_rate=capacity_rate), cv="prefit",
        refit=False, thresholds=200, response_method="predict_proba",
    ).fit(best.select(FEATURE_COLUMNS), best.get_column("sar_label").to_numpy())
    model = TrainedModel(
        model=calibrated,
        threshold=float(tuner.best_threshold_),
        capacity_rate=capacity_rate,
        reference_values=typical_values(train_rows),
        train_range=(min(train_rows["as_of"]), max(train_rows["as_of"])),
        holdback_range=(hold_days[0], hold_days[-1]),
        n_train=len(train_rows), n_train_positive=n_pos, n_holdback=len(hold_rows), n_holdback_positive=n_hold_pos,
    )
    model.holdback_metrics = ranking_metrics(y_hold, hold_scores, hold_rows["as_of"].to_numpy(),
                                             config.queue.alerts_per_day)
    model.score_quantiles = [float(q) for q in np.quantile(hold_scores, np.linspace(0, 1, 1001))]
    return model


def explain(pipeline: Pipeline, rows: pl.DataFrame, reference_values: dict[str, float | None], top: int = 5
            ) -> list[list[dict]]:
    """Top feature contributions per row, by greedy insertion: start from a typical account (every
    feature at its training median, ``reference``) and, step by step, restore the account's own
    value of the feature that moves the model's log-odds the most, given those already restored.
    Each contribution is that step's change, so the reasons add up to the difference between the
    typical account and the account with those features; redundant features (two ways of saying
    "close to a facilitator") do not hide each other. Positive values pushed the score up. Exact
    for the model; every step of every row is one batch through the tree kernel."""
    from nexusfin.scoring.forest import flatten, raw_predict

    if rows.is_empty():
        return []
    cols = list(FEATURE_COLUMNS)
    n, d = rows.height, len(cols)
    actual = rows.select(cols).to_numpy().astype(np.float64)
    typical = np.array([np.nan if reference_values[c] is None else reference_values[c] for c in cols])
    forest = flatten(pipeline[-1])
    prep = pipeline[:-1]

    def margins(X: np.ndarray) -> np.ndarray:
        Z = prep.transform(pl.DataFrame(X, schema=cols, orient="row"))
        Z = Z.to_numpy() if isinstance(Z, pl.DataFrame) else np.asarray(Z)
        return raw_predict(forest, Z) if forest is not None else pipeline[-1].decision_function(Z)

    current = np.tile(typical, (n, 1))
    margin = margins(current)
    done = np.zeros((n, d), dtype=bool)
    steps: list[list[dict]] = [[] for _ in range(n)]
    active = np.ones(n, dtype=bool)
    for _ in range(min(top, d)):
        # every (row, feature not yet restored) trial in one batch
        trials = np.repeat(current[:, None, :], d, axis=1)  # (n, d, d)
        idx = np.arange(d)
        trials[:, idx, idx] = actual[:, idx]
        gains = margins(trials.reshape(n * d, d)).reshape(n, d) - margin[:, None]
        gains[done] = 0.0
        j = np.argmax(np.abs(gains), axis=1)
        g = gains[np.arange(n), j]
        for i in range(n):
            if not active[i] or abs(g[i]) <= 1e-9:
                active[i] = False
                continue
            k = int(j[i])
            v = actual[i, k]
            steps[i].append({"feature": cols[k], "value": None if np.isnan(v) else float(v),
                             "reference": reference_values[cols[k]], "contribution": round(float(g[i]), 4)})
            current[i, k] = v
            done[i, k] = True
            margin[i] += g[i]
        if not active.any():
            break
    return steps
