"""Fit, threshold and evaluate the transaction classifier under the published protocol.

* fit: a scikit-learn ``Pipeline`` holding a ``HistGradientBoostingClassifier`` (categorical
  currency / format codes native, missing values native), on **train labels only**; optionally
  on all train positives and a seeded share of train negatives (``negative_sample``);
* threshold: a plain scan of the validation split's precision-recall curve
  (``sklearn.metrics.precision_recall_curve``), the score with the highest F1;
* test: minority-class F1 (in percent), precision, recall, PR-AUC (average precision) and
  recall per pattern type (the typology of the row's truth scenario; AMLworld rows in no
  pattern block are ``unattributed``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from .data import TxnTable, load
from .features import FeatureConfig, Features, build_features
from .split import SPLITS, Split, temporal_split, visibility

# Egressy et al., AAAI 2024, Table 2: minority-class F1 (%) on AMLworld HI-Small
ANCHORS: tuple[tuple[str, float], ...] = (
    ("LightGBM + graph features", 62.86),
    ("XGBoost + graph features", 63.23),
    ("Multi-PNA + EU (GNN)", 68.16),
)
ANCHOR_DATASET = "AMLworld HI-Small (Egressy et al., AAAI 2024, Table 2)"


@dataclass(frozen=True)
class ModelConfig:
    max_iter: int = 600
    learning_rate: float = 0.05
    max_leaf_nodes: int = 63
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    max_features: float = 0.5
    # share of negative train rows the model is fitted on; None: all of them up to 400,000, else
    # that many (at least a quarter), all positives always (seeded)
    negative_sample: float | None = None
    early_stopping: bool | str = "auto"  # sklearn: on when more than 10,000 rows are fitted
    seed: int = 0


@dataclass
class Result:
    data: str
    mode: str
    unit: str
    rows: int
    accounts: int
    positives: int
    splits: dict[str, dict]  # name -> rows, share, positives, first_ts, last_ts
    threshold: float
    validation_f1: float
    test: dict[str, float]  # f1 (%), precision, recall, pr_auc, tp, fp, fn, positives
    patterns: list[dict]  # typology, test_rows, detected, recall
    n_features: int
    feature_names: list[str]
    seconds: dict[str, float]
    feature_rows_per_second: float
    iterations: int
    model: dict
    features: dict
    anchors: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def make_pipeline(categorical: list[bool], cfg: ModelConfig):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline

    return Pipeline([("hgb", HistGradientBoostingClassifier(
        learning_rate=cfg.learning_rate, max_iter=cfg.max_iter, max_leaf_nodes=cfg.max_leaf_nodes,
        min_samples_leaf=cfg.min_samples_leaf, l2_regularization=cfg.l2_regularization,
        max_features=cfg.max_features, categorical_features=np.array(categorical, dtype=bool),
        early_stopping=cfg.early_stopping, validation_fraction=0.1, n_iter_no_change=40, scoring="loss",
        random_state=cfg.seed))])


def best_f1_threshold(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 of ``score >= threshold`` (0.5, 0.0 without positives)."""
    from sklearn.metrics import precision_recall_curve

    if y.sum() == 0:
        return 0.5, 0.0
    prec, rec, thr = precision_recall_curve(y, score)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)[:-1]
    k = int(np.argmax(f1))
    return float(thr[k]), float(f1[k])


def scores(y: np.ndarray, pred: np.ndarray, score: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score

    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": 100.0 * f1, "precision": precision, "recall": recall,
            "pr_auc": float(average_precision_score(y, score)) if y.sum() else 0.0,
            "tp": tp, "fp": fp, "fn": fn, "positives": int(y.sum()), "rows": len(y)}


def per_pattern(typology: pl.Series, y: np.ndarray, pred: np.ndarray) -> list[dict]:
    df = pl.DataFrame({"typology": typology, "y": y, "pred": pred}).filter(pl.col("y") == 1)
    out = (df.group_by("typology").agg(pl.len().alias("test_rows"), pl.col("pred").sum().alias("detected"))
           .with_columns((pl.col("detected") / pl.col("test_rows")).alias("recall")).sort("typology"))
    return out.to_dicts()


def negative_share(y: np.ndarray, share: float | None) -> float:
    if share is not None:
        return float(share)
    n_neg = int((y == 0).sum())
    return min(1.0, max(0.25, 400_000 / max(n_neg, 1)))


def predict(pipe, X: np.ndarray, chunk: int = 250_000) -> np.ndarray:
    """Laundering scores, in chunks: scikit-learn converts what it predicts on to float64."""
    out = np.empty(len(X), dtype=np.float64)
    for a in range(0, len(X), chunk):
        out[a:a + chunk] = pipe.predict_proba(X[a:a + chunk])[:, 1]
    return out


def _fit_rows(y: np.ndarray, share: float, seed: int) -> np.ndarray:
    idx = np.arange(len(y))
    if share >= 1.0:
        return idx
    rng = np.random.default_rng(seed)
    keep = (y == 1) | (rng.random(len(y)) < share)
    return idx[keep]


def evaluate(root: str | Path | TxnTable, *, mode: str = "split", unit: str = "time",
             features: FeatureConfig | None = None, model: ModelConfig | None = None,
             progress=None) -> Result:
    """Train on the first 60 % (by time), choose the threshold on the next 20 %, report the last
    20 %. ``root``: a data root (``nexusfin import --format amlworld`` output) or a loaded table."""
    fcfg, mcfg = features or FeatureConfig(), model or ModelConfig()
    say = progress or (lambda msg: None)
    sec: dict[str, float] = {}
    t_all = time.perf_counter()
    t0 = time.perf_counter()
    t = root if isinstance(root, TxnTable) else load(root)
    sec["load"] = time.perf_counter() - t0
    split: Split = temporal_split(t.ts, unit=unit)
    y = t.label.astype(np.int8)
    tr, va, te = (split.rows(s) for s in SPLITS)
    if y[tr].sum() == 0:
        raise ValueError("the train split holds no laundering rows: nothing to learn from")
    say(f"{len(t):,} rows; split {split.sizes()}; building features ({mode})")
    t0 = time.perf_counter()
    limit = visibility(t.ts, split, mode)
    feats: Features = build_features(t, limit, fcfg)
    sec["features"] = time.perf_counter() - t0
    for k, v in feats.seconds.items():
        sec[f"features.{k}"] = v
    say(f"{feats.X.shape[1]} features in {sec['features']:.1f} s; fitting")
    t0 = time.perf_counter()
    pipe = make_pipeline(feats.categorical, mcfg)
    share = negative_share(y[tr], mcfg.negative_sample)
    fit_idx = _fit_rows(y[tr], share, mcfg.seed)
    X_tr = feats.X[tr][fit_idx]
    pipe.fit(X_tr, y[tr][fit_idx])
    sec["fit"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    p_va = predict(pipe, feats.X[va])
    p_te = predict(pipe, feats.X[te])
    thr, f1_va = best_f1_threshold(y[va], p_va)
    pred = (p_te >= thr).astype(np.int8)
    sec["predict"] = time.perf_counter() - t0
    sec["total"] = time.perf_counter() - t_all
    test = scores(y[te], pred, p_te)
    notes = []
    if y[va].sum() == 0:
        notes.append("the validation split holds no laundering rows: threshold 0.5 used")
    if share < 1.0:
        notes.append(f"fitted on all {int(y[tr].sum()):,} train positives and {share:.0%} of the train negatives "
                     f"({len(fit_idx):,} rows, seeded sample)")

    def info(name: str) -> dict:
        s = split.rows(name)
        return {"rows": s.stop - s.start, "share": (s.stop - s.start) / len(t), "positives": int(y[s].sum()),
                "first_ts": int(t.ts[s.start]), "last_ts": int(t.ts[s.stop - 1])}

    return Result(
        data=str(root) if not isinstance(root, TxnTable) else "<table>", mode=mode, unit=unit, rows=len(t),
        accounts=t.n_accounts, positives=int(y.sum()), splits={s: info(s) for s in SPLITS},
        threshold=thr, validation_f1=100.0 * f1_va, test=test,
        patterns=per_pattern(t.typology[te.start:te.stop], y[te], pred),
        n_features=feats.X.shape[1], feature_names=feats.names, seconds=sec,
        feature_rows_per_second=len(t) / sec["features"] if sec["features"] else 0.0,
        iterations=int(pipe.named_steps["hgb"].n_iter_), model=asdict(mcfg), features=asdict(fcfg),
        anchors=[{"model": m, "f1": f, "dataset": ANCHOR_DATASET} for m, f in ANCHORS], notes=notes,
    )
