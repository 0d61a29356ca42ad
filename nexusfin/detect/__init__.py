"""Detectors: numba kernels over per-account arrays, turned into alerts with their evidence.

    ledger = build_ledger(transactions, accounts, address_tags)      # once per window
    alerts = detect_alerts(ledger, load_detector_config())            # {family: DataFrame}

Families (one Dagster asset each): ``structuring`` (structuring, targeting orders, smurfing),
``funnel``, ``rapid_movement`` (pass-through, chains, cycles, fans, gather/scatter) and
``crypto`` (peel chains, mixer/bridge exposure, chain hopping, on-ramp and cash-out).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from nexusfin.detect._numba import set_threads
from nexusfin.detect.alerts import ALERTS, alerts_frame
from nexusfin.detect.config import DetectorConfig, load_detector_config
from nexusfin.detect.hits import Hits
from nexusfin.detect.ledger import CRYPTO, Ledger, LedgerInputError, build_ledger

__all__ = [
    "ALERTS",
    "FAMILIES",
    "DetectorConfig",
    "Hits",
    "Ledger",
    "LedgerInputError",
    "build_ledger",
    "config_version",
    "detect",
    "detect_alerts",
    "detect_alerts_partitioned",
    "detections_file",
    "load_detector_config",
    "lookback_days",
    "read_window",
    "set_threads",
    "warm_up",
    "write_detections",
]

FAMILIES: tuple[str, ...] = ("structuring", "funnel", "rapid_movement", "crypto")


def detect(ledger: Ledger, config: DetectorConfig, families: Iterable[str] = FAMILIES) -> dict[str, list[Hits]]:
    """Run the kernels of each family on one ledger (built once, shared by all of them)."""
    from nexusfin.detect import crypto, funnel, movement, structuring

    run = {
        "structuring": lambda: structuring.detect_structuring(ledger, config.structuring),
        "funnel": lambda: funnel.detect_funnel(ledger, config.funnel),
        "rapid_movement": lambda: movement.detect_movement(ledger, config.movement),
        "crypto": lambda: crypto.detect_crypto(ledger, config.crypto),
    }
    out = {}
    for fam in families:
        if fam not in run:
            raise ValueError(f"unknown detector family {fam!r}; choose from {FAMILIES}")
        out[fam] = run[fam]()
    return out


def _params_of(config: DetectorConfig):
    sections = {
        "structuring": config.structuring, "funnel": config.funnel, "movement": config.movement,
        "crypto": config.crypto,
    }

    def params(rule: str) -> dict:
        import dataclasses

        return dataclasses.asdict(sections[rule.split(".")[0]])

    return params


def config_version(config: DetectorConfig) -> str:
    return f"v{config.version}-{config.fingerprint}"


def detect_alerts(ledger: Ledger, config: DetectorConfig, families: Iterable[str] = FAMILIES,
                  day: date | None = None) -> dict[str, pl.DataFrame]:
    """Alerts per family, following ``schemas/detector_alerts.yaml`` (only those detected on ``day``
    when given: a daily partition builds rows for its own alerts, not the whole window's)."""
    hits = detect(ledger, config, families)
    params = _params_of(config)
    return {fam: alerts_frame(ledger, h, params, config_version(config), day) for fam, h in hits.items()}


def lookback_days(config: DetectorConfig) -> int:
    """Days of history a day's detection reads: the configured ``lookback_days``, which must cover
    every rule's window (chains longer than it are followed only as far back as it reaches)."""
    m, c, s, f = config.movement, config.crypto, config.structuring, config.funnel
    needed = math.ceil(max(
        s.window_days * 24, s.smurfing_window_days * 24, f.window_days * 24 + f.out_window_hours,
        m.fan_window_hours + max(m.fan_forward_hours, m.fan_out_funding_hours), c.on_ramp_days * 24,
        c.cash_out_hours,
    ) / 24)
    if config.lookback_days < needed:
        raise ValueError(f"lookback_days {config.lookback_days} is shorter than the longest rule window ({needed} days)")
    return int(config.lookback_days)


def read_window(lake: str | Path, first: date, last: date) -> pl.LazyFrame:
    """Lake transactions of the days ``first..last`` (inclusive) that exist."""
    lake = Path(lake)
    files = []
    d = first
    while d <= last:
        f = lake / "transactions" / f"date={d.isoformat()}" / "part-0.parquet"
        if f.is_file():
            files.append(str(f))
        d += timedelta(days=1)
    if not files:
        from nexusfin.contracts import contract

        return contract("lake_transactions").empty().lazy()
    return pl.scan_parquet(files)


def detections_file(lake: str | Path, family: str, day: date) -> Path:
    return Path(lake) / "detections" / f"family={family}" / f"date={day.isoformat()}" / "part-0.parquet"


def write_detections(alerts: pl.DataFrame, lake: str | Path, family: str, day: date) -> Path:
    """Atomically (re)write one family's alerts for one day; re-running a day replaces them."""
    return ALERTS.write(ALERTS.conform(alerts), detections_file(lake, family, day), "parquet")


def warm_up() -> None:
    """Compile (or load from the cache) every kernel on a tiny ledger, so the first real day is not slow."""
    from datetime import UTC, datetime

    ts = [datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 5, 10, tzinfo=UTC)]
    tx = pl.DataFrame({
        "txn_id": ["w1", "w2"], "ts": ts, "src_account": [None, "A"], "dst_account": ["A", "B"],
        "amount_usd": [9000.0, 8900.0], "channel": ["cash", "wire"], "txn_type": ["deposit", "transfer"],
        "src_country": ["US", "US"], "dst_country": ["US", "MX"], "location": ["US-TX-78040:B01-BR1", None],
        "conducted_by": [None, None],
    }, schema_overrides={"ts": pl.Datetime("us", "UTC")})
    acc = pl.DataFrame({"account_id": ["A", "B"], "owner_party_id": ["P1", "P2"],
                        "account_type": ["checking", "checking"], "country": ["US", "MX"]})
    detect(build_ledger(tx, acc), load_detector_config())


def detect_alerts_partitioned(transactions: pl.DataFrame, accounts: pl.DataFrame, address_tags: pl.DataFrame | None,
                              config: DetectorConfig, n_partitions: int,
                              families: Iterable[str] = FAMILIES) -> dict[str, pl.DataFrame]:
    """The same alerts as one ledger, computed on ``n_partitions`` independent account partitions.

    Each partition runs the per-account and per-person rules alone and hands over its *links*
    (pass-through links and peel links, as transaction ids) and its crypto transfers; the graph
    rules (chains, cycles, scatter-gather, peel chains, mixer/bridge exposure) then run once on the
    small ledger of exactly those rows. This is the exchange a distributed engine would perform.
    """
    from nexusfin.detect import crypto, funnel, movement, structuring

    families = tuple(families)
    params = _params_of(config)
    version = config_version(config)
    parts: dict[str, list[pl.DataFrame]] = {f: [] for f in families}
    move_links: list[pl.DataFrame] = []
    peel_links: list[pl.DataFrame] = []
    graph_ids: list[pl.Series] = []
    for i in range(n_partitions):
        ledger = build_ledger(transactions, accounts, address_tags, partition=(i, n_partitions))
        ids = ledger.txn_ids
        for fam in families:
            if fam == "structuring":
                hits = structuring.detect_structuring(ledger, config.structuring)
            elif fam == "funnel":
                hits = funnel.detect_funnel(ledger, config.funnel)
            elif fam == "rapid_movement":
                hits, (li, lo) = movement.account_rules(ledger, config.movement)
                move_links.append(pl.DataFrame({"a": ids.gather(li), "b": ids.gather(lo)}))
            elif fam == "crypto":
                hits = crypto.account_rules(ledger, config.crypto)
                e, f, g = crypto.peel_links(ledger, config.crypto)
                peel_links.append(pl.DataFrame({"a": ids.gather(e), "b": ids.gather(f), "c": ids.gather(g)}))
                graph_ids.append(ids.filter(pl.Series(ledger.channel == CRYPTO)))
            else:
                raise ValueError(f"unknown detector family {fam!r}; choose from {FAMILIES}")
            parts[fam].append(alerts_frame(ledger, hits, params, version))
    if "rapid_movement" in families or "crypto" in families:
        links = pl.concat(move_links) if move_links else pl.DataFrame(schema={"a": pl.String, "b": pl.String})
        peels = pl.concat(peel_links) if peel_links else pl.DataFrame(schema={"a": pl.String, "b": pl.String,
                                                                               "c": pl.String})
        wanted = pl.concat([links["a"], links["b"], peels["a"], peels["b"], peels["c"], *graph_ids]).unique()
        small = build_ledger(transactions.filter(pl.col("txn_id").is_in(wanted.implode())), accounts, address_tags)
        row_of = {t: r for r, t in enumerate(small.txn_ids.to_list())}

        def rows(col: pl.Series) -> np.ndarray:
            return np.array([row_of[t] for t in col.to_list()], dtype=np.int64)

        if "rapid_movement" in families:
            hits = movement.link_rules(small, (rows(links["a"]), rows(links["b"])), config.movement)
            parts["rapid_movement"].append(alerts_frame(small, hits, params, version))
        if "crypto" in families:
            hits = crypto.graph_rules(small, config.crypto, (rows(peels["a"]), rows(peels["b"]), rows(peels["c"])))
            parts["crypto"].append(alerts_frame(small, hits, params, version))
    return {f: pl.concat(v).unique("alert_id", keep="first", maintain_order=True) if v else ALERTS.empty()
            for f, v in parts.items()}
