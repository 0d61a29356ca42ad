"""The embedded DuckDB warehouse: one file that the pipeline owns (read-write); everyone else
(review app, notebooks) opens it read-only.

Stream tables are views over the Parquet lake, so a re-ingested partition is visible at once and
never copied twice; reference snapshots are tables (they are small and versioned).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from nexusfin.layout import REFERENCE_TABLES


def connect(path: str | Path, *, read_only: bool = False, timeout_s: float = 120.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, waiting for another writer to let go of the lock (one writer at a time)."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _quote(path: Path) -> str:
    return "'" + str(path.resolve()).replace("'", "''") + "'"


def refresh_stream_views(con: duckdb.DuckDBPyConnection, lake: Path) -> list[str]:
    """(Re)create the views over the lake's daily partitions. Idempotent."""
    lake = Path(lake)
    created = []
    for name, folder in (("transactions", "transactions"), ("quarantine", "quarantine"),
                         ("account_features", "features"), ("facilitator_paths", "features_paths"),
                         ("account_scores", "scores"), ("alert_queue", "alerts")):
        files = list((lake / folder).glob("date=*/part-0.parquet"))
        if not files:
            continue
        glob = _quote(lake / folder / "date=*" / "part-0.parquet")
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({glob}, union_by_name = true)")
        created.append(name)
    # detector alerts, one file per family and day (schemas/detector_alerts.yaml); the folder names
    # are not read as columns (the file's `detector` and `detected_on` already say the same), and
    # alerts a blocking check rejected (detections/_rejected/...) are outside the glob
    if list((lake / "detections").glob("family=*/date=*/part-0.parquet")):
        glob = _quote(lake / "detections" / "family=*" / "date=*" / "part-0.parquet")
        con.execute("CREATE OR REPLACE VIEW detector_alerts AS SELECT * FROM "
                    f"read_parquet({glob}, union_by_name = true, hive_partitioning = false)")
        created.append("detector_alerts")
    return created


def load_reference_table(con: duckdb.DuckDBPyConnection, table: str, parquet: Path, version: str) -> int:
    """Replace one reference table from its lake snapshot and record the snapshot version."""
    if table not in REFERENCE_TABLES:
        raise ValueError(f"{table!r} is not a reference table")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet({_quote(Path(parquet))})")
        con.execute(
            "CREATE TABLE IF NOT EXISTS reference_snapshots "
            "(table_name VARCHAR, version VARCHAR, loaded_at TIMESTAMPTZ, n_rows BIGINT)"
        )
        n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        con.execute(
            "INSERT INTO reference_snapshots VALUES (?, ?, now(), ?)", [table, version, n]
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return int(n)


def load_table(con: duckdb.DuckDBPyConnection, table: str, parquet: Path) -> int:
    """Replace one pipeline-owned table (e.g. alert_dispositions) from a Parquet file, atomically."""
    if not table.isidentifier():
        raise ValueError(f"not a table name: {table!r}")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet({_quote(Path(parquet))})")
        n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return int(n)


def read_only_query(path: str | Path, sql: str, params: list | None = None):
    """Run one query on the warehouse opened read-only (the pipeline owns the read-write handle;
    notebooks and review tools read) and return a polars frame."""
    con = connect(path, read_only=True)
    try:
        import polars as pl

        return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())
    finally:
        con.close()
