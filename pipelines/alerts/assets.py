"""The ranked alert queue of the day (schemas/alert_queue.yaml; lake/alerts/date=D) and the
warehouse views over features, scores and alerts.

For day D the queue takes the accounts scored above the model threshold, leaves out those with an
open alert (raised within queue.open_days before D), and keeps the best up to the analysts' daily
capacity, each with its evidence: top feature contributions, the window's detector alerts and the
money path to a facilitator. Gates (blocking): the contract; every alert references an existing
account; no alert id appears twice (in the day or in the queue's history); no account gets a
second open alert.
"""

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from nexusfin import warehouse as wh
from nexusfin.features import read_detections, read_features, read_paths, window_days
from nexusfin.quality.gx_suites import CRITICAL, contract_expectations, validate
from nexusfin.scoring.queue import QUEUE, build_queue
from nexusfin.scoring.registry import Registry, RegistryError
from pipelines.features.assets import load_config, read_reference
from pipelines.partitions import daily_partitions
from pipelines.quality.gx_adapter import gx_check_results, gx_check_specs
from pipelines.reference.assets import preview
from pipelines.resources import NexusfinStorage, ScoringSettings
from pipelines.scores.assets import read_scores

GROUP = "alerts"


def alerts_file(lake: Path, day: date) -> Path:
    return Path(lake) / "alerts" / f"date={day.isoformat()}" / "part-0.parquet"


def read_queue(lake: Path, days: list[date] | None = None) -> pl.DataFrame:
    root = Path(lake) / "alerts"
    files = (sorted(str(p) for p in root.glob("date=*/part-0.parquet")) if days is None
             else [str(f) for d in days if (f := alerts_file(lake, d)).is_file()])
    return pl.read_parquet(files) if files else QUEUE.empty()


@dg.asset(
    group_name=GROUP,
    partitions_def=daily_partitions,
    deps=["account_scores", "account_features"],
    kinds={"parquet"},
    description="Ranked model alerts of the day, deduplicated against open alerts, each with its evidence "
    "(schemas/alert_queue.yaml; lake/alerts/date=D).",
    check_specs=[
        dg.AssetCheckSpec("queue_meets_contract", asset="alert_queue", blocking=True,
                          description="schemas/alert_queue.yaml: types, allowed values, scores in [0, 1]."),
        dg.AssetCheckSpec("alerts_reference_existing_accounts", asset="alert_queue", blocking=True,
                          description="Every alert's account exists in the accounts snapshot and was scored on the day."),
        dg.AssetCheckSpec("no_duplicate_alert_ids", asset="alert_queue", blocking=True,
                          description="No alert id twice, in the day or anywhere in the queue's history."),
        dg.AssetCheckSpec("no_second_open_alert", asset="alert_queue", blocking=True,
                          description="No account alerted today already has an open alert (queue.open_days)."),
        *gx_check_specs("alert_queue", "gx_alert_queue", "Great Expectations suite derived from schemas/alert_queue.yaml."),
    ],
)
def alert_queue(context: dg.AssetExecutionContext, storage: NexusfinStorage,
                scoring: ScoringSettings) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    config = load_config(scoring)
    lake = storage.lake_path
    scores = read_scores(lake, day)
    if scores.is_empty():
        raise dg.Failure(f"no scores for {day}: run account_scores first")
    versions = scores.get_column("model_version").unique().to_list()
    registry = Registry(scoring.models_path)
    try:
        model, mv = registry.load(versions[0])
    except RegistryError as exc:
        raise dg.Failure(f"the model that scored {day} cannot be loaded: {exc}") from exc
    ref = read_reference(storage)
    open_days = [day - timedelta(days=i) for i in range(1, config.queue.open_days + 1)]
    previous = read_queue(lake, open_days)
    first, last = window_days(config, day)
    queue = build_queue(
        day, scores, read_features(lake, [day]), read_paths(lake, [day]), read_detections(lake, first, last),
        ref.accounts, previous.get_column("account_id"), model.calibrated_classifiers_[0].estimator.estimator,
        mv.reference_values, alerts_per_day=config.queue.alerts_per_day, explain_top=config.queue.explain_top,
    )
    problems = dict(QUEUE.violations(queue))
    unknown = queue.filter(~pl.col("account_id").is_in(ref.accounts["account_id"].implode())).height
    unscored = queue.filter(~pl.col("account_id").is_in(scores["account_id"].implode())).height
    history = read_queue(lake, None).filter(pl.col("as_of") != day)
    dup_ids = int(queue.get_column("alert_id").is_duplicated().sum()) + queue.filter(
        pl.col("alert_id").is_in(history["alert_id"].implode())).height
    second = queue.filter(pl.col("account_id").is_in(previous["account_id"].implode())).height
    gx = validate(queue, [s for s in contract_expectations(QUEUE) if not s.rule.endswith(":not_empty")],
                  suite="alert_queue", id_column="alert_id", sample_rows=storage.gx_sample_rows)
    ok = not problems and unknown == 0 and unscored == 0 and dup_ids == 0 and second == 0 and gx.passed(CRITICAL)
    if ok:
        QUEUE.write(queue, alerts_file(lake, day), "parquet")
    else:
        context.log.error(f"alert_queue {day}: a blocking check failed; the queue was not published")
    return dg.MaterializeResult(
        metadata={
            "alerts": queue.height,
            "capacity": config.queue.alerts_per_day,
            "above_threshold": int(scores.get_column("above_threshold").sum()),
            "skipped_open": scores.filter(pl.col("above_threshold")
                                          & pl.col("account_id").is_in(previous["account_id"].implode())).height,
            "convergent": int(queue.get_column("convergent").sum()) if queue.height else 0,
            "with_facilitator_path": queue.filter(pl.col("facilitator_path_accounts").is_not_null()).height,
            "model_version": mv.version,
            "published": ok,
            "preview": preview(queue.select("queue_rank", "account_id", "score", "explanation")),
        },
        check_results=[
            dg.AssetCheckResult(check_name="queue_meets_contract", passed=not problems,
                                severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"violations": dg.MetadataValue.json(problems)}),
            dg.AssetCheckResult(check_name="alerts_reference_existing_accounts", passed=unknown == 0 and unscored == 0,
                                severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"unknown_accounts": unknown, "not_scored_today": unscored}),
            dg.AssetCheckResult(check_name="no_duplicate_alert_ids", passed=dup_ids == 0,
                                severity=dg.AssetCheckSeverity.ERROR, metadata={"duplicates": dup_ids}),
            dg.AssetCheckResult(check_name="no_second_open_alert", passed=second == 0,
                                severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"accounts_with_open_alert": second, "open_days": config.queue.open_days}),
            *gx_check_results(gx, "gx_alert_queue"),
        ],
    )


@dg.asset(
    group_name=GROUP,
    partitions_def=daily_partitions,
    deps=["alert_queue", "account_scores", "account_features"],
    kinds={"duckdb"},
    description="Warehouse views account_features, facilitator_paths, account_scores and alert_queue over the lake.",
    check_specs=[dg.AssetCheckSpec("queue_visible", asset="warehouse_alerts", blocking=True,
                                   description="The alert_queue view shows exactly the day's published alerts.")],
)
def warehouse_alerts(context: dg.AssetExecutionContext, storage: NexusfinStorage) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    in_lake = read_queue(storage.lake_path, [day]).height
    con = wh.connect(storage.warehouse_path)
    try:
        views = wh.refresh_stream_views(con, storage.lake_path)
        in_view = (con.execute("SELECT count(*) FROM alert_queue WHERE as_of = ?", [day]).fetchone()[0]
                   if "alert_queue" in views else 0)
    finally:
        con.close()
    return dg.MaterializeResult(
        metadata={"views": dg.MetadataValue.json(views), "alerts_in_partition": int(in_view)},
        check_results=[dg.AssetCheckResult(check_name="queue_visible", passed=int(in_view) == in_lake,
                                           severity=dg.AssetCheckSeverity.ERROR,
                                           metadata={"in_view": int(in_view), "in_lake": in_lake})],
    )


alert_assets = [alert_queue, warehouse_alerts]
