"""The analysts' decisions read back from the review app's store (read-only) into the lake
(lake/review/dispositions.parquet, schemas/alert_dispositions.yaml) and the warehouse table
``alert_dispositions``; the training job turns escalations into labels.

Gates (blocking): the contract; every decision refers to an alert the pipeline queued; the review
store's audit chain is intact (a tampered log must not feed the model).
"""

from pathlib import Path

import dagster as dg
import polars as pl

from nexusfin import warehouse as wh
from nexusfin.contracts import contract
from nexusfin.review.store import read_dispositions, verify_audit_chain
from pipelines.alerts.assets import read_queue
from pipelines.reference.assets import preview
from pipelines.resources import NexusfinStorage, ScoringSettings

GROUP = "review"
DISPOSITIONS = contract("alert_dispositions")


def dispositions_file(lake: Path) -> Path:
    return Path(lake) / "review" / "dispositions.parquet"


def read_lake_dispositions(lake: Path) -> pl.DataFrame:
    """The last published read-back (empty before the first)."""
    f = dispositions_file(lake)
    return pl.read_parquet(f) if f.is_file() else DISPOSITIONS.empty()


@dg.asset(
    group_name=GROUP,
    deps=["alert_queue"],
    kinds={"sqlite", "parquet", "duckdb"},
    description="Latest analyst decision per alert, read back from the review app's store "
    "(schemas/alert_dispositions.yaml; lake/review/dispositions.parquet; warehouse table alert_dispositions).",
    check_specs=[
        dg.AssetCheckSpec("dispositions_meet_contract", asset="alert_dispositions", blocking=True,
                          description="schemas/alert_dispositions.yaml: types, allowed decisions, one row per alert."),
        dg.AssetCheckSpec("dispositions_reference_queued_alerts", asset="alert_dispositions", blocking=True,
                          description="Every decision refers to an alert in lake/alerts (same account)."),
        dg.AssetCheckSpec("review_audit_chain_intact", asset="alert_dispositions", blocking=True,
                          description="The review store's hash-chained audit log verifies end to end."),
    ],
)
def alert_dispositions(context: dg.AssetExecutionContext, storage: NexusfinStorage,
                       scoring: ScoringSettings) -> dg.MaterializeResult:
    store = scoring.review_store_path(storage.lake_path)
    if store.exists():
        decisions = read_dispositions(store)
        chain = verify_audit_chain(store)
        chain_ok, chain_meta = chain.ok, {"events": chain.n_events, "head_seq": chain.head_seq,
                                          "head_hash": chain.head_hash, "reason": chain.reason,
                                          "first_bad_seq": chain.first_bad_seq or 0}
    else:
        context.log.info(f"no review store at {store}: no decisions yet")
        decisions, chain_ok, chain_meta = DISPOSITIONS.empty(), True, {"events": 0, "store": "absent"}
    problems = dict(DISPOSITIONS.violations(decisions))
    queued = read_queue(storage.lake_path).select("alert_id", pl.col("account_id").alias("_queued_account"))
    joined = decisions.join(queued, on="alert_id", how="left")
    unknown = joined.filter(pl.col("_queued_account").is_null()
                            | (pl.col("_queued_account") != pl.col("account_id"))).height
    ok = not problems and unknown == 0 and chain_ok
    if ok:
        out = dispositions_file(storage.lake_path)
        DISPOSITIONS.write(decisions, out, "parquet")
        con = wh.connect(storage.warehouse_path)
        try:
            wh.load_table(con, "alert_dispositions", out)
        finally:
            con.close()
    else:
        context.log.error("alert_dispositions: a blocking check failed; the read-back was not published")
    counts = decisions.group_by("decision").len().to_dicts() if decisions.height else []
    return dg.MaterializeResult(
        metadata={"decisions": decisions.height, "store": str(store), "published": ok,
                  "by_decision": dg.MetadataValue.json({r["decision"]: r["len"] for r in counts}),
                  "preview": preview(decisions.select("alert_id", "as_of", "decision", "username"))},
        check_results=[
            dg.AssetCheckResult(check_name="dispositions_meet_contract", passed=not problems,
                                severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"violations": dg.MetadataValue.json(problems)}),
            dg.AssetCheckResult(check_name="dispositions_reference_queued_alerts", passed=unknown == 0,
                                severity=dg.AssetCheckSeverity.ERROR, metadata={"unknown_alerts": unknown}),
            dg.AssetCheckResult(check_name="review_audit_chain_intact", passed=chain_ok,
                                severity=dg.AssetCheckSeverity.ERROR,
                                metadata={k: dg.MetadataValue.json(v) if isinstance(v, dict) else v
                                          for k, v in chain_meta.items()}),
        ],
    )


review_assets = [alert_dispositions]
