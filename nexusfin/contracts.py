"""Data contracts: the YAML files in ``schemas/`` turned into schemas, readers and checks.

Every stage reads and writes tables through this module, so column names, types, nullability
and allowed values are stated once, in ``schemas/<table>.yaml``, and never restated by hand.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl
import pyarrow as pa
import yaml

from nexusfin.files import atomic_path

__all__ = [
    "Column",
    "Contract",
    "ContractViolation",
    "contract",
    "contract_names",
    "fx_usd_per_unit",
    "schemas_dir",
    "vocabulary",
]

_TYPES_POLARS: dict[str, pl.DataType] = {
    "string": pl.String(),
    "int64": pl.Int64(),
    "float64": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us", "UTC"),
    "list[string]": pl.List(pl.String()),
    "list[float64]": pl.List(pl.Float64()),
}
_TYPES_ARROW: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "list[string]": pa.list_(pa.string()),
    "list[float64]": pa.list_(pa.float64()),
}


class ContractViolation(ValueError):
    """A frame does not satisfy its contract (missing columns, wrong types, ...)."""


def schemas_dir() -> Path:
    """Folder holding the contract files: $NEXUSFIN_SCHEMAS, the repository's ``schemas/``,
    or the copy bundled into an installed wheel."""
    env = os.environ.get("NEXUSFIN_SCHEMAS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "schemas", here / "_schemas"):
        if (candidate / "transactions.yaml").is_file():
            return candidate
    raise FileNotFoundError("nexusfin cannot find its schemas/ folder; set NEXUSFIN_SCHEMAS")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False
    unique: bool = False
    allowed: tuple[str, ...] | None = None
    vocabulary: tuple[str, ...] = ()
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    references: str | None = None
    description: str = ""
    role: str = ""  # e.g. "feature": a model input (schemas/account_features.yaml)

    @property
    def polars_type(self) -> pl.DataType:
        return _TYPES_POLARS[self.type]

    @property
    def arrow_type(self) -> pa.DataType:
        return _TYPES_ARROW[self.type]

    def allowed_values(self) -> frozenset[str] | None:
        """The closed set of allowed values (explicit list or vocabularies), or None."""
        if self.allowed is not None:
            return frozenset(self.allowed)
        if self.vocabulary:
            values: set[str] = set()
            for name in self.vocabulary:
                values |= vocabulary(name)
            return frozenset(values)
        return None


@dataclass(frozen=True)
class Contract:
    table: str
    version: int
    description: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    rules: tuple[dict[str, Any], ...] = field(default=())
    path: Path | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if not c.nullable]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.table} has no column {name!r}")

    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.polars_type for c in self.columns})

    def arrow_schema(self, *, enforce_nullability: bool = True) -> pa.Schema:
        fields = [
            pa.field(c.name, c.arrow_type, nullable=c.nullable or not enforce_nullability)
            for c in self.columns
        ]
        meta = {k.encode(): v.encode() for k, v in self.parquet_metadata().items()}
        return pa.schema(fields, metadata=meta)

    def rule(self, rule_id: str) -> dict[str, Any]:
        for r in self.rules:
            if r["id"] == rule_id:
                return r
        raise KeyError(f"{self.table} has no rule {rule_id!r}")

    # -- frames -----------------------------------------------------------------------------
    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.polars_schema())

    def conform(self, df: pl.DataFrame, *, allow_extra: bool = False) -> pl.DataFrame:
        """Select the contract's columns in order and cast them to the contract types.

        Raises ContractViolation naming missing (and, unless allowed, unexpected) columns, or a
        column whose values cannot be cast. Casting is strict: nothing is silently nulled.
        """
        missing = [n for n in self.names if n not in df.columns]
        extra = [n for n in df.columns if n not in self.names]
        problems = []
        if missing:
            problems.append(f"missing columns {missing}")
        if extra and not allow_extra:
            problems.append(f"unexpected columns {extra}")
        if problems:
            raise ContractViolation(f"{self.table} v{self.version}: " + "; ".join(problems))
        exprs = []
        for c in self.columns:
            src = df.schema[c.name]
            if src == c.polars_type:
                exprs.append(pl.col(c.name))
            elif c.type == "timestamp" and isinstance(src, pl.Datetime):
                expr = pl.col(c.name)
                expr = (
                    expr.dt.replace_time_zone("UTC")
                    if src.time_zone is None
                    else expr.dt.convert_time_zone("UTC")
                )
                exprs.append(expr.dt.cast_time_unit("us"))
            else:
                exprs.append(pl.col(c.name).cast(c.polars_type, strict=True))
        try:
            return df.select(exprs)
        except pl.exceptions.PolarsError as exc:
            raise ContractViolation(f"{self.table} v{self.version}: cannot cast: {exc}") from exc

    def violations(self, df: pl.DataFrame) -> dict[str, int]:
        """Count rows breaking each column-level rule of the contract (nulls, allowed values,
        patterns, bounds, uniqueness). Keys look like ``currency:allowed``. Zero counts omitted.

        The frame must already have the contract's columns and types (see ``conform``)."""
        counts: dict[str, int] = {}
        exprs: dict[str, pl.Expr] = {}
        for c in self.columns:
            col = pl.col(c.name)
            if not c.nullable:
                exprs[f"{c.name}:not_null"] = col.is_null()
            allowed = c.allowed_values()
            if allowed is not None and c.type == "string":
                exprs[f"{c.name}:allowed"] = col.is_not_null() & ~col.is_in(sorted(allowed))
            if c.pattern is not None and c.type == "string":
                exprs[f"{c.name}:pattern"] = col.is_not_null() & ~col.str.contains(c.pattern)
            if c.min is not None:
                below = col <= c.min if c.min_exclusive else col < c.min
                exprs[f"{c.name}:min"] = col.is_not_null() & below
            if c.max is not None:
                exprs[f"{c.name}:max"] = col.is_not_null() & (col > c.max)
            if c.unique:
                exprs[f"{c.name}:unique"] = col.is_not_null() & col.is_duplicated()
        if exprs:
            row = df.select([e.sum().alias(k) for k, e in exprs.items()]).row(0, named=True)
            counts = {k: int(v) for k, v in row.items() if v}
        return counts

    def validate(self, df: pl.DataFrame) -> pl.DataFrame:
        """Conform and raise ContractViolation if any column-level rule is broken."""
        out = self.conform(df)
        bad = self.violations(out)
        if bad:
            raise ContractViolation(f"{self.table} v{self.version}: rule violations {bad}")
        return out

    # -- files --------------------------------------------------------------------------------
    def parquet_metadata(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Key-value metadata every Parquet file of this table carries (contract identity)."""
        return {"nexusfin.table": self.table, "nexusfin.version": str(self.version), **(extra or {})}

    def write(
        self,
        df: pl.DataFrame,
        path: str | Path,
        fmt: str | None = None,
        *,
        enforce_nullability: bool = True,
        metadata: dict[str, str] | None = None,
    ) -> Path:
        """Write a conformed frame atomically (temporary file, fsync, rename) as parquet, csv
        or jsonl (chosen from the suffix unless given). In CSV, list columns are JSON arrays.
        ``metadata`` adds Parquet key-value metadata (e.g. a snapshot version).

        ``enforce_nullability=False`` lets nulls through in required columns: only for writing
        deliberately defective landing data (generator defects, test fixtures)."""
        fmt = fmt or _format_of(Path(path))
        if fmt not in ("parquet", "csv", "jsonl"):
            raise ValueError(f"unknown format {fmt!r} (parquet, csv, jsonl)")
        out = self.conform(df)
        if fmt == "parquet" and enforce_nullability:
            nulls = out.select(pl.col(self.required).null_count()).row(0, named=True)
            bad = {k: v for k, v in nulls.items() if v}
            if bad:
                raise ContractViolation(f"{self.table} v{self.version}: nulls in required columns {bad}")
        with atomic_path(path) as tmp:
            if fmt == "parquet":
                # polars' writer is ~2.5x faster than pyarrow's here; the contract identity rides along
                out.write_parquet(tmp, compression="zstd", metadata=self.parquet_metadata(metadata))
            elif fmt == "csv":
                lists = [c.name for c in self.columns if c.type.startswith("list[")]
                if lists:
                    out = out.with_columns(
                        pl.col(n).map_elements(_json_list, return_dtype=pl.String) for n in lists
                    )
                out.write_csv(tmp, datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ")
            else:
                out.write_ndjson(tmp)
        return Path(path)

    def sink_parquet(self, lf: pl.LazyFrame, path: str | Path) -> Path:
        """Stream a lazy frame to Parquet atomically, in bounded memory (polars' streaming
        engine): columns selected and cast as the contract says, then fsync and rename."""
        schema = lf.collect_schema()
        missing = [n for n in self.names if n not in schema]
        if missing:
            raise ContractViolation(f"{self.table} v{self.version}: missing columns {missing}")
        exprs = [
            pl.col(c.name) if schema[c.name] == c.polars_type else pl.col(c.name).cast(c.polars_type, strict=True)
            for c in self.columns
        ]
        with atomic_path(path) as tmp:
            lf.select(exprs).sink_parquet(tmp, compression="zstd", metadata=self.parquet_metadata())
        return Path(path)

    def read(self, path: str | Path, fmt: str | None = None) -> pl.DataFrame:
        """Read a file written by ``write`` (or laid out the same way) and conform it."""
        path = Path(path)
        fmt = fmt or _format_of(path)
        if fmt == "parquet":
            df = pl.read_parquet(path)
        elif fmt == "csv":
            df = pl.read_csv(path, infer_schema=False)
            df = df.with_columns(_parse_text_column(c) for c in self.columns if c.name in df.columns)
        elif fmt == "jsonl":
            df = pl.read_ndjson(path, schema_overrides=self._text_schema())
            df = df.with_columns(
                _parse_text_column(c)
                for c in self.columns
                if c.name in df.columns and c.type in ("timestamp", "date")
            )
        else:
            raise ValueError(f"unknown format {fmt!r} (parquet, csv, jsonl)")
        return self.conform(df)

    def _text_schema(self) -> dict[str, pl.DataType]:
        return {
            c.name: (pl.String() if c.type in ("timestamp", "date") else c.polars_type)
            for c in self.columns
        }


def _json_list(values: pl.Series | None) -> str | None:
    return None if values is None else json.dumps(values.to_list(), ensure_ascii=False)


def _parse_text_column(c: Column) -> pl.Expr:
    col = pl.col(c.name)
    if c.type == "timestamp":
        return col.str.to_datetime(time_unit="us", time_zone="UTC", strict=True)
    if c.type == "date":
        return col.str.to_date(strict=True)
    if c.type.startswith("list["):
        return col.str.json_decode(c.polars_type)
    if c.type == "string":
        return col
    return col.cast(c.polars_type, strict=True)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl"}.get(suffix, suffix)


@cache
def _vocabularies() -> dict[str, Any]:
    with open(schemas_dir() / "vocabularies.yaml") as fh:
        return yaml.safe_load(fh)


@cache
def vocabulary(name: str) -> frozenset[str]:
    """Values of a shared vocabulary (``iso4217``, ``crypto_assets``, ``iso3166_alpha2``)."""
    vocabs = _vocabularies()["vocabularies"]
    if name not in vocabs:
        raise KeyError(f"unknown vocabulary {name!r}; known: {sorted(vocabs)}")
    return frozenset(vocabs[name]["values"])


@cache
def fx_usd_per_unit() -> Mapping[str, float]:
    """Reference FX rates (USD per unit) shared by the generator and the importers (read-only)."""
    return MappingProxyType({k: float(v) for k, v in _vocabularies()["fx_usd_per_unit"]["rates"].items()})


@cache
def country_names() -> Mapping[str, str]:
    """ISO 3166-1 alpha-2 code to English short name (read-only)."""
    return MappingProxyType(dict(_vocabularies()["country_names"]["names"]))


def contract_names() -> list[str]:
    return sorted(p.stem for p in schemas_dir().glob("*.yaml") if p.stem != "vocabularies")


@cache
def contract(table: str) -> Contract:
    """The contract of ``table``, loaded from ``schemas/<table>.yaml``."""
    path = schemas_dir() / f"{table}.yaml"
    if not path.is_file():
        raise KeyError(f"no contract for table {table!r}; known: {contract_names()}")
    with open(path) as fh:
        raw = yaml.safe_load(fh)
    if raw.get("table") != table:
        raise ContractViolation(f"{path}: declares table {raw.get('table')!r}, expected {table!r}")
    cols: list[Column] = []
    parent = raw.get("extends")
    if parent:  # e.g. lake_transactions = transactions + lineage columns
        base = contract(parent)
        cols.extend(base.columns)
        raw.setdefault("rules", list(base.rules))
    for spec in raw["columns"]:
        spec = dict(spec)
        if spec["type"] not in _TYPES_POLARS:
            raise ContractViolation(f"{path}: column {spec['name']}: unknown type {spec['type']!r}")
        vocab = spec.pop("vocabulary", ())
        allowed = spec.pop("allowed", None)
        cols.append(
            Column(
                **spec,
                vocabulary=tuple([vocab] if isinstance(vocab, str) else vocab),
                allowed=tuple(allowed) if allowed is not None else None,
            )
        )
    return Contract(
        table=raw["table"],
        version=int(raw["version"]),
        description=str(raw.get("description", "")).strip(),
        primary_key=tuple(raw.get("primary_key", ())),
        columns=tuple(cols),
        rules=tuple(raw.get("rules", ())),
        path=path,
    )


def describe(tables: Iterable[str] | None = None) -> str:
    """Markdown summary of contracts (used by docs and `nexusfin schemas`)."""
    lines = []
    for t in tables or contract_names():
        c = contract(t)
        lines.append(f"## {c.table} (v{c.version})\n\n{c.description}\n")
        lines.append("| column | type | null | constraint | description |\n|---|---|---|---|---|")
        for col in c.columns:
            cons = []
            if col.unique:
                cons.append("unique")
            if col.allowed:
                cons.append("in " + ", ".join(col.allowed))
            if col.vocabulary:
                cons.append("vocabulary " + "+".join(col.vocabulary))
            if col.references:
                cons.append("→ " + col.references)
            if col.pattern:
                cons.append(f"matches `{col.pattern}`")
            if col.min is not None:
                cons.append((">" if col.min_exclusive else ">=") + f" {col.min:g}")
            desc = re.sub(r"\s+", " ", col.description)
            lines.append(
                f"| {col.name} | {col.type} | {'yes' if col.nullable else 'no'} | {'; '.join(cons)} | {desc} |"
            )
        lines.append("")
    return "\n".join(lines)
