"""Detection assets in real Dagster runs: one asset per detector family with its own gate,
alerts published to the lake and the warehouse view, idempotent re-runs, a failing blocking check
that stops downstream, and `nexusfin evaluate`."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

import tiny_world
from nexusfin import detect
from nexusfin.cli import app, load_alerts, print_run_summary
from pipelines.definitions import all_assets, defs
from pipelines.detections import assets as det
from pipelines.jobs import DETECT_SELECTION
from pipelines.resources import DetectorSettings, NexusfinStorage, ScoringSettings
from pipelines.runner import run_pipeline
from synthetic import WorldConfig, generate

FAMILY_ASSETS = [f"detections_{f}" for f in detect.FAMILIES]
CHECKS = {"alerts_meet_contract", "evidence_exists", "alert_volume", "gx_detector_alerts_critical",
          "gx_detector_alerts_warning"}
BLOCKING = {"alerts_meet_contract", "evidence_exists", "gx_detector_alerts_critical"}


def _view_ids(warehouse) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return sorted(r[0] for r in con.execute("SELECT alert_id FROM detector_alerts").fetchall())
    finally:
        con.close()


def test_definitions_carry_one_gated_asset_per_family():
    graph = defs.get_repository_def().asset_graph
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {*FAMILY_ASSETS, "warehouse_detections"} <= keys
    checks: dict[str, set[str]] = {}
    for ck in graph.asset_check_keys:
        checks.setdefault(ck.asset_key.to_user_string(), set()).add(ck.name)
    for asset in FAMILY_ASSETS:
        assert checks[asset] == CHECKS
        node = graph.get(dg.AssetKey(asset))
        assert node.group_name == "detections"
        assert {p.to_user_string() for p in node.parent_keys} == {"lake_transactions", "warehouse_reference"}
    specs = {(s.asset_key.to_user_string(), s.name): s for s in det.detections.check_specs}
    assert {name for (asset, name), s in specs.items() if asset == "detections_funnel" and s.blocking} == BLOCKING
    assert {p.to_user_string() for p in graph.get(dg.AssetKey("warehouse_detections")).parent_keys} == set(FAMILY_ASSETS)
    for job in ("daily_job", "detect_job", "ingest_job"):
        assert defs.resolve_job_def(job).partitions_def is not None
    assert defs.get_schedule_def("daily_ingest_schedule").job_name == "daily_job"


@pytest.fixture(scope="module")
def world_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("detect")
    generate(WorldConfig(seed=5, n_accounts=1000, days=4), tmp / "world")
    summary = run_pipeline(tmp / "world", tmp / "lake", tmp / "wh.duckdb", dagster_home=tmp / "dh")
    return tmp, summary


def test_a_generated_world_yields_alerts_in_the_lake_and_the_warehouse(world_run):
    tmp, summary = world_run
    assert summary.success, summary
    assert all(d.detected for d in summary.days) and summary.n_alerts > 0
    assert not [c for d in summary.days for c in d.detection_checks_failed]
    alerts = load_alerts(tmp / "lake")
    assert alerts.height == summary.n_alerts
    assert alerts.get_column("alert_id").is_unique().all()
    # one file per family and day, each holding the alerts whose last evidence falls on that day
    for d in summary.days:
        day = date.fromisoformat(d.day)
        for family in detect.FAMILIES:
            f = detect.detections_file(tmp / "lake", family, day)
            part = pl.read_parquet(f, hive_partitioning=False)
            assert part.height == d.alerts[family]
            assert part.filter((pl.col("detected_on") != day) | (pl.col("detector") != family)).is_empty()
    assert set(alerts.get_column("detector")) >= {"structuring", "rapid_movement"}
    # every evidence transaction is in the lake
    lake_ids = pl.read_parquet(tmp / "lake" / "transactions" / "*" / "*.parquet").select("txn_id")
    evidence = alerts.select(pl.col("evidence_txn_ids").alias("txn_id")).explode("txn_id")
    assert evidence.join(lake_ids, on="txn_id", how="anti").is_empty()
    # the warehouse view shows exactly the published alerts
    assert _view_ids(tmp / "wh.duckdb") == sorted(alerts.get_column("alert_id"))
    # the run summary reports alerts per day
    from nexusfin.cli import console

    with console.capture() as cap:
        print_run_summary(summary)
    assert f"alerts published {summary.n_alerts:,}" in cap.get()


def test_re_running_detection_replaces_the_day_with_the_same_alert_ids(world_run):
    tmp, summary = world_run
    before = sorted(load_alerts(tmp / "lake").get_column("alert_id"))
    resources = {"storage": NexusfinStorage(data_root=str(tmp / "world"), lake=str(tmp / "lake"),
                                            warehouse=str(tmp / "wh.duckdb")),
                 "detectors": DetectorSettings(), "scoring": ScoringSettings()}
    instance = dg.DagsterInstance.from_config(str((tmp / "dh").resolve()))
    for d in summary.days:  # detect_job alone, day by day
        result = dg.materialize(all_assets, selection=DETECT_SELECTION, partition_key=d.day, resources=resources,
                                instance=instance)
        assert result.success
    after = load_alerts(tmp / "lake")
    assert sorted(after.get_column("alert_id")) == before
    assert _view_ids(tmp / "wh.duckdb") == before


def test_evaluate_prints_the_tables_and_writes_json(world_run, tmp_path):
    tmp, _ = world_run
    out = tmp_path / "eval.json"
    res = CliRunner().invoke(app, ["evaluate", "--truth", str(tmp / "world" / "truth"), "--lake", str(tmp / "lake"),
                                   "--json", str(out)])
    assert res.exit_code == 0, res.output
    for title in ("per typology", "precision per rule", "hard-negative populations"):
        assert title in res.output
    for word in ("recall", "precision", "structuring", "movement.pass_through", "alert rate"):
        assert word in res.output
    ev = json.loads(out.read_text())
    assert ev["n_alerts"] == load_alerts(tmp / "lake").height
    assert {"typologies", "rules", "hard_negatives"} <= set(ev)
    assert any(r["typology"] == "structuring" and r["recall"] > 0 for r in ev["typologies"])


def test_evaluate_refuses_a_lake_without_detections(world_run, tmp_path):
    tmp, _ = world_run
    res = CliRunner().invoke(app, ["evaluate", "--truth", str(tmp / "world" / "truth"), "--lake", str(tmp_path)])
    assert res.exit_code == 2
    assert "no detections folder" in res.output


def test_a_failing_blocking_check_keeps_the_alerts_out_and_stops_downstream(tmp_path, monkeypatch):
    real = det._family_alerts

    def ghost_evidence(ledger, config, family, day):
        alerts = real(ledger, config, family, day)
        if family != "structuring" or alerts.is_empty():
            return alerts
        # the first alert names a transaction the lake does not have
        return alerts.with_columns(
            pl.when(pl.int_range(pl.len()) == 0)
            .then(pl.col("evidence_txn_ids").list.set_difference(pl.col("evidence_txn_ids").list.head(1))
                  .list.concat(pl.lit(["GHOST-1"])))
            .otherwise(pl.col("evidence_txn_ids"))
            .alias("evidence_txn_ids")
        )

    monkeypatch.setattr(det, "_family_alerts", ghost_evidence)
    tiny_world.build(tmp_path / "world")
    summary = run_pipeline(tmp_path / "world", tmp_path / "lake", tmp_path / "wh.duckdb", dagster_home=tmp_path / "dh")
    day1 = summary.days[0]
    assert not day1.success and not summary.success
    assert day1.detection_checks_failed == ["detections_structuring:evidence_exists"]
    assert day1.alerts["structuring"] == 0  # rejected, not published
    assert day1.rows_accepted == 5  # ingest itself went through
    # the day's structuring alerts are set aside, never published; the other families are
    assert not detect.detections_file(tmp_path / "lake", "structuring", tiny_world.DAY1).exists()
    rejected = pl.read_parquet(det.detections_rejected_file(tmp_path / "lake", "structuring", tiny_world.DAY1))
    assert "GHOST-1" in rejected.get_column("evidence_txn_ids").explode().to_list()
    assert detect.detections_file(tmp_path / "lake", "funnel", tiny_world.DAY1).exists()
    # warehouse_detections (downstream) did not run for the day
    instance = dg.DagsterInstance.from_config(str((tmp_path / "dh").resolve()))
    done = instance.get_materialized_partitions(dg.AssetKey("warehouse_detections"))
    assert tiny_world.DAY1.isoformat() not in done


def test_the_contract_gate_catches_bad_strength_and_evidence_counts():
    window_ts = pl.DataFrame({"txn_id": ["T1", "T2"], "ts": pl.Series([1, 2]).cast(pl.Datetime("us", "UTC"))})
    day = date(1970, 1, 1)
    row = {
        "alert_id": "DA-" + "a" * 20, "detector": "funnel", "rule": "funnel.multi_location", "params": "{}",
        "config_version": "v1-x", "strength": 1.5, "subject_kind": "account", "account_id": "A1",
        "party_id": "P1", "start_ts": window_ts["ts"][0], "end_ts": window_ts["ts"][1], "detected_on": day,
        "observed": "{}", "total_usd": 10.0, "n_evidence": 3, "evidence_txn_ids": ["T1", "T2"],
        "path_accounts": None, "explanation": "x",
    }
    frame = pl.DataFrame([row], schema=detect.ALERTS.polars_schema())
    _, ok, results = det._gate(frame, "funnel", day, window_ts, active_accounts=100, ceiling=10.0,
                               gx_sample_rows=1000)
    by_name = {r.check_name: r for r in results}
    assert not ok
    assert not by_name["alerts_meet_contract"].passed
    violations = by_name["alerts_meet_contract"].metadata["violations"].value
    assert violations == {"strength:max": 1, "n_evidence:matches_evidence": 1}
    assert by_name["evidence_exists"].passed
    assert not by_name["gx_detector_alerts_critical"].passed
    assert by_name["alert_volume"].passed  # 1 alert per 100 active accounts: 10 per 1,000, at the ceiling
    assert by_name["alert_volume"].metadata["alerts_per_1000_accounts"].value == 10.0
    _, _, results = det._gate(frame, "funnel", day, window_ts, active_accounts=99, ceiling=10.0,
                              gx_sample_rows=1000)
    assert not {r.check_name: r for r in results}["alert_volume"].passed
