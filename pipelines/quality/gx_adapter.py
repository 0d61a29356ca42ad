"""A thin adapter from GX 1.x suite outcomes to Dagster asset-check results.

(dagster-ge pins great-expectations < 1.0, so it is not used.) One suite yields two checks:
``<name>_critical`` (ERROR severity; declare it blocking) and ``<name>_warning`` (WARN).
"""

import dagster as dg

from nexusfin.quality.gx_suites import CRITICAL, WARNING, SuiteOutcome


def gx_check_specs(asset: str, name: str, description: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(f"{name}_critical", asset=asset, blocking=True,
                          description=f"{description} Critical expectations; a failure blocks downstream."),
        dg.AssetCheckSpec(f"{name}_warning", asset=asset,
                          description=f"{description} Warning expectations (profiling); recorded."),
    ]


def gx_check_results(outcome: SuiteOutcome, name: str) -> list[dg.AssetCheckResult]:
    results = []
    for severity, dg_severity in ((CRITICAL, dg.AssetCheckSeverity.ERROR), (WARNING, dg.AssetCheckSeverity.WARN)):
        mine = [o for o in outcome.outcomes if o.severity == severity]
        failed = [o for o in mine if not o.success]
        results.append(dg.AssetCheckResult(
            check_name=f"{name}_{severity}",
            passed=not failed,
            severity=dg_severity,
            description=(f"{len(failed)} of {len(mine)} expectations failed" if failed
                         else f"{len(mine)} expectations passed"),
            metadata={
                "suite": outcome.suite,
                "rows_total": outcome.rows_total,
                "rows_validated": outcome.rows_validated,
                "sampled": outcome.sampled,
                "expectations": len(mine),
                "failed": dg.MetadataValue.json([
                    {"rule": o.rule, "expectation": o.expectation, "column": o.column,
                     "unexpected_count": o.unexpected_count, "first_offending": o.first_offending}
                    for o in failed
                ]),
            },
        ))
    return results
