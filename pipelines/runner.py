"""Materialize the asset graph in-process through Dagster (used by `nexusfin run` and the demo).

Reference snapshots and watchlist screening first (one run), then one run per day partition, in
day order: ingest, every detector family and the account features (each day reads the lake window
ending on that day, so the days before it are already in). Then, when scoring: the training job
if the registry has no champion yet (train on the feature days up to ``train_last_day``, promote
through the gate), and one scoring run per day (scores, the alert queue, the warehouse views).
The runs land in a persistent Dagster instance so `make dagster` shows their history, checks and
metadata.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from nexusfin.layout import DataRoot
from pipelines.definitions import all_assets
from pipelines.detections.assets import ASSET_FAMILY
from pipelines.jobs import (
    DETECT_SELECTION,
    FEATURES_SELECTION,
    INGEST_SELECTION,
    REFERENCE_SELECTION,
    SCORE_SELECTION,
    TRAINING_SELECTION,
)
from pipelines.resources import DetectorSettings, NexusfinStorage, ScoringSettings


@dataclass
class DayOutcome:
    day: str
    success: bool
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    checks_warned: list[str] = field(default_factory=list)
    error: str | None = None
    # detections of the day (published alerts only: a family whose gate failed counts 0)
    alerts: dict[str, int] = field(default_factory=dict)  # family -> alerts
    alerts_by_rule: dict[str, int] = field(default_factory=dict)
    detected: bool = False  # the detection assets ran (and wrote) for this day
    featured_accounts: int = 0
    scored: bool = False
    queued: int = 0  # model alerts published to the day's queue

    @property
    def n_alerts(self) -> int:
        return sum(self.alerts.values())

    @property
    def detection_checks_failed(self) -> list[str]:
        return [c for c in self.checks_failed if c.split(":", 1)[0] in ASSET_FAMILY]

    @property
    def detection_checks_warned(self) -> list[str]:
        return [c for c in self.checks_warned if c.split(":", 1)[0] in ASSET_FAMILY]


@dataclass
class RunSummary:
    reference_ok: bool
    reference_checks_failed: list[str]
    reference_errors: list[str]
    days: list[DayOutcome]
    lake: str
    warehouse: str
    dagster_home: str
    training: "TrainingOutcome | None" = None

    @property
    def success(self) -> bool:
        return (self.reference_ok and all(d.success for d in self.days)
                and (self.training is None or self.training.success))

    @property
    def n_alerts(self) -> int:
        return sum(d.n_alerts for d in self.days)

    @property
    def alerts_by_rule(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.days:
            for rule, n in d.alerts_by_rule.items():
                out[rule] = out.get(rule, 0) + n
        return dict(sorted(out.items()))


@dataclass
class TrainingOutcome:
    success: bool
    version: str | None = None
    promoted: bool = False
    checks_failed: list[str] = field(default_factory=list)
    error: str | None = None
    metadata: dict = field(default_factory=dict)


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _instance(dagster_home: Path) -> dg.DagsterInstance:
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"  # default local instance: runs, events, schedules on disk
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(dagster_home.resolve()))


def _checks(result: dg.ExecuteInProcessResult) -> tuple[int, list[str], list[str]]:
    """(passed, failed with ERROR severity, failed with WARN severity)."""
    passed, errors, warnings = 0, [], []
    for ev in result.get_asset_check_evaluations():
        name = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
        if ev.passed:
            passed += 1
        elif ev.severity == dg.AssetCheckSeverity.WARN:
            warnings.append(name)
        else:
            errors.append(name)
    return passed, errors, warnings


def _step_errors(result: dg.ExecuteInProcessResult) -> list[str]:
    """The message of every failed step (e.g. a bad landing file, a missing snapshot)."""
    errors = []
    for ev in result.all_events:
        if ev.is_step_failure:
            data = ev.step_failure_data
            user = data.user_failure_data  # a dg.Failure raised on purpose carries its description
            errors.append(user.description if user and user.description else data.error.message.strip())
    return errors


def _collect_alerts(result: dg.ExecuteInProcessResult, outcome: DayOutcome) -> None:
    """Published alerts per family and rule from the detection assets' materialization metadata."""
    for ev in result.get_asset_materialization_events():
        mat = ev.step_materialization_data.materialization
        family = ASSET_FAMILY.get(mat.asset_key.to_user_string())
        if family is None:
            continue
        outcome.detected = True
        md = mat.metadata
        if not md["published"].value:
            outcome.alerts[family] = 0
            continue
        outcome.alerts[family] = md["alerts"].value
        for rule, n in md["alerts_by_rule"].value.items():
            outcome.alerts_by_rule[rule] = outcome.alerts_by_rule.get(rule, 0) + n


def _collect_scoring(result: dg.ExecuteInProcessResult, outcome: DayOutcome) -> None:
    for ev in result.get_asset_materialization_events():
        mat = ev.step_materialization_data.materialization
        key, md = mat.asset_key.to_user_string(), mat.metadata
        if key == "account_features":
            outcome.featured_accounts = md["accounts"].value
        elif key == "account_scores":
            outcome.scored = bool(md["published"].value)
        elif key == "alert_queue" and md["published"].value:
            outcome.queued = md["alerts"].value


def _merge(outcome: DayOutcome, result: dg.ExecuteInProcessResult) -> None:
    passed, failed, warned = _checks(result)
    outcome.checks_passed += passed
    outcome.checks_failed += failed
    outcome.checks_warned += warned
    outcome.success = outcome.success and result.success and not failed
    _collect_scoring(result, outcome)
    if not result.success:
        err = "; ".join(_step_errors(result)) or "run failed"
        outcome.error = f"{outcome.error}; {err}" if outcome.error else err


def run_training(resources: dict, instance: dg.DagsterInstance, *, first_day: date | None = None,
                 last_day: date | None = None, note: str = "", candidate_version: str = "") -> TrainingOutcome:
    """One training_job run: a candidate (trained, or an already registered ``candidate_version``);
    promoted only if its gate passes."""
    cfg = {"first_day": first_day.isoformat() if first_day else "",
           "last_day": last_day.isoformat() if last_day else "", "note": note,
           "candidate_version": candidate_version}
    result = dg.materialize(
        all_assets, selection=TRAINING_SELECTION, resources=resources, instance=instance, raise_on_error=False,
        tags={"nexusfin/stage": "training"}, run_config={**QUIET, "ops": {"model_candidate": {"config": cfg}}},
    )
    _, failed, _ = _checks(result)
    out = TrainingOutcome(success=result.success and not failed, checks_failed=failed)
    for ev in result.get_asset_materialization_events():
        mat = ev.step_materialization_data.materialization
        if mat.asset_key.to_user_string() == "model_candidate":
            out.version = mat.metadata["version"].value
            out.metadata = {k: v.value for k, v in mat.metadata.items()}
        if mat.asset_key.to_user_string() == "model_champion":
            out.promoted = True
    if not result.success:
        out.error = "; ".join(_step_errors(result)) or "; ".join(failed) or "training run failed"
    return out


def run_pipeline(
    data_root: Path,
    lake: Path,
    warehouse: Path,
    *,
    start: date | None = None,
    end: date | None = None,
    dagster_home: Path | None = None,
    on_day=None,
    detect: bool = True,
    score: bool = False,
    models: Path | None = None,
    train_last_day: date | None = None,
) -> RunSummary:
    """Reference snapshots and screening, then each landing day (ingest; with ``detect`` the
    detections and features); with ``score``, training if there is no champion, then scoring."""
    root = DataRoot(data_root)
    available = sorted(root.landing_days())
    days = [d for d in available if (start is None or d >= start) and (end is None or d <= end)]
    storage = NexusfinStorage(data_root=str(data_root), lake=str(lake), warehouse=str(warehouse))
    dagster_home = dagster_home or Path(lake).parent / "dagster_home"
    instance = _instance(dagster_home)
    scoring = ScoringSettings(models=str(models or Path(lake).parent / "models"))
    resources = {"storage": storage, "detectors": DetectorSettings(), "scoring": scoring}

    ref = dg.materialize(
        all_assets, selection=REFERENCE_SELECTION,
        resources=resources, instance=instance, raise_on_error=False, tags={"nexusfin/stage": "reference"},
        run_config=QUIET,
    )
    _, ref_failed, _ = _checks(ref)
    summary = RunSummary(ref.success and not ref_failed, ref_failed, _step_errors(ref), [], str(lake),
                         str(warehouse), str(dagster_home))
    if not summary.reference_ok:
        return summary
    selection = INGEST_SELECTION | (DETECT_SELECTION | FEATURES_SELECTION if detect else INGEST_SELECTION)
    steps = len(days) * (2 if score and detect else 1)
    for i, day in enumerate(days):
        result = dg.materialize(
            all_assets, selection=selection,
            partition_key=day.isoformat(), resources=resources, instance=instance, raise_on_error=False,
            tags={"nexusfin/stage": "daily" if detect else "ingest"}, run_config=QUIET,
        )
        passed, failed, warned = _checks(result)
        outcome = DayOutcome(day=day.isoformat(), success=result.success and not failed,
                             checks_passed=passed, checks_failed=failed, checks_warned=warned)
        for mat in result.asset_materializations_for_node("lake_transactions"):
            md = mat.metadata
            outcome.rows_read = md["rows_read"].value
            outcome.rows_accepted = md["rows_accepted"].value
            outcome.rows_quarantined = md["rows_quarantined"].value
        _collect_alerts(result, outcome)
        _collect_scoring(result, outcome)
        if not result.success:
            outcome.error = "; ".join(_step_errors(result)) or "run failed"
        summary.days.append(outcome)
        if on_day:
            on_day(i + 1, steps)
    if not (score and detect):
        return summary
    from nexusfin.scoring.registry import Registry

    if not Registry(scoring.models_path).has("champion"):
        summary.training = run_training(resources, instance, last_day=train_last_day,
                                        note="first model of this deployment (nexusfin run)")
        if not summary.training.success:
            return summary
    for i, (day, outcome) in enumerate(zip(days, summary.days, strict=True)):
        if outcome.success:
            result = dg.materialize(
                all_assets, selection=SCORE_SELECTION, partition_key=day.isoformat(), resources=resources,
                instance=instance, raise_on_error=False, tags={"nexusfin/stage": "score"}, run_config=QUIET,
            )
            _merge(outcome, result)
        if on_day:
            on_day(len(days) + i + 1, steps)
    return summary
