"""`lake_transactions`: one daily partition per landing file, behind blocking quality gates."""

from datetime import UTC, date, datetime

import dagster as dg
import polars as pl

from nexusfin.contracts import contract
from nexusfin.lake.ingest import BadLandingFile, IngestConfig, ingest_file, reject_file
from nexusfin.quality.gx_suites import transactions_suite, validate
from nexusfin.settings import load_regulatory
from pipelines.partitions import daily_partitions
from pipelines.quality.gx_adapter import gx_check_results, gx_check_specs
from pipelines.reference.assets import preview, reference_lake_file
from pipelines.resources import NexusfinStorage

LAKE_TXN = contract("lake_transactions")

CHECKS = [
    dg.AssetCheckSpec(
        "rows_reconcile", asset="lake_transactions", blocking=True,
        description="Rows read = rows accepted + rows quarantined, and the files on disk agree.",
    ),
    dg.AssetCheckSpec(
        "accepted_rows_meet_contract", asset="lake_transactions", blocking=True,
        description="Every accepted row satisfies schemas/transactions.yaml (every row, not a sample).",
    ),
    dg.AssetCheckSpec(
        "quarantine_share", asset="lake_transactions",
        description="Warn when more than the configured share of a day's rows is quarantined.",
    ),
    dg.AssetCheckSpec(
        "schema_drift", asset="lake_transactions",
        description="Warn when a landing file carries columns the contract does not know.",
    ),
    *gx_check_specs("lake_transactions", "gx_transactions",
                    "Great Expectations suite derived from schemas/transactions.yaml and its business rules."),
]


def _landing_file(storage: NexusfinStorage, day: date):
    days = storage.root.landing_days()
    if day not in days:
        raise dg.Failure(f"no landing file for {day} in {storage.root.landing_transactions}")
    return days[day]


@dg.asset(
    group_name="lake",
    partitions_def=daily_partitions,
    deps=["accounts"],
    kinds={"parquet", "polars"},
    check_specs=CHECKS,
    description="Validated transactions, lake/transactions/date=YYYY-MM-DD/part-0.parquet; "
    "rejected rows in lake/quarantine with the rule broken and raw values.",
)
def lake_transactions(context: dg.AssetExecutionContext, storage: NexusfinStorage) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    path = _landing_file(storage, day)
    accounts_file = reference_lake_file(storage, "accounts")
    if not accounts_file.is_file():
        raise dg.Failure(f"no accounts snapshot at {accounts_file}: materialize the reference assets first "
                         "(reference_job), the gate resolves every account against it")
    accounts = pl.read_parquet(accounts_file, columns=["account_id", "account_type", "chain"])
    config = IngestConfig(max_amount_usd=storage.max_amount_usd)
    now = datetime.now(UTC)
    try:
        report = ingest_file(path, storage.lake_path, day=day, accounts=accounts, config=config, now=now)
    except BadLandingFile as exc:
        moved = reject_file(path, storage.root.landing, str(exc))
        raise dg.Failure(description=f"{exc}; moved aside to {moved}") from exc

    accepted = pl.read_parquet(report.lake_file)
    quarantined = pl.read_parquet(report.quarantine_file)
    violations = LAKE_TXN.violations(accepted)
    share = report.rows_quarantined / report.rows_read if report.rows_read else 0.0
    on_disk_ok = accepted.height == report.rows_accepted and quarantined.height == report.rows_quarantined
    regulatory = load_regulatory()
    gx_outcome = validate(
        accepted,
        transactions_suite(max_amount_usd=storage.max_amount_usd, ctr_threshold_usd=regulatory.ctr_threshold_usd,
                           day=day, now=now),
        suite="transactions", id_column="txn_id", sample_rows=storage.gx_sample_rows,
    )
    return dg.MaterializeResult(
        metadata={
            "source_file": report.source_file,
            "sha256": report.sha256[:16],
            "rows_read": dg.MetadataValue.int(report.rows_read),
            "rows_accepted": dg.MetadataValue.int(report.rows_accepted),
            "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined),
            "quarantine_by_rule": dg.MetadataValue.json(report.quarantine_by_rule),
            "skipped_unchanged": report.skipped_unchanged,
            "path": dg.MetadataValue.path(report.lake_file),
            "preview": preview(accepted.drop("source_file", "ingest_id")),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="rows_reconcile",
                passed=report.reconciles and on_disk_ok,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"rows_read": report.rows_read, "rows_accepted": accepted.height,
                          "rows_quarantined": quarantined.height},
            ),
            dg.AssetCheckResult(
                check_name="accepted_rows_meet_contract",
                passed=not violations,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"violations": dg.MetadataValue.json(violations), "rows_checked": accepted.height},
            ),
            dg.AssetCheckResult(
                check_name="quarantine_share",
                passed=share <= storage.max_quarantine_share,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"share": share, "max_share": storage.max_quarantine_share,
                          "by_rule": dg.MetadataValue.json(report.quarantine_by_rule)},
            ),
            dg.AssetCheckResult(
                check_name="schema_drift",
                passed=not report.extra_columns,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"extra_columns": dg.MetadataValue.json(report.extra_columns)},
            ),
            *gx_check_results(gx_outcome, "gx_transactions"),
        ],
    )
