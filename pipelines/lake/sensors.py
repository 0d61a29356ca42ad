"""A cursor-based sensor over the landing folder: every new or changed day file (late ones too)
requests a run of its partition. The cursor remembers what it has already seen."""

import json

import dagster as dg

from nexusfin.layout import DataRoot, day_of_file
from pipelines.resources import NexusfinStorage


def build_landing_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED,
               description="Requests a partition run for each new or re-delivered landing file.")
    def landing_sensor(context: dg.SensorEvaluationContext, storage: NexusfinStorage):
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        folder = DataRoot(storage.data_root).landing_transactions
        requests = []
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                day = day_of_file(path)
                if day is None or not path.is_file():
                    continue
                stat = path.stat()
                fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
                if seen.get(path.name) == fingerprint:
                    continue
                seen[path.name] = fingerprint
                requests.append(dg.RunRequest(partition_key=day.isoformat(), run_key=f"{path.name}:{fingerprint}"))
        context.update_cursor(json.dumps(seen, sort_keys=True))
        if not requests:
            return dg.SkipReason(f"no new landing files in {folder}")
        return requests

    return landing_sensor
