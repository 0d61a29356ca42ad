"""Scoring configuration: defaults in ``nexusfin/defaults/scoring.yaml``, overrides from a user
file (argument or NEXUSFIN_SCORING). Regulatory amounts and the high-risk jurisdiction list are
read from :mod:`nexusfin.settings`, never restated here."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nexusfin.settings import Regulatory, deep_merge, load_regulatory

_DEFAULTS = Path(__file__).resolve().parent.parent / "defaults" / "scoring.yaml"


@dataclass(frozen=True)
class GraphConfig:
    max_hops: int = 5
    time_respecting: bool = True
    min_usd: float = 100.0
    pagerank_alpha: float = 0.15
    pagerank_iterations: int = 30


@dataclass(frozen=True)
class LinkageConfig:
    terror_programs: tuple[str, ...] = ("SDGT", "FTO", "SDT")
    crime_programs: tuple[str, ...] = ("SDNTK", "SDNT", "TCO", "ILLICIT-DRUGS-EO14059")
    screening: dict[str, Any] = field(default_factory=dict)
    max_shared_identifier_group: int = 20
    graph: GraphConfig = GraphConfig()
    crime_families: tuple[str, ...] = ("structuring", "funnel", "rapid_movement", "crypto")


@dataclass(frozen=True)
class FeatureConfig:
    window_days: int = 14
    excluded_account_types: tuple[str, ...] = ("exchange", "correspondent")


@dataclass(frozen=True)
class ModelConfig:
    max_iter: int = 150
    learning_rate: float = 0.1
    max_leaf_nodes: int = 15
    max_depth: int | None = 6
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    class_weight: str | None = "balanced"
    calibration: str = "isotonic"
    random_state: int = 0


@dataclass(frozen=True)
class TrainingConfig:
    snapshot_stride_days: int = 2
    holdback_days: int = 7
    min_positive_labels: int = 15
    max_regression: float = 0.02


@dataclass(frozen=True)
class QueueConfig:
    alerts_per_day: int = 20
    open_days: int = 30
    explain_top: int = 5


@dataclass(frozen=True)
class ScoringConfig:
    linkage: LinkageConfig
    features: FeatureConfig
    model: ModelConfig
    training: TrainingConfig
    queue: QueueConfig
    psi_warn: float = 0.25
    regulatory: Regulatory = field(default_factory=load_regulatory)
    version: int = 1
    source: str = str(_DEFAULTS)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("source")
        d["regulatory"] = {k: v for k, v in d["regulatory"].items() if k != "source"}
        return json.loads(json.dumps(d, default=str))

    @property
    def fingerprint(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    @property
    def high_risk_jurisdictions(self) -> tuple[str, ...]:
        return tuple(self.regulatory.high_risk_jurisdictions)

    def replace(self, **sections: dict[str, Any]) -> ScoringConfig:
        """A copy with some parameters changed, e.g. ``replace(queue={"alerts_per_day": 40})``."""
        changed = {name: dataclasses.replace(getattr(self, name), **kw) for name, kw in sections.items()}
        return dataclasses.replace(self, **changed)


def _build(cls, raw: dict[str, Any] | None, what: str, **extra: Any):
    raw = dict(raw or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown {what} setting(s) {sorted(unknown)}; known: {sorted(known)}")
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items()}
    kw.update(extra)
    return cls(**kw)


def load_scoring_config(path: str | Path | None = None, regulatory: Regulatory | None = None) -> ScoringConfig:
    """Defaults, overridden by ``path`` (or NEXUSFIN_SCORING)."""
    raw = yaml.safe_load(_DEFAULTS.read_text())
    path = path or os.environ.get("NEXUSFIN_SCORING")
    source = str(_DEFAULTS)
    if path:
        raw = deep_merge(raw, yaml.safe_load(Path(path).read_text()) or {})
        source = str(path)
    unknown = set(raw) - {"version", "linkage", "features", "model", "training", "queue", "drift"}
    if unknown:
        raise ValueError(f"unknown scoring section(s) {sorted(unknown)}")
    lk = dict(raw.get("linkage") or {})
    graph = _build(GraphConfig, lk.pop("graph", None), "linkage.graph")
    shared = dict(lk.pop("shared_identifiers", None) or {})
    conv = dict(lk.pop("convergence", None) or {})
    linkage = _build(
        LinkageConfig, lk, "linkage", graph=graph,
        max_shared_identifier_group=int(shared.pop("max_group", 20)),
        crime_families=tuple(conv.pop("crime_families", LinkageConfig.crime_families)),
    )
    if shared or conv:
        raise ValueError(f"unknown linkage setting(s) {sorted(shared) + sorted(conv)}")
    model = _build(ModelConfig, raw.get("model"), "model")
    if model.calibration not in ("isotonic", "sigmoid"):
        raise ValueError(f"model.calibration must be isotonic or sigmoid, not {model.calibration!r}")
    queue = _build(QueueConfig, raw.get("queue"), "queue")
    if queue.alerts_per_day < 1:
        raise ValueError("queue.alerts_per_day must be at least 1 (it is the analysts' daily capacity)")
    drift = dict(raw.get("drift") or {})
    psi = float(drift.pop("psi_warn", 0.25))
    if drift:
        raise ValueError(f"unknown drift setting(s) {sorted(drift)}")
    return ScoringConfig(
        linkage=linkage,
        features=_build(FeatureConfig, raw.get("features"), "features"),
        model=model,
        training=_build(TrainingConfig, raw.get("training"), "training"),
        queue=queue,
        psi_warn=psi,
        regulatory=regulatory or load_regulatory(),
        version=int(raw.get("version", 1)),
        source=source,
    )
