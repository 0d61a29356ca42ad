"""The landing gate's bad-input catalogue: each case gets its quarantine row or a clear file
error, and every partition reconciles exactly (rows read = accepted + quarantined)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nexusfin.contracts import contract
from nexusfin.lake.ingest import (
    BadLandingFile,
    IngestConfig,
    ingest_file,
    lake_partition_file,
    quarantine_partition_file,
    read_ingest_log,
    reject_file,
)
from tiny_world import cash_deposit

TXN = contract("transactions")
DAY = date(2026, 1, 5)
NOW = datetime(2026, 1, 20, tzinfo=UTC)
ACCOUNTS = pl.DataFrame(
    {
        "account_id": ["A1", "A2", "W1", "W2"],
        "account_type": ["checking", "business", "wallet", "wallet"],
        "chain": [None, None, "ethereum", "ethereum"],
    }
)


def txn(i: int, **over: object) -> dict:
    return cash_deposit(**{"txn_id": f"T{i}", "ts": datetime(2026, 1, 5, 10, 0, tzinfo=UTC), **over})


def frame(rows: list[dict]) -> pl.DataFrame:
    return TXN.conform(pl.DataFrame(rows, schema=TXN.polars_schema()))


def landing(tmp: Path, rows: list[dict], fmt: str = "parquet", day: date = DAY) -> Path:
    path = tmp / "landing" / f"transactions_{day.isoformat()}.{fmt}"
    return TXN.write(frame(rows), path, enforce_nullability=False)


def ingest(path: Path, tmp: Path, **kw: object):
    return ingest_file(path, tmp / "lake", accounts=ACCOUNTS, now=NOW, **kw)


def quarantined(report) -> pl.DataFrame:
    return pl.read_parquet(report.quarantine_file)


def accepted(report) -> pl.DataFrame:
    return pl.read_parquet(report.lake_file)


def assert_reconciles(report) -> None:
    assert report.rows_read == report.rows_accepted + report.rows_quarantined
    assert accepted(report).height == report.rows_accepted
    assert quarantined(report).height == report.rows_quarantined


ROW_CASES = [
    # (override, expected first rule, column, raw value)
    ({"currency": "ZZZ"}, "currency:allowed", "currency", "ZZZ"),
    ({"amount": -5.0, "amount_usd": -5.0}, "amount:min", "amount", "-5.0"),
    ({"amount": 0.0, "amount_usd": 0.0}, "amount:min", "amount", "0.0"),
    ({"amount": 1e15, "amount_usd": 1e15}, "amount_plausible", "amount_usd", "1000000000000000.0"),
    ({"ts": datetime(2026, 3, 1, tzinfo=UTC)}, "ts_in_partition", "ts", None),
    ({"dst_account": "NOPE"}, "dst_account:resolves", "dst_account", "NOPE"),
    ({"location": None}, "cash_has_location", "location", None),
    ({"channel": "pigeon"}, "channel:allowed", "channel", "pigeon"),
    ({"src_country": "XX"}, "src_country:allowed", "src_country", "XX"),
    ({"txn_id": None}, "txn_id:not_null", "txn_id", None),
    ({"src_account": "A2"}, "cash_side_null", "txn_type", "deposit"),
    (
        {"channel": "crypto", "txn_type": "transfer", "src_account": "A1", "dst_account": "W1",
         "chain": "ethereum", "currency": "ETH", "location": None},
        "crypto_references_wallets", "chain", "ethereum",
    ),
]


@pytest.mark.parametrize(("override", "rule", "column", "raw"), ROW_CASES, ids=[c[1] for c in ROW_CASES])
def test_each_broken_row_is_quarantined_with_its_rule(tmp_path, override, rule, column, raw):
    path = landing(tmp_path, [txn(1), txn(2, **override), txn(3)])
    report = ingest(path, tmp_path)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (3, 2, 1)
    assert_reconciles(report)
    q = quarantined(report).row(0, named=True)
    assert q["rule"] == rule
    assert q["column"] == column
    assert q["source_row"] == 1
    assert q["source_file"] == path.name
    if raw is not None:
        assert q["raw_value"].startswith(raw[:4])
    assert accepted(report)["txn_id"].to_list() == ["T1", "T3"]


def test_future_timestamp_is_quarantined(tmp_path):
    future_day = date(2027, 1, 1)
    path = landing(tmp_path, [txn(1, ts=datetime(2027, 1, 1, 9, tzinfo=UTC))], day=future_day)
    report = ingest(path, tmp_path)
    assert quarantined(report)["rule"].to_list() == ["ts_not_future"]


def test_valid_crypto_between_wallets_is_accepted(tmp_path):
    row = txn(1, channel="crypto", txn_type="transfer", src_account="W1", dst_account="W2",
              chain="ethereum", currency="ETH", location=None, tx_hash="0xabc")
    report = ingest(landing(tmp_path, [row]), tmp_path)
    assert report.rows_accepted == 1


def test_duplicate_txn_id_within_a_file_keeps_the_first(tmp_path):
    report = ingest(landing(tmp_path, [txn(1), txn(1, amount=1.0, amount_usd=1.0), txn(2)]), tmp_path)
    assert accepted(report)["amount"].to_list() == [9500.0, 9500.0]
    assert quarantined(report).select("source_row", "rule").rows() == [(1, "txn_id_unique_in_file")]
    assert_reconciles(report)


def test_duplicate_txn_id_across_files(tmp_path):
    ingest(landing(tmp_path, [txn(1), txn(2)]), tmp_path)
    day2 = date(2026, 1, 6)
    path2 = landing(tmp_path, [txn(2, ts=datetime(2026, 1, 6, 9, tzinfo=UTC)), txn(3, ts=datetime(2026, 1, 6, 9, tzinfo=UTC))], day=day2)
    report = ingest(path2, tmp_path)
    assert quarantined(report).select("txn_id", "rule").rows() == [("T2", "txn_id_unique_across_partitions")]
    assert_reconciles(report)


def test_every_rule_a_row_breaks_is_listed(tmp_path):
    report = ingest(landing(tmp_path, [txn(1, currency="ZZZ", amount=-1.0, amount_usd=-1.0, location=None)]), tmp_path)
    q = quarantined(report).row(0, named=True)
    assert set(q["rules"]) == {"currency:allowed", "amount:min", "amount_usd:min", "cash_has_location"}
    assert '"currency":"ZZZ"' in q["raw_row"]


# ----------------------------------------------------------------- text formats ---------
CSV_HEADER = ",".join(TXN.names)


def csv_line(i: int, **over: object) -> str:
    row = txn(i, **over)
    values = []
    for n in TXN.names:
        v = row[n]
        values.append("" if v is None else v.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if isinstance(v, datetime) else str(v))
    return ",".join(values)


def write_csv(tmp: Path, lines: list[str], raw_tail: bytes = b"") -> Path:
    path = tmp / "landing" / f"transactions_{DAY.isoformat()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join([CSV_HEADER, *lines]) + "\n").encode() + raw_tail)
    return path


def test_csv_wrong_type_is_quarantined_with_its_line(tmp_path):
    path = write_csv(tmp_path, [csv_line(1), csv_line(2).replace("9500.0", "95OO.0", 1), csv_line(3)])
    report = ingest(path, tmp_path)
    q = quarantined(report).row(0, named=True)
    assert (q["rule"], q["column"], q["raw_value"], q["source_line"]) == ("amount:type", "amount", "95OO.0", 3)
    assert_reconciles(report)


def test_csv_malformed_row_is_quarantined(tmp_path):
    path = write_csv(tmp_path, [csv_line(1), "T2,2026-01-05T10:00:00Z,oops", csv_line(3)])
    report = ingest(path, tmp_path)
    q = quarantined(report).row(0, named=True)
    assert (q["rule"], q["source_row"], q["source_line"]) == ("csv:field_count", 1, 3)
    assert report.rows_read == 3 and report.rows_accepted == 2
    assert_reconciles(report)


def test_non_utf8_line_is_quarantined_not_dropped(tmp_path):
    path = write_csv(tmp_path, [csv_line(1)], raw_tail=csv_line(2, memo="caf\xe9").encode("latin-1") + b"\n")
    report = ingest(path, tmp_path)
    q = quarantined(report).row(0, named=True)
    assert (q["rule"], q["source_line"]) == ("encoding:utf8", 3)
    assert "\\xe9" in q["raw_value"]
    assert_reconciles(report)


def test_mostly_non_utf8_file_is_rejected_as_wrong_encoding(tmp_path):
    path = tmp_path / "landing" / f"transactions_{DAY.isoformat()}.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(CSV_HEADER.encode() + b"\n" + "\n".join(csv_line(i, memo="\xe9") for i in range(5)).encode("utf-16"))
    with pytest.raises(BadLandingFile, match="encoding"):
        ingest(path, tmp_path)


def test_jsonl_broken_line_is_quarantined(tmp_path):
    path = landing(tmp_path, [txn(1), txn(2)], fmt="jsonl")
    with open(path, "a") as fh:
        fh.write('{"txn_id": "T3", "ts": \n')
    report = ingest(path, tmp_path)
    assert quarantined(report).select("rule", "source_line").rows() == [("json:malformed", 3)]
    assert_reconciles(report)


# ----------------------------------------------------------------- whole-file errors ----
def test_missing_column_rejects_the_file_naming_it(tmp_path):
    path = TXN.write(frame([txn(1)]), tmp_path / "x.parquet")
    bad = tmp_path / "landing" / f"transactions_{DAY.isoformat()}.parquet"
    bad.parent.mkdir(parents=True)
    pq.write_table(pq.read_table(path).drop_columns(["amount_usd"]), bad)
    with pytest.raises(BadLandingFile, match=r"transactions_2026-01-05.parquet: missing required columns \['amount_usd'\]"):
        ingest(bad, tmp_path)


def test_renamed_column_is_reported_as_renamed(tmp_path):
    path = landing(tmp_path, [txn(1)])
    table = pq.read_table(path)
    pq.write_table(table.rename_columns(["amt_usd" if n == "amount_usd" else n for n in table.column_names]), path)
    with pytest.raises(BadLandingFile, match=r"unexpected \['amt_usd'\] \(renamed\?\)"):
        ingest(path, tmp_path)


def test_extra_column_is_reported_as_drift_not_silently_accepted(tmp_path):
    path = landing(tmp_path, [txn(1)])
    table = pq.read_table(path)
    pq.write_table(table.append_column("teller_note", pa.array(["x"])), path)
    report = ingest(path, tmp_path)
    assert report.extra_columns == ["teller_note"]
    assert "teller_note" not in accepted(report).columns
    with pytest.raises(BadLandingFile, match="schema drift"):
        ingest(path, tmp_path / "strict", config=IngestConfig(on_extra_columns="reject"))


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_empty_file_is_rejected(tmp_path, fmt):
    path = tmp_path / "landing" / f"transactions_{DAY.isoformat()}.{fmt}"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with pytest.raises(BadLandingFile, match="empty file"):
        ingest(path, tmp_path)


def test_duplicate_header_names_reject_the_csv(tmp_path):
    path = write_csv(tmp_path, [csv_line(1)])
    text = path.read_text().replace("memo", "amount", 1)
    path.write_text(text)
    with pytest.raises(BadLandingFile, match="line 1: duplicate column names"):
        ingest(path, tmp_path)


def test_header_only_csv_is_rejected_as_empty(tmp_path):
    with pytest.raises(BadLandingFile, match="empty file"):
        ingest(write_csv(tmp_path, []), tmp_path)


def test_truncated_parquet_is_rejected_and_moved_aside(tmp_path):
    path = landing(tmp_path, [txn(i) for i in range(50)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadLandingFile, match="unreadable Parquet") as err:
        ingest(path, tmp_path)
    moved = reject_file(path, tmp_path / "landing", str(err.value))
    assert not path.exists() and moved.exists()
    assert "unreadable Parquet" in moved.with_name(moved.name + ".reason.txt").read_text()


# ----------------------------------------------------------------- idempotence ----------
def test_reingesting_a_partition_replaces_it_without_duplicates(tmp_path):
    path = landing(tmp_path, [txn(1), txn(2)])
    first = ingest(path, tmp_path)
    again = ingest(path, tmp_path)
    assert again.skipped_unchanged and again.rows_accepted == first.rows_accepted
    forced = ingest(path, tmp_path, force=True)
    assert not forced.skipped_unchanged
    assert pl.read_parquet(lake_partition_file(tmp_path / "lake", DAY))["txn_id"].to_list() == ["T1", "T2"]
    # a corrected delivery for the same day replaces the partition
    path = landing(tmp_path, [txn(1), txn(2), txn(3)])
    corrected = ingest(path, tmp_path)
    assert corrected.rows_accepted == 3
    assert pl.read_parquet(lake_partition_file(tmp_path / "lake", DAY)).height == 3


def test_same_file_delivered_twice_under_another_name_is_detected(tmp_path):
    path = landing(tmp_path, [txn(1)])
    ingest(path, tmp_path)
    copy = path.with_name("transactions_2026-01-06.parquet")
    copy.write_bytes(path.read_bytes())
    with pytest.raises(BadLandingFile, match="duplicate delivery"):
        ingest(copy, tmp_path)


def test_crash_between_write_and_rename_keeps_the_previous_partition(tmp_path, monkeypatch):
    path = landing(tmp_path, [txn(1), txn(2)])
    ingest(path, tmp_path)
    before = pl.read_parquet(lake_partition_file(tmp_path / "lake", DAY))
    path = landing(tmp_path, [txn(7), txn(8), txn(9)])

    def crash(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        ingest(path, tmp_path)
    monkeypatch.undo()
    lake = tmp_path / "lake"
    assert pl.read_parquet(lake_partition_file(lake, DAY)).equals(before)
    assert pl.read_parquet(quarantine_partition_file(lake, DAY)).height == 0
    assert read_ingest_log(lake)[DAY]["rows_accepted"] == 2
    leftovers = [p for p in lake.rglob("*") if p.is_file() and ".tmp-" in p.name]
    assert leftovers == []
    # and the next run goes through
    assert ingest(path, tmp_path).rows_accepted == 3
