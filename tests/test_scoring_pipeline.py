"""The whole scoring flow through Dagster on a small generated world, and the modelers' notebooks
run headless on it: features → training (gated promotion) → scores → ranked alert queue."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from scored_world import (  # fixture `scored`: conftest.py
    DAYS,
    SCORING_YAML,
    START,
    TRAIN_LAST,
    scoring_env,
)

from nexusfin.contracts import contract
from nexusfin.scoring.registry import Registry

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _short_window_scoring(scored):
    with scoring_env(scored[0]):
        yield


REPO = Path(__file__).resolve().parent.parent


def test_first_model_is_trained_and_promoted_through_the_gate(scored):
    out, summary = scored
    assert summary.training is not None and summary.training.success and summary.training.promoted
    reg = Registry(out / "models")
    champ = reg.get("champion")
    assert champ.version == summary.training.version
    assert (champ.path / "card.md").is_file() and champ.manifest["format"] == "skops"
    assert champ.manifest["train_range"][1] < champ.manifest["holdback_range"][0] <= TRAIN_LAST.isoformat()
    assert [e["alias"] for e in reg.log() if e.get("action") == "set"][:2] == ["candidate", "champion"]


def test_every_day_is_scored_and_queued_within_capacity(scored):
    out, summary = scored
    assert summary.success, [(d.day, d.error, d.checks_failed) for d in summary.days if not d.success]
    assert all(d.scored for d in summary.days)
    queue = pl.read_parquet(str(out / "lake" / "alerts" / "date=*" / "part-0.parquet"))
    assert queue.height == sum(d.queued for d in summary.days) > 0
    assert queue.group_by("as_of").len().get_column("len").max() <= 5
    assert queue.get_column("alert_id").is_unique().all()
    assert queue.get_column("account_id").is_unique().all()  # open for 30 days: never alerted twice here
    assert contract("alert_queue").violations(queue) == {}
    scores = pl.read_parquet(str(out / "lake" / "scores" / "date=*" / "part-0.parquet"))
    assert scores.get_column("score").is_between(0, 1).all()
    # every queued alert is above its threshold and explains itself
    assert (queue.get_column("score") >= queue.get_column("threshold")).all()
    first = queue.sort("as_of", "queue_rank").row(0, named=True)
    assert first["explanation"].startswith("Score ") and json.loads(first["contributions"])


def test_alerts_carry_detector_and_facilitator_evidence(scored):
    out, _ = scored
    queue = pl.read_parquet(str(out / "lake" / "alerts" / "date=*" / "part-0.parquet"))
    with_path = queue.filter(pl.col("facilitator_path_accounts").is_not_null())
    for r in with_path.iter_rows(named=True):
        assert r["facilitator_path_accounts"][0] == r["account_id"] or r["facilitator_path_accounts"][-1] == r["account_id"]
        assert len(r["facilitator_path_txn_ids"]) == len(r["facilitator_path_accounts"]) - 1
        assert r["facilitator_entity_id"] in r["explanation"]
    det = pl.read_parquet(str(out / "lake" / "detections" / "family=*" / "date=*" / "part-0.parquet"))
    cited = queue.get_column("detector_alert_ids").explode().drop_nulls()
    assert cited.is_in(det.get_column("alert_id").implode()).all()


def test_warehouse_views_are_readable_read_only(scored):
    from nexusfin.warehouse import read_only_query

    out, _ = scored
    n = read_only_query(out / "warehouse.duckdb", "SELECT count(*) AS n FROM alert_queue").item()
    lake_n = pl.read_parquet(str(out / "lake" / "alerts" / "date=*" / "part-0.parquet")).height
    assert n == lake_n
    feats = read_only_query(out / "warehouse.duckdb", "SELECT count(DISTINCT as_of) AS d FROM account_features").item()
    assert feats == DAYS


def test_rescoring_a_day_is_idempotent(scored):
    import dagster as dg

    from pipelines.definitions import all_assets
    from pipelines.jobs import SCORE_SELECTION
    from pipelines.resources import DetectorSettings, NexusfinStorage, ScoringSettings
    from pipelines.runner import QUIET, _instance

    out, _ = scored
    day = START + timedelta(days=DAYS - 2)
    f = out / "lake" / "alerts" / f"date={day}" / "part-0.parquet"
    before = pl.read_parquet(f).sort("alert_id")
    res = {"storage": NexusfinStorage(data_root=str(out / "world"), lake=str(out / "lake"),
                                      warehouse=str(out / "warehouse.duckdb")),
           "detectors": DetectorSettings(), "scoring": ScoringSettings(models=str(out / "models"))}
    r = dg.materialize(all_assets, selection=SCORE_SELECTION, partition_key=day.isoformat(), resources=res,
                       instance=_instance(out / "dh"), raise_on_error=False, run_config=QUIET)
    assert r.success
    assert pl.read_parquet(f).sort("alert_id").equals(before)


def test_a_worse_candidate_is_not_promoted(scored, tmp_path):
    from pipelines.resources import DetectorSettings, NexusfinStorage, ScoringSettings
    from pipelines.runner import _instance, run_training

    out, _ = scored
    strict = tmp_path / "strict.yaml"
    # a candidate must now beat the champion by a full point of PR-AUC: no model can
    strict.write_text(SCORING_YAML.replace("  min_positive_labels: 3\n",
                                           "  min_positive_labels: 3\n  max_regression: -1.0\n"))
    reg = Registry(out / "models")
    champion = reg.aliases()["champion"]
    os.environ["NEXUSFIN_SCORING"] = str(strict)
    try:
        res = {"storage": NexusfinStorage(data_root=str(out / "world"), lake=str(out / "lake"),
                                          warehouse=str(out / "warehouse.duckdb")),
               "detectors": DetectorSettings(), "scoring": ScoringSettings(models=str(out / "models"))}
        outcome = run_training(res, _instance(out / "dh"), last_day=TRAIN_LAST)
    finally:
        os.environ["NEXUSFIN_SCORING"] = str(out / "scoring.yaml")
    assert not outcome.success and not outcome.promoted
    assert "model_candidate:candidate_not_worse_than_champion" in outcome.checks_failed
    assert reg.aliases()["champion"] == champion
    assert reg.log()[-1]["action"] == "rejected" and reg.log()[-1]["version"] == outcome.version


def _notebook(path: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "notebooks" / path)], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=600, cwd=REPO)


def test_retrain_notebook_registers_a_candidate(scored):
    out, _ = scored
    reg = Registry(out / "models")
    before = set(reg.versions())
    run = _notebook("retrain_model.py", {
        "NEXUSFIN_WAREHOUSE": str(out / "warehouse.duckdb"), "NEXUSFIN_LAKE": str(out / "lake"),
        "NEXUSFIN_MODELS": str(out / "models"), "NEXUSFIN_DATA_ROOT": str(out / "world"),
        "NEXUSFIN_SCORING": str(out / "scoring.yaml")})
    assert run.returncode == 0, run.stderr[-3000:]
    new = set(reg.versions()) - before
    assert len(new) == 1
    (version,) = new
    assert reg.aliases()["candidate"] == version
    assert reg.get(version).manifest["note"] == "registered from notebooks/retrain_model.py"


def test_tune_detectors_notebook_saves_a_config_the_pipeline_uses(scored, tmp_path):
    import dagster as dg

    from nexusfin.detect import config_version, load_detector_config
    from pipelines.definitions import all_assets
    from pipelines.jobs import DETECT_SELECTION
    from pipelines.resources import DetectorSettings, NexusfinStorage, ScoringSettings
    from pipelines.runner import QUIET, _instance

    out, _ = scored
    run = _notebook("tune_detectors.py", {"NEXUSFIN_DATA_ROOT": str(out / "world"),
                                          "NEXUSFIN_DETECTOR_CONFIGS": str(tmp_path / "configs"),
                                          "NEXUSFIN_ALERT_BUDGET": "30"})
    assert run.returncode == 0, run.stderr[-3000:]
    (saved,) = list((tmp_path / "configs").glob("detectors-v*.yaml"))
    cfg = load_detector_config(saved)
    assert cfg.version == load_detector_config().version + 1
    day = START + timedelta(days=DAYS - 1)
    res = {"storage": NexusfinStorage(data_root=str(out / "world"), lake=str(tmp_path / "lake2"),
                                      warehouse=str(tmp_path / "wh2.duckdb")),
           "detectors": DetectorSettings(config_path=str(saved)), "scoring": ScoringSettings()}
    # detections of one day with the saved configuration, on a copy of the lake's inputs
    import shutil

    shutil.copytree(out / "lake" / "transactions", tmp_path / "lake2" / "transactions")
    shutil.copytree(out / "lake" / "reference", tmp_path / "lake2" / "reference")
    r = dg.materialize(all_assets, selection=DETECT_SELECTION, partition_key=day.isoformat(), resources=res,
                       instance=_instance(tmp_path / "dh2"), raise_on_error=False, run_config=QUIET)
    assert r.success
    alerts = pl.read_parquet(str(tmp_path / "lake2" / "detections" / "family=*" / "date=*" / "part-0.parquet"))
    assert alerts.height and set(alerts.get_column("config_version").to_list()) == {config_version(cfg)}
