"""Generator → Dagster pipeline: every injected defect is quarantined under the rule that
matches it, nothing else is, and every partition reconciles."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from pipelines.runner import run_pipeline
from synthetic import WorldConfig, generate

# the quarantine rule family each generator defect must land in
EXPECTED_RULE = {
    "unknown_currency": {"currency:allowed"},
    "negative_amount": {"amount:min"},
    "zero_amount": {"amount:min"},
    "absurd_amount": {"amount_plausible"},
    "duplicate_txn_id": {"txn_id_unique_in_file", "txn_id_unique_across_partitions"},
    "orphan_account": {"src_account:resolves", "dst_account:resolves"},
    "future_timestamp": {"ts_in_partition", "ts_not_future"},
    "ts_outside_day": {"ts_in_partition"},
    "missing_required": None,  # any <column>:not_null
    "cash_without_location": {"cash_has_location"},
    "bad_country": {"src_country:allowed", "dst_country:allowed"},
    "bad_channel": {"channel:allowed"},
    "bad_type": None,  # any <column>:type
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    report = generate(WorldConfig(seed=3, n_accounts=2000, days=3, defect_rate=0.02, fmt="csv"), tmp / "world")
    summary = run_pipeline(tmp / "world", tmp / "lake", tmp / "wh.duckdb", dagster_home=tmp / "dh")
    return tmp, report, summary


def test_every_day_passes_its_gates_and_reconciles(run):
    _, _, summary = run
    assert summary.success
    assert len(summary.days) == 3
    for d in summary.days:
        assert d.rows_read == d.rows_accepted + d.rows_quarantined


def test_quarantine_is_exactly_the_injected_defects(run):
    tmp, report, _ = run
    truth = pl.read_parquet(tmp / "world" / "truth" / "truth_defects.parquet")
    quarantine = pl.read_parquet(tmp / "lake" / "quarantine" / "*" / "*.parquet")
    assert truth.height == report["n_defects"] > 0
    assert set(truth["defect"]) >= {"bad_type", "duplicate_txn_id", "orphan_account", "unknown_currency"}
    joined = truth.join(quarantine, left_on=["file", "row_number"], right_on=["source_file", "source_row"],
                        how="full", coalesce=True)
    missed = joined.filter(pl.col("rule").is_null())
    extra = joined.filter(pl.col("defect").is_null())
    assert missed.is_empty(), f"defects not quarantined: {missed.select('file', 'row_number', 'defect').rows()}"
    assert extra.is_empty(), f"clean rows quarantined: {extra.select('file', 'row_number', 'rule').rows()}"
    for defect, rule in joined.select("defect", "rule").iter_rows():
        expected = EXPECTED_RULE[defect]
        if expected is None:
            assert rule.endswith((":not_null", ":type")), (defect, rule)
        else:
            assert rule in expected, (defect, rule)


def test_warehouse_holds_exactly_the_accepted_rows(run):
    tmp, _, summary = run
    con = duckdb.connect(str(tmp / "wh.duckdb"), read_only=True)
    n, distinct = con.execute("SELECT count(*), count(DISTINCT txn_id) FROM transactions").fetchone()
    q = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    con.close()
    assert n == distinct == sum(d.rows_accepted for d in summary.days)
    assert q == sum(d.rows_quarantined for d in summary.days)
