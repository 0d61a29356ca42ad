"""Scores of a day and the ranked, deduplicated alert queue built from them."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import numpy as np
import polars as pl

from nexusfin.contracts import contract
from nexusfin.scoring.model import explain, score_with

SCORES = contract("account_scores")
QUEUE = contract("alert_queue")
PATHS = contract("facilitator_paths")


def score_features(features: pl.DataFrame, model, model_version: str, threshold: float) -> pl.DataFrame:
    """schemas/account_scores.yaml rows for every feature row (one day or many)."""
    s = score_with(model, features)
    out = features.select("account_id", "party_id", "as_of", "max_alert_strength").with_columns(
        pl.Series("score", s, dtype=pl.Float64),
    ).sort(["as_of", "score", "account_id"], descending=[False, True, False]).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("as_of").alias("rank"),
        (pl.col("score") >= threshold).alias("above_threshold"),
        pl.lit(threshold, dtype=pl.Float64).alias("threshold"),
        pl.col("max_alert_strength").clip(0.0, 1.0).alias("baseline_score"),
        pl.lit(model_version).alias("model_version"),
    )
    return SCORES.conform(out.select(SCORES.names))


def alert_id(account_id: str, day: date) -> str:
    return "MA-" + hashlib.sha256(f"{account_id}|{day.isoformat()}".encode()).hexdigest()[:20]


def select_queue(scores: pl.DataFrame, open_accounts: pl.Series | None, alerts_per_day: int) -> pl.DataFrame:
    """The day's queue: accounts above threshold, without an open alert, best first, up to capacity."""
    pool = scores.filter(pl.col("above_threshold"))
    if open_accounts is not None and len(open_accounts):
        pool = pool.filter(~pl.col("account_id").is_in(open_accounts.implode()))
    return pool.sort(["score", "account_id"], descending=[True, False]).head(alerts_per_day).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("queue_rank"))


def _reason(c: dict) -> str:
    v = c["value"]
    shown = "missing" if v is None else (f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}")
    ref = "none" if c["reference"] is None else f"{c['reference']:g}"
    sign = "+" if c["contribution"] > 0 else ""
    return f"{c['feature']} = {shown} (typical {ref}; {sign}{c['contribution']:.2f} log-odds)"


def build_queue(day: date, scores: pl.DataFrame, features: pl.DataFrame, paths: pl.DataFrame,
                window_alerts: pl.DataFrame, accounts: pl.DataFrame, open_accounts: pl.Series | None,
                pipeline, reference_values: dict[str, float | None], *, alerts_per_day: int, explain_top: int
                ) -> pl.DataFrame:
    """schemas/alert_queue.yaml rows of one day, with the evidence behind each."""
    chosen = select_queue(scores.filter(pl.col("as_of") == day), open_accounts, alerts_per_day)
    if chosen.is_empty():
        return QUEUE.empty()
    feats = chosen.select("account_id").join(features.filter(pl.col("as_of") == day), on="account_id", how="left")
    contribs = explain(pipeline, feats, reference_values, explain_top)
    contrib_of = dict(zip(feats.get_column("account_id").to_list(), contribs, strict=True))
    conv_of = dict(zip(feats.get_column("account_id").to_list(), (feats.get_column("convergent") > 0).to_list(),
                       strict=True))

    # detector alerts of the window on the account or (person-level) on its owner
    own = accounts.select("account_id", pl.col("owner_party_id").alias("owner"))
    da = window_alerts.select("alert_id", "rule", "account_id", "party_id")
    direct = da.filter(pl.col("account_id").is_not_null()).select("account_id", "alert_id", "rule")
    person = (da.filter(pl.col("account_id").is_null()).drop("account_id")
              .join(own.rename({"owner": "party_id"}), on="party_id").select("account_id", "alert_id", "rule"))
    det = (pl.concat([direct, person]).filter(pl.col("account_id").is_in(chosen["account_id"].implode()))
           .group_by("account_id").agg(pl.col("alert_id").unique().sort().alias("detector_alert_ids"),
                                       pl.col("rule").unique().sort().alias("detector_rules")))
    # best path: to a terror facilitator, else to any facilitator, else from one
    pref = {"to_terror": 0, "to": 1, "from": 2}
    best = (
        paths.filter((pl.col("as_of") == day) & pl.col("account_id").is_in(chosen["account_id"].implode()))
        .with_columns(pl.col("direction").replace_strict(pref, return_dtype=pl.Int8).alias("_p"))
        .sort("_p", "hops").unique("account_id", keep="first")
    )
    rows = []
    det_of = {r["account_id"]: r for r in det.iter_rows(named=True)}
    path_of = {r["account_id"]: r for r in best.iter_rows(named=True)}
    for r in chosen.iter_rows(named=True):
        acc = r["account_id"]
        cs = contrib_of.get(acc, [])
        d = det_of.get(acc, {"detector_alert_ids": [], "detector_rules": []})
        p = path_of.get(acc)
        words = [f"Score {r['score']:.3f} (rank {r['rank']} of the day's accounts; threshold {r['threshold']:.3f}; "
                 f"model {r['model_version']})."]
        if cs:
            words.append("Top reasons: " + "; ".join(_reason(c) for c in cs[:3]) + ".")
        if d["detector_rules"]:
            words.append(f"Detector alerts in the window: {len(d['detector_alert_ids'])} "
                         f"({', '.join(d['detector_rules'])}).")
        if p is not None:
            arrow = " -> ".join(p["path_accounts"])
            progs = "/".join(p["programs"] or [])
            direction = "Money path to" if p["direction"] != "from" else "Money path from"
            words.append(f"{direction} facilitator {p['facilitator_account_id']} of {p['entity_id']} "
                         f"({p['entity_name']}; {progs}): {arrow}; {p['hops']} transfers "
                         f"({', '.join(p['path_txn_ids'])}), smallest {p['bottleneck_usd']:,.2f} USD.")
        if conv_of.get(acc):
            words.append("Crime-terror convergence: criminal-typology activity on money that reaches a "
                         "terror-designated facilitator.")
        rows.append({
            "alert_id": alert_id(acc, day), "as_of": day, "queue_rank": r["queue_rank"], "account_id": acc,
            "party_id": r["party_id"], "score": r["score"], "threshold": r["threshold"],
            "model_version": r["model_version"], "status": "open", "contributions": json.dumps(cs),
            "detector_alert_ids": d["detector_alert_ids"], "detector_rules": d["detector_rules"],
            "facilitator_path_accounts": p["path_accounts"] if p else None,
            "facilitator_path_txn_ids": p["path_txn_ids"] if p else None,
            "facilitator_entity_id": p["entity_id"] if p else None,
            "facilitator_programs": p["programs"] if p else None,
            "convergent": bool(conv_of.get(acc, False)),
            "explanation": " ".join(words),
        })
    return QUEUE.conform(pl.DataFrame(rows, schema=QUEUE.polars_schema()))


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``actual`` scores against ``expected`` (training) scores,
    over the expected distribution's deciles."""
    expected, actual = np.asarray(expected, float), np.asarray(actual, float)
    if len(expected) == 0 or len(actual) == 0:
        return float("nan")
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        edges = np.array([-np.inf, np.median(expected), np.inf])
    edges[0], edges[-1] = -np.inf, np.inf
    e = np.histogram(expected, edges)[0] / len(expected)
    a = np.histogram(actual, edges)[0] / len(actual)
    e, a = np.clip(e, 1e-6, None), np.clip(a, 1e-6, None)
    return float(np.sum((a - e) * np.log(a / e)))
