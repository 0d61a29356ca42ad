"""Account features: behaviour, geography, crypto exposure, detector outputs and linkage to
designated facilitators, one row per account and day (schemas/account_features.yaml).

For day D the features read the lake window D - window_days + 1 .. D (like the detectors), the
detector alerts detected in that window, and the screening of the reference snapshot; the best
money paths to facilitators are written beside them (schemas/facilitator_paths.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from nexusfin.contracts import contract
from nexusfin.detect import read_window
from nexusfin.detect.ledger import Ledger, build_ledger
from nexusfin.features.build import FEATURE_COLUMNS, FEATURES, build_features, feature_version
from nexusfin.features.linkage import ReferenceLinkage, WindowLinkage, link_window, screen_reference
from nexusfin.scoring.config import ScoringConfig

__all__ = [
    "FEATURES", "FEATURE_COLUMNS", "PATHS", "Reference", "ReferenceLinkage", "WindowFeatures", "WindowLinkage",
    "build_features", "feature_version", "features_file", "features_for_day", "features_for_window",
    "link_window", "load_reference", "paths_file", "read_features", "read_paths", "reference_linkage",
    "screen_reference", "window_alerts", "write_features",
]

PATHS = contract("facilitator_paths")
LINKAGE_TABLES = ("watchlist_matches", "identifier_links", "facilitator_accounts")


@dataclass
class Reference:
    accounts: pl.DataFrame
    parties: pl.DataFrame
    watchlist: pl.DataFrame
    address_tags: pl.DataFrame
    sar_filings: pl.DataFrame


def load_reference(folder: str | Path) -> Reference:
    """The reference snapshot from a folder of ``<table>.parquet`` files (lake/reference or a data
    root's landing/reference)."""
    folder = Path(folder)

    def read(t: str) -> pl.DataFrame:
        f = folder / f"{t}.parquet"
        if not f.is_file():
            raise FileNotFoundError(f"reference table {t} missing: {f}")
        return pl.read_parquet(f)

    return Reference(read("accounts"), read("parties"), read("watchlist"), read("address_tags"), read("sar_filings"))


def reference_linkage(reference: Reference, config: ScoringConfig) -> ReferenceLinkage:
    return screen_reference(reference.parties, reference.watchlist, reference.accounts, reference.address_tags,
                            config)


def write_reference_linkage(link: ReferenceLinkage, folder: str | Path) -> dict[str, Path]:
    from nexusfin.files import atomic_path

    out = {}
    for name, df in (("watchlist_matches", link.matches), ("identifier_links", link.identifier_links),
                     ("facilitator_accounts", link.facilitator_accounts)):
        path = Path(folder) / f"{name}.parquet"
        with atomic_path(path) as tmp:
            df.write_parquet(tmp)
        out[name] = path
    return out


def read_reference_linkage(folder: str | Path) -> ReferenceLinkage:
    folder = Path(folder)
    missing = [t for t in LINKAGE_TABLES if not (folder / f"{t}.parquet").is_file()]
    if missing:
        raise FileNotFoundError(f"screening results {missing} missing under {folder}: run the watchlist_screening "
                                "asset (reference_job)")
    return ReferenceLinkage(*(pl.read_parquet(folder / f"{t}.parquet") for t in LINKAGE_TABLES))


@dataclass
class WindowFeatures:
    features: pl.DataFrame
    paths: pl.DataFrame
    linkage: WindowLinkage
    ledger: Ledger


def window_alerts(alerts: pl.DataFrame, first: date, last: date) -> pl.DataFrame:
    """Detector alerts detected on the days ``first..last``."""
    if alerts.is_empty():
        return alerts
    return alerts.filter(pl.col("detected_on").is_between(first, last))


def _entity_frame(window: WindowLinkage, ledger: Ledger) -> pl.DataFrame:
    codes = np.array(sorted(window.seed_entities), dtype=np.int32)
    return pl.DataFrame({
        "facilitator_account_id": ledger.account_ids[codes] if len(codes) else np.array([], dtype=object),
        "entity_id": [window.seed_entities[c]["entity_id"] for c in codes.tolist()],
        "entity_name": [window.seed_entities[c]["name"] for c in codes.tolist()],
        "programs": [list(window.seed_entities[c]["programs"]) for c in codes.tolist()],
    }, schema={"facilitator_account_id": pl.String, "entity_id": pl.String, "entity_name": pl.String,
               "programs": pl.List(pl.String)})


def paths_of(ledger: Ledger, window: WindowLinkage, codes: np.ndarray, as_of: date) -> pl.DataFrame:
    """facilitator_paths rows of the accounts ``codes`` that have a path (seeds themselves excluded)."""
    from nexusfin.linkage.graph import paths_frame

    entities = _entity_frame(window, ledger)
    frames = []
    for direction, prox, hops in (("to", window.prox, window.prox.hops_to),
                                  ("from", window.prox, window.prox.hops_from),
                                  ("to_terror", window.prox_terror, window.prox_terror.hops_to)):
        wanted = codes[hops[codes] > 0]
        if not len(wanted):
            continue
        f = paths_frame(ledger, prox, wanted, "from" if direction == "from" else "to")
        frames.append(f.with_columns(pl.lit(direction).alias("direction")))
    if not frames:
        return PATHS.empty()
    out = (
        pl.concat(frames, how="vertical_relaxed")
        .rename({"seed_account_id": "facilitator_account_id"})
        .join(entities, on="facilitator_account_id", how="left")
        .with_columns(pl.lit(as_of).alias("as_of"), pl.col("hops").cast(pl.Int64))
    )
    return PATHS.conform(out.select(PATHS.names))


def features_for_window(transactions: pl.LazyFrame | pl.DataFrame, reference: Reference, link: ReferenceLinkage,
                        alerts: pl.DataFrame, config: ScoringConfig, as_of: date) -> WindowFeatures:
    """Features and facilitator paths of every account active in ``transactions`` (one window)."""
    ledger = build_ledger(transactions, reference.accounts, reference.address_tags)
    window = link_window(ledger, link, alerts, config)
    feats = build_features(ledger, reference.accounts, reference.parties, alerts, link, window, config, as_of)
    return WindowFeatures(feats, paths_of(ledger, window, account_codes(ledger, feats.get_column("account_id")), as_of),
                          window, ledger)


def account_codes(ledger: Ledger, account_ids: pl.Series) -> np.ndarray:
    """Ledger codes of ``account_ids`` (a hash join: numpy's isin on a million strings is quadratic)."""
    index = pl.DataFrame({"account_id": ledger.account_ids, "code": np.arange(ledger.n_accounts, dtype=np.int32)},
                         schema_overrides={"account_id": pl.String})
    return (pl.DataFrame({"account_id": account_ids}).join(index, on="account_id", how="inner")
            .get_column("code").sort().to_numpy())


def window_days(config: ScoringConfig, day: date) -> tuple[date, date]:
    return day - timedelta(days=config.features.window_days - 1), day


def features_for_day(lake: str | Path, day: date, reference: Reference, link: ReferenceLinkage,
                     config: ScoringConfig) -> WindowFeatures:
    """Features of day ``day`` from the lake: its transactions window and detections."""
    first, last = window_days(config, day)
    tx = read_window(lake, first, last)
    return features_for_window(tx, reference, link, read_detections(lake, first, last), config, day)


def read_detections(lake: str | Path, first: date, last: date) -> pl.DataFrame:
    from nexusfin.detect import ALERTS, FAMILIES, detections_file

    files = []
    d = first
    while d <= last:
        files += [str(f) for fam in FAMILIES if (f := detections_file(lake, fam, d)).is_file()]
        d += timedelta(days=1)
    return pl.read_parquet(files) if files else ALERTS.empty()


def features_file(lake: str | Path, day: date) -> Path:
    return Path(lake) / "features" / f"date={day.isoformat()}" / "part-0.parquet"


def paths_file(lake: str | Path, day: date) -> Path:
    return Path(lake) / "features_paths" / f"date={day.isoformat()}" / "part-0.parquet"


def write_features(wf: WindowFeatures, lake: str | Path, day: date) -> tuple[Path, Path]:
    """Atomically (re)write a day's features and paths; re-running the day replaces them."""
    return (FEATURES.write(wf.features, features_file(lake, day), "parquet"),
            PATHS.write(wf.paths, paths_file(lake, day), "parquet"))


def _read_days(lake: str | Path, folder: str, days: list[date] | None, empty: pl.DataFrame) -> pl.DataFrame:
    root = Path(lake) / folder
    if days is None:
        files = sorted(str(p) for p in root.glob("date=*/part-0.parquet"))
    else:
        files = [str(p) for d in days if (p := root / f"date={d.isoformat()}" / "part-0.parquet").is_file()]
    return pl.read_parquet(files) if files else empty


def read_features(lake: str | Path, days: list[date] | None = None) -> pl.DataFrame:
    return _read_days(lake, "features", days, FEATURES.empty())


def read_paths(lake: str | Path, days: list[date] | None = None) -> pl.DataFrame:
    return _read_days(lake, "features_paths", days, PATHS.empty())
