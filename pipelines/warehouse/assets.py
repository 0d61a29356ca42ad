"""Warehouse assets: DuckDB views over the lake partitions, tables for reference snapshots."""

from datetime import date

import dagster as dg
import pyarrow.parquet as pq

from nexusfin import warehouse as wh
from nexusfin.layout import REFERENCE_TABLES
from pipelines.partitions import daily_partitions
from pipelines.reference.assets import SNAPSHOT_VERSION, reference_lake_file
from pipelines.resources import NexusfinStorage


@dg.asset(
    group_name="warehouse",
    deps=list(REFERENCE_TABLES),
    kinds={"duckdb"},
    description="Reference tables in the warehouse (accounts, parties, watchlist, address_tags, "
    "sar_filings) with their snapshot versions in reference_snapshots.",
    check_specs=[dg.AssetCheckSpec("accounts_owners_resolve", asset="warehouse_reference", blocking=True,
                                   description="Every account's owner_party_id exists in parties.")],
)
def warehouse_reference(context: dg.AssetExecutionContext, storage: NexusfinStorage) -> dg.MaterializeResult:
    counts = {}
    con = wh.connect(storage.warehouse_path)
    try:
        for table in REFERENCE_TABLES:
            path = reference_lake_file(storage, table)
            version = pq.read_metadata(path).metadata[SNAPSHOT_VERSION.encode()].decode()
            counts[table] = wh.load_reference_table(con, table, path, version=version)
        orphans = con.execute(
            "SELECT count(*) FROM accounts a ANTI JOIN parties p ON a.owner_party_id = p.party_id"
        ).fetchone()[0]
    finally:
        con.close()
    return dg.MaterializeResult(
        metadata={"rows": dg.MetadataValue.json(counts), "warehouse": dg.MetadataValue.path(str(storage.warehouse_path))},
        check_results=[dg.AssetCheckResult(check_name="accounts_owners_resolve", passed=orphans == 0,
                                           severity=dg.AssetCheckSeverity.ERROR, metadata={"orphans": int(orphans)})],
    )


@dg.asset(
    group_name="warehouse",
    partitions_def=daily_partitions,
    deps=["lake_transactions", "warehouse_reference"],
    kinds={"duckdb"},
    description="The `transactions` and `quarantine` views over the lake; the partition's rows are "
    "visible through them once this runs.",
    check_specs=[dg.AssetCheckSpec("partition_visible", asset="warehouse_transactions", blocking=True,
                                   description="The warehouse shows exactly the lake partition's rows for the day.")],
)
def warehouse_transactions(context: dg.AssetExecutionContext, storage: NexusfinStorage) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    con = wh.connect(storage.warehouse_path)
    try:
        views = wh.refresh_stream_views(con, storage.lake_path)
        in_view = con.execute("SELECT count(*) FROM transactions WHERE CAST(ts AS DATE) = ?", [day]).fetchone()[0]
        in_lake = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(storage.lake_path / "transactions" / f"date={day}" / "part-0.parquet")]
        ).fetchone()[0]
        total = con.execute("SELECT count(*) FROM transactions").fetchone()[0]
    finally:
        con.close()
    return dg.MaterializeResult(
        metadata={"views": dg.MetadataValue.json(views), "rows_in_partition": int(in_view),
                  "rows_total": int(total), "warehouse": dg.MetadataValue.path(str(storage.warehouse_path))},
        check_results=[dg.AssetCheckResult(check_name="partition_visible", passed=in_view == in_lake,
                                           severity=dg.AssetCheckSeverity.ERROR,
                                           metadata={"in_view": int(in_view), "in_lake": int(in_lake)})],
    )
