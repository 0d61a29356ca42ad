"""GX suites derived from the contracts, and the GX 1.x → Dagster check adapter (real GX runs)."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

import tiny_world
from nexusfin.contracts import contract
from nexusfin.quality.gx_suites import (
    CRITICAL,
    WARNING,
    contract_expectations,
    transactions_suite,
    validate,
)
from pipelines.quality.gx_adapter import gx_check_results


@pytest.fixture(scope="module")
def good() -> pl.DataFrame:
    rows = [tiny_world.txn(i, src_account=None) for i in range(1, 40)]
    return tiny_world._frame("transactions", rows)


def suite():
    return transactions_suite(max_amount_usd=1e9, ctr_threshold_usd=10_000.0)


def test_suite_is_derived_from_the_contract():
    rules = {s.rule for s in contract_expectations(contract("transactions"))}
    assert {"txn_id:not_null", "txn_id:unique", "currency:allowed", "channel:allowed", "location:pattern",
            "amount:range", "transactions:columns"} <= rules
    # every non-nullable column of the contract has its not-null expectation
    assert {f"{c}:not_null" for c in contract("transactions").required} <= rules


def test_clean_partition_passes_every_critical_expectation(good):
    outcome = validate(good, suite(), suite="transactions", id_column="txn_id")
    assert outcome.passed(CRITICAL), outcome.failed(CRITICAL)
    assert outcome.rows_validated == good.height and not outcome.sampled


def test_broken_rows_fail_with_counts_and_first_offending_ids(good):
    bad = good.with_columns(
        pl.when(pl.col("txn_id").is_in(["T0105-3", "T0105-7"])).then(pl.lit("ZZZ")).otherwise(pl.col("currency")).alias("currency"),
        pl.when(pl.col("txn_id") == "T0105-9").then(None).otherwise(pl.col("location")).alias("location"),
    )
    outcome = validate(bad, suite(), suite="transactions", id_column="txn_id")
    failed = {o.rule: o for o in outcome.failed(CRITICAL)}
    assert set(failed) == {"currency:allowed", "cash_has_location"}
    assert failed["currency:allowed"].unexpected_count == 2
    assert sorted(failed["currency:allowed"].first_offending) == ["T0105-3", "T0105-7"]
    assert failed["cash_has_location"].first_offending == ["T0105-9"]

    results = {r.check_name: r for r in gx_check_results(outcome, "gx_transactions")}
    critical = results["gx_transactions_critical"]
    assert not critical.passed and critical.severity == dg.AssetCheckSeverity.ERROR
    listed = critical.metadata["failed"].value
    assert {f["rule"] for f in listed} == {"currency:allowed", "cash_has_location"}
    assert results["gx_transactions_warning"].severity == dg.AssetCheckSeverity.WARN


def test_large_partitions_are_sampled_and_say_so(good):
    outcome = validate(good, suite(), suite="transactions", id_column="txn_id", sample_rows=10)
    assert outcome.sampled and outcome.rows_validated == 10 and outcome.rows_total == good.height
    result = gx_check_results(outcome, "gx_transactions")[0]
    assert result.metadata["sampled"].value is True


def test_profiling_expectations_only_warn(good):
    huge = good.with_columns(pl.lit(50_000.0).alias("amount_usd"), pl.lit(50_000.0).alias("amount"))
    outcome = validate(huge, suite(), suite="transactions", id_column="txn_id")
    assert outcome.passed(CRITICAL)
    assert "profile:median_amount" in {o.rule for o in outcome.failed(WARNING)}


def test_timestamps_outside_the_partition_day_fail_critical(good):
    from datetime import UTC, date, datetime

    moved = good.with_columns(
        pl.when(pl.col("txn_id") == "T0105-4").then(pl.lit(datetime(2026, 1, 7, 3, tzinfo=UTC)))
        .otherwise(pl.col("ts")).alias("ts")
    )
    specs = transactions_suite(max_amount_usd=1e9, ctr_threshold_usd=10_000.0, day=date(2026, 1, 5),
                               now=datetime(2026, 2, 1, tzinfo=UTC))
    outcome = validate(moved, specs, suite="transactions", id_column="txn_id")
    (failed,) = outcome.failed(CRITICAL)
    assert failed.rule == "ts_in_partition+ts_not_future" and failed.first_offending == ["T0105-4"]
    assert validate(good, specs, suite="transactions", id_column="txn_id").passed(CRITICAL)
