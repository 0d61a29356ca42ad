"""Training labels: the bank's SAR filings plus the analysts' decisions read back from the review
app (schemas/alert_dispositions.yaml).

An escalation to SAR labels the alerted account positive over the alert's feature window (as if a
SAR covered that window); a false positive is a confirmed negative (the account's rows in that
window stay 0 unless a filed SAR says otherwise: a filing outranks one analyst's call);
"needs more information" is not a label.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

ESCALATION_CATEGORY = "review_escalation"


def escalation_labels(dispositions: pl.DataFrame, sar_schema: dict[str, pl.DataType],
                      window_days: int) -> pl.DataFrame:
    """SAR-shaped rows for the alerts escalated to SAR (sar_id REVIEW-<alert id>)."""
    esc = dispositions.filter(pl.col("decision") == "escalate_sar")
    rows = esc.select(
        pl.concat_str(pl.lit("REVIEW-"), pl.col("alert_id")).alias("sar_id"),
        "account_id", "party_id",
        pl.col("decided_at").dt.date().alias("filing_date"),
        (pl.col("as_of") - timedelta(days=window_days - 1)).alias("activity_start"),
        pl.col("as_of").alias("activity_end"),
        pl.lit(ESCALATION_CATEGORY).alias("category"),
        pl.col("alert_id").alias("subcategory"),
        pl.lit(None, dtype=pl.Float64).alias("amount_usd"),
    )
    for name, dtype in sar_schema.items():
        if name not in rows.columns:
            rows = rows.with_columns(pl.lit(None, dtype=dtype).alias(name))
    return rows.select(list(sar_schema)).cast(sar_schema)


def training_labels(sar_filings: pl.DataFrame, dispositions: pl.DataFrame | None,
                    window_days: int) -> tuple[pl.DataFrame, dict[str, int]]:
    """SAR filings extended with the review escalations, and counts of what the review added."""
    if dispositions is None or dispositions.is_empty():
        return sar_filings, {"review_escalations": 0, "review_false_positives": 0, "review_needs_info": 0}
    extra = escalation_labels(dispositions, dict(sar_filings.schema), window_days)
    counts = {
        "review_escalations": extra.height,
        "review_false_positives": dispositions.filter(pl.col("decision") == "false_positive").height,
        "review_needs_info": dispositions.filter(pl.col("decision") == "needs_info").height,
    }
    return pl.concat([sar_filings, extra], how="vertical"), counts
