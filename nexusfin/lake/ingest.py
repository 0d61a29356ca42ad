"""Landing file → validated lake partition + quarantine, with nothing lost.

One landing file holds one UTC day. Ingest reads it (Parquet, CSV or JSON Lines), checks every
row against the transactions contract (``schemas/transactions.yaml``) and its business rules, and
writes two Parquet files atomically:

    LAKE/transactions/date=YYYY-MM-DD/part-0.parquet   accepted rows (+ lineage)
    LAKE/quarantine/date=YYYY-MM-DD/part-0.parquet     rejected rows, rule broken, raw values
    LAKE/_ingest_log/date=YYYY-MM-DD.json              what was ingested, counts, drift, SHA-256

Rows read always equal rows accepted plus rows quarantined. A file that cannot be read as a whole
(empty, truncated, not UTF-8, missing or renamed columns) raises ``BadLandingFile`` naming the file
and the problem; the caller moves it aside with ``reject_file``.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from nexusfin.contracts import Column, contract
from nexusfin.files import atomic_path, sha256_of
from nexusfin.layout import day_of_file

TXN = contract("transactions")
LAKE_TXN = contract("lake_transactions")
QUARANTINE = contract("quarantine")

_ROW = "__source_row"
_LINE = "__source_line"
_TS_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f")


class BadLandingFile(Exception):
    """A landing file that cannot be ingested as a whole; names the file and the problem."""

    def __init__(self, file: Path | str, problem: str) -> None:
        self.file = Path(file)
        self.problem = problem
        super().__init__(f"{self.file.name}: {problem}")


@dataclass(frozen=True)
class IngestConfig:
    """Knobs of the landing gate. Plausibility is configuration, like every threshold."""

    max_amount_usd: float = 1e9
    future_tolerance: timedelta = timedelta(minutes=5)
    on_extra_columns: str = "warn"  # "warn": keep contract columns, report drift; "reject": fail the file
    max_bad_encoding_share: float = 0.5  # more undecodable lines than this: the file is not UTF-8


@dataclass
class IngestReport:
    partition: str
    source_file: str
    sha256: str
    ingest_id: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    quarantine_by_rule: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    skipped_unchanged: bool = False
    lake_file: str = ""
    quarantine_file: str = ""
    written_at: str = ""

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_accepted + self.rows_quarantined


@dataclass
class _Batch:
    """A landing file as read: one frame (typed or text) + rows that never parsed."""

    frame: pl.DataFrame
    text: bool  # columns are raw strings that still need casting
    unparsed: list[dict] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    rows_read: int = 0


# --------------------------------------------------------------------------------- paths -----
def lake_partition_file(lake: Path, day: date) -> Path:
    return Path(lake) / "transactions" / f"date={day.isoformat()}" / "part-0.parquet"


def quarantine_partition_file(lake: Path, day: date) -> Path:
    return Path(lake) / "quarantine" / f"date={day.isoformat()}" / "part-0.parquet"


def ingest_log_file(lake: Path, day: date) -> Path:
    return Path(lake) / "_ingest_log" / f"date={day.isoformat()}.json"


def read_ingest_log(lake: Path) -> dict[date, dict]:
    logs: dict[date, dict] = {}
    folder = Path(lake) / "_ingest_log"
    if folder.is_dir():
        for p in sorted(folder.glob("date=*.json")):
            logs[date.fromisoformat(p.stem.removeprefix("date="))] = json.loads(p.read_text())
    return logs


def reject_file(path: Path, landing_root: Path, reason: str) -> Path:
    """Move a bad landing file aside (never delete it) with a note of why."""
    rejected = Path(landing_root) / "_rejected"
    rejected.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = rejected / f"{stamp}__{path.name}"
    shutil.move(str(path), target)
    target.with_name(target.name + ".reason.txt").write_text(reason + "\n")
    return target


# ------------------------------------------------------------------------------- reading -----
def read_landing(path: Path, config: IngestConfig = IngestConfig()) -> _Batch:
    path = Path(path)
    if not path.is_file():
        raise BadLandingFile(path, "file not found")
    if path.stat().st_size == 0:
        raise BadLandingFile(path, "empty file (0 bytes)")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        batch = _read_parquet(path)
    elif suffix == ".csv":
        batch = _read_csv(path, config)
    elif suffix in (".jsonl", ".ndjson"):
        batch = _read_jsonl(path, config)
    else:
        raise BadLandingFile(path, f"unknown landing format {suffix!r} (parquet, csv, jsonl)")
    _check_columns(path, batch, config)
    return batch


def _check_columns(path: Path, batch: _Batch, config: IngestConfig) -> None:
    cols = [c for c in batch.frame.columns if c not in (_ROW, _LINE)]
    missing = [c for c in TXN.names if c not in cols]
    extra = [c for c in cols if c not in TXN.names]
    if missing:
        hint = f"; unexpected {extra} (renamed?)" if extra else ""
        raise BadLandingFile(path, f"missing required columns {missing}{hint}")
    if extra:
        if config.on_extra_columns == "reject":
            raise BadLandingFile(path, f"schema drift: unexpected columns {extra}")
        batch.extra_columns = extra


def _read_parquet(path: Path) -> _Batch:
    try:
        df = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise BadLandingFile(path, f"unreadable Parquet (truncated or corrupt): {exc}") from exc
    if df.height == 0:
        raise BadLandingFile(path, "empty file (no rows)")
    df = df.with_row_index(_ROW).with_columns(
        pl.col(_ROW).cast(pl.Int64), pl.lit(None, dtype=pl.Int64).alias(_LINE)
    )
    return _Batch(frame=df, text=False, rows_read=df.height)


def _decoded_lines(path: Path, config: IngestConfig) -> tuple[list[tuple[int, str]], list[tuple[int, bytes]]]:
    """(line number, text) for every line, and the lines that are not valid UTF-8."""
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    good: list[tuple[int, str]] = []
    bad: list[tuple[int, bytes]] = []
    split = raw.split(b"\n")
    for i, line in enumerate(split, start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            good.append((i, line.decode("utf-8")))
        except UnicodeDecodeError:
            bad.append((i, line))
    # a trailing newline leaves one empty last "line"
    while good and good[-1][1] == "" and good[-1][0] == len(split):
        good.pop()
    total = len(good) + len(bad)
    if total and len(bad) / total > config.max_bad_encoding_share:
        raise BadLandingFile(path, f"wrong encoding: {len(bad)} of {total} lines are not UTF-8")
    return good, bad


def _unparsed(row: int, line: int, rule: str, raw: str) -> dict:
    return {_ROW: row, _LINE: line, "rule": rule, "raw": raw}


def _read_csv(path: Path, config: IngestConfig) -> _Batch:
    good, bad = _decoded_lines(path, config)
    if bad and bad[0][0] == 1:
        raise BadLandingFile(path, "header line is not UTF-8")
    if not good or not good[0][1].strip():
        raise BadLandingFile(path, "empty file (no header)")
    phys: list[int] = []

    def lines() -> Iterator[str]:
        for n, text in good:
            phys.append(n)
            yield text

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except csv.Error as exc:
        raise BadLandingFile(path, f"line 1: unreadable CSV header: {exc}") from exc
    if len(set(header)) != len(header):
        raise BadLandingFile(path, f"line 1: duplicate column names in header {header}")
    width = len(header)
    columns: list[list[str | None]] = [[] for _ in range(width)]
    rows: list[int] = []
    line_nos: list[int] = []
    unparsed: list[dict] = []
    row = 0
    consumed = 1
    pending_bad = deque(bad)  # undecodable lines, in file order, each still one data row

    def flush_bad_until(limit: int) -> None:
        nonlocal row
        while pending_bad and pending_bad[0][0] < limit:
            n, raw = pending_bad.popleft()
            unparsed.append(_unparsed(row, n, "encoding:utf8", raw.decode("utf-8", errors="backslashreplace")))
            row += 1

    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line = phys[min(reader.line_num, len(phys)) - 1]
            flush_bad_until(line)
            unparsed.append(_unparsed(row, line, "csv:malformed", str(exc)))
            row += 1
            consumed = reader.line_num
            continue
        first_line = phys[consumed] if consumed < len(phys) else phys[-1]
        consumed = reader.line_num
        flush_bad_until(first_line)
        if not record:  # blank line
            continue
        if len(record) != width:
            raw = ",".join(record)
            unparsed.append(_unparsed(row, first_line, "csv:field_count", f"{len(record)} fields, expected {width}: {raw}"))
        else:
            for j, value in enumerate(record):
                columns[j].append(value if value != "" else None)
            rows.append(row)
            line_nos.append(first_line)
        row += 1
    flush_bad_until(1 << 62)
    if row == 0:
        raise BadLandingFile(path, "empty file (header only, no rows)")
    frame = pl.DataFrame(
        {name: pl.Series(name, col, dtype=pl.String) for name, col in zip(header, columns, strict=True)}
        | {_ROW: pl.Series(_ROW, rows, dtype=pl.Int64), _LINE: pl.Series(_LINE, line_nos, dtype=pl.Int64)}
    )
    return _Batch(frame=frame, text=True, unparsed=unparsed, rows_read=row)


def _read_jsonl(path: Path, config: IngestConfig) -> _Batch:
    good, bad = _decoded_lines(path, config)
    records: list[dict[str, str | None]] = []
    rows: list[int] = []
    line_nos: list[int] = []
    unparsed: list[dict] = []
    keys: dict[str, None] = {}
    entries = sorted([(n, t, None) for n, t in good] + [(n, None, b) for n, b in bad], key=lambda e: e[0])
    row = 0
    for n, text, raw in entries:
        if raw is not None:
            unparsed.append(_unparsed(row, n, "encoding:utf8", raw.decode("utf-8", errors="backslashreplace")))
            row += 1
            continue
        assert text is not None
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            unparsed.append(_unparsed(row, n, "json:malformed", f"{exc}: {text[:500]}"))
            row += 1
            continue
        rec = {k: (None if v is None else v if isinstance(v, str) else json.dumps(v)) for k, v in obj.items()}
        keys.update(dict.fromkeys(rec))
        records.append(rec)
        rows.append(row)
        line_nos.append(n)
        row += 1
    if row == 0:
        raise BadLandingFile(path, "empty file (no rows)")
    names = list(keys) or TXN.names
    frame = pl.DataFrame(
        {k: pl.Series(k, [r.get(k) for r in records], dtype=pl.String) for k in names}
        | {_ROW: pl.Series(_ROW, rows, dtype=pl.Int64), _LINE: pl.Series(_LINE, line_nos, dtype=pl.Int64)}
    )
    # a key missing from every record is a missing column; one missing from some rows is null there
    return _Batch(frame=frame, text=True, unparsed=unparsed, rows_read=row)


# ---------------------------------------------------------------------------- validation -----
def _cast_text(c: Column) -> pl.Expr:
    col = pl.col(c.name)
    if c.type == "timestamp":
        s = col.str.strip_chars().str.replace(" ", "T").str.replace(r"Z$", "+00:00")
        parsed = [s.str.strptime(pl.Datetime("us", "UTC"), f, strict=False) for f in _TS_FORMATS[:2]]
        naive = s.str.strptime(pl.Datetime("us"), _TS_FORMATS[2], strict=False).dt.replace_time_zone("UTC")
        return pl.coalesce([*parsed, naive]).alias(c.name)
    if c.type == "date":
        return col.str.to_date(strict=False)
    if c.type == "string":
        return col
    return col.str.strip_chars().cast(c.polars_type, strict=False)


def _typed(batch: _Batch) -> pl.DataFrame:
    """Typed contract columns next to the values as delivered (``__raw_<name>``).

    A value present in the file that does not cast to the contract type becomes null in the typed
    column and is caught by the ``<column>:type`` rule: never silently nulled."""
    df = batch.frame
    casts = []
    for c in TXN.columns:
        src = df.schema[c.name]
        if batch.text:
            casts.append(_cast_text(c))
        elif src == c.polars_type:
            casts.append(pl.col(c.name))
        elif c.type == "timestamp" and isinstance(src, pl.Datetime):
            e = pl.col(c.name)
            e = e.dt.replace_time_zone("UTC") if src.time_zone is None else e.dt.convert_time_zone("UTC")
            casts.append(e.dt.cast_time_unit("us"))
        else:
            casts.append(pl.col(c.name).cast(c.polars_type, strict=False))
    raws = [pl.col(n).alias(f"__raw_{n}") for n in TXN.names]
    return df.select(_ROW, _LINE, *casts, *raws)


def _rules(day: date, now: datetime, config: IngestConfig, accounts: pl.DataFrame | None,
           seen_ids: pl.Series | None) -> list[tuple[str, str | None, pl.Expr]]:
    """(rule id, column, broken?) in priority order: the first broken one names the row's rule."""
    rules: list[tuple[str, str | None, pl.Expr]] = []
    for c in TXN.columns:
        col, raw = pl.col(c.name), pl.col(f"__raw_{c.name}")
        rules.append((f"{c.name}:type", c.name, raw.is_not_null() & col.is_null()))
    for c in TXN.columns:
        col = pl.col(c.name)
        if not c.nullable:
            rules.append((f"{c.name}:not_null", c.name, pl.col(f"__raw_{c.name}").is_null()))
        allowed = c.allowed_values()
        if allowed is not None:
            rules.append((f"{c.name}:allowed", c.name, col.is_not_null() & ~col.is_in(sorted(allowed))))
        if c.pattern is not None:
            rules.append((f"{c.name}:pattern", c.name, col.is_not_null() & ~col.str.contains(c.pattern)))
        if c.min is not None:
            rules.append((f"{c.name}:min", c.name, col.is_not_null() & ((col <= c.min) if c.min_exclusive else (col < c.min))))
        if c.max is not None:
            rules.append((f"{c.name}:max", c.name, col.is_not_null() & (col > c.max)))
    src, dst, channel, kind = pl.col("src_account"), pl.col("dst_account"), pl.col("channel"), pl.col("txn_type")
    rules += [
        ("amount_plausible", "amount_usd", pl.col("amount_usd") > config.max_amount_usd),
        ("account_present", "src_account",
         (src.is_null() & dst.is_null()) | ((channel != "cash") & (src.is_null() | dst.is_null()))),
        ("cash_side_null", "txn_type",
         (channel == "cash") & (((kind == "deposit") & src.is_not_null()) | ((kind == "withdrawal") & dst.is_not_null()))),
        ("cash_has_location", "location", (channel == "cash") & pl.col("location").is_null()),
        ("ts_in_partition", "ts", pl.col("ts").is_not_null() & (pl.col("ts").dt.date() != day)),
        ("ts_not_future", "ts", pl.col("ts") > (now + config.future_tolerance)),
    ]
    if accounts is not None:
        ids = accounts["account_id"]
        # contract rule accounts_resolve, split per side so the quarantine names the orphan
        rules.append(("src_account:resolves", "src_account", src.is_not_null() & ~src.is_in(ids.implode())))
        rules.append(("dst_account:resolves", "dst_account", dst.is_not_null() & ~dst.is_in(ids.implode())))
        rules.append(("crypto_references_wallets", "chain", pl.col("__crypto_bad")))
    rules.append(("txn_id_unique_in_file", "txn_id", pl.col("__dup_in_file")))
    if seen_ids is not None and len(seen_ids):
        rules.append(("txn_id_unique_across_partitions", "txn_id", pl.col("txn_id").is_in(seen_ids.implode())))
    return rules


def _repeated_ids(work: pl.DataFrame) -> pl.Expr:
    """Rows whose txn_id already appeared earlier in the file. Hash first (cheap on 10M strings),
    then settle the few candidate rows on the ids themselves, so a hash collision never
    quarantines a good row."""
    candidates = work.select(pl.col("txn_id").hash(seed=0).is_duplicated() & pl.col("txn_id").is_not_null())
    mask = candidates.to_series()
    if not mask.any():
        return pl.lit(False).alias("__dup_in_file")
    sub = work.filter(mask).select(_ROW, "txn_id")
    repeated = sub.filter(~pl.col("txn_id").is_first_distinct())[_ROW]
    return pl.col(_ROW).is_in(repeated.implode()).alias("__dup_in_file")


def _crypto_wallet_check(work: pl.DataFrame, accounts: pl.DataFrame) -> pl.Expr:
    """Rows whose crypto transfer does not run between wallets on the row's chain."""
    crypto = work.filter(pl.col("channel") == "crypto").select(_ROW, "src_account", "dst_account", "chain")
    if crypto.is_empty():
        return pl.lit(False).alias("__crypto_bad")
    wallets = accounts.filter(pl.col("account_type") == "wallet").select(
        pl.col("account_id"), pl.col("chain").alias("wallet_chain")
    )
    checked = (
        crypto.join(wallets.rename({"account_id": "src_account", "wallet_chain": "src_chain"}), on="src_account", how="left")
        .join(wallets.rename({"account_id": "dst_account", "wallet_chain": "dst_chain"}), on="dst_account", how="left")
        .filter(
            pl.col("chain").is_null()
            | (pl.col("src_chain") != pl.col("chain")).fill_null(True)
            | (pl.col("dst_chain") != pl.col("chain")).fill_null(True)
        )
    )
    return pl.col(_ROW).is_in(checked[_ROW].implode()).alias("__crypto_bad")


def validate_batch(
    batch: _Batch,
    day: date,
    **kw: object,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a batch into (accepted lake rows, quarantine rows), both in memory."""
    accepted, quarantine = split_batch(batch, day, **kw)  # type: ignore[arg-type]
    return accepted.collect(), quarantine


def split_batch(
    batch: _Batch,
    day: date,
    *,
    source_file: str,
    ingest_id: str,
    accounts: pl.DataFrame | None = None,
    seen_ids: pl.Series | None = None,
    now: datetime | None = None,
    config: IngestConfig = IngestConfig(),
) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """Split a batch into accepted lake rows (lazy, so a 10M-row day can stream to disk without a
    second in-memory copy) and quarantine rows (small, in memory)."""
    now = now or datetime.now(UTC)
    work = _typed(batch)
    # rules that look across rows are evaluated on the whole file before any filtering
    work = work.with_columns(_repeated_ids(work))
    if accounts is not None:
        work = work.with_columns(_crypto_wallet_check(work, accounts))
    rules = _rules(day, now, config, accounts, seen_ids)
    # One cheap OR over all rules for every row; the per-rule list only for the rows that fail.
    is_bad = work.select(pl.any_horizontal([e.fill_null(False) for _, _, e in rules])).to_series()
    # the accepted side is most of a 10M-row day: keep it lazy, filter while streaming out
    ok = work.select(_ROW, *TXN.names).with_columns(is_bad.alias("__bad")).lazy().filter(~pl.col("__bad"))
    bad = work.filter(is_bad)
    bad = bad.with_columns(
        pl.concat_list([pl.when(e.fill_null(False)).then(pl.lit(rid)) for rid, _, e in rules])
        .list.drop_nulls()
        .alias("__rules")
    ).with_columns([pl.col(f"__raw_{n}").cast(pl.String) for n in TXN.names])

    accepted = ok.select(
        *TXN.names,
        pl.lit(source_file).alias("source_file"),
        pl.col(_ROW).alias("source_row"),
        pl.lit(ingest_id).alias("ingest_id"),
    )
    rule_column = {rid: col for rid, col, _ in rules}
    first = pl.col("__rules").list.first()
    column_of = pl.col("__rules").list.first().replace_strict(rule_column, default=None, return_dtype=pl.String)
    raw_value = pl.coalesce(
        [pl.when(column_of == n).then(pl.col(f"__raw_{n}")) for n in TXN.names]
    )
    raw_row = pl.struct([pl.col(f"__raw_{n}").alias(n) for n in TXN.names]).struct.json_encode()
    quarantine = bad.select(
        pl.lit(day).alias("partition_date"),
        pl.lit(source_file).alias("source_file"),
        pl.col(_ROW).alias("source_row"),
        pl.col(_LINE).alias("source_line"),
        pl.col("__raw_txn_id").alias("txn_id"),
        first.alias("rule"),
        pl.col("__rules").alias("rules"),
        column_of.alias("column"),
        raw_value.alias("raw_value"),
        raw_row.alias("raw_row"),
        pl.lit(ingest_id).alias("ingest_id"),
    )
    if batch.unparsed:
        un = pl.DataFrame(batch.unparsed, schema={_ROW: pl.Int64, _LINE: pl.Int64, "rule": pl.String, "raw": pl.String})
        quarantine = pl.concat([
            quarantine,
            un.select(
                pl.lit(day).alias("partition_date"),
                pl.lit(source_file).alias("source_file"),
                pl.col(_ROW).alias("source_row"),
                pl.col(_LINE).alias("source_line"),
                pl.lit(None, dtype=pl.String).alias("txn_id"),
                pl.col("rule"),
                pl.concat_list(pl.col("rule")).alias("rules"),
                pl.lit(None, dtype=pl.String).alias("column"),
                pl.col("raw").alias("raw_value"),
                pl.struct(pl.col("raw").alias("line")).struct.json_encode().alias("raw_row"),
                pl.lit(ingest_id).alias("ingest_id"),
            ),
        ])
    quarantine = QUARANTINE.conform(quarantine.sort("source_row"))
    return accepted, quarantine


# ------------------------------------------------------------------------------- the gate ----
def seen_txn_ids(lake: Path, exclude: date | None = None) -> pl.Series:
    """txn_ids already accepted in other partitions of the lake."""
    files = [p for p in sorted((Path(lake) / "transactions").glob("date=*/part-0.parquet"))
             if exclude is None or p.parent.name != f"date={exclude.isoformat()}"]
    if not files:
        return pl.Series("txn_id", [], dtype=pl.String)
    return pl.scan_parquet(files).select("txn_id").collect()["txn_id"]


def ingest_file(
    path: Path,
    lake: Path,
    *,
    day: date | None = None,
    accounts: pl.DataFrame | None = None,
    now: datetime | None = None,
    config: IngestConfig = IngestConfig(),
    force: bool = False,
) -> IngestReport:
    """Ingest one landing file into its lake partition (atomic, idempotent).

    Re-ingesting the same bytes is a no-op (``skipped_unchanged``) unless ``force``; a different
    file for the same day replaces the partition; the same bytes already ingested for another day
    raise BadLandingFile (duplicate delivery)."""
    path, lake = Path(path), Path(lake)
    day = day or day_of_file(path)
    if day is None:
        raise BadLandingFile(path, "file name does not carry its day (transactions_YYYY-MM-DD.<fmt>)")
    digest = sha256_of(path)
    logs = read_ingest_log(lake)
    for other_day, log in logs.items():
        if log.get("sha256") == digest:
            if other_day != day:
                raise BadLandingFile(path, f"duplicate delivery: same bytes already ingested for {other_day} from {log['source_file']}")
            if not force and lake_partition_file(lake, day).is_file():
                return IngestReport(**{**{k: log[k] for k in IngestReport.__dataclass_fields__ if k in log}, "skipped_unchanged": True})
    ingest_id = f"{day.isoformat()}:{digest[:12]}"
    batch = read_landing(path, config)
    accepted, quarantine = split_batch(
        batch, day, source_file=path.name, ingest_id=ingest_id, accounts=accounts,
        seen_ids=seen_txn_ids(lake, exclude=day), now=now, config=config,
    )
    rows_read, extra_columns = batch.rows_read, batch.extra_columns
    lake_file = LAKE_TXN.sink_parquet(accepted, lake_partition_file(lake, day))
    del batch, accepted  # the day's frames go before the quarantine write
    q_file = QUARANTINE.write(quarantine, quarantine_partition_file(lake, day))
    rows_accepted = pl.scan_parquet(lake_file).select(pl.len()).collect().item()
    by_rule = quarantine.group_by("rule").len().sort("rule")
    report = IngestReport(
        partition=day.isoformat(),
        source_file=path.name,
        sha256=digest,
        ingest_id=ingest_id,
        rows_read=rows_read,
        rows_accepted=rows_accepted,
        rows_quarantined=quarantine.height,
        quarantine_by_rule=dict(zip(by_rule["rule"].to_list(), by_rule["len"].to_list(), strict=True)),
        extra_columns=extra_columns,
        lake_file=str(lake_file),
        quarantine_file=str(q_file),
        written_at=datetime.now(UTC).isoformat(),
    )
    with atomic_path(ingest_log_file(lake, day)) as tmp:
        tmp.write_text(json.dumps(asdict(report), indent=2, default=str))
    return report
