"""Writing imported tables into a data root through the contracts (see nexusfin.layout)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from nexusfin.contracts import ContractViolation, contract
from nexusfin.files import atomic_path, sha256_of
from nexusfin.layout import REFERENCE_TABLES, TRUTH_TABLES, DataRoot

from ._common import Rejects

TRANSACTION_TABLES = ("transactions", "truth_transaction_labels")
ALL_TABLES = ("transactions", *REFERENCE_TABLES, *TRUTH_TABLES, "truth_transaction_labels")


@dataclass
class ImportReport:
    """What an import read and wrote. ``rows_written`` is per table; ``labels`` counts the
    ground truth kept (scenarios, transaction labels, account labels, by label value)."""

    format: str
    inputs: list[str] = field(default_factory=list)
    out: str = ""
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)
    rows_rejected: int = 0
    rows_skipped: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    tables_not_written: list[str] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def frame(table: str, columns: dict[str, Any], n: int | None = None) -> pl.DataFrame:
    """A frame with exactly the contract's columns and types, from the columns given (lists or
    Series); columns not given are null. The column list comes from the contract."""
    c = contract(table)
    unknown = set(columns) - set(c.names)
    if unknown:
        raise ContractViolation(f"{table}: importer set unknown columns {sorted(unknown)}")
    if n is None:
        n = len(next(iter(columns.values()))) if columns else 0
    data = {}
    for col in c.columns:
        v = columns.get(col.name)
        if v is None:
            data[col.name] = pl.Series(col.name, [None] * n, dtype=col.polars_type)
        elif isinstance(v, pl.Series):
            data[col.name] = v.alias(col.name)
        else:
            data[col.name] = pl.Series(col.name, v, dtype=_build_dtype(col.polars_type))
    return c.conform(pl.DataFrame(data))


def _build_dtype(dtype: pl.DataType) -> pl.DataType:
    # build timestamps from naive UTC datetimes; conform() attaches the zone
    if isinstance(dtype, pl.Datetime):
        return pl.Datetime("us")
    return dtype


class Output:
    """Writes conformed tables into ``out`` following DataRoot. A transactional import (one
    that writes transactions) replaces the whole data set in ``out``; a reference-only import
    (watchlists) replaces just the tables it writes, except address_tags, which are merged with
    tags of other sources already there."""

    def __init__(self, out: Path, report: ImportReport) -> None:
        self.root = DataRoot(out)
        self.report = report
        self.written: dict[str, pl.DataFrame] = {}

    # -- checks ------------------------------------------------------------------------------
    def _checked(self, table: str, df: pl.DataFrame) -> pl.DataFrame:
        c = contract(table)
        df = c.conform(df)
        bad = c.violations(df)
        if bad:
            raise ContractViolation(f"importer produced {table} rows breaking the contract: {bad}")
        key = list(c.primary_key)
        if key and len(key) > 1 and df.height and df.select(key).is_duplicated().any():
            raise ContractViolation(f"importer produced duplicate {table} keys {key}")
        return df

    def labeled_dataset(self, txns: pl.DataFrame, accounts: pl.DataFrame, parties: pl.DataFrame, truth: Any) -> bool:
        """Replace the data set with these transactions, accounts and parties, plus the ground
        truth the source carried (``truth``: a _truth.Truth). Returns whether truth was written."""
        self.clear_dataset()
        t = truth.frames(txns) if not truth.empty else None
        self.transactions(txns, t["truth_transaction_labels"] if t else None)
        self.table("accounts", accounts)
        self.table("parties", parties)
        if t is not None:
            self.table("truth_scenarios", t["truth_scenarios"])
            self.table("truth_account_labels", t["truth_account_labels"])
        return t is not None

    def clear_dataset(self) -> None:
        """Remove files of a previous data set (transactional imports only)."""
        r = self.root
        targets: list[Path] = []
        if r.landing_transactions.is_dir():
            targets += [
                p for p in r.landing_transactions.iterdir() if p.name.startswith("transactions_")
            ]
        labels_dir = r.truth / "transaction_labels"
        if labels_dir.is_dir():
            targets += list(labels_dir.glob("truth_transaction_labels_*.parquet"))
        targets += [r.reference_file(t) for t in REFERENCE_TABLES]
        targets += [r.truth_file(t) for t in TRUTH_TABLES]
        rejected = r.root / "rejected"
        if rejected.is_dir():
            targets += list(rejected.glob("*.csv"))
        for p in targets:
            if p.is_file():
                p.unlink()

    # -- writers -----------------------------------------------------------------------------
    def table(self, table: str, df: pl.DataFrame) -> None:
        if table == "address_tags":
            df = self._merge_tags(df)
        df = self._checked(table, df)
        path = (
            self.root.reference_file(table)
            if table in REFERENCE_TABLES
            else self.root.truth_file(table)
        )
        contract(table).write(df, path)
        self._record(table, df, [path])

    def _merge_tags(self, new: pl.DataFrame) -> pl.DataFrame:
        path = self.root.reference_file("address_tags")
        if not path.is_file():
            return new
        old = contract("address_tags").read(path)
        sources = new.get_column("source").unique().to_list()
        keep = old.filter(~pl.col("source").is_in(sources)).join(
            new.select("chain", "address"), on=["chain", "address"], how="anti"
        )
        if keep.height:
            self.report.notes.append(
                f"address_tags: kept {keep.height} tags of other sources already in {path.parent}"
            )
        return pl.concat([keep, contract("address_tags").conform(new)])

    def transactions(self, txns: pl.DataFrame, labels: pl.DataFrame | None) -> None:
        txns = self._checked("transactions", txns).sort("ts", "txn_id")
        if txns.select(pl.col("txn_id").is_duplicated().any()).item():
            raise ContractViolation("importer produced duplicate txn_id values")
        day = pl.col("ts").dt.date().alias("_day")
        paths = []
        for (d,), part in txns.with_columns(day).partition_by("_day", as_dict=True).items():
            p = self.root.transactions_file(d)
            contract("transactions").write(part.drop("_day"), p)
            paths.append(p)
        self._record("transactions", txns, paths)
        if labels is None:
            return
        labels = self._checked("truth_transaction_labels", labels)
        days = txns.select("txn_id", day)
        joined = labels.join(days, on="txn_id", how="left")
        orphans = joined.filter(pl.col("_day").is_null()).height
        if orphans:
            raise ContractViolation(f"{orphans} transaction labels point at no transaction")
        paths = []
        for (d,), part in joined.partition_by("_day", as_dict=True).items():
            p = self.root.truth_transaction_labels_file(d)
            contract("truth_transaction_labels").write(part.drop("_day"), p)
            paths.append(p)
        self._record("truth_transaction_labels", labels, paths)

    def _record(self, table: str, df: pl.DataFrame, paths: list[Path]) -> None:
        self.written[table] = df
        self.report.rows_written[table] = df.height
        self.report.files += [str(p) for p in sorted(paths)]

    def rejected(self, rejects: Rejects) -> None:
        folder = self.root.root / "rejected"
        for source, rows in rejects.rows.items():
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{Path(source).name}.csv"
            with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh)
                w.writerow(["line", "reason", "raw"])
                for line, reason, raw in rows:
                    w.writerow(["" if line is None else line, reason, raw])
            self.report.files.append(str(path))
        self.report.rows_rejected = rejects.count

    # -- integrity ---------------------------------------------------------------------------
    def check_references(self) -> None:
        """Foreign keys among the tables written by this import resolve."""
        w = self.written

        def ids(table: str, col: str) -> pl.Series | None:
            return w[table].get_column(col) if table in w else None

        def check(table: str, col: str, target: pl.Series | None) -> None:
            if table not in w or target is None:
                return
            vals = w[table].get_column(col).drop_nulls()
            missing = vals.filter(~vals.is_in(target.implode(), nulls_equal=False))
            if missing.len():
                raise ContractViolation(
                    f"importer wrote {table}.{col} values with no target, e.g. {missing[0]!r}"
                )

        acc = ids("accounts", "account_id")
        par = ids("parties", "party_id")
        check("transactions", "src_account", acc)
        check("transactions", "dst_account", acc)
        check("transactions", "conducted_by", par)
        check("accounts", "owner_party_id", par)
        check("truth_account_labels", "account_id", acc)
        scen = ids("truth_scenarios", "scenario_id")
        check("truth_account_labels", "scenario_id", scen)
        check("truth_transaction_labels", "scenario_id", scen)

    # -- manifest ----------------------------------------------------------------------------
    def manifest(self, fmt: str, inputs: list[Path]) -> None:
        r = self.report
        tables = sorted(self.written)
        r.tables_not_written = [t for t in ALL_TABLES if t not in self.written]
        entry = {
            "source_format": fmt,
            "imported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "inputs": [
                {"path": str(p), "bytes": p.stat().st_size, "sha256": sha256_of(p)} for p in inputs
            ],
            "rows_read": r.rows_read,
            "rows_written": r.rows_written,
            "rows_rejected": r.rows_rejected,
            "rows_skipped": r.rows_skipped,
            "tables": tables,
            "tables_not_written": r.tables_not_written,
            "labels": r.labels,
            "notes": r.notes,
        }
        path = self.root.manifest
        previous: list[dict[str, Any]] = []
        if path.is_file() and "transactions" not in self.written:
            try:
                old = json.loads(path.read_text())
                previous = (
                    [i for i in old.get("imports", []) if i.get("source_format") != fmt]
                    if isinstance(old, dict)
                    else []
                )
                if isinstance(old, dict) and "imports" not in old:
                    previous = [{"source_format": "unknown", "previous_manifest": old}]
            except (OSError, ValueError):
                previous = []
        manifest = {
            "producer": "nexusfin.importers",
            "source_format": fmt,
            "imports": [*previous, entry],
        }
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        r.files.append(str(path))
