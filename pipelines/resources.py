"""Where the pipeline reads and writes: landing folder, Parquet lake, DuckDB warehouse file.

Defaults come from environment variables so `dagster dev` and `nexusfin run` agree; the embedded
default is the demo world under var/demo.
"""

import os
from pathlib import Path

import dagster as dg

from nexusfin.layout import DataRoot


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


class NexusfinStorage(dg.ConfigurableResource):
    """Paths of one deployment: a landing data root, a lake folder and a warehouse file."""

    data_root: str = _env("NEXUSFIN_DATA_ROOT", "var/demo/world")
    lake: str = _env("NEXUSFIN_LAKE", "var/demo/lake")
    warehouse: str = _env("NEXUSFIN_WAREHOUSE", "var/demo/warehouse.duckdb")
    max_amount_usd: float = float(_env("NEXUSFIN_MAX_AMOUNT_USD", "1e9"))
    max_quarantine_share: float = float(_env("NEXUSFIN_MAX_QUARANTINE_SHARE", "0.02"))
    gx_sample_rows: int = int(_env("NEXUSFIN_GX_SAMPLE_ROWS", "250000"))

    @property
    def root(self) -> DataRoot:
        return DataRoot(self.data_root)

    @property
    def lake_path(self) -> Path:
        return Path(self.lake)

    @property
    def warehouse_path(self) -> Path:
        return Path(self.warehouse)


class DetectorSettings(dg.ConfigurableResource):
    """How the detection assets run: the detector configuration file (empty: the packaged
    defaults, nexusfin/defaults/detectors.yaml), numba worker threads (0: every core) and the
    alert-volume ceiling of the `alert_volume` check (alerts of one family and day per 1,000
    accounts active in the lookback window)."""

    config_path: str = _env("NEXUSFIN_DETECTORS", "")
    numba_threads: int = int(_env("NEXUSFIN_NUMBA_THREADS", "0"))
    max_alerts_per_1000_accounts: float = float(_env("NEXUSFIN_MAX_ALERTS_PER_1000_ACCOUNTS", "10"))


class ScoringSettings(dg.ConfigurableResource):
    """How linkage, features, scores and the alert queue run: the scoring configuration file (empty:
    the packaged defaults, nexusfin/defaults/scoring.yaml) and the model registry folder."""

    config_path: str = _env("NEXUSFIN_SCORING", "")
    models: str = _env("NEXUSFIN_MODELS", "var/demo/models")
    # the review app's own store; the pipeline only reads it (dispositions become training labels).
    # Empty: review/review.sqlite beside the lake folder (var/demo/review/review.sqlite for the demo)
    review_store: str = _env("NEXUSFIN_REVIEW_STORE", "")

    @property
    def models_path(self) -> Path:
        return Path(self.models)

    def review_store_path(self, lake: Path) -> Path:
        return Path(self.review_store) if self.review_store else Path(lake).parent / "review" / "review.sqlite"
