"""Jobs and schedules: the daily flow (ingest, then detect), ingest or detection alone, and
reference refreshes."""

import dagster as dg

INGEST_SELECTION = dg.AssetSelection.assets("lake_transactions", "warehouse_transactions")
# the detector family assets and the warehouse view over their alerts (group "detections")
DETECT_SELECTION = dg.AssetSelection.groups("detections")
DAILY_SELECTION = INGEST_SELECTION | DETECT_SELECTION
REFERENCE_SELECTION = dg.AssetSelection.groups("reference") | dg.AssetSelection.assets("warehouse_reference")

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=INGEST_SELECTION,
    description="Ingest one day: landing file → lake partition (gated) → warehouse views.",
)

detect_job = dg.define_asset_job(
    "detect_job",
    selection=DETECT_SELECTION,
    description="Detect one day: one ledger over the lake window → alerts of every detector family (each "
    "gated) → the detector_alerts warehouse view. Backfill it after re-ingesting a past day.",
)

daily_job = dg.define_asset_job(
    "daily_job",
    selection=DAILY_SELECTION,
    description="One day end to end: ingest (gated), then every detector family (gated), then the warehouse views.",
)

reference_job = dg.define_asset_job(
    "reference_job",
    selection=REFERENCE_SELECTION,
    description="Refresh the reference snapshots (accounts, parties, watchlist, tags, SAR filings).",
)

# Each night, ingest and detect the day that just ended (a late file is picked up by the landing sensor).
daily_ingest_schedule = dg.build_schedule_from_partitioned_job(
    daily_job, hour_of_day=2, minute_of_hour=0, name="daily_ingest_schedule"
)
