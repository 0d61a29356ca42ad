"""Review app configuration: defaults in ``nexusfin/defaults/review.yaml``; a user file (argument or
NEXUSFIN_REVIEW) overrides any section. The regulatory thresholds drawn on the timeline come from
:mod:`nexusfin.settings`, never from here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_DEFAULTS = Path(__file__).resolve().parent.parent / "defaults" / "review.yaml"


@dataclass(frozen=True)
class ReportingEntity:
    rentity_id: str
    rentity_branch: str
    name: str
    fiu: str


@dataclass(frozen=True)
class ReviewConfig:
    reporting_entity: ReportingEntity
    currency_code_local: str
    session_idle_minutes: int
    session_absolute_hours: int
    lock_minutes: int
    timeline_days: int
    network_counterparties: int
    max_evidence_transactions: int
    score_bands: dict[str, tuple[float, float]]


def load_review_config(path: str | Path | None = None) -> ReviewConfig:
    with open(_DEFAULTS) as fh:
        raw: dict[str, Any] = yaml.safe_load(fh)
    path = path or os.environ.get("NEXUSFIN_REVIEW")
    if path:
        with open(path) as fh:
            user = yaml.safe_load(fh) or {}
        for key, value in user.items():
            if key not in raw:
                raise ValueError(f"{path}: unknown review setting {key!r} (known: {', '.join(sorted(raw))})")
            if isinstance(raw[key], dict) and key != "score_bands":
                if not isinstance(value, dict) or set(value) - set(raw[key]):
                    raise ValueError(f"{path}: {key} takes {', '.join(sorted(raw[key]))}; got {value!r}")
                raw[key] = {**raw[key], **value}
            else:
                raw[key] = value
    bands = {str(k): (float(v[0]), float(v[1])) for k, v in raw["score_bands"].items()}
    for name, (lo, hi) in bands.items():
        if not lo < hi:
            raise ValueError(f"score band {name!r}: low {lo} must be below high {hi}")
    cfg = ReviewConfig(
        reporting_entity=ReportingEntity(**{k: str(v) for k, v in raw["reporting_entity"].items()}),
        currency_code_local=str(raw["currency_code_local"]),
        session_idle_minutes=int(raw["sessions"]["idle_minutes"]),
        session_absolute_hours=int(raw["sessions"]["absolute_hours"]),
        lock_minutes=int(raw["locks"]["minutes"]),
        timeline_days=int(raw["evidence"]["timeline_days"]),
        network_counterparties=int(raw["evidence"]["network_counterparties"]),
        max_evidence_transactions=int(raw["evidence"]["max_evidence_transactions"]),
        score_bands=bands,
    )
    if cfg.session_idle_minutes <= 0 or cfg.session_absolute_hours <= 0 or cfg.lock_minutes <= 0:
        raise ValueError("session and lock durations must be positive")
    return cfg
