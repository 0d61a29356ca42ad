"""Warehouse reads of the review app (read-only, parameterized) and the queue/supervisor figures
computed from them and the review store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from nexusfin.review.store import FINAL_DECISIONS, STATUS_AFTER, ReviewStore, read_dispositions
from nexusfin.warehouse import connect

QUEUE_SQL = """
SELECT q.alert_id, q.as_of, q.queue_rank, q.account_id, q.party_id, q.score, q.threshold,
       q.model_version, q.detector_rules, q.convergent, q.facilitator_entity_id,
       q.facilitator_programs, p.name AS party_name,
       coalesce(p.country, a.country) AS jurisdiction, a.account_type
FROM alert_queue q
LEFT JOIN accounts a ON a.account_id = q.account_id
LEFT JOIN parties p ON p.party_id = q.party_id
"""
STATUSES = ("open", "locked", "needs_info", "escalated", "false_positive")


def read_queue(warehouse: str | Path, *, timeout_s: float = 10.0) -> pl.DataFrame:
    """Every queued alert with its owner's name and jurisdiction."""
    con = connect(warehouse, read_only=True, timeout_s=timeout_s)
    try:
        has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'alert_queue'"
                          ).fetchall()[0][0]
        if not has:
            return pl.DataFrame()
        return pl.from_arrow(con.sql(QUEUE_SQL).to_arrow_table())
    finally:
        con.close()


def families_expr() -> pl.Expr:
    """Column ``families``: the detector families on an alert (structuring.daily -> structuring),
    ["model only"] when no detector fired."""
    fams = (pl.col("detector_rules").fill_null([])
            .list.eval(pl.element().str.split(".").list.first()).list.unique().list.sort())
    return (pl.when(fams.list.len() > 0).then(fams).otherwise(pl.lit(["model only"]))
            .alias("families"))


@dataclass(frozen=True)
class QueueFilter:
    detector: str = ""
    band: str = ""
    jurisdiction: str = ""
    date_from: date | None = None
    date_to: date | None = None
    status: str = "active"  # active = open + locked + needs_info

    @classmethod
    def from_query(cls, params: Any, bands: dict[str, tuple[float, float]]) -> QueueFilter:
        def day(name: str) -> date | None:
            v = (params.get(name) or "").strip()
            if not v:
                return None
            try:
                return date.fromisoformat(v)
            except ValueError as exc:
                raise ValueError(f"{name}: expected a date YYYY-MM-DD, got {v!r}") from exc

        band = (params.get("band") or "").strip()
        if band and band not in bands:
            raise ValueError(f"band: one of {', '.join(bands)}")
        status = (params.get("status") or "active").strip()
        if status not in (*STATUSES, "active", "all"):
            raise ValueError(f"status: one of active, all, {', '.join(STATUSES)}")
        jurisdiction = (params.get("jurisdiction") or "").strip().upper()
        if jurisdiction and not (len(jurisdiction) == 2 and jurisdiction.isalpha()):
            raise ValueError("jurisdiction: a two-letter country code")
        detector = (params.get("detector") or "").strip()
        if len(detector) > 64:
            raise ValueError("detector: too long")
        return cls(detector, band, jurisdiction, day("date_from"), day("date_to"), status)


def queue_view(queue: pl.DataFrame, store: ReviewStore, flt: QueueFilter,
               bands: dict[str, tuple[float, float]]) -> pl.DataFrame:
    """The analysts' queue: alerts with status and lock, filtered, highest score first (oldest
    first among equal scores)."""
    if queue.is_empty():
        return queue
    statuses = store.statuses()
    locks = store.active_locks()
    q = queue.with_columns(
        pl.col("alert_id").replace_strict(statuses, default="open", return_dtype=pl.String).alias("status"),
        pl.col("alert_id").replace_strict({k: v.username for k, v in locks.items()}, default=None,
                                          return_dtype=pl.String).alias("locked_by"),
        families_expr(),
    )
    q = q.with_columns(pl.when((pl.col("status") == "open") & pl.col("locked_by").is_not_null())
                       .then(pl.lit("locked")).otherwise(pl.col("status")).alias("status"))
    if flt.status == "active":
        q = q.filter(pl.col("status").is_in(["open", "locked", "needs_info"]))
    elif flt.status != "all":
        q = q.filter(pl.col("status") == flt.status)
    if flt.detector:
        q = q.filter(pl.col("families").list.contains(flt.detector))
    if flt.band:
        lo, hi = bands[flt.band]
        q = q.filter((pl.col("score") >= lo) & (pl.col("score") < hi))
    if flt.jurisdiction:
        q = q.filter(pl.col("jurisdiction") == flt.jurisdiction)
    if flt.date_from:
        q = q.filter(pl.col("as_of") >= flt.date_from)
    if flt.date_to:
        q = q.filter(pl.col("as_of") <= flt.date_to)
    return q.sort(["score", "as_of", "queue_rank", "alert_id"], descending=[True, False, False, False])


def next_alert(queue: pl.DataFrame, store: ReviewStore, username: str,
               bands: dict[str, tuple[float, float]]) -> str | None:
    """The analyst's own locked alert if any, else the highest-ranked open alert nobody holds."""
    view = queue_view(queue, store, QueueFilter(status="active"), bands)
    if view.is_empty():
        return None
    mine = view.filter(pl.col("locked_by") == username)
    if mine.height:
        return str(mine["alert_id"][0])
    free = view.filter(pl.col("status") == "open")
    return str(free["alert_id"][0]) if free.height else None


def supervisor_figures(queue: pl.DataFrame, store: ReviewStore, today: date) -> dict[str, Any]:
    """Queue health: alerts per day, age of what is still open, dispositions, precision by
    detector family (escalated / decided) and time to decision."""
    if queue.is_empty():
        return {"per_day": [], "age": [], "decisions": [], "precision": [], "time_to_decision": [],
                "n_alerts": 0, "n_open": 0}
    latest = read_dispositions(store.path)  # the latest decision per alert
    q = (queue.join(latest.select("alert_id", "decision"), on="alert_id", how="left")
         .with_columns(pl.col("decision").replace_strict(STATUS_AFTER, default="open", return_dtype=pl.String)
                       .alias("status"), families_expr()))
    per_day = (q.group_by("as_of").agg(
        pl.len().alias("alerts"),
        (pl.col("status") == "escalated").sum().alias("escalated"),
        (pl.col("status") == "false_positive").sum().alias("false_positive"),
        pl.col("status").is_in(["open", "needs_info"]).sum().alias("undecided"))
        .sort("as_of", descending=True))
    open_q = q.filter(pl.col("status").is_in(["open", "needs_info"])).with_columns(
        (pl.lit(today) - pl.col("as_of")).dt.total_days().alias("age_days"))
    buckets = [("0-2 days", 0, 2), ("3-7 days", 3, 7), ("8-30 days", 8, 30), ("over 30 days", 31, 10**6)]
    age = [{"bucket": name, "alerts": int(open_q.filter(pl.col("age_days").is_between(lo, hi)).height)}
           for name, lo, hi in buckets]
    decisions = (latest.group_by("decision").agg(pl.len().alias("alerts")).sort("decision").to_dicts()
                 if latest.height else [])
    precision = (q.filter(pl.col("decision").is_in(list(FINAL_DECISIONS)))
                 .explode("families")
                 .group_by("families").agg((pl.col("decision") == "escalate_sar").sum().alias("escalated"),
                                            pl.len().alias("decided"))
                 .with_columns((pl.col("escalated") / pl.col("decided")).alias("precision"))
                 .rename({"families": "detector"}).sort("detector").to_dicts())
    ttd = time_to_decision(store, latest)
    return {"per_day": per_day.to_dicts(), "age": age, "decisions": decisions, "precision": precision,
            "time_to_decision": ttd, "n_alerts": q.height, "n_open": open_q.height}


def time_to_decision(store: ReviewStore, latest: pl.DataFrame) -> list[dict[str, Any]]:
    """Per analyst: final decisions and the median / 90th percentile hours from the alert's first
    view (audit log) to its final decision."""
    final = latest.filter(pl.col("decision").is_in(list(FINAL_DECISIONS)))
    first_view = store.first_views()
    if final.is_empty() or not first_view:
        return []
    views = pl.DataFrame({"alert_id": list(first_view), "first_view": list(first_view.values())},
                         schema={"alert_id": pl.String, "first_view": pl.Datetime("us", "UTC")})
    frame = (final.join(views, on="alert_id", how="inner")
             .select(pl.col("username").alias("analyst"),
                     ((pl.col("decided_at") - pl.col("first_view")).dt.total_microseconds() / 3.6e9).alias("hours")))
    if frame.is_empty():
        return []
    return (frame.group_by("analyst").agg(pl.len().alias("decisions"),
                                          pl.col("hours").median().alias("median_hours"),
                                          pl.col("hours").quantile(0.9).alias("p90_hours"))
            .sort("analyst").to_dicts())
