"""Detector parameters: defaults in ``nexusfin/defaults/detectors.yaml``, regulatory amounts from
:mod:`nexusfin.settings` (never restated here), overrides from a user file.

Every alert stores the parameters its rule ran with, so an analyst (and a backtest) can tell
which configuration produced it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nexusfin.settings import Regulatory, deep_merge, load_regulatory

_DEFAULTS = Path(__file__).resolve().parent.parent / "defaults" / "detectors.yaml"


@dataclass(frozen=True)
class StructuringConfig:
    ctr_threshold_usd: float
    band_low_usd: float
    recordkeeping_threshold_usd: float
    window_days: float = 7
    min_daily_deposits: int = 2
    min_band_deposits: int = 3
    min_band_share: float = 0.5
    max_above_share: float = 0.0
    smurfing_window_days: float = 7
    smurfing_min_conductors: int = 3
    smurfing_min_total_usd: float = 3000.0
    targeting_orders: tuple[tuple[str, float, tuple[str, ...]], ...] = ()  # (id, threshold, areas)
    excluded_account_types: tuple[str, ...] = ("msb",)


@dataclass(frozen=True)
class FunnelConfig:
    window_days: float = 10
    min_areas: int = 3
    min_cash_in_usd: float = 10000.0
    out_window_hours: float = 72
    min_out_ratio: float = 0.5
    excluded_account_types: tuple[str, ...] = ("exchange", "payment_processor", "msb")


@dataclass(frozen=True)
class MovementConfig:
    fiat_only: bool = True
    min_amount_usd: float = 3000.0
    pass_through_hours: float = 24
    ratio_low: float = 0.8
    ratio_high: float = 1.0
    chain_link_hours: float = 48
    chain_min_links: int = 2
    chain_max_links: int = 12
    cycle_min_length: int = 2
    fan_window_hours: float = 96
    fan_min_degree: int = 5
    fan_min_amount_usd: float = 1000
    fan_forward_hours: float = 48
    fan_forward_ratio: float = 0.7
    fan_out_funding_hours: float = 48
    fan_out_funding_ratio: float = 0.7
    fan_forward_ratio_max: float = 1.2
    excluded_txn_types: tuple[str, ...] = ("payment", "purchase", "payroll", "fee")
    gather_scatter_window_hours: float = 168
    gather_scatter_forward_hours: float = 72
    gather_scatter_min_in: int = 3
    gather_scatter_min_out: int = 2
    scatter_gather_min_intermediaries: int = 3
    excluded_account_types: tuple[str, ...] = ("exchange", "payment_processor", "msb")


@dataclass(frozen=True)
class CryptoConfig:
    min_amount_usd: float = 1000
    peel_link_hours: float = 24
    peel_max_fraction: float = 0.25
    peel_min_remainder: float = 0.6
    peel_min_hops: int = 3
    exposure_max_hops: int = 2
    chain_hop_hours: float = 24
    chain_hop_min_ratio: float = 0.9
    chain_hop_min_hops: int = 2
    cash_out_hours: float = 72
    cash_out_ratio: float = 0.5
    on_ramp_days: float = 7
    on_ramp_ratio: float = 0.8
    excluded_txn_types: tuple[str, ...] = ("payment", "purchase", "payroll", "fee")


@dataclass(frozen=True)
class DetectorConfig:
    structuring: StructuringConfig
    funnel: FunnelConfig
    movement: MovementConfig
    crypto: CryptoConfig
    version: int = 1
    lookback_days: int = 14
    source: str = str(_DEFAULTS)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("source")
        return json.loads(json.dumps(d))

    @property
    def fingerprint(self) -> str:
        """Short hash of every parameter: two runs with the same fingerprint used the same rules."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def replace(self, **families: dict[str, Any]) -> DetectorConfig:
        """A copy with some parameters changed, e.g. ``replace(movement={"ratio_low": 0.7})``."""
        changed = {name: dataclasses.replace(getattr(self, name), **kw) for name, kw in families.items()}
        return dataclasses.replace(self, **changed)


def _section(cls, raw: dict[str, Any], family: str, **derived) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown {family} parameter(s) {sorted(unknown)}; known: {sorted(known)}")
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items() if v is not None}
    for k, v in derived.items():
        if raw.get(k) is None:
            kw[k] = v
    return cls(**kw)


def load_detector_config(path: str | Path | None = None, regulatory: Regulatory | None = None) -> DetectorConfig:
    """Defaults, overridden by ``path`` (or NEXUSFIN_DETECTORS); amounts left null follow ``regulatory``."""
    reg = regulatory or load_regulatory()
    raw = yaml.safe_load(_DEFAULTS.read_text())
    path = path or os.environ.get("NEXUSFIN_DETECTORS")
    source = str(_DEFAULTS)
    if path:
        raw = deep_merge(raw, yaml.safe_load(Path(path).read_text()) or {})
        source = str(path)
    unknown = set(raw) - {"version", "lookback_days", "structuring", "funnel", "movement", "crypto"}
    if unknown:
        raise ValueError(f"unknown detector families {sorted(unknown)}")
    orders = tuple((t.id, t.threshold_usd, t.locations) for t in reg.targeting_orders)
    s = raw.get("structuring", {})
    regulatory_keys = {"ctr_threshold_usd", "band_low_usd", "recordkeeping_threshold_usd", "targeting_orders"}
    if regulatory_keys & set(s):
        raise ValueError(f"{sorted(regulatory_keys & set(s))} are regulatory amounts: set them in regulatory.yaml")
    structuring = _section(
        StructuringConfig, {**s, "ctr_threshold_usd": reg.ctr_threshold_usd, "band_low_usd": reg.structuring_band_low_usd,
                            "recordkeeping_threshold_usd": reg.recordkeeping_threshold_usd}, "structuring",
        smurfing_min_total_usd=reg.recordkeeping_threshold_usd,
    )
    structuring = dataclasses.replace(structuring, targeting_orders=orders)
    funnel = _section(FunnelConfig, raw.get("funnel", {}), "funnel", min_cash_in_usd=reg.ctr_threshold_usd)
    movement = _section(MovementConfig, raw.get("movement", {}), "movement",
                        min_amount_usd=reg.recordkeeping_threshold_usd)
    crypto = _section(CryptoConfig, raw.get("crypto", {}), "crypto")
    return DetectorConfig(structuring, funnel, movement, crypto, version=int(raw.get("version", 1)),
                          lookback_days=int(raw.get("lookback_days", 14)), source=source)
