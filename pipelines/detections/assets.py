"""Detection assets: one per detector family, fed by one ledger per day partition.

For day D, one multi-asset reads the lake window [D - lookback + 1, D] and the accounts and
address-tag snapshots, builds the ledger once, and runs the kernels of each selected family on it
(`nexusfin.detect`). Each family is its own asset, ``detections_<family>``, with its own gate:

* ``alerts_meet_contract`` (blocking): schemas/detector_alerts.yaml (columns, types, allowed
  values, unique alert_id, strength in [0, 1]), n_evidence = len(evidence_txn_ids), the family's
  own detector name and detected_on = D;
* ``evidence_exists`` (blocking): every evidence transaction is in the lake window and start_ts /
  end_ts are the first and last evidence times (the contract's evidence_exists and
  evidence_in_span rules);
* ``alert_volume`` (warn): alerts per 1,000 accounts active in the window, against a ceiling;
* ``gx_detector_alerts_critical`` (blocking) / ``_warning``: a GX suite derived from the contract.

Only alerts that pass every blocking check are published, atomically, to
``lake/detections/family=<f>/date=<D>/part-0.parquet`` (re-running a day replaces the file; alert
ids are stable, so the same data yields the same ids). When a blocking check fails, the day's
alerts go to ``lake/detections/_rejected/family=<f>/date=<D>/part-0.parquet`` for inspection
(outside the warehouse view), the family's last published file for D stays as it was, and the
step fails: ``warehouse_detections`` does not run in that run.

``warehouse_detections`` runs after the family assets, (re)creates the warehouse view
``detector_alerts`` over the published files and checks the day's alerts are visible through it.

A late landing file re-ingests and re-detects its own day (the landing sensor targets
``daily_job``); the following days that read it through their lookback are re-detected by
re-running their partitions (``detect_job`` backfill).
"""

import hashlib
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pyarrow.parquet as pq

from nexusfin import detect
from nexusfin import warehouse as wh
from nexusfin.contracts import ContractViolation, contract
from nexusfin.detect import set_threads
from nexusfin.files import atomic_path
from nexusfin.quality.gx_suites import (
    CRITICAL,
    WARNING,
    ExpectationSpec,
    contract_expectations,
    validate,
)
from pipelines.partitions import daily_partitions
from pipelines.quality.gx_adapter import gx_check_results, gx_check_specs
from pipelines.reference.assets import preview, reference_lake_file
from pipelines.resources import DetectorSettings, NexusfinStorage

GROUP = "detections"
ALERTS = detect.ALERTS
FAMILY_ASSETS: dict[str, str] = {fam: f"detections_{fam}" for fam in detect.FAMILIES}
ASSET_FAMILY: dict[str, str] = {v: k for k, v in FAMILY_ASSETS.items()}
GX_NAME = "gx_detector_alerts"
# an alert with more evidence than this cannot be reviewed by hand: recorded as a GX warning
MAX_EVIDENCE_PER_ALERT = 500
TXN_COLUMNS = contract("transactions").names


def _default_lookback() -> int:
    # the partition mapping is fixed when the code location loads; the asset reads the lookback of
    # the configuration it runs with (and records both). A broken detector file must not stop the
    # code location from loading: the asset run reports it.
    try:
        return detect.lookback_days(detect.load_detector_config())
    except Exception:
        return 14


LOOKBACK_AT_LOAD = _default_lookback()
# day D reads lake days D - lookback + 1 .. D; the first days of the partition set have fewer
# (the flag is beta in dagster 1.13: its warning says nothing about this use)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    WINDOW_MAPPING = dg.TimeWindowPartitionMapping(
        start_offset=-(LOOKBACK_AT_LOAD - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
    )


def detections_rejected_file(lake: Path, family: str, day: date) -> Path:
    return Path(lake) / "detections" / "_rejected" / f"family={family}" / f"date={day.isoformat()}" / "part-0.parquet"


def alert_expectations(family: str) -> list[ExpectationSpec]:
    """GX suite of one family's alerts: every column rule of the contract, the family's own
    detector name, and a warning for alerts too large to review by hand. (A day without alerts is
    normal, so the contract's not-empty profiling expectation is left out.)"""
    specs = [s for s in contract_expectations(ALERTS) if not s.rule.endswith(":not_empty")]
    specs.append(ExpectationSpec("ExpectColumnValuesToBeInSet", {"column": "detector", "value_set": [family]},
                                 "detector:family"))
    specs.append(ExpectationSpec("ExpectColumnValuesToBeBetween",
                                 {"column": "n_evidence", "max_value": MAX_EVIDENCE_PER_ALERT},
                                 "profile:reviewable_evidence", WARNING))
    return specs


def _check_specs(asset: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "alerts_meet_contract", asset=asset, blocking=True,
            description="Every alert satisfies schemas/detector_alerts.yaml (types, allowed values, unique alert_id, "
            "strength in [0, 1]); n_evidence = len(evidence_txn_ids); detector is this family; detected_on is "
            "the partition day.",
        ),
        dg.AssetCheckSpec(
            "evidence_exists", asset=asset, blocking=True,
            description="Every evidence_txn_id exists in the lake window the alert was detected on, and start_ts / "
            "end_ts are the first and last evidence transactions' times.",
        ),
        dg.AssetCheckSpec(
            "alert_volume", asset=asset,
            description="Warn when the day's alerts per 1,000 accounts active in the lookback window exceed the "
            "configured ceiling (DetectorSettings.max_alerts_per_1000_accounts).",
        ),
        *gx_check_specs(asset, GX_NAME, "Great Expectations suite derived from schemas/detector_alerts.yaml."),
    ]


def _family_alerts(ledger: detect.Ledger, config: detect.DetectorConfig, family: str, day: date) -> pl.DataFrame:
    """One family's alerts of the day: the kernels run on the whole window, the day keeps the
    alerts whose last evidence transaction falls on it."""
    return detect.detect_alerts(ledger, config, (family,), day)[family]


def _load_config(settings: DetectorSettings) -> detect.DetectorConfig:
    try:
        return detect.load_detector_config(settings.config_path or None)
    except (OSError, ValueError, TypeError) as exc:
        raise dg.Failure(f"detector configuration {settings.config_path or '(defaults)'} is invalid: {exc}") from exc


def _gate(alerts: pl.DataFrame, family: str, day: date, window_ts: pl.DataFrame, active_accounts: int,
          ceiling: float, gx_sample_rows: int) -> tuple[pl.DataFrame | None, bool, list[dg.AssetCheckResult]]:
    """Check one family's alerts of one day: (conformed alerts or None, blocking checks passed, results)."""
    # alerts_meet_contract
    problems: dict[str, int | str] = {}
    try:
        conformed = ALERTS.conform(alerts)
    except ContractViolation as exc:
        conformed, problems["conform"] = None, str(exc)
    if conformed is not None:
        problems.update(ALERTS.violations(conformed))
        extra = {
            "n_evidence:matches_evidence": pl.col("n_evidence") != pl.col("evidence_txn_ids").list.len(),
            "detector:family": pl.col("detector") != family,
            "detected_on:partition": pl.col("detected_on") != day,
            "detected_on:end_ts": pl.col("detected_on") != pl.col("end_ts").dt.date(),
        }
        counts = conformed.select([e.fill_null(True).sum().alias(k) for k, e in extra.items()]).row(0, named=True)
        problems.update({k: int(v) for k, v in counts.items() if v})
    contract_ok = not problems

    # evidence_exists (+ evidence_in_span)
    if conformed is None:
        evidence_ok, ev_meta = False, {"error": "alerts do not conform to the contract; evidence not checked"}
    else:
        ev = conformed.select("alert_id", "start_ts", "end_ts", pl.col("evidence_txn_ids").alias("txn_id")).explode("txn_id")
        joined = ev.join(window_ts, on="txn_id", how="left")
        missing = joined.filter(pl.col("ts").is_null())
        span = (
            joined.filter(pl.col("ts").is_not_null())
            .group_by("alert_id")
            .agg(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"),
                 pl.col("start_ts").first(), pl.col("end_ts").first())
            .filter((pl.col("first") != pl.col("start_ts")) | (pl.col("last") != pl.col("end_ts")))
        )
        evidence_ok = missing.is_empty() and span.is_empty()
        ev_meta = {
            "evidence_checked": ev.height,
            "missing_evidence": missing.height,
            "first_missing": dg.MetadataValue.json(missing.get_column("txn_id").head(5).cast(pl.String).to_list()),
            "alerts_missing_evidence": missing.get_column("alert_id").n_unique(),
            "alerts_outside_span": span.height,
            "window_rows": window_ts.height,
        }

    # alert_volume
    n = alerts.height
    rate = 1000.0 * n / active_accounts if active_accounts else (0.0 if n == 0 else float("inf"))

    # GX suite derived from the contract
    frame = conformed if conformed is not None else alerts
    gx_outcome = validate(frame, alert_expectations(family), suite=f"detector_alerts_{family}",
                          id_column="alert_id" if "alert_id" in frame.columns else None, sample_rows=gx_sample_rows)

    results = [
        dg.AssetCheckResult(
            check_name="alerts_meet_contract", passed=contract_ok, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"violations": dg.MetadataValue.json(problems), "alerts_checked": n},
        ),
        dg.AssetCheckResult(check_name="evidence_exists", passed=evidence_ok, severity=dg.AssetCheckSeverity.ERROR,
                            metadata=ev_meta),
        dg.AssetCheckResult(
            check_name="alert_volume", passed=rate <= ceiling, severity=dg.AssetCheckSeverity.WARN,
            metadata={"alerts": n, "active_accounts": active_accounts,
                      "alerts_per_1000_accounts": round(rate, 3) if rate != float("inf") else "inf",
                      "ceiling": ceiling},
        ),
        *gx_check_results(gx_outcome, GX_NAME),
    ]
    blocking_ok = contract_ok and evidence_ok and gx_outcome.passed(CRITICAL)
    return conformed, blocking_ok, results


def _write_rejected(alerts: pl.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        alerts.write_parquet(tmp)
    return path


def _data_version(alerts: pl.DataFrame | None) -> dg.DataVersion:
    ids = sorted(alerts.get_column("alert_id").to_list()) if alerts is not None and "alert_id" in alerts.columns else []
    return dg.DataVersion(hashlib.sha256("\n".join(map(str, ids)).encode()).hexdigest()[:16])


@dg.multi_asset(
    name="detections",
    outs={
        asset: dg.AssetOut(
            group_name=GROUP, is_required=False, kinds={"parquet", "numba"},
            description=f"`{family}` detector alerts of the day (schemas/detector_alerts.yaml), "
            f"lake/detections/family={family}/date=YYYY-MM-DD/part-0.parquet; each day reads the lake window of "
            "the configured lookback.",
        )
        for family, asset in FAMILY_ASSETS.items()
    },
    deps=[dg.AssetDep("lake_transactions", partition_mapping=WINDOW_MAPPING), "warehouse_reference"],
    partitions_def=daily_partitions,
    can_subset=True,
    check_specs=[spec for asset in FAMILY_ASSETS.values() for spec in _check_specs(asset)],
    description="One ledger per day over the lake window, shared by every detector family.",
)
def detections(context: dg.AssetExecutionContext, storage: NexusfinStorage, detectors: DetectorSettings):
    day = date.fromisoformat(context.partition_key)
    selected = {k.to_user_string() for k in context.selected_asset_keys}
    families = [fam for fam, asset in FAMILY_ASSETS.items() if asset in selected]
    selected_checks = set(context.selected_asset_check_keys)
    lake = storage.lake_path

    t0 = time.perf_counter()
    config = _load_config(detectors)
    try:
        lookback = detect.lookback_days(config)
    except ValueError as exc:
        raise dg.Failure(f"detector configuration {config.source}: {exc}") from exc
    threads = set_threads(detectors.numba_threads or None)
    first = day - timedelta(days=lookback - 1)
    if not (lake / "transactions" / f"date={day}" / "part-0.parquet").is_file():
        raise dg.Failure(f"no lake partition for {day} under {lake / 'transactions'}: ingest the day first "
                         "(lake_transactions), detections read it")
    refs = {}
    for table in ("accounts", "address_tags"):
        path = reference_lake_file(storage, table)
        if not path.is_file():
            raise dg.Failure(f"no {table} snapshot at {path}: materialize the reference assets first (reference_job)")
        refs[table] = pl.read_parquet(path)
    window = detect.read_window(lake, first, day).select(TXN_COLUMNS).collect()
    days_present = sum(
        (lake / "transactions" / f"date={first + timedelta(days=i)}" / "part-0.parquet").is_file() for i in range(lookback)
    )
    t_read = time.perf_counter() - t0

    t0 = time.perf_counter()
    try:
        ledger = detect.build_ledger(window, refs["accounts"], refs["address_tags"])
    except detect.LedgerInputError as exc:
        raise dg.Failure(f"cannot build the detection ledger for {first}..{day}: {exc}") from exc
    t_ledger = time.perf_counter() - t0
    window_ts = window.select("txn_id", "ts")
    active = pl.concat([window.get_column("src_account"), window.get_column("dst_account")]).drop_nulls().n_unique()
    version = detect.config_version(config)

    for family in families:
        asset = FAMILY_ASSETS[family]
        t0 = time.perf_counter()
        alerts = _family_alerts(ledger, config, family, day)
        t_detect = time.perf_counter() - t0

        t0 = time.perf_counter()
        conformed, blocking_ok, results = _gate(alerts, family, day, window_ts, active,
                                                detectors.max_alerts_per_1000_accounts, storage.gx_sample_rows)
        t_checks = time.perf_counter() - t0

        t0 = time.perf_counter()
        if blocking_ok:
            published = conformed.sort("rule", "end_ts", "alert_id")
            path = detect.write_detections(published, lake, family, day)
            detections_rejected_file(lake, family, day).unlink(missing_ok=True)
        else:
            published = None
            path = _write_rejected(alerts, detections_rejected_file(lake, family, day))
            context.log.error(f"{asset} {day}: a blocking check failed; {alerts.height} alert(s) written to {path}, "
                              "not published")
        t_write = time.perf_counter() - t0

        by_rule = (dict(sorted(alerts.group_by("rule").len().iter_rows())) if "rule" in alerts.columns
                   and alerts.height else {})
        versions = (sorted(set(alerts.get_column("config_version").to_list())) if "config_version" in alerts.columns
                    and alerts.height else [version])
        metadata = {
            "alerts": dg.MetadataValue.int(alerts.height),
            "alerts_by_rule": dg.MetadataValue.json(by_rule),
            "published": blocking_ok,
            "path": dg.MetadataValue.path(str(path)),
            "config_version": ", ".join(versions),
            "config_source": config.source,
            "lookback_days": lookback,
            "window": f"{first}..{day}",
            "window_days_present": days_present,
            "window_rows": dg.MetadataValue.int(window.height),
            "active_accounts": dg.MetadataValue.int(active),
            "numba_threads": threads,
            "timings_s": dg.MetadataValue.json({
                "read_window": round(t_read, 3), "build_ledger (shared)": round(t_ledger, 3),
                "detect": round(t_detect, 3), "checks": round(t_checks, 3), "write": round(t_write, 3),
            }),
        }
        if lookback != LOOKBACK_AT_LOAD:
            metadata["lookback_note"] = (f"the asset graph maps {LOOKBACK_AT_LOAD} upstream days (configuration at "
                                         f"code-location load); this run read {lookback}")
        if alerts.height and {"rule", "account_id", "strength", "total_usd", "explanation"} <= set(alerts.columns):
            metadata["preview"] = preview(
                alerts.sort("strength", descending=True).select("rule", "account_id", "strength", "total_usd",
                                                                 "explanation"))
        yield dg.MaterializeResult(
            asset_key=asset,
            data_version=_data_version(published),
            metadata=metadata,
            check_results=[r._replace(asset_key=dg.AssetKey(asset)) for r in results
                           if dg.AssetCheckKey(dg.AssetKey(asset), r.check_name) in selected_checks],
        )


@dg.asset(
    group_name=GROUP,
    partitions_def=daily_partitions,
    deps=list(FAMILY_ASSETS.values()),
    kinds={"duckdb"},
    description="The `detector_alerts` warehouse view over lake/detections (every family, every day); the "
    "day's published alerts are visible through it once this runs.",
    check_specs=[dg.AssetCheckSpec("alerts_visible", asset="warehouse_detections", blocking=True,
                                   description="The view shows exactly the day's published alerts of every family.")],
)
def warehouse_detections(context: dg.AssetExecutionContext, storage: NexusfinStorage) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    lake = storage.lake_path
    in_lake = {}
    for family in detect.FAMILIES:
        f = detect.detections_file(lake, family, day)
        if f.is_file():
            in_lake[family] = pq.read_metadata(f).num_rows
    con = wh.connect(storage.warehouse_path)
    try:
        views = wh.refresh_stream_views(con, lake)
        if "detector_alerts" in views:
            rows = con.execute("SELECT detector, count(*) FROM detector_alerts WHERE detected_on = ? GROUP BY detector",
                               [day]).fetchall()
            total = con.execute("SELECT count(*) FROM detector_alerts").fetchone()[0]
        else:
            rows, total = [], 0
    finally:
        con.close()
    in_view = {str(k): int(v) for k, v in rows}
    lake_counts = {k: v for k, v in in_lake.items() if v}
    return dg.MaterializeResult(
        metadata={"views": dg.MetadataValue.json(views), "alerts_in_partition": sum(in_view.values()),
                  "alerts_total": int(total), "warehouse": dg.MetadataValue.path(str(storage.warehouse_path))},
        check_results=[dg.AssetCheckResult(
            check_name="alerts_visible", passed=in_view == lake_counts, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"in_view": dg.MetadataValue.json(in_view), "in_lake": dg.MetadataValue.json(lake_counts)},
        )],
    )


detection_assets = [detections, warehouse_detections]
