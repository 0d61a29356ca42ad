"""Partitions of the stream: one per UTC day."""

import os

import dagster as dg

# The first day the lake accepts; synthetic worlds start on 2026-01-05 by default.
PARTITIONS_START = os.environ.get("NEXUSFIN_PARTITIONS_START", "2026-01-01")

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=PARTITIONS_START,
    timezone="UTC",
    end_offset=1,  # today's partition exists too: files for the current day may arrive intraday
)
