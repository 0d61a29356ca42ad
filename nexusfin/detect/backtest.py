"""Backtesting detector parameters against labels, and saving a tuned configuration.

A backtest runs every candidate configuration over the same world (one ledger, built once) and
reports, per candidate, the analyst load (alerts per day) against what it finds: recall per
typology against the ground truth when the world has one, and recall of the institution's own
SAR-labelled accounts (what a bank can measure on its own history). A modeler picks a candidate
and saves it as a new, versioned detector file; the pipeline uses it through
``NEXUSFIN_DETECTORS`` or ``DetectorSettings.config_path``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from itertools import product
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from nexusfin.detect import FAMILIES, config_version, detect_alerts
from nexusfin.detect.config import DetectorConfig, load_detector_config
from nexusfin.detect.evaluate import TARGETS, evaluate
from nexusfin.detect.ledger import Ledger, build_ledger
from nexusfin.layout import DataRoot

# amounts that come from regulatory.yaml: never written into a detector file
_REGULATORY = {"structuring": ("ctr_threshold_usd", "band_low_usd", "recordkeeping_threshold_usd", "targeting_orders")}
# amounts that default to a regulatory one: written as null (follow regulatory.yaml) unless tuned away from it
_DERIVED = {("funnel", "min_cash_in_usd"): "ctr_threshold_usd",
            ("movement", "min_amount_usd"): "recordkeeping_threshold_usd",
            ("structuring", "smurfing_min_total_usd"): "recordkeeping_threshold_usd"}


def grid(base: DetectorConfig, **axes: Mapping[str, Iterable[Any]]) -> dict[str, DetectorConfig]:
    """Candidate configurations: the product of parameter values per family, e.g.
    ``grid(cfg, structuring={"min_band_deposits": [2, 3, 4]}, movement={"ratio_low": [0.7, 0.8]})``.
    Names read ``structuring.min_band_deposits=3,movement.ratio_low=0.8``."""
    keys = [(fam, p) for fam, params in axes.items() for p in params]
    values = [list(axes[fam][p]) for fam, p in keys]
    out: dict[str, DetectorConfig] = {}
    for combo in product(*values):
        changes: dict[str, dict[str, Any]] = {}
        for (fam, p), v in zip(keys, combo, strict=True):
            changes.setdefault(fam, {})[p] = v
        name = ",".join(f"{fam}.{p}={v}" for (fam, p), v in zip(keys, combo, strict=True)) or "base"
        out[name] = base.replace(**changes)
    return out


@dataclasses.dataclass
class Backtest:
    summary: pl.DataFrame  # candidate, config_version, alerts, alerts_per_day, sar_recall, truth_recall, precision
    typologies: pl.DataFrame  # candidate, typology, recall, precision (truth)
    days: int


def _world_ledger(world: str | Path) -> tuple[Ledger, pl.DataFrame, int]:
    root = DataRoot(world)
    files = [str(p) for p in sorted(root.landing_days().values())]
    if not files:
        raise ValueError(f"{world}: no landing days")
    tx = pl.scan_parquet(files)
    accounts = pl.read_parquet(root.reference_file("accounts"))
    tags = pl.read_parquet(root.reference_file("address_tags"))
    sar = pl.read_parquet(root.reference_file("sar_filings"))
    return build_ledger(tx, accounts, tags), sar, len(files)


def _sar_recall(alerts: pl.DataFrame, sar: pl.DataFrame, accounts: pl.DataFrame | None = None) -> float:
    labelled = sar.get_column("account_id").unique()
    if labelled.is_empty():
        return float("nan")
    hit = alerts.get_column("account_id").drop_nulls().unique()
    if accounts is not None:  # person-level alerts cover every account of the person
        person = alerts.filter(pl.col("account_id").is_null()).get_column("party_id").unique()
        hit = pl.concat([hit, accounts.filter(pl.col("owner_party_id").is_in(person.implode()))
                         .get_column("account_id")]).unique()
    return float(labelled.is_in(hit.implode()).mean())


def backtest_detectors(world: str | Path, candidates: Mapping[str, DetectorConfig],
                       families: Iterable[str] = FAMILIES) -> Backtest:
    """Run each candidate over the world's whole history; compare load with recall."""
    root = DataRoot(world)
    ledger, sar, n_days = _world_ledger(world)
    accounts = pl.read_parquet(root.reference_file("accounts")).select("account_id", "owner_party_id")
    has_truth = (root.truth / "truth_scenarios.parquet").is_file()
    rows, typ = [], []
    for name, cfg in candidates.items():
        frames = detect_alerts(ledger, cfg, tuple(families))
        alerts = pl.concat(list(frames.values()))
        row = {"candidate": name, "config_version": config_version(cfg), "alerts": alerts.height,
               "alerts_per_day": alerts.height / n_days, "sar_recall": _sar_recall(alerts, sar, accounts)}
        if has_truth:
            ev = evaluate(alerts, root.truth, n_accounts=ledger.n_accounts)
            # recall over the typologies detectors target (facilitator networks are the model's job)
            t = ev.typologies.filter(pl.col("typology").is_in(list(TARGETS)))
            typ.append(t.select("typology", "recall", "precision").with_columns(pl.lit(name).alias("candidate")))
            found = t.get_column("detected").sum()
            total = t.get_column("scenarios").sum()
            row["truth_recall"] = float(found / total) if total else float("nan")
            true_alerts = ev.rules.get_column("true_alerts").sum()
            row["precision"] = float(true_alerts / alerts.height) if alerts.height else float("nan")
        rows.append(row)
    typologies = (pl.concat(typ).select("candidate", "typology", "recall", "precision") if typ
                  else pl.DataFrame(schema={"candidate": pl.String, "typology": pl.String, "recall": pl.Float64,
                                            "precision": pl.Float64}))
    return Backtest(pl.DataFrame(rows), typologies, n_days)


def detector_file_mapping(config: DetectorConfig) -> dict[str, Any]:
    """The detector file content of a configuration (regulatory amounts left out: they follow
    regulatory.yaml)."""
    from nexusfin.settings import load_regulatory

    reg = load_regulatory()
    d = config.to_dict()
    for (fam, key), source in _DERIVED.items():
        if d[fam].get(key) == getattr(reg, source):
            d[fam][key] = None
    for fam, keys in _REGULATORY.items():
        for k in keys:
            d[fam].pop(k, None)
    return d


def save_detector_config(config: DetectorConfig, folder: str | Path, *, note: str = "",
                         evidence: Mapping[str, Any] | None = None) -> Path:
    """Write ``config`` as a new versioned detector file ``detectors-v<version>-<fingerprint>.yaml``
    (version = the highest version already in ``folder`` + 1) and return its path. The file loads
    with ``load_detector_config(path)``; point the pipeline at it with NEXUSFIN_DETECTORS."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    existing = []
    for p in folder.glob("detectors-v*-*.yaml"):
        try:
            existing.append(int(p.name.split("-")[1].removeprefix("v")))
        except (IndexError, ValueError):
            continue
    version = max([config.version, *existing]) + 1
    versioned = dataclasses.replace(config, version=version)
    body = detector_file_mapping(versioned)
    path = folder / f"detectors-v{version}-{versioned.fingerprint}.yaml"
    header = [f"# nexusfin detector configuration v{version} ({versioned.fingerprint})",
              f"# saved {datetime.now(UTC).isoformat(timespec='seconds')} from a backtest",
              *(f"# {line}" for line in note.splitlines() if note)]
    if evidence:
        header += ["# backtest evidence:"] + [f"#   {k}: {v}" for k, v in evidence.items()]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False))
    tmp.replace(path)
    loaded = load_detector_config(path)  # refuse to leave a file the pipeline could not load
    if loaded.fingerprint != versioned.fingerprint:
        path.unlink()
        raise ValueError("the saved detector file does not load back to the same configuration")
    return path
