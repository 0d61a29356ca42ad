"""Great Expectations suites derived from ``schemas/`` and run on a pandas view of a partition.

GX cannot read polars or DuckDB and takes seconds to import, so it is imported inside
``validate`` only. The result is a plain ``SuiteOutcome``; the Dagster adapter in
``pipelines/quality`` turns it into asset-check results. Every expectation carries the contract
rule it implements and its severity (critical blocks, warning records).

Row-level contract rules already run on every row in polars at ingest; GX re-validates the
accepted partition independently, on all rows up to ``sample_rows`` and on a seeded random
sample above that (the outcome says which).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from nexusfin.contracts import Contract, contract

CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True)
class ExpectationSpec:
    """One GX expectation, named by the GX class, with the contract rule and severity."""

    expectation: str
    kwargs: dict[str, Any]
    rule: str
    severity: str = CRITICAL
    # only rows where `column == value` (or `!=` when negate) are validated
    where: tuple[str, str, bool] | None = None


@dataclass
class ExpectationOutcome:
    rule: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    element_count: int
    unexpected_count: int
    first_offending: list[str] = field(default_factory=list)


@dataclass
class SuiteOutcome:
    suite: str
    rows_total: int
    rows_validated: int
    sampled: bool
    outcomes: list[ExpectationOutcome]

    def failed(self, severity: str) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == severity]

    def passed(self, severity: str) -> bool:
        return not self.failed(severity)


def contract_expectations(c: Contract) -> list[ExpectationSpec]:
    """Expectations for every column-level constraint of a contract."""
    specs = [
        ExpectationSpec("ExpectTableColumnsToMatchSet", {"column_set": c.names, "exact_match": False},
                        f"{c.table}:columns"),
        ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": 1}, f"{c.table}:not_empty", WARNING),
    ]
    for col in c.columns:
        if not col.nullable:
            specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": col.name}, f"{col.name}:not_null"))
        allowed = col.allowed_values()
        if allowed is not None and col.type == "string":
            specs.append(ExpectationSpec("ExpectColumnValuesToBeInSet",
                                         {"column": col.name, "value_set": sorted(allowed)}, f"{col.name}:allowed"))
        if col.pattern and col.type == "string":
            specs.append(ExpectationSpec("ExpectColumnValuesToMatchRegex",
                                         {"column": col.name, "regex": col.pattern}, f"{col.name}:pattern"))
        if col.min is not None or col.max is not None:
            kw: dict[str, Any] = {"column": col.name, "min_value": col.min, "max_value": col.max}
            if col.min_exclusive:
                kw["strict_min"] = True
            specs.append(ExpectationSpec("ExpectColumnValuesToBeBetween", kw, f"{col.name}:range"))
        if col.unique:
            specs.append(ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": col.name}, f"{col.name}:unique"))
    return specs


def transaction_rule_expectations(
    *, max_amount_usd: float, ctr_threshold_usd: float, day: date | None = None, now: datetime | None = None
) -> list[ExpectationSpec]:
    """The transactions contract's business rules that GX can state, plus profiling warnings.
    With ``day``, timestamps must fall inside that UTC day and not after ``now``."""
    cash, crypto, not_cash = ("channel", "cash", False), ("channel", "crypto", False), ("channel", "cash", True)
    timing = []
    if day is not None:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = min(start + timedelta(days=1) - timedelta(microseconds=1), now or datetime.max.replace(tzinfo=UTC))
        timing.append(ExpectationSpec("ExpectColumnValuesToBeBetween",
                                      {"column": "ts", "min_value": start, "max_value": end},
                                      "ts_in_partition+ts_not_future"))
    return [*timing,
        ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": "amount_usd", "max_value": max_amount_usd},
                        "amount_plausible"),
        ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "location"}, "cash_has_location", where=cash),
        ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "chain"}, "crypto_references_wallets",
                        where=crypto),
        ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "src_account"}, "account_present",
                        where=not_cash),
        # profiling (Google AML AI data-quality families: value and profiling): recorded, not blocking
        ExpectationSpec("ExpectColumnMedianToBeBetween", {"column": "amount_usd", "min_value": 1.0,
                                                          "max_value": ctr_threshold_usd}, "profile:median_amount", WARNING),
        ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": "amount_usd", "max_value": 100 * ctr_threshold_usd,
                                                          "mostly": 0.99}, "profile:large_amount_share", WARNING),
        ExpectationSpec("ExpectColumnProportionOfUniqueValuesToBeBetween",
                        {"column": "src_account", "min_value": 0.001}, "profile:src_account_diversity", WARNING),
    ]


def validate(
    df: pl.DataFrame,
    specs: list[ExpectationSpec],
    *,
    suite: str,
    id_column: str | None = None,
    sample_rows: int = 250_000,
    seed: int = 0,
    first_n: int = 5,
) -> SuiteOutcome:
    """Run the expectations on a pandas view of ``df`` (sampled above ``sample_rows``)."""
    import logging
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx  # slow import: only when a check actually runs
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.row_conditions import Column as GxColumn

    sampled = df.height > sample_rows
    view = df.sample(n=sample_rows, seed=seed) if sampled else df
    pdf = view.to_pandas()
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)  # per-validation bars flood logs
    batch_def = ctx.data_sources.add_pandas("nexusfin").add_dataframe_asset(suite).add_batch_definition_whole_dataframe("partition")
    gx_suite = gx.ExpectationSuite(name=suite)
    for s in specs:
        cls = getattr(gx.expectations, s.expectation)
        kwargs = dict(s.kwargs)
        if s.where:
            col, value, negate = s.where
            kwargs["row_condition"] = GxColumn(name=col) != value if negate else GxColumn(name=col) == value
        gx_suite.add_expectation(cls(**kwargs, meta={"rule": s.rule, "severity": s.severity}))
    gx_suite = ctx.suites.add(gx_suite)
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=suite, data=batch_def, suite=gx_suite))
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": first_n}
    if id_column:
        result_format["unexpected_index_column_names"] = [id_column]
    res = vd.run(batch_parameters={"dataframe": pdf}, result_format=result_format)
    outcomes = []
    for r in res.results:
        cfg, out = r.expectation_config, r.result or {}
        first: list[str] = []
        for item in out.get("partial_unexpected_index_list") or []:
            first.append(str(item.get(id_column)) if isinstance(item, dict) and id_column else str(item))
        if not first:
            first = [str(v) for v in (out.get("partial_unexpected_list") or [])]
        outcomes.append(ExpectationOutcome(
            rule=cfg.meta.get("rule", cfg.type), expectation=cfg.type, column=cfg.kwargs.get("column"),
            severity=cfg.meta.get("severity", CRITICAL), success=bool(r.success),
            element_count=int(out.get("element_count") or len(pdf)),
            unexpected_count=int(out.get("unexpected_count") or 0), first_offending=first[:first_n],
        ))
    return SuiteOutcome(suite=suite, rows_total=df.height, rows_validated=view.height, sampled=sampled, outcomes=outcomes)


def transactions_suite(**kw: Any) -> list[ExpectationSpec]:
    return contract_expectations(contract("transactions")) + transaction_rule_expectations(**kw)
