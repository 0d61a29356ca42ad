"""The nexusfin code location: `dagster dev -m pipelines.definitions` (or `make dagster`).

Data flows landing → lake → warehouse → detections → features → scores → alerts; each domain
folder declares its assets with their quality checks.
"""

import dagster as dg

from pipelines.alerts.assets import alert_assets
from pipelines.detections.assets import detection_assets
from pipelines.features.assets import feature_assets
from pipelines.jobs import (
    daily_ingest_schedule,
    daily_job,
    detect_job,
    features_job,
    ingest_job,
    reference_job,
    score_job,
    training_job,
)
from pipelines.lake.assets import lake_transactions
from pipelines.lake.sensors import build_landing_sensor
from pipelines.models.assets import model_assets
from pipelines.reference.assets import reference_assets
from pipelines.resources import DetectorSettings, NexusfinStorage, ScoringSettings
from pipelines.review.assets import review_assets
from pipelines.scores.assets import score_assets
from pipelines.warehouse.assets import warehouse_reference, warehouse_transactions

all_assets = [*reference_assets, lake_transactions, warehouse_reference, warehouse_transactions, *detection_assets,
              *feature_assets, *score_assets, *alert_assets, *review_assets, *model_assets]

defs = dg.Definitions(
    assets=all_assets,
    jobs=[daily_job, ingest_job, detect_job, features_job, score_job, reference_job, training_job],
    schedules=[daily_ingest_schedule],
    # a new or re-delivered landing file: ingest its day and detect on it
    sensors=[build_landing_sensor(daily_job)],
    resources={"storage": NexusfinStorage(), "detectors": DetectorSettings(), "scoring": ScoringSettings()},
)
