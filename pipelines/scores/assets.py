"""Scores: the champion model's calibrated score of every featured account of the day
(schemas/account_scores.yaml; lake/scores/date=D). Gates: the contract and scores in [0, 1]
(blocking) and score drift against the champion's held-back scores (warning)."""

import time
from datetime import date
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl

from nexusfin.features import read_features
from nexusfin.scoring.queue import SCORES, psi, score_features
from nexusfin.scoring.registry import Registry, RegistryError
from pipelines.features.assets import load_config
from pipelines.partitions import daily_partitions
from pipelines.reference.assets import preview
from pipelines.resources import NexusfinStorage, ScoringSettings

GROUP = "scores"


def scores_file(lake: Path, day: date) -> Path:
    return Path(lake) / "scores" / f"date={day.isoformat()}" / "part-0.parquet"


def read_scores(lake: Path, day: date) -> pl.DataFrame:
    f = scores_file(lake, day)
    return pl.read_parquet(f) if f.is_file() else SCORES.empty()


@dg.asset(
    group_name=GROUP,
    partitions_def=daily_partitions,
    deps=["account_features"],
    kinds={"parquet", "scikitlearn"},
    description="Calibrated champion-model score of every account featured on the day "
    "(schemas/account_scores.yaml; lake/scores/date=D), with its rank and the detector-only baseline score.",
    check_specs=[
        dg.AssetCheckSpec("scores_in_unit_interval", asset="account_scores", blocking=True,
                          description="Every score is a probability in [0, 1]; one score per featured account; the "
                          "rows satisfy schemas/account_scores.yaml."),
        dg.AssetCheckSpec("score_drift", asset="account_scores",
                          description="Warn when the population stability index of the day's scores against the "
                          "champion's held-back scores exceeds drift.psi_warn."),
    ],
)
def account_scores(context: dg.AssetExecutionContext, storage: NexusfinStorage,
                   scoring: ScoringSettings) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    config = load_config(scoring)
    registry = Registry(scoring.models_path)
    try:
        model, mv = registry.load("champion")
    except RegistryError as exc:
        raise dg.Failure(f"cannot score {day}: {exc}") from exc
    feats = read_features(storage.lake_path, [day])
    if feats.is_empty():
        raise dg.Failure(f"no features for {day} under {storage.lake_path / 'features'}: run account_features first")
    t0 = time.perf_counter()
    scores = score_features(feats, model, mv.version, mv.threshold)
    seconds = time.perf_counter() - t0
    problems = dict(SCORES.violations(scores))
    s = scores.get_column("score").to_numpy()
    out_of_range = int(((s < 0) | (s > 1) | ~np.isfinite(s)).sum())
    dup = int(scores.get_column("account_id").is_duplicated().sum())
    ok = not problems and out_of_range == 0 and dup == 0 and scores.height == feats.height
    drift = psi(np.asarray(mv.manifest.get("score_quantiles") or []), s)
    if ok:
        SCORES.write(scores, scores_file(storage.lake_path, day), "parquet")
    else:
        context.log.error(f"account_scores {day}: a blocking check failed; scores not published")
    return dg.MaterializeResult(
        metadata={
            "accounts": scores.height,
            "above_threshold": int(scores.get_column("above_threshold").sum()),
            "threshold": mv.threshold,
            "model_version": mv.version,
            "score_p50": float(np.median(s)) if len(s) else 0.0,
            "score_p99": float(np.quantile(s, 0.99)) if len(s) else 0.0,
            "seconds": round(seconds, 3),
            "published": ok,
            "preview": preview(scores.sort("rank").select("rank", "account_id", "score", "baseline_score")),
        },
        check_results=[
            dg.AssetCheckResult(check_name="scores_in_unit_interval", passed=ok, severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"violations": dg.MetadataValue.json(problems), "out_of_range": out_of_range,
                                          "duplicate_accounts": dup, "rows": scores.height,
                                          "feature_rows": feats.height}),
            dg.AssetCheckResult(check_name="score_drift", passed=bool(np.isfinite(drift) and drift <= config.psi_warn),
                                severity=dg.AssetCheckSeverity.WARN,
                                metadata={"psi": round(float(drift), 4) if np.isfinite(drift) else "n/a",
                                          "psi_warn": config.psi_warn,
                                          "reference": f"{mv.version} held-back scores "
                                                       f"{mv.manifest['holdback_range'][0]}..{mv.manifest['holdback_range'][1]}"}),
        ],
    )


score_assets = [account_scores]
