"""Importers of public AML data sets: fixtures in the exact public layouts (tests/fixtures/public),
exact mapped values, contract conformance, and broken variants with file/line/problem errors."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from nexusfin.contracts import contract
from nexusfin.importers import FORMATS, ImportReport, PublicFormatError, import_dataset
from nexusfin.layout import REFERENCE_TABLES, TRUTH_TABLES, DataRoot

FIX = Path(__file__).parent / "fixtures" / "public"


# -- helpers -------------------------------------------------------------------------------------


def load(root: Path) -> dict[str, pl.DataFrame]:
    """Every table present under a data root, read back through its contract."""
    r = DataRoot(root)
    out: dict[str, pl.DataFrame] = {}
    days = r.landing_days()
    if days:
        out["transactions"] = pl.concat([contract("transactions").read(p) for p in days.values()])
    for t in REFERENCE_TABLES:
        if r.reference_file(t).is_file():
            out[t] = contract(t).read(r.reference_file(t))
    for t in TRUTH_TABLES:
        if r.truth_file(t).is_file():
            out[t] = contract(t).read(r.truth_file(t))
    labels = sorted((r.truth / "transaction_labels").glob("*.parquet"))
    if labels:
        out["truth_transaction_labels"] = pl.concat(
            [contract("truth_transaction_labels").read(p) for p in labels]
        )
    return out


def assert_conforms(tables: dict[str, pl.DataFrame]) -> None:
    for name, df in tables.items():
        assert contract(name).violations(df) == {}, name


def imported(fmt: str, src: Path, out: Path, **kw) -> tuple[ImportReport, dict[str, pl.DataFrame]]:
    report = import_dataset(fmt, src, out, **kw)
    tables = load(out)
    assert_conforms(tables)
    return report, tables


def row(df: pl.DataFrame, **where) -> dict:
    sel = df
    for k, v in where.items():
        sel = sel.filter(pl.col(k) == v)
    assert sel.height == 1, (where, sel)
    return sel.row(0, named=True)


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def variant(
    src: Path, tmp: Path, file: str, line: int | None = None, text: str | bytes | None = None
) -> Path:
    """Copy a fixture folder and replace one physical line of one file (1-based; text None
    deletes it) or, with line None, the whole file's bytes."""
    dst = tmp / f"v-{src.name}"
    shutil.copytree(src, dst)
    p = dst / file
    if line is None:
        p.write_bytes(text if isinstance(text, bytes) else (text or "").encode())
        return dst
    lines = p.read_bytes().split(b"\n")
    new = text.encode() if isinstance(text, str) else text
    if new is None:
        del lines[line - 1]
    else:
        lines[line - 1] = new
    p.write_bytes(b"\n".join(lines))
    return dst


def expect_error(
    fmt: str, path: Path, tmp: Path, file: str, line: int | None, fragment: str
) -> PublicFormatError:
    with pytest.raises(PublicFormatError) as ei:
        import_dataset(fmt, path, tmp / "out")
    err = ei.value
    assert err.file is not None and err.file.name == file, str(err)
    assert err.line == line, str(err)
    assert fragment in err.problem, str(err)
    prefix = f"{file} line {line}: " if line is not None else f"{file}: "
    assert str(err).startswith(prefix), str(err)
    assert isinstance(err, ValueError)
    return err


def line_of(path: Path, startswith: str) -> int:
    for i, text in enumerate(path.read_text().splitlines(), 1):
        if text.startswith(startswith):
            return i
    raise AssertionError(startswith)


def test_formats_listed():
    assert list(FORMATS) == [
        "amlworld",
        "amlsim",
        "samld",
        "ethereum-etl",
        "opensanctions",
        "ofac-sdn",
    ]
    with pytest.raises(ValueError, match="unknown format"):
        import_dataset("nope", FIX, Path("/nonexistent"))


# -- AMLworld ------------------------------------------------------------------------------------

AW = FIX / "amlworld"
AW_TRANS = "HI-Tiny_Trans.csv"


def test_amlworld_import(tmp_path):
    report, t = imported("amlworld", AW, tmp_path / "aw")
    assert report.rows_read == {"HI-Tiny_Patterns.txt": 9, AW_TRANS: 26, "HI-Tiny_accounts.csv": 20}
    assert report.rows_written == {
        "transactions": 26,
        "truth_transaction_labels": 11,
        "accounts": 21,
        "parties": 20,
        "truth_scenarios": 4,
        "truth_account_labels": 15,
    }
    assert report.rows_rejected == 0
    assert set(report.tables_not_written) == {
        "watchlist",
        "address_tags",
        "sar_filings",
        "truth_defects",
    }
    root = DataRoot(tmp_path / "aw")
    assert sorted(d.isoformat() for d in root.landing_days()) == [
        "2022-09-01",
        "2022-09-02",
        "2022-09-03",
    ]
    assert pl.read_parquet(root.transactions_file(date(2022, 9, 1))).height == 15

    tx = t["transactions"]
    # line 13: cross-currency wire, laundering, no pattern
    r = row(tx, txn_id="HI-Tiny_Trans:13")
    assert r["ts"] == utc(2022, 9, 1, 7, 45)
    assert (r["src_account"], r["dst_account"]) == ("3:80011AB10", "1120:80A000010")
    assert (r["amount"], r["currency"], r["amount_usd"]) == (8769.66, "USD", 8769.66)
    assert (r["channel"], r["txn_type"], r["memo"]) == ("wire", "transfer", "received 8120.50 EUR")
    # line 6: euro, zero-padded bank 01120 -> 1120
    r = row(tx, txn_id="HI-Tiny_Trans:6")
    assert (r["src_account"], r["currency"], r["amount_usd"]) == (
        "1120:80A000010",
        "EUR",
        pytest.approx(1250 * 1.08),
    )
    # cash gets the synthetic location; bitcoin rows are crypto between wallets
    assert row(tx, txn_id="HI-Tiny_Trans:9")["location"] == "XX-ZZ-UNKNOWN:70-BR0"
    r = row(tx, txn_id="HI-Tiny_Trans:7")
    assert (r["channel"], r["chain"], r["currency"], r["amount"]) == (
        "crypto",
        "bitcoin",
        "BTC",
        0.0152,
    )
    assert row(tx, txn_id="HI-Tiny_Trans:17")["ts"] == utc(2022, 9, 2, 0, 0)
    assert dict(tx.group_by("channel").len().iter_rows()) == {
        "internal": 2, "check": 2, "ach": 5, "card": 2, "wire": 11, "crypto": 2, "cash": 2,
    }  # fmt: skip

    acc = t["accounts"]
    w = row(acc, account_id="1411:81B3C2D10")
    assert (w["account_type"], w["chain"], w["address"], w["currency"]) == (
        "wallet",
        "bitcoin",
        "1411:81B3C2D10",
        "BTC",
    )
    a = row(acc, account_id="10:8000EBD30")
    assert (a["owner_party_id"], a["bank_id"], a["country"], a["currency"], a["opened_date"]) == (
        "E-800737690", "10", "XX", "USD", date(2022, 9, 1),
    )  # fmt: skip
    assert row(acc, account_id="10:8000EDEC0")["owner_party_id"] == "E-800737690"
    par = t["parties"]
    assert row(par, party_id="E-800737690")["kind"] == "organization"
    assert row(par, party_id="E-80012A3C0")["kind"] == "person"
    assert (
        row(par, party_id="P-1411:81B3C2D10")["name"] == "AMLworld account 81B3C2D10 at bank 1411"
    )

    sc = t["truth_scenarios"]
    assert sc.select("scenario_id", "typology", "n_transactions", "n_accounts").rows() == [
        ("amlworld-00001-fan_out", "fan_out", 3, 4),
        ("amlworld-00002-fan_in", "fan_in", 3, 4),
        ("amlworld-00003-cycle", "cycle", 3, 3),
        ("amlworld-unattributed", "unattributed", 2, 4),
    ]
    assert row(sc, scenario_id="amlworld-00003-cycle")["start_ts"] == utc(2022, 9, 2, 0, 15)
    assert (
        json.loads(row(sc, scenario_id="amlworld-00001-fan_out")["params"])["detail"]
        == "Max 3-degree Fan-Out"
    )
    tl = t["truth_transaction_labels"]
    assert set(tl.get_column("label")) == {"suspicious"}
    assert row(tl, txn_id="HI-Tiny_Trans:19")["hop"] == 1
    assert row(tl, txn_id="HI-Tiny_Trans:19")["scenario_id"] == "amlworld-00003-cycle"
    assert row(tl, txn_id="HI-Tiny_Trans:9")["typology"] == "unattributed"
    al = t["truth_account_labels"]
    assert row(al, account_id="220:80F00AA10")["role"] == "hub"
    assert row(al, account_id="220:80F00BB10")["role"] == "hub"
    assert row(al, account_id="10:8000F0020")["role"] == "spoke"
    # labels sit beside the landing file of the same day
    assert (
        root.truth / "transaction_labels" / "truth_transaction_labels_2022-09-02.parquet"
    ).is_file()
    man = json.loads(root.manifest.read_text())
    entry = man["imports"][-1]
    assert entry["source_format"] == "amlworld" and len(entry["inputs"]) == 3
    assert all(len(i["sha256"]) == 64 for i in entry["inputs"])


def test_amlworld_trans_file_alone(tmp_path):
    src = tmp_path / "only"
    src.mkdir()
    shutil.copy(AW / AW_TRANS, src / AW_TRANS)
    report, t = imported("amlworld", src / AW_TRANS, tmp_path / "o")
    assert report.rows_written["parties"] == 21  # one party per account
    sc = t["truth_scenarios"]
    assert sc.select("scenario_id", "n_transactions").rows() == [("amlworld-unattributed", 11)]


def test_amlworld_reimport_replaces_previous_days(tmp_path):
    out = tmp_path / "o"
    imported("amlworld", AW, out)
    stale = DataRoot(out).transactions_file(date(2020, 1, 1))
    stale.write_bytes(b"old")
    imported("amlworld", AW, out)
    assert not stale.exists()


@pytest.mark.parametrize(
    ("file", "line", "text", "fragment"),
    [
        (
            AW_TRANS,
            1,
            "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Payed,Payment Currency,Payment Format,Is Laundering",
            "header column 8 is 'Amount Payed', expected 'Amount Paid'",
        ),
        (
            AW_TRANS,
            1,
            "Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,Amount Paid,Payment Currency,Payment Format",
            "missing ['Is Laundering']",
        ),
        (
            AW_TRANS,
            7,
            "2022/09/01 02:11,01411,81B3C2D10,01411,81B3C2D20,0.0152,Bitcoin,abc,Bitcoin,Bitcoin,0",
            "Amount Paid 'abc' is not a number",
        ),
        (
            AW_TRANS,
            3,
            "2022-13-01 00:20,010,8000EBD30,0070,100428660,14675.57,US Dollar,14675.57,US Dollar,Cheque,0",
            "Timestamp '2022-13-01 00:20' is not a timestamp",
        ),
        (
            AW_TRANS,
            5,
            "2022/09/01 00:28,03,80011AB10,03,8001DEF20,7739.29,US Dollar,7739.29,Dollarz,Credit Card,0",
            "Payment Currency 'Dollarz' is not a known AMLworld currency word",
        ),
        (
            AW_TRANS,
            4,
            "2022/09/01 00:22,0070,100428660,0070,1004286A8,806.00,US Dollar,806.00,US Dollar,ACH",
            "has 10 fields, expected 11",
        ),
        (
            AW_TRANS,
            8,
            "2022/09/01 03:40,010,8000EDEC0,01120,80A000020,925.93,Euro,1000.00,US Dollar,Telegraph,0",
            "Payment Format 'Telegraph'",
        ),
        (
            AW_TRANS,
            9,
            "2022/09/01 04:02,0070,1004286A8,010,8000EDEC0,9500.00,US Dollar,9500.00,US Dollar,Cash,yes",
            "Is Laundering 'yes' is not 0 or 1",
        ),
        (
            AW_TRANS,
            6,
            b"2022/09/01 01:05,01120,80A000010,01120,80A000020,1250.00,Euro,1250.00,\xe9uro,Wire,0",
            "is not valid UTF-8 (byte 0xe9 at column 71)",
        ),
        (
            "HI-Tiny_accounts.csv",
            3,
            "National Bank #10,ten,8000EDEC0,800737690,Corporation #33520",
            "Bank ID 'ten' is not an integer",
        ),
        (
            "HI-Tiny_Patterns.txt",
            1,
            "BEGIN LAUNDERING ATTEMPT - FAN-SIDEWAYS:  Max 3-degree",
            "unknown laundering pattern type 'FAN-SIDEWAYS'",
        ),
        ("HI-Tiny_Patterns.txt", 5, "", "BEGIN inside the block opened on line 1 (missing END)"),
        (
            "HI-Tiny_Patterns.txt",
            3,
            "2022/09/01 05:30,0220,80F00AA10,0070,10042FF00,4120.10,US Dollar,4120.10,US Dollar,ACH",
            "has 10 fields, expected 11",
        ),
    ],
)
def test_amlworld_broken(tmp_path, file, line, text, fragment):
    src = variant(AW, tmp_path, file, line, text)
    want_line = 7 if "missing END" in fragment else line  # the next BEGIN finds the block open
    expect_error("amlworld", src, tmp_path, file, want_line, fragment)


def test_amlworld_unclosed_block(tmp_path):
    src = variant(AW, tmp_path, "HI-Tiny_Patterns.txt", 17, "")
    expect_error(
        "amlworld", src, tmp_path, "HI-Tiny_Patterns.txt", 13, "CYCLE block is never closed"
    )


def test_amlworld_row_outside_block(tmp_path):
    src = variant(
        AW,
        tmp_path,
        "HI-Tiny_Patterns.txt",
        6,
        "2022/09/01 09:00,010,8000F0020,0220,80F00BB10,2500.00,US Dollar,2500.00,US Dollar,Wire,1",
    )
    expect_error("amlworld", src, tmp_path, "HI-Tiny_Patterns.txt", 6, "outside a BEGIN/END")


def test_amlworld_empty_file(tmp_path):
    src = variant(AW, tmp_path, AW_TRANS, None, b"")
    expect_error("amlworld", src, tmp_path, AW_TRANS, 1, "file is empty")


def test_amlworld_skip_mode_writes_rejected(tmp_path):
    src = variant(
        AW,
        tmp_path,
        AW_TRANS,
        7,
        "2022/09/01 02:11,01411,81B3C2D10,01411,81B3C2D20,0.0152,Bitcoin,abc,Bitcoin,Bitcoin,0",
    )
    report, t = imported("amlworld", src, tmp_path / "o", errors="skip")
    assert report.rows_rejected == 1
    assert t["transactions"].height == 25
    rej = pl.read_csv(tmp_path / "o" / "rejected" / f"{AW_TRANS}.csv")
    assert rej.row(0) == (
        7,
        "Amount Paid 'abc' is not a number",
        "2022/09/01 02:11,01411,81B3C2D10,01411,81B3C2D20,0.0152,Bitcoin,abc,Bitcoin,Bitcoin,0",
    )


# -- AMLSim --------------------------------------------------------------------------------------

AS = FIX / "amlsim"


def test_amlsim_import(tmp_path):
    report, t = imported("amlsim", AS, tmp_path / "o")
    assert report.rows_written == {
        "transactions": 17,
        "truth_transaction_labels": 10,
        "accounts": 8,
        "parties": 8,
        "truth_scenarios": 4,
        "truth_account_labels": 12,
    }
    assert report.labels["transaction_labels_hard_negative"] == 3
    assert len(DataRoot(tmp_path / "o").landing_days()) == 10
    tx = t["transactions"]
    r = row(tx, txn_id="2")
    assert (r["ts"], r["src_account"], r["dst_account"], r["amount"], r["currency"], r["channel"]) == (
        utc(2017, 1, 1), "2", "3", 1200.5, "USD", "wire",
    )  # fmt: skip
    r = row(tx, txn_id="10")
    assert (r["txn_type"], r["src_account"], r["dst_account"], r["location"], r["conducted_by"]) == (
        "deposit", None, "8", "US-ZZ-UNKNOWN:BANKB-BR7", None,
    )  # fmt: skip
    r = row(tx, txn_id="11")
    assert (r["txn_type"], r["src_account"], r["dst_account"]) == ("withdrawal", "3", None)
    assert (row(tx, txn_id="9")["channel"], row(tx, txn_id="15")["channel"]) == ("check", "card")
    acc = t["accounts"]
    a = row(acc, account_id="5")
    assert (a["opened_date"], a["closed_date"], a["bank_id"], a["home_location"]) == (
        date(2016, 7, 15), date(2017, 1, 10), "bank_c", "bank_c-BR3",
    )  # fmt: skip
    assert row(acc, account_id="1")["closed_date"] is None  # 2117: still open
    p = row(t["parties"], party_id="P-1")
    assert (p["name"], p["id_type"], p["id_number"], p["birth_date"]) == (
        "John Smith",
        "ssn",
        "123-45-6789",
        date(1980, 5, 17),
    )
    assert row(t["parties"], party_id="P-8")["kind"] == "organization"
    sc = t["truth_scenarios"]
    assert sc.select("scenario_id", "typology", "label").rows() == [
        ("amlsim-alert-0", "fan_in", "suspicious"),
        ("amlsim-alert-1", "hard_negative", "hard_negative"),
        ("amlsim-alert-2", "cycle", "suspicious"),
        ("amlsim-unattributed", "unattributed", "suspicious"),
    ]
    assert json.loads(row(sc, scenario_id="amlsim-alert-1")["params"])["alert_type"] == "cycle"
    tl = t["truth_transaction_labels"]
    assert (row(tl, txn_id="7")["label"], row(tl, txn_id="7")["role"]) == (
        "hard_negative",
        "cycle_decoy",
    )
    assert row(tl, txn_id="13")["hop"] == 1
    al = t["truth_account_labels"]
    assert row(al, account_id="1", scenario_id="amlsim-alert-0")["role"] == "hub"
    assert row(al, account_id="7", scenario_id="amlsim-alert-1")["role"] == "hard_negative"


@pytest.mark.parametrize(
    ("file", "line", "text", "fragment"),
    [
        (
            "transactions.csv",
            1,
            "tran_id,orig_acct,bene_acct,tx_type,amount,tran_timestamp,is_sar,alert_id",
            "header lacks column 'base_amt'",
        ),
        (
            "transactions.csv",
            4,
            "3,4,1,TRANSFER,9,500.00,2017-01-02T00:00:00Z,True,0",
            "has 9 fields, expected 8",
        ),
        (
            "transactions.csv",
            5,
            "4,5,1,TRANSFER,lots,2017-01-02T00:00:00Z,True,0",
            "base_amt 'lots' is not a number",
        ),
        (
            "transactions.csv",
            6,
            "5,6,1,TRANSFER,9300.00,2017-01-32T00:00:00Z,True,0",
            "tran_timestamp '2017-01-32T00:00:00Z' is not a timestamp",
        ),
        (
            "transactions.csv",
            7,
            "6,2,99,TRANSFER,300.00,2017-01-03T00:00:00Z,False,1",
            "bene_acct '99' is not in accounts.csv",
        ),
        (
            "transactions.csv",
            8,
            "7,3,7,BARTER,290.00,2017-01-04T00:00:00Z,False,1",
            "tx_type 'BARTER'",
        ),
        (
            "transactions.csv",
            3,
            b"2,2,3,WIRE,1200.50,2017-01-01T00:00:00Z,False,-1\xff",
            "is not valid UTF-8",
        ),
        (
            "accounts.csv",
            3,
            "2,C_2,I,A,USD,False,12,2016-04-11,2117-01-01,12000.0,1,bank_a,Ana,Lopez,4 Oak Ave,Laredo,TX,Atlantis,78041,F,1991-11-02,234-56-7890,-99.480,27.530",
            "country 'Atlantis'",
        ),
        (
            "accounts.csv",
            4,
            "3,C_3,I,A,DUCATS,False,7,2016-05-20,2117-01-01,8000.0,2,bank_b,Wei,Chen,99 Pine Rd,El Paso,TX,US,79901,M,1975-01-30,345-67-8901,-106.485,31.759",
            "acct_rptng_crncy 'DUCATS'",
        ),
    ],
)
def test_amlsim_broken(tmp_path, file, line, text, fragment):
    expect_error("amlsim", variant(AS, tmp_path, file, line, text), tmp_path, file, line, fragment)


def test_amlsim_empty_and_missing(tmp_path):
    expect_error(
        "amlsim",
        variant(AS, tmp_path, "transactions.csv", None, b""),
        tmp_path,
        "transactions.csv",
        1,
        "file is empty",
    )
    src = tmp_path / "noaccounts"
    shutil.copytree(AS, src)
    (src / "accounts.csv").unlink()
    expect_error("amlsim", src, tmp_path, "accounts.csv", None, "has no accounts.csv")


# -- SAML-D --------------------------------------------------------------------------------------

SD = FIX / "samld"


def test_samld_import(tmp_path):
    report, t = imported("samld", SD, tmp_path / "o")
    assert report.rows_written == {
        "transactions": 21,
        "truth_transaction_labels": 12,
        "accounts": 28,
        "parties": 28,
        "truth_scenarios": 5,
        "truth_account_labels": 15,
    }
    tx = t["transactions"]
    r = row(tx, txn_id="SAML-D:2")  # cash deposit: the sender is the depositor
    assert (r["ts"], r["src_account"], r["dst_account"], r["conducted_by"], r["txn_type"], r["channel"]) == (
        utc(2022, 10, 7, 10, 35, 19), None, "2769355426", "P-8724731955", "deposit", "cash",
    )  # fmt: skip
    assert (r["amount"], r["currency"], r["amount_usd"], r["location"]) == (
        1459.15, "GBP", pytest.approx(1459.15 * 1.27), "GB-ZZ-UNKNOWN:SAMLDGB-BR0",
    )  # fmt: skip
    r = row(tx, txn_id="SAML-D:3")
    assert (r["channel"], r["src_country"], r["dst_country"], r["memo"]) == (
        "wire",
        "GB",
        "AE",
        "received in AED",
    )
    r = row(tx, txn_id="SAML-D:18")
    assert (r["txn_type"], r["src_account"], r["dst_account"], r["conducted_by"]) == (
        "withdrawal",
        "2769355426",
        None,
        None,
    )
    r = row(tx, txn_id="SAML-D:21")
    assert (r["currency"], r["src_country"], r["dst_country"], r["memo"]) == (
        "ALL",
        "AL",
        "MA",
        "received in MAD",
    )
    assert row(tx, txn_id="SAML-D:20")["channel"] == "card"
    assert row(tx, txn_id="SAML-D:22")["ts"] == utc(2022, 10, 9)
    assert row(t["accounts"], account_id="9000000001")["country"] == "TR"
    sc = t["truth_scenarios"]
    assert sorted(sc.select("scenario_id", "n_transactions").rows()) == [
        ("samld-cycle-00001", 3),
        ("samld-fan_in-00001", 3),
        ("samld-funnel_account-00001", 2),
        ("samld-other-00001", 1),
        ("samld-structuring-00001", 3),
    ]
    tl = t["truth_transaction_labels"]
    assert (row(tl, txn_id="SAML-D:11")["role"], row(tl, txn_id="SAML-D:11")["typology"]) == (
        "deposit_send",
        "funnel_account",
    )
    assert row(tl, txn_id="SAML-D:14")["hop"] == 2
    assert "SAML-D:2" not in tl.get_column("txn_id").to_list()  # Normal_* stays out of truth
    al = t["truth_account_labels"]
    assert row(al, account_id="4000000001")["role"] == "structurer"
    assert (
        row(al, account_id="3000000001", scenario_id="samld-structuring-00001")["role"]
        == "collector"
    )
    assert row(al, account_id="5000000002")["role"] == "funnel"


@pytest.mark.parametrize(
    ("line", "text", "fragment"),
    [
        (
            1,
            "Time,Date,Sender_account,Receiver_account,Amt,Payment_currency,Received_currency,Sender_bank_location,Receiver_bank_location,Payment_type,Is_laundering,Laundering_type",
            "header lacks column 'Amount'",
        ),
        (
            4,
            "10:35:20,2022-10-07,287305149,4404767002,14.328,44,UK pounds,UK pounds,UK,UK,Cheque,0,Normal_Small_Fan_Out",
            "has 13 fields, expected 12",
        ),
        (
            5,
            "10:35:21,2022-10-07,5376652437,9600420220,1l895.0,UK pounds,UK pounds,UK,UK,ACH,0,Normal_Fan_In",
            "Amount '1l895.0' is not a number",
        ),
        (
            6,
            "25:35:23,2022-10-07,8057793308,9350896213,56.9,UK pounds,UK pounds,UK,UK,Credit card,0,Normal_Small_Fan_Out",
            "Date/Time '2022-10-07 25:35:23' is not a timestamp",
        ),
        (
            7,
            "11:02:00,2022-10-07,4000000001,3000000001,9500.00,Zorkmids,UK pounds,UK,UK,Cash Deposit,1,Structuring",
            "Payment_currency 'Zorkmids' is not a known SAML-D currency word",
        ),
        (
            8,
            "11:30:00,2022-10-07,4000000001,3000000001,9400.00,UK pounds,UK pounds,Narnia,UK,Cash Deposit,1,Structuring",
            "Sender_bank_location 'Narnia'",
        ),
        (
            9,
            "12:15:00,2022-10-07,4000000002,3000000001,9300.00,UK pounds,UK pounds,UK,UK,Pigeon,1,Structuring",
            "Payment_type 'Pigeon'",
        ),
        (
            10,
            b"13:00:00,2022-10-07,5000000001,5000000002,8000.00,UK pounds,UK pounds,UK,UK,Cash Deposit,1,D\xe9posit",
            "is not valid UTF-8",
        ),
    ],
)
def test_samld_broken(tmp_path, line, text, fragment):
    expect_error(
        "samld",
        variant(SD, tmp_path, "SAML-D.csv", line, text),
        tmp_path,
        "SAML-D.csv",
        line,
        fragment,
    )


def test_samld_empty(tmp_path):
    expect_error(
        "samld",
        variant(SD, tmp_path, "SAML-D.csv", None, b"\n\n"),
        tmp_path,
        "SAML-D.csv",
        1,
        "file is empty",
    )


# -- ethereum-etl + TagPack ------------------------------------------------------------------------

ET = FIX / "ethereum-etl"
EX = "0x28c6c06298d514db089934071355e5743bf21d60"


def test_ethereum_import(tmp_path):
    report, t = imported("ethereum-etl", ET / "token_transfers.csv", tmp_path / "o")
    assert report.rows_read == {"tagpack.yaml": 5, "token_transfers.csv": 10}
    assert report.rows_written == {
        "transactions": 7,
        "accounts": 6,
        "parties": 6,
        "address_tags": 4,
    }
    assert report.rows_skipped == {
        "tagpack.yaml: tags of unsupported currencies": 1,
        "transfers of tokens not in the token table": 2,
        "zero-value transfers": 1,
    }
    tx = t["transactions"]
    h1 = "0x" + "a1" * 32
    r = row(tx, txn_id=f"{h1}:12")
    assert (r["ts"], r["src_account"], r["dst_account"], r["amount"], r["currency"], r["amount_usd"]) == (
        utc(2021, 1, 1), "0x" + "1" * 40, EX, 1500.0, "USDT", 1500.0,
    )  # fmt: skip
    assert (r["channel"], r["chain"], r["tx_hash"], r["txn_type"]) == (
        "crypto",
        "ethereum",
        h1,
        "transfer",
    )
    assert row(tx, txn_id="0x" + "a2" * 32 + ":3")["ts"] == utc(2021, 1, 1, 0, 1)  # unix seconds
    r = row(tx, txn_id="0x" + "a3" * 32 + ":0")
    assert (r["amount"], r["currency"], r["ts"]) == (1000.0, "DAI", utc(2021, 1, 1, 23, 59, 59))
    assert row(tx, txn_id="0x" + "a4" * 32 + ":7")["amount_usd"] == pytest.approx(0.5 * 65000)
    assert row(tx, txn_id="0x" + "a9" * 32 + ":5")["amount"] == 20.5
    acc = t["accounts"]
    assert row(acc, account_id=EX)["bank_id"] == "Binance 14"
    c = row(acc, account_id="0xabcdef0123456789abcdef0123456789abcdef01")  # lowercased
    assert (c["account_type"], c["chain"], c["address"], c["bank_id"], c["country"]) == (
        "wallet", "ethereum", "0xabcdef0123456789abcdef0123456789abcdef01", "SELF", "XX",
    )  # fmt: skip
    tags = t["address_tags"]
    assert dict(zip(tags["label"], tags["category"], strict=True)) == {
        "Binance 14": "exchange",
        "Tornado.Cash Router": "mixer",
        "Wormhole Token Bridge": "bridge",
        "Example BTC exchange deposit": "exchange",
    }
    assert row(tags, label="Example BTC exchange deposit")["chain"] == "bitcoin"
    assert row(tags, label="Tornado.Cash Router")["source"] == "nexusfin test TagPack"


def test_ethereum_extra_tokens(tmp_path):
    report, t = imported("ethereum-etl", ET, tmp_path / "o", tokens=ET / "extra_tokens.csv")
    assert report.rows_written["transactions"] == 8
    r = row(t["transactions"], currency="MATIC")
    assert (r["amount"], r["amount_usd"]) == (3.0, pytest.approx(2.1))


@pytest.mark.parametrize(
    ("file", "line", "text", "fragment"),
    [
        (
            "token_transfers.csv",
            1,
            "token_address,from_address,to_address,amount,transaction_hash,log_index,block_timestamp,block_number,block_hash",
            "header lacks column 'value'",
        ),
        (
            "token_transfers.csv",
            3,
            "0xdac17f958d2ee523a2206206994597c13d831ec7,0x28C6c06298d514Db089934071355E5743bf21d60,0x2222,250000000,0x"
            + "a2" * 32
            + ",3,1609459260,11565024,0x"
            + "b" * 64,
            "to_address '0x2222' is not an Ethereum address",
        ),
        (
            "token_transfers.csv",
            4,
            "0x6b175474e89094c44da98b954eedeac495271d0f,0x1111111111111111111111111111111111111111,0xd90e2f925DA726b50C4Ed8D0Fb90Ad053324F31b,1e21,0x"
            + "a3" * 32
            + ",0,2021-01-01 23:59:59 UTC,11571500,0x"
            + "b" * 64,
            "value '1e21' is not an integer",
        ),
        (
            "token_transfers.csv",
            6,
            "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48,0xAbCdEf0123456789abcdef0123456789ABCDEF01,0x3ee18B2214AFF97000D974cf647E7C347E8fa585,2500000000,0x"
            + "a5" * 32
            + ",1,yesterday,11574200,0x"
            + "b" * 64,
            "block_timestamp 'yesterday' is not a timestamp",
        ),
        ("tagpack.yaml", 10, "  - address: [unclosed", "malformed YAML"),
        ("tagpack.yaml", 13, "    labelled: Tornado.Cash Router", "has no label"),
    ],
)
def test_ethereum_broken(tmp_path, file, line, text, fragment):
    want = line
    if file == "tagpack.yaml" and "label" in fragment:
        want = 12  # the tag that lacks a label starts on line 12
    if fragment == "malformed YAML":
        want = 11  # PyYAML reports where the flow sequence is found unclosed
    expect_error(
        "ethereum-etl", variant(ET, tmp_path, file, line, text), tmp_path, file, want, fragment
    )


def test_ethereum_empty_and_binary(tmp_path):
    expect_error(
        "ethereum-etl",
        variant(ET, tmp_path, "tagpack.yaml", None, b""),
        tmp_path,
        "tagpack.yaml",
        1,
        "file is empty",
    )
    src = variant(ET, tmp_path / "b", "token_transfers.csv", 2, b"\x00\x9f\x92\x96")
    expect_error("ethereum-etl", src, tmp_path, "token_transfers.csv", 2, "is not valid UTF-8")


# -- OpenSanctions -------------------------------------------------------------------------------

OS = FIX / "opensanctions"
OS_FILE = "entities.ftm.json"


def test_opensanctions_import(tmp_path):
    out = tmp_path / "o"
    report, t = imported("opensanctions", OS / OS_FILE, out)
    assert report.rows_written == {"watchlist": 4, "address_tags": 2}
    assert report.rows_skipped == {
        "wallets of currencies without a supported chain (no address tag)": 1,
        "entities that are not targets": 1,
        "Address records": 1,
    }
    assert "transactions" in report.tables_not_written
    wl = t["watchlist"]
    p = row(wl, entity_id="OS-NK-person1")
    assert p["name"] == "Juan Perez Lopez" and p["kind"] == "person"
    assert p["aliases"] == ["El Ejemplo", "Juanito"]
    assert p["programs"] == ["SDGT", "SDNTK", "topic:sanction", "topic:crime.terror"]
    assert (p["country"], p["birth_date"], p["designation_date"]) == (
        "MX",
        date(1975, 3, 14),
        date(2019, 5, 1),
    )
    assert p["id_numbers"] == ["PELJ750314HSLRPN09", "G12345678"]
    assert p["crypto_wallets"] == ["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"]
    assert (p["phones"], p["source"]) == (["+5215512345678"], "opensanctions")
    c = row(wl, entity_id="OS-NK-company1")
    assert (c["kind"], c["country"], c["birth_date"], c["designation_date"]) == (
        "organization",
        "MX",
        None,
        None,
    )
    assert row(wl, entity_id="OS-NK-vessel1")["kind"] == "vessel"
    assert row(wl, entity_id="OS-NK-cartel1")["crypto_wallets"] == [
        "0x7F367cC41522cE07553e823bf3be79A889DEbe1B", "t1YgH3Pz5Kc1ZsExampleZecAddress00",
    ]  # fmt: skip
    tags = t["address_tags"]
    r = row(tags, chain="ethereum")
    assert (r["address"], r["category"], r["entity_id"], r["label"]) == (
        "0x7f367cc41522ce07553e823bf3be79a889debe1b", "sanctioned", "OS-NK-cartel1", "Cartel del Ejemplo",
    )  # fmt: skip


def test_watchlists_merge_address_tags(tmp_path):
    out = tmp_path / "o"
    imported("ethereum-etl", ET, out)
    imported("opensanctions", OS, out)
    _report, t = imported("ofac-sdn", FIX / "ofac-sdn", out)
    tags = t["address_tags"]
    # the TagPack tags survive; OFAC replaces the tags OpenSanctions put on the same addresses
    assert "opensanctions" not in set(tags["source"])
    assert tags.filter(pl.col("source") != "ofac_sdn").height == 4
    assert tags.height == 7
    assert t["transactions"].height == 7  # the reference-only imports left the transactions alone
    man = json.loads((out / "manifest.json").read_text())
    assert [i["source_format"] for i in man["imports"]] == [
        "ethereum-etl",
        "opensanctions",
        "ofac-sdn",
    ]


@pytest.mark.parametrize(
    ("line", "text", "fragment"),
    [
        (
            2,
            '{"id": "NK-person1", "schema": "Person", "properties": {"name": ["Juan Perez Lopez"]',
            "malformed JSON",
        ),
        (
            3,
            '{"id": "NK-company1", "schema": "Company", "properties": {"name": "Importadora"}}',
            "property 'name' of NK-company1 is not a list of strings",
        ),
        (5, '{"schema": "Sanction", "properties": {}}', "entity has no 'id' string"),
        (
            6,
            b'{"id": "NK-sanc2", "schema": "Sanction", "properties": {"program": ["S\xc3"]}}',
            "is not valid UTF-8",
        ),
    ],
)
def test_opensanctions_broken(tmp_path, line, text, fragment):
    expect_error(
        "opensanctions",
        variant(OS, tmp_path, OS_FILE, line, text),
        tmp_path,
        OS_FILE,
        line,
        fragment,
    )


def test_opensanctions_empty(tmp_path):
    expect_error(
        "opensanctions",
        variant(OS, tmp_path, OS_FILE, None, b""),
        tmp_path,
        OS_FILE,
        1,
        "file is empty",
    )


# -- OFAC SDN ------------------------------------------------------------------------------------

OF = FIX / "ofac-sdn"


def test_ofac_import(tmp_path):
    report, t = imported("ofac-sdn", OF, tmp_path / "o")
    assert report.rows_read == {"sdn.csv": 5, "add.csv": 5, "alt.csv": 5}
    assert report.rows_written == {"watchlist": 5, "address_tags": 3}
    assert report.notes == ["1 rows of add.csv point at no ent_num of sdn.csv"]
    wl = t["watchlist"]
    g = row(wl, entity_id="SDN-7157")
    assert (g["name"], g["kind"], g["programs"], g["country"], g["birth_date"]) == (
        "GUZMAN LOERA, Joaquin", "person", ["SDNTK"], "MX", date(1957, 4, 4),
    )  # fmt: skip
    assert g["aliases"] == ["EL CHAPO", "GUZMAN, Joaquin", "Joaquin GUZMAN LOERA"]
    assert g["id_numbers"] == ["GULJ570404HSLZRQ07", "A1234567"]
    assert g["addresses"] == ["Calle 1, Culiacan, Sinaloa, Mexico"]
    c = row(wl, entity_id="SDN-12345")
    assert (c["kind"], c["programs"]) == ("organization", ["SDNTK", "SDGT", "FTO"])
    assert c["crypto_wallets"] == [
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        "0x7f367cc41522ce07553e823bf3be79a889debe1b",
        "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
        "t1YgH3Pz5Kc1ZsExampleZecAddress00",
    ]
    assert c["aliases"] == ["CDE", "LA EMPRESA"] and c["phones"] == ["+5215512345678"]
    p = row(wl, entity_id="SDN-24000")
    assert (p["birth_date"], p["id_numbers"], p["phones"]) == (
        None,
        ["PELJ750314AB1", "G12345678"],
        ["+52 55 1234 5678"],
    )
    assert row(wl, entity_id="SDN-9999")["kind"] == "vessel"
    assert row(wl, entity_id="SDN-36")["country"] == "CU"
    tags = t["address_tags"]
    assert sorted(zip(tags["chain"], tags["entity_id"], strict=True)) == [
        ("bitcoin", "SDN-12345"), ("ethereum", "SDN-12345"), ("tron", "SDN-12345"),
    ]  # fmt: skip
    assert set(tags["category"]) == {"sanctioned"}


@pytest.mark.parametrize(
    ("file", "line", "text", "fragment"),
    [
        (
            "sdn.csv",
            1,
            '3x6,"AEROCARIBBEAN AIRLINES","-0- ","CUBA","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- "',
            "ent_num '3x6' is not an integer",
        ),
        ("sdn.csv", 4, '9999,"EJEMPLO SHIP","vessel","IRAN","-0- "', "has 5 fields, expected 12"),
        (
            "sdn.csv",
            5,
            '24000,"PEREZ LOPEZ, Juan","wizard","SDGT","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- "',
            "SDN_Type 'wizard'",
        ),
        ("alt.csv", 2, '7157,100,"a.k.a.","EL CHAPO"', "has 4 fields, expected 5"),
        (
            "add.csv",
            3,
            b'12345,5002,"-0- ","Guadalajara, Jal\xedsco","Mexico","-0- "',
            "is not valid UTF-8",
        ),
    ],
)
def test_ofac_broken(tmp_path, file, line, text, fragment):
    expect_error(
        "ofac-sdn", variant(OF, tmp_path, file, line, text), tmp_path, file, line, fragment
    )


def test_ofac_empty(tmp_path):
    expect_error(
        "ofac-sdn",
        variant(OF, tmp_path, "sdn.csv", None, b""),
        tmp_path,
        "sdn.csv",
        1,
        "file is empty",
    )
