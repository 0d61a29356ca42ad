"""A hand-written, few-row data root in the landing layout, for pipeline tests that must not
depend on the generator: every value is known, so every count can be asserted exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from nexusfin.contracts import contract
from nexusfin.layout import DataRoot

DAY1, DAY2 = date(2026, 1, 5), date(2026, 1, 6)


def _frame(table: str, rows: list[dict]) -> pl.DataFrame:
    c = contract(table)
    full = [{n: r.get(n) for n in c.names} for r in rows]
    return c.conform(pl.DataFrame(full, schema=c.polars_schema()))


def cash_deposit(**over: object) -> dict:
    """A full, valid transactions row (a 9,500 USD cash deposit into A1 at a Laredo branch, by
    P1, on 2026-01-05 10:30 UTC); keyword arguments override any column."""
    row = {
        "txn_id": "T1", "ts": datetime(2026, 1, 5, 10, 30, tzinfo=UTC), "src_account": None,
        "dst_account": "A1", "amount": 9500.0, "currency": "USD", "amount_usd": 9500.0,
        "channel": "cash", "txn_type": "deposit", "src_country": "US", "dst_country": "US",
        "location": "US-TX-78040:B03-BR0042", "conducted_by": "P1", "chain": None, "tx_hash": None,
        "memo": None,
    }
    row.update(over)
    return row


def txn(i: int, day: date = DAY1, **over: object) -> dict:
    ts = datetime(day.year, day.month, day.day, 10, i % 60, tzinfo=UTC)
    return cash_deposit(**{"txn_id": f"T{day:%m%d}-{i}", "ts": ts, "amount": 9000.0 + i,
                           "amount_usd": 9000.0 + i, **over})


def build(root: Path, day_rows: dict[date, list[dict]] | None = None) -> DataRoot:
    dr = DataRoot(root)
    parties = [
        {"party_id": "P1", "name": "Ana Lopez", "kind": "person", "country": "US"},
        {"party_id": "P2", "name": "Acme Car Wash LLC", "kind": "organization", "country": "US",
         "business_type": "car_wash"},
    ]
    accounts = [
        {"account_id": "A1", "owner_party_id": "P1", "bank_id": "B03", "account_type": "checking",
         "country": "US", "currency": "USD", "opened_date": date(2020, 1, 1)},
        {"account_id": "A2", "owner_party_id": "P2", "bank_id": "B03", "account_type": "business",
         "country": "US", "currency": "USD", "opened_date": date(2021, 1, 1)},
        {"account_id": "W1", "owner_party_id": "P1", "bank_id": "SELF", "account_type": "wallet",
         "country": "US", "currency": "ETH", "opened_date": date(2022, 1, 1), "chain": "ethereum",
         "address": "0x" + "1" * 40},
    ]
    watchlist = [
        {"entity_id": "SDN-1", "name": "EL NARCO, Juan", "aliases": ["Juan El Narco"], "kind": "person",
         "programs": ["SDNTK"], "country": "MX", "id_numbers": [], "phones": [], "addresses": [],
         "crypto_wallets": [], "source": "synthetic"},
    ]
    tags = [{"address": "0x" + "2" * 40, "chain": "ethereum", "label": "Mixer pool", "category": "mixer",
             "source": "synthetic"}]
    sars = [{"sar_id": "S1", "account_id": "A1", "party_id": "P1", "filing_date": date(2025, 12, 1),
             "activity_start": date(2025, 11, 1), "activity_end": date(2025, 11, 20), "category": "structuring",
             "amount_usd": 27000.0}]
    for table, rows in (("parties", parties), ("accounts", accounts), ("watchlist", watchlist),
                        ("address_tags", tags), ("sar_filings", sars)):
        contract(table).write(_frame(table, rows), dr.reference_file(table))
    day_rows = day_rows if day_rows is not None else {
        DAY1: [txn(i, DAY1) for i in range(1, 6)],
        DAY2: [txn(i, DAY2) for i in range(1, 4)],
    }
    for day, rows in day_rows.items():
        contract("transactions").write(_frame("transactions", rows), dr.transactions_file(day),
                                       enforce_nullability=False)
    return dr
