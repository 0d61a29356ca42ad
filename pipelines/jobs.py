"""Jobs and schedules: the daily flow (ingest, detect, features, scores, alert queue), each stage
alone, reference refreshes (with watchlist screening) and model training with gated promotion."""

import dagster as dg

INGEST_SELECTION = dg.AssetSelection.assets("lake_transactions", "warehouse_transactions")
# the detector family assets and the warehouse view over their alerts (group "detections")
DETECT_SELECTION = dg.AssetSelection.groups("detections")
FEATURES_SELECTION = dg.AssetSelection.assets("account_features")
SCORE_SELECTION = dg.AssetSelection.groups("scores", "alerts")
DAILY_SELECTION = INGEST_SELECTION | DETECT_SELECTION | FEATURES_SELECTION | SCORE_SELECTION
REFERENCE_SELECTION = dg.AssetSelection.groups("reference") | dg.AssetSelection.assets(
    "warehouse_reference", "watchlist_screening")
# the analysts' decisions are read back first: escalations become labels
TRAINING_SELECTION = dg.AssetSelection.groups("review", "models")

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

features_job = dg.define_asset_job(
    "features_job",
    selection=FEATURES_SELECTION,
    description="Account features of one day (linkage to facilitators, behaviour, detector outputs); backfill it "
    "to build training history.",
)

score_job = dg.define_asset_job(
    "score_job",
    selection=FEATURES_SELECTION | SCORE_SELECTION,
    description="Score one day: features → champion-model scores (gated) → ranked alert queue (gated) → warehouse.",
)

daily_job = dg.define_asset_job(
    "daily_job",
    selection=DAILY_SELECTION,
    description="One day end to end: ingest, every detector family, features, scores and the alert queue (each "
    "gated), then the warehouse views. Scoring needs a champion model (training_job).",
)

training_job = dg.define_asset_job(
    "training_job",
    selection=TRAINING_SELECTION,
    description="Retrain: read back the analysts' decisions, then a candidate model from the lake's features, SAR "
    "labels and review escalations, registered; promoted to "
    "champion only if the blocking check finds it not worse than the champion on the held-back window.",
)

reference_job = dg.define_asset_job(
    "reference_job",
    selection=REFERENCE_SELECTION,
    description="Refresh the reference snapshots (accounts, parties, watchlist, tags, SAR filings) and screen "
    "them against the watchlist.",
)

# Each night, ingest and detect the day that just ended (a late file is picked up by the landing sensor).
daily_ingest_schedule = dg.build_schedule_from_partitioned_job(
    daily_job, hour_of_day=2, minute_of_hour=0, name="daily_ingest_schedule"
)
