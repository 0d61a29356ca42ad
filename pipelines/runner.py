"""Materialize the asset graph in-process through Dagster (used by `nexusfin run` and the demo).

Reference snapshots first (one run), then one run per day partition, in day order: ingest, then
every detector family (each day's detection reads the lake window ending on that day, so the days
before it are already in), then the warehouse views. The runs land in a persistent Dagster
instance so `make dagster` shows their history, checks and metadata.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from nexusfin.layout import DataRoot
from pipelines.definitions import all_assets
from pipelines.detections.assets import ASSET_FAMILY
from pipelines.jobs import DAILY_SELECTION, INGEST_SELECTION, REFERENCE_SELECTION
from pipelines.resources import DetectorSettings, NexusfinStorage


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

    @property
    def success(self) -> bool:
        return self.reference_ok and all(d.success for d in self.days)

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
) -> RunSummary:
    """Reference snapshots, then each landing day (ingest, and with ``detect`` the detections)."""
    root = DataRoot(data_root)
    available = sorted(root.landing_days())
    days = [d for d in available if (start is None or d >= start) and (end is None or d <= end)]
    storage = NexusfinStorage(data_root=str(data_root), lake=str(lake), warehouse=str(warehouse))
    dagster_home = dagster_home or Path(lake).parent / "dagster_home"
    instance = _instance(dagster_home)
    resources = {"storage": storage, "detectors": DetectorSettings()}

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
    for i, day in enumerate(days):
        result = dg.materialize(
            all_assets, selection=DAILY_SELECTION if detect else INGEST_SELECTION,
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
        if not result.success:
            outcome.error = "; ".join(_step_errors(result)) or "run failed"
        summary.days.append(outcome)
        if on_day:
            on_day(i + 1, len(days))
    return summary


