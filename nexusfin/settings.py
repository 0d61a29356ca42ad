"""Configuration: regulatory thresholds and jurisdiction lists, loaded from YAML.

Defaults live in ``nexusfin/defaults/regulatory.yaml``; a user file (``--config`` or the
NEXUSFIN_CONFIG environment variable) overrides any key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_DEFAULTS = Path(__file__).resolve().parent / "defaults" / "regulatory.yaml"


@dataclass(frozen=True)
class TargetingOrder:
    id: str
    threshold_usd: float
    applies_to: str
    locations: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Regulatory:
    ctr_threshold_usd: float
    recordkeeping_threshold_usd: float
    structuring_band_low_usd: float
    targeting_orders: tuple[TargetingOrder, ...] = ()
    high_risk_jurisdictions: tuple[str, ...] = ()
    border_locations: tuple[str, ...] = ()
    currency: str = "USD"
    version: int = 1
    source: str = field(default=str(_DEFAULTS), compare=False)

    def is_reportable_cash(self, amount_usd: float) -> bool:
        """CTR: currency transactions of MORE than the threshold (10,000.00 is not reportable)."""
        return amount_usd > self.ctr_threshold_usd


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    out.update(override)
    return out


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top, nested sections merged key by key (user config files)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_regulatory(path: str | Path | None = None) -> Regulatory:
    with open(_DEFAULTS) as fh:
        raw = yaml.safe_load(fh)
    path = path or os.environ.get("NEXUSFIN_CONFIG")
    source = str(_DEFAULTS)
    if path:
        with open(path) as fh:
            user = yaml.safe_load(fh) or {}
        raw = _merge(raw, user.get("regulatory", user))
        source = str(path)
    if raw["ctr_threshold_usd"] <= raw["structuring_band_low_usd"]:
        raise ValueError("structuring_band_low_usd must be below ctr_threshold_usd")
    return Regulatory(
        ctr_threshold_usd=float(raw["ctr_threshold_usd"]),
        recordkeeping_threshold_usd=float(raw["recordkeeping_threshold_usd"]),
        structuring_band_low_usd=float(raw["structuring_band_low_usd"]),
        targeting_orders=tuple(
            TargetingOrder(
                id=t["id"],
                threshold_usd=float(t["threshold_usd"]),
                applies_to=t["applies_to"],
                locations=tuple(t.get("locations", ())),
                description=t.get("description", ""),
            )
            for t in raw.get("targeting_orders", ())
        ),
        high_risk_jurisdictions=tuple(raw.get("high_risk_jurisdictions", ())),
        border_locations=tuple(raw.get("border_locations", ())),
        currency=raw.get("currency", "USD"),
        version=int(raw.get("version", 1)),
        source=source,
    )
