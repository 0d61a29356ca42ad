"""The contracts in schemas/ load, and the derived readers/writers/checks enforce them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from nexusfin.contracts import ContractViolation, contract, contract_names, vocabulary
from tiny_world import cash_deposit

EXPECTED_TABLES = {
    "transactions",
    "accounts",
    "parties",
    "watchlist",
    "address_tags",
    "sar_filings",
    "truth_scenarios",
    "truth_account_labels",
    "truth_transaction_labels",
    "truth_defects",
}


def _frame(*rows: dict) -> pl.DataFrame:
    return contract("transactions").conform(pl.DataFrame(list(rows), schema=contract("transactions").polars_schema()))


def test_every_table_has_a_versioned_contract_with_descriptions():
    assert EXPECTED_TABLES <= set(contract_names())
    for name in EXPECTED_TABLES:
        c = contract(name)
        assert c.version >= 1
        assert c.description
        assert c.primary_key, f"{name} declares no key"
        assert set(c.primary_key) <= set(c.names)
        for col in c.columns:
            assert col.description, f"{name}.{col.name} has no description"
        # the arrow schema carries the contract's identity into every Parquet file
        assert c.arrow_schema().metadata[b"nexusfin.table"] == name.encode()


def test_transaction_contract_has_the_minimum_columns():
    names = set(contract("transactions").names)
    assert {
        "txn_id", "ts", "src_account", "dst_account", "amount", "currency", "amount_usd",
        "channel", "src_country", "dst_country", "location", "conducted_by",
    } <= names
    assert contract("transactions").column("channel").allowed == (
        "cash", "wire", "ach", "check", "card", "internal", "crypto",
    )


def test_references_point_at_existing_columns():
    for name in contract_names():
        for col in contract(name).columns:
            if col.references:
                table, column = col.references.split(".")
                assert column in contract(table).names, f"{name}.{col.name} -> {col.references}"


def test_vocabularies_are_iso_lists():
    assert {"USD", "MXN", "EUR", "GTQ", "HNL"} <= vocabulary("iso4217")
    assert "XXX" not in vocabulary("iso4217")
    assert {"US", "MX", "GT", "SV", "HN", "AF"} <= vocabulary("iso3166_alpha2")
    assert len(vocabulary("iso3166_alpha2")) == 249
    assert {"BTC", "ETH", "USDT"} <= vocabulary("crypto_assets")


def test_conform_rejects_missing_and_unexpected_columns():
    df = _frame(cash_deposit())
    with pytest.raises(ContractViolation, match=r"missing columns \['amount_usd'\]"):
        contract("transactions").conform(df.drop("amount_usd"))
    with pytest.raises(ContractViolation, match=r"unexpected columns \['extra'\]"):
        contract("transactions").conform(df.with_columns(pl.lit(1).alias("extra")))


def test_conform_casts_strictly_and_never_nulls_silently():
    df = _frame(cash_deposit()).with_columns(pl.lit("12.5O").alias("amount"))
    with pytest.raises(ContractViolation, match="cannot cast"):
        contract("transactions").conform(df)


def test_violations_count_each_broken_rule():
    df = _frame(
        cash_deposit(txn_id="T1"),
        cash_deposit(txn_id="T1", amount=-5.0, amount_usd=-5.0),  # duplicate id, negative amount
        cash_deposit(txn_id="T3", currency="ZZZ", channel="pigeon", src_country="XX"),
        cash_deposit(txn_id="T4", amount=0.0, amount_usd=0.0, location="Laredo"),
        cash_deposit(txn_id=None),
    )
    v = contract("transactions").violations(df)
    assert v == {
        "txn_id:not_null": 1,
        "txn_id:unique": 2,
        "amount:min": 2,
        "amount_usd:min": 2,
        "currency:allowed": 1,
        "channel:allowed": 1,
        "src_country:allowed": 1,
        "location:pattern": 1,
    }
    assert contract("transactions").violations(_frame(cash_deposit(amount=0.01, amount_usd=0.01))) == {}


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_write_read_roundtrip_per_format(tmp_path: Path, fmt: str):
    df = _frame(cash_deposit(), cash_deposit(txn_id="T2", ts=datetime(2026, 1, 5, 23, 59, 59, 999999, tzinfo=UTC), memo="a,b \"c\""))
    path = contract("transactions").write(df, tmp_path / f"t.{fmt}")
    back = contract("transactions").read(path)
    assert back.equals(df)
    assert [p.name for p in tmp_path.iterdir()] == [f"t.{fmt}"]  # no temp file left behind


def test_list_columns_survive_csv(tmp_path: Path):
    wl = contract("watchlist")
    df = wl.conform(
        pl.DataFrame(
            [
                {
                    "entity_id": "SDN-1", "name": "GUZMAN LOERA, Joaquin", "aliases": ["El Chapo", "Joaquín Guzmán"],
                    "kind": "person", "programs": ["SDNTK"], "country": "MX", "id_numbers": [], "phones": [],
                    "addresses": ["Culiacán, Sinaloa"], "crypto_wallets": [], "birth_date": date(1957, 4, 4),
                    "designation_date": None, "source": "synthetic", "remarks": None,
                }
            ],
            schema=wl.polars_schema(),
        )
    )
    assert wl.read(wl.write(df, tmp_path / "w.csv")).equals(df)


def test_failed_write_keeps_previous_file(tmp_path: Path):
    target = tmp_path / "t.parquet"
    good = _frame(cash_deposit())
    contract("transactions").write(good, target)
    with pytest.raises(ContractViolation):
        contract("transactions").write(good.drop("memo"), target)
    assert contract("transactions").read(target).equals(good)
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


def test_naive_timestamps_are_taken_as_utc():
    df = _frame(cash_deposit()).with_columns(pl.col("ts").dt.replace_time_zone(None))
    out = contract("transactions").conform(df)
    assert out.schema["ts"] == pl.Datetime("us", "UTC")
    assert out["ts"][0] == datetime(2026, 1, 5, 10, 30, tzinfo=UTC)
