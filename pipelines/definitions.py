"""Dagster definitions for nexusfin. Stages are added domain by domain (landing → lake →
warehouse → detections → features → scores → alerts)."""

import dagster as dg

defs = dg.Definitions(assets=[])
