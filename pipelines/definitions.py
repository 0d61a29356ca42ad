"""The nexusfin code location: `dagster dev -m pipelines.definitions` (or `make dagster`).

Data flows landing → lake → warehouse → detections → features → scores → alerts; each domain
folder declares its assets with their quality checks.
"""

import dagster as dg

from pipelines.jobs import daily_ingest_schedule, ingest_job, reference_job
from pipelines.lake.assets import lake_transactions
from pipelines.lake.sensors import build_landing_sensor
from pipelines.reference.assets import reference_assets
from pipelines.resources import NexusfinStorage
from pipelines.warehouse.assets import warehouse_reference, warehouse_transactions

all_assets = [*reference_assets, lake_transactions, warehouse_reference, warehouse_transactions]

defs = dg.Definitions(
    assets=all_assets,
    jobs=[ingest_job, reference_job],
    schedules=[daily_ingest_schedule],
    sensors=[build_landing_sensor(ingest_job)],
    resources={"storage": NexusfinStorage()},
)
