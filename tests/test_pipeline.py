"""Real Dagster runs over a tiny hand-written world: gates, idempotence, sensor, warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

import tiny_world
from nexusfin.contracts import contract
from nexusfin.files import sha256_of
from pipelines.definitions import defs
from pipelines.lake.sensors import build_landing_sensor
from pipelines.resources import NexusfinStorage
from pipelines.runner import run_pipeline


def _run(tmp: Path, **kw):
    return run_pipeline(tmp / "world", tmp / "lake", tmp / "warehouse.duckdb", dagster_home=tmp / "dh", **kw)


def test_the_definition_set_loads_whole():
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"accounts", "parties", "watchlist", "address_tags", "sar_filings", "lake_transactions",
            "warehouse_reference", "warehouse_transactions"} <= keys
    assert defs.resolve_job_def("ingest_job").partitions_def is not None
    assert defs.get_schedule_def("daily_ingest_schedule")
    assert defs.get_sensor_def("landing_sensor")


def test_run_materializes_lake_and_warehouse(tmp_path):
    dr = tiny_world.build(tmp_path / "world")
    summary = _run(tmp_path)
    assert summary.success, summary
    assert [(d.day, d.rows_read, d.rows_accepted, d.rows_quarantined) for d in summary.days] == [
        ("2026-01-05", 5, 5, 0), ("2026-01-06", 3, 3, 0)]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM transactions").fetchone()[0] == 8
    assert con.execute("SELECT count(*) FROM accounts").fetchone()[0] == 3
    assert con.execute("SELECT count(DISTINCT table_name) FROM reference_snapshots").fetchone()[0] == 5
    # the warehouse records the same snapshot version the reference asset computed from landing
    version = con.execute("SELECT version FROM reference_snapshots WHERE table_name = 'accounts'").fetchone()[0]
    assert version == sha256_of(dr.reference_file("accounts"))[:16]
    con.close()


def test_rerunning_a_partition_leaves_no_duplicates(tmp_path):
    tiny_world.build(tmp_path / "world")
    _run(tmp_path)
    summary = _run(tmp_path)
    assert summary.success
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT txn_id) FROM transactions").fetchone() == (8, 8)
    con.close()


def test_quarantined_rows_reconcile_in_the_run(tmp_path):
    rows = [tiny_world.txn(1), tiny_world.txn(2, currency="ZZZ"), tiny_world.txn(3, dst_account="GHOST")]
    tiny_world.build(tmp_path / "world", {tiny_world.DAY1: rows})
    (day,) = _run(tmp_path).days
    assert (day.rows_read, day.rows_accepted, day.rows_quarantined) == (3, 1, 2)
    assert day.success  # 2 of 3 quarantined breaks only the WARN share check
    assert "lake_transactions:quarantine_share" in day.checks_warned
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    rules = con.execute("SELECT rule FROM quarantine ORDER BY source_row").fetchall()
    con.close()
    assert rules == [("currency:allowed",), ("dst_account:resolves",)]


def test_failing_blocking_check_stops_downstream_in_the_same_run(tmp_path):
    dr = tiny_world.build(tmp_path / "world")
    parties = contract("parties").read(dr.reference_file("parties"))
    # still readable, but breaks the contract: the blocking meets_contract check fails
    contract("parties").write(parties.with_columns(pl.lit("alien").alias("kind")), dr.reference_file("parties"))
    summary = _run(tmp_path)
    assert not summary.reference_ok
    assert "parties:meets_contract" in summary.reference_checks_failed
    assert summary.days == []
    # warehouse_reference (downstream of parties) did not run: no warehouse file was written
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_bad_file_fails_its_day_by_name_and_is_moved_aside(tmp_path):
    dr = tiny_world.build(tmp_path / "world")
    bad = dr.transactions_file(tiny_world.DAY2)
    bad.write_bytes(bad.read_bytes()[:100])
    days = {d.day: d for d in _run(tmp_path).days}
    assert days["2026-01-05"].success
    assert not days["2026-01-06"].success
    assert "transactions_2026-01-06.parquet: unreadable Parquet" in days["2026-01-06"].error
    rejected = list((dr.landing / "_rejected").iterdir())
    assert sorted(p.name.split("__", 1)[1] for p in rejected) == [
        "transactions_2026-01-06.parquet", "transactions_2026-01-06.parquet.reason.txt"]


def test_landing_sensor_requests_new_and_late_files_once(tmp_path):
    dr = tiny_world.build(tmp_path / "world")
    sensor = build_landing_sensor(defs.resolve_job_def("ingest_job"))
    storage = NexusfinStorage(data_root=str(dr.root), lake=str(tmp_path / "lake"),
                              warehouse=str(tmp_path / "w.duckdb"))
    with dg.build_sensor_context(resources={"storage": storage}) as ctx:
        first = sensor(ctx)
        assert sorted(r.partition_key for r in first) == ["2026-01-05", "2026-01-06"]
        cursor = ctx.cursor
    with dg.build_sensor_context(cursor=cursor, resources={"storage": storage}) as ctx:
        assert isinstance(sensor(ctx), dg.SkipReason)
    # a late file for an earlier day arrives
    contract("transactions").write(
        tiny_world._frame("transactions", [tiny_world.txn(1, tiny_world.DAY1.replace(day=2))]),
        dr.transactions_file(tiny_world.DAY1.replace(day=2)),
    )
    with dg.build_sensor_context(cursor=cursor, resources={"storage": storage}) as ctx:
        late = sensor(ctx)
        assert [r.partition_key for r in late] == ["2026-01-02"]
        assert "transactions_2026-01-02.parquet" in json.loads(ctx.cursor)


def test_missing_reference_snapshot_is_named_in_the_summary(tmp_path):
    dr = tiny_world.build(tmp_path / "world")
    dr.reference_file("watchlist").unlink()
    summary = _run(tmp_path)
    assert not summary.success and summary.days == []
    assert any(e.startswith("watchlist: no snapshot at ") for e in summary.reference_errors)
