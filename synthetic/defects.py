"""Defect injection: malformed landing rows with exact ground truth (file, row, kind, column,
raw value). Defects only touch unlabeled background rows, never planted or hard-negative ones."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import polars as pl

from nexusfin.contracts import contract
from nexusfin.files import atomic_path

KINDS = [
    "unknown_currency",
    "negative_amount",
    "zero_amount",
    "absurd_amount",
    "duplicate_txn_id",
    "orphan_account",
    "future_timestamp",
    "ts_outside_day",
    "missing_required",
    "cash_without_location",
    "bad_country",
    "bad_channel",
]
TEXT_ONLY = ["bad_type"]
FUTURE_US = 3653 * 86_400_000_000  # ten years ahead
BAD_CURRENCIES = ["XYZ", "MXP", "EURO", "US$", "BTCX", "DLR"]
BAD_COUNTRIES = ["XX", "UK", "USA", "MEX", "Mexico", "EL"]
BAD_CHANNELS = ["CASH", "zelle", "swift", "sepa", "cash_deposit", "paypal"]
MISSING_COLS = ["amount", "currency", "channel", "txn_type", "amount_usd", "ts"]


def inject(
    df: pl.DataFrame,
    eligible: np.ndarray,
    is_cash: np.ndarray,
    rate: float,
    fmt: str,
    rng: np.random.Generator,
    prev_ids: list[str],
    file_name: str,
) -> tuple[pl.DataFrame, list[dict], dict]:
    """Return the modified frame, truth rows and text patches ({row: (column, raw)}) for bad_type."""
    n = df.height
    k = int(rng.binomial(n, rate)) if rate > 0 else 0
    cand = np.flatnonzero(eligible)
    k = min(k, len(cand) // 3)
    if k == 0:
        return df, [], {}
    kinds = KINDS + (TEXT_ONLY if fmt in ("csv", "jsonl") else [])
    rows = np.sort(rng.choice(cand, size=k, replace=False))
    off = int(rng.integers(len(kinds)))  # rotate so that every kind shows up even at low counts
    assigned = [kinds[(off + j) % len(kinds)] for j in range(k)]
    assigned = [assigned[j] for j in rng.permutation(k)]
    # cash_without_location needs a cash row: swap with another row if needed
    chosen = set(rows.tolist())
    clean_cash = [int(i) for i in np.flatnonzero(eligible & is_cash) if int(i) not in chosen]
    rows = rows.tolist()
    for j, kind in enumerate(assigned):
        if kind == "cash_without_location" and not is_cash[rows[j]]:
            if clean_cash:
                new = clean_cash.pop(int(rng.integers(len(clean_cash))))
                chosen.discard(rows[j])
                chosen.add(new)
                rows[j] = new
            else:
                assigned[j] = "missing_required"
    defect_rows = set(rows)
    clean = np.array([i for i in cand.tolist() if i not in defect_rows], dtype=np.int64)

    cols = {c: df.get_column(c) for c in df.columns}
    ts_int = cols["ts"].cast(pl.Int64)
    edits: dict[str, tuple[list[int], list]] = {}

    def put(col: str, i: int, v) -> None:
        edits.setdefault(col, ([], []))
        edits[col][0].append(i)
        edits[col][1].append(v)

    truth, patches = [], {}
    txn_ids = cols["txn_id"]
    for i, kind in zip(rows, assigned, strict=True):
        col, raw = None, None
        amount, amount_usd = cols["amount"][i], cols["amount_usd"][i]
        if kind == "unknown_currency":
            col, raw = "currency", BAD_CURRENCIES[int(rng.integers(len(BAD_CURRENCIES)))]
            put(col, i, raw)
        elif kind == "negative_amount":
            col, raw = "amount", -amount
            put("amount", i, -amount)
            put("amount_usd", i, -amount_usd)
        elif kind == "zero_amount":
            col, raw = "amount", 0.0
            put("amount", i, 0.0)
            put("amount_usd", i, 0.0)
        elif kind == "absurd_amount":
            col, raw = "amount", 1e15
            put("amount", i, 1e15)
            put("amount_usd", i, 1e15 * (amount_usd / amount))
        elif kind == "duplicate_txn_id":
            earlier = clean[clean < i]
            if len(earlier) and (not prev_ids or rng.random() < 0.6):
                raw = txn_ids[int(earlier[int(rng.integers(len(earlier)))])]
            elif prev_ids:
                raw = prev_ids[int(rng.integers(len(prev_ids)))]
            else:  # nothing to duplicate yet: fall back to an unknown currency
                kind, col, raw = "unknown_currency", "currency", BAD_CURRENCIES[0]
                put(col, i, raw)
            if kind == "duplicate_txn_id":
                col = "txn_id"
                put(col, i, raw)
        elif kind == "orphan_account":
            col = "src_account" if cols["src_account"][i] is not None else "dst_account"
            raw = f"A{800_000_000 + int(rng.integers(0, 99_999_999)):09d}"
            put(col, i, raw)
        elif kind == "future_timestamp":
            col = "ts"
            v = int(ts_int[i]) + FUTURE_US
            put("ts", i, v)
            raw = _iso(v)
        elif kind == "ts_outside_day":
            col = "ts"
            v = int(ts_int[i]) + (
                86_400_000_000 if rng.random() < 0.3 else -86_400_000_000 * int(rng.integers(1, 4))
            )
            put("ts", i, v)
            raw = _iso(v)
        elif kind == "missing_required":
            col = MISSING_COLS[int(rng.integers(len(MISSING_COLS)))]
            put(col, i, None)
        elif kind == "cash_without_location":
            col = "location"
            put(col, i, None)
        elif kind == "bad_country":
            col = "src_country" if cols["src_country"][i] is not None else "dst_country"
            raw = BAD_COUNTRIES[int(rng.integers(len(BAD_COUNTRIES)))]
            put(col, i, raw)
        elif kind == "bad_channel":
            col, raw = "channel", BAD_CHANNELS[int(rng.integers(len(BAD_CHANNELS)))]
            put(col, i, raw)
        elif kind == "bad_type":
            col = "amount" if rng.random() < 0.7 else "amount_usd"
            v = f"{cols[col][i]:.2f}"
            raw = v.replace("0", "O", 1) if "0" in v else v + "O"
            patches[i] = (col, raw)
        truth.append(
            {
                "file": file_name,
                "row_number": int(i),
                "txn_id": raw if kind == "duplicate_txn_id" else txn_ids[i],
                "defect": kind,
                "column": col,
                "raw_value": None if raw is None else _raw(raw),
            }
        )
    out = {}
    for c, (idx, vals) in edits.items():
        if c == "ts":
            s = ts_int.scatter(idx, vals).cast(pl.Datetime("us", "UTC"))
        else:
            s = cols[c].scatter(idx, vals)
        out[c] = s
    df = df.with_columns(**out) if out else df
    return df, truth, patches


def _iso(us: int) -> str:
    return str(np.datetime64(us, "us")) + "Z"


def _raw(v) -> str:
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_defective(
    df: pl.DataFrame, path: Path, fmt: str, patches: dict[int, tuple[str, str]]
) -> None:
    """Write a landing file that deliberately breaks the contract but stays readable.
    ``patches`` put text that cannot be typed (bad_type) into CSV/JSONL rows."""
    c = contract("transactions")
    df = df.select(c.names)
    if fmt == "parquet" or not patches:
        c.write(df, path, fmt, enforce_nullability=False)
        return
    if fmt == "csv":
        lines = df.write_csv(datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ").split("\n")
        header = lines[0].split(",")
        for i, (col, raw) in patches.items():
            rec = next(csv.reader([lines[i + 1]]))
            rec[header.index(col)] = raw
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow(rec)
            lines[i + 1] = buf.getvalue()
    else:
        lines = df.write_ndjson().split("\n")
        for i, (col, raw) in patches.items():
            rec = json.loads(lines[i])
            rec[col] = raw
            lines[i] = json.dumps(rec, separators=(",", ":"), ensure_ascii=False)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))
