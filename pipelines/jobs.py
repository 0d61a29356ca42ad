"""Jobs and schedules: the daily ingest of one partition, and reference refreshes."""

import dagster as dg

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets("lake_transactions", "warehouse_transactions"),
    description="Ingest one day: landing file → lake partition (gated) → warehouse views.",
)

reference_job = dg.define_asset_job(
    "reference_job",
    selection=dg.AssetSelection.groups("reference") | dg.AssetSelection.assets("warehouse_reference"),
    description="Refresh the reference snapshots (accounts, parties, watchlist, tags, SAR filings).",
)

# Each night, ingest the day that just ended (a late file is picked up by the landing sensor).
daily_ingest_schedule = dg.build_schedule_from_partitioned_job(
    ingest_job, hour_of_day=2, minute_of_hour=0, name="daily_ingest_schedule"
)
