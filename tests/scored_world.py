"""One small generated world run through the whole pipeline with scoring (features → training with
gated promotion → scores → alert queue): shared by the scoring-pipeline and review-app tests
(session fixture `scored` in conftest.py)."""

import os
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

START = date(2026, 1, 5)
DAYS = 20
TRAIN_LAST = START + timedelta(days=16)
# short windows so a 20-day world holds training, held-back and scored days
SCORING_YAML = """
features:
  window_days: 5
training:
  holdback_days: 3
  snapshot_stride_days: 1
  min_positive_labels: 3
model:
  max_iter: 80
queue:
  alerts_per_day: 5
"""


@contextmanager
def scoring_env(out: Path):
    """NEXUSFIN_SCORING pointing at the world's short-window scoring config, restored after."""
    old = os.environ.get("NEXUSFIN_SCORING")
    os.environ["NEXUSFIN_SCORING"] = str(out / "scoring.yaml")
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("NEXUSFIN_SCORING", None)
        else:
            os.environ["NEXUSFIN_SCORING"] = old


def build(out: Path):
    from pipelines.runner import run_pipeline
    from synthetic import WorldConfig, generate

    (out / "scoring.yaml").write_text(SCORING_YAML)
    with scoring_env(out):
        generate(WorldConfig(seed=21, n_accounts=1200, days=DAYS, start=START), out / "world")
        return run_pipeline(out / "world", out / "lake", out / "warehouse.duckdb", dagster_home=out / "dh",
                            models=out / "models", score=True, train_last_day=TRAIN_LAST)
