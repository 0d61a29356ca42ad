"""Reference snapshot assets. Each copies the landing snapshot into the lake after checking it
against its contract; the snapshot's SHA-256 is its data version."""

from pathlib import Path

import dagster as dg
import polars as pl

from nexusfin.contracts import ContractViolation, contract
from nexusfin.files import sha256_of
from nexusfin.layout import REFERENCE_TABLES
from nexusfin.quality.gx_suites import contract_expectations, validate
from pipelines.quality.gx_adapter import gx_check_results, gx_check_specs
from pipelines.resources import NexusfinStorage

GROUP = "reference"
SNAPSHOT_VERSION = "nexusfin.snapshot_version"


def reference_lake_file(storage: NexusfinStorage, table: str) -> Path:
    return storage.lake_path / "reference" / f"{table}.parquet"


def preview(df: pl.DataFrame, n: int = 5) -> dg.MetadataValue:
    with pl.Config(tbl_formatting="MARKDOWN", tbl_hide_column_data_types=True, tbl_hide_dataframe_shape=True,
                   fmt_str_lengths=40, tbl_cols=12):
        return dg.MetadataValue.md(str(df.head(n)))


def _build(table: str) -> dg.AssetsDefinition:
    c = contract(table)

    @dg.asset(
        name=table,
        group_name=GROUP,
        kinds={"parquet", "polars"},
        description=f"Reference snapshot of `{table}` (contract v{c.version}): {c.description}",
        check_specs=[
            dg.AssetCheckSpec("meets_contract", asset=table, blocking=True,
                              description=f"Every row satisfies schemas/{table}.yaml (types, nulls, allowed values, keys)."),
            *gx_check_specs(table, f"gx_{table}", f"Great Expectations suite derived from schemas/{table}.yaml."),
        ],
    )
    def _asset(context: dg.AssetExecutionContext, storage: NexusfinStorage) -> dg.MaterializeResult:
        source = storage.root.reference_file(table)
        if not source.is_file():
            raise dg.Failure(f"{table}: no snapshot at {source}")
        try:
            df = c.read(source)
        except (ContractViolation, pl.exceptions.PolarsError, OSError) as exc:
            raise dg.Failure(f"{table}: {source.name} does not match its contract: {exc}") from exc
        version = sha256_of(source)
        violations = c.violations(df)
        gx_outcome = validate(df, contract_expectations(c), suite=table, id_column=c.primary_key[0],
                              sample_rows=storage.gx_sample_rows)
        # the snapshot version travels inside the lake file, so the warehouse records the same one
        target = c.write(df, reference_lake_file(storage, table), metadata={SNAPSHOT_VERSION: version[:16]})
        return dg.MaterializeResult(
            data_version=dg.DataVersion(version[:16]),
            metadata={
                "rows": dg.MetadataValue.int(df.height),
                "version": version[:16],
                "contract_version": c.version,
                "path": dg.MetadataValue.path(str(target)),
                "preview": preview(df),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="meets_contract",
                    passed=not violations,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"violations": dg.MetadataValue.json(violations), "rows_checked": df.height},
                ),
                *gx_check_results(gx_outcome, f"gx_{table}"),
            ],
        )

    return _asset


reference_assets = [_build(t) for t in REFERENCE_TABLES]
