"""Model lifecycle: train a candidate on the lake's features and the historical SAR labels,
register it (skops artifact, manifest, model card), and promote it to champion only through a
blocking check: the candidate must not be worse than the champion on the held-back window.

``model_candidate`` trains and registers (alias ``candidate``); its check
``candidate_not_worse_than_champion`` compares both models on the candidate's held-back days and,
when it fails, records the rejection in the promotion log and stops the run before
``model_champion``, which moves the ``champion`` alias and appends the promotion to the log.
"""

from datetime import date

import dagster as dg

from nexusfin.scoring.labels import training_labels
from nexusfin.scoring.model import TrainingError
from nexusfin.scoring.promotion import compare_registered, train_and_register
from nexusfin.scoring.registry import Registry, RegistryError
from pipelines.features.assets import load_config, read_reference
from pipelines.resources import NexusfinStorage, ScoringSettings
from pipelines.review.assets import read_lake_dispositions

GROUP = "models"


class TrainingRange(dg.Config):
    """Feature days to train on (ISO dates; empty: every feature day in the lake). The latest
    training.holdback_days of the range are held back for calibration, threshold and comparison."""

    first_day: str = ""
    last_day: str = ""
    note: str = ""
    candidate_version: str = ""  # set: put this registered version through the gate instead of training


def _day(s: str) -> date | None:
    return date.fromisoformat(s) if s else None


@dg.asset(
    group_name=GROUP,
    deps=["account_features", "sar_filings", "alert_dispositions"],
    kinds={"scikitlearn", "skops"},
    description="Train a candidate model on the lake's features, the historical SAR labels and the analysts' escalations, and register it "
    "(models/versions/<version>: model.skops, manifest.json, card.md; alias candidate).",
    check_specs=[dg.AssetCheckSpec(
        "candidate_not_worse_than_champion", asset="model_candidate", blocking=True,
        description="On the candidate's held-back days, its PR-AUC and recall at the analyst budget are each at "
        "least the champion's minus training.max_regression (always true without a champion).")],
)
def model_candidate(context: dg.AssetExecutionContext, config: TrainingRange, storage: NexusfinStorage,
                    scoring: ScoringSettings) -> dg.MaterializeResult:
    cfg = load_config(scoring)
    registry = Registry(scoring.models_path)
    ref = read_reference(storage)
    # SAR filings + analysts' escalations read back from the review app (alert_dispositions)
    labels, review_counts = training_labels(ref.sar_filings, read_lake_dispositions(storage.lake_path),
                                            cfg.features.window_days)
    if config.candidate_version:
        try:
            registry.nominate(config.candidate_version, reason=config.note or "nominated for promotion",
                              decided_by="dagster:model_candidate")
            mv = registry.get(config.candidate_version)
            cmp = compare_registered(storage.lake_path, registry, mv.version, labels, cfg)
        except RegistryError as exc:
            raise dg.Failure(str(exc)) from exc
    else:
        try:
            mv, cmp = train_and_register(storage.lake_path, registry, labels, cfg, _day(config.first_day),
                                         _day(config.last_day), note=config.note)
        except TrainingError as exc:
            raise dg.Failure(f"training refused: {exc}") from exc
    if not cmp.passed:
        registry.reject(mv.version, reason=cmp.reason, metrics={"candidate": cmp.candidate, "champion": cmp.champion},
                        decided_by="dagster:candidate_not_worse_than_champion")
    m = mv.manifest
    return dg.MaterializeResult(
        metadata={
            "version": mv.version, "sha256": m["sha256"], "threshold": m["threshold"],
            "train_range": f"{m['train_range'][0]}..{m['train_range'][1]}",
            "holdback_range": f"{m['holdback_range'][0]}..{m['holdback_range'][1]}",
            "n_train": m["n_train"], "n_train_positive": m["n_train_positive"],
            "holdback_metrics": dg.MetadataValue.json(m["holdback_metrics"]),
            "card": dg.MetadataValue.path(str(mv.path / "card.md")),
            **review_counts,
        },
        check_results=[dg.AssetCheckResult(
            check_name="candidate_not_worse_than_champion", passed=cmp.passed, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"reason": cmp.reason, "candidate": dg.MetadataValue.json(cmp.candidate),
                      "champion": dg.MetadataValue.json(cmp.champion or {}), "window": f"{cmp.window[0]}..{cmp.window[1]}",
                      "rows": cmp.rows, "sar_labelled_rows": cmp.positives, "candidate_version": mv.version},
        )],
    )


@dg.asset(
    group_name=GROUP,
    deps=["model_candidate"],
    kinds={"skops"},
    description="Promote the candidate to champion (runs only when candidate_not_worse_than_champion passed); "
    "the alias change is appended to models/promotions.jsonl.",
)
def model_champion(context: dg.AssetExecutionContext, scoring: ScoringSettings) -> dg.MaterializeResult:
    registry = Registry(scoring.models_path)
    candidate = registry.aliases().get("candidate")
    if candidate is None:
        raise dg.Failure("no candidate model to promote")
    cand = registry.get(candidate)
    previous = registry.aliases().get("champion")
    registry.promote(candidate, reason="passed candidate_not_worse_than_champion",
                     metrics=cand.manifest.get("holdback_metrics", {}), decided_by="dagster:model_champion")
    return dg.MaterializeResult(metadata={"champion": candidate, "previous_champion": previous or "none",
                                          "promotions_logged": len(registry.log())})


model_assets = [model_candidate, model_champion]
