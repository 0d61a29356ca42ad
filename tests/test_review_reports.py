"""goAML XML and SAR narrative drafts, on evidence bundles built by hand (no warehouse)."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from lxml import etree

from nexusfin.review.config import load_review_config
from nexusfin.review.evidence import AlertEvidence
from nexusfin.review.reports import (
    FUNDS_CODES,
    INDICATORS,
    TRANSMODE_BY_CHANNEL,
    ReportInvalid,
    goaml_schema_path,
    goaml_xml,
    report_indicators,
    sar_narrative,
    validate_goaml,
)

CONFIG = load_review_config()
DECIDED = datetime(2026, 1, 20, 15, 30, tzinfo=UTC)
ALERT_ID = "MA-0123456789abcdef0123"
SIDE = ("party_id", "party_name", "party_kind", "party_country", "bank_id", "account_type")
TXN_SCHEMA = {
    "txn_id": pl.String, "ts": pl.Datetime("us", "UTC"), "src_account": pl.String,
    "dst_account": pl.String, "amount": pl.Float64, "currency": pl.String, "amount_usd": pl.Float64,
    "channel": pl.String, "txn_type": pl.String, "src_country": pl.String, "dst_country": pl.String,
    "location": pl.String, "conducted_by": pl.String, "chain": pl.String, "tx_hash": pl.String,
    "memo": pl.String, "evidence_of": pl.List(pl.String),
    **{f"{s}_{c}": pl.String for s in ("src", "dst") for c in SIDE},
}


def _ts(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def make_evidence(*, ctr: float = 10_000.0, subject_name: str = "Maria Lopez",
                  subject_kind: str = "person", middle_name: str = "Delta Trading FZE",
                  facilitator: bool = True, rules: bool = True,
                  crypto: bool = False) -> AlertEvidence:
    """A plausible bundle: three cash deposits just under the CTR threshold into the subject's
    account (one by a third party), then wires A1 -> A2 -> A3 to an SDGT-designated facilitator."""
    band = ctr * 0.8
    owners = {  # account -> party_id, name, kind, country, bank, account type
        "A1": ("P1", subject_name, subject_kind, "US", "B01", "checking"),
        "A2": ("P2", middle_name, "organization", "AE", "AEB1", "business"),
        "A3": ("P3", "Hassan Example", "person", "LB", "LBB1", "checking"),
        "W1": ("P1", subject_name, subject_kind, "US", "SELF", "wallet"),
        "W2": ("P4", "Mixer Pool", "organization", "SC", "SELF", "wallet"),
    }

    def txn(txn_id, ts, src, dst, usd, channel, txn_type, src_country, dst_country, evidence_of,
            **kw):
        row = {"txn_id": txn_id, "ts": ts, "src_account": src, "dst_account": dst, "amount": usd,
               "currency": "USD", "amount_usd": usd, "channel": channel, "txn_type": txn_type,
               "src_country": src_country, "dst_country": dst_country, "location": None,
               "conducted_by": None, "chain": None, "tx_hash": None, "memo": None,
               "evidence_of": evidence_of}
        row.update(kw)
        for prefix, account in (("src", src), ("dst", dst)):
            values = owners.get(account, (None,) * len(SIDE))
            row.update({f"{prefix}_{c}": v for c, v in zip(SIDE, values, strict=True)})
        return row

    da_struct, da_chain = "DA-00000000000000000001", "DA-00000000000000000002"
    rows = [
        txn("T1", _ts(12, 14, 5), None, "A1", ctr - 100, "cash", "deposit", "US", "US", [da_struct],
            location="US-NY-10001:B01-BR0001"),
        txn("T2", _ts(13, 10), None, "A1", ctr - 250, "cash", "deposit", "US", "US", [da_struct],
            location="US-NY-10002:B01-BR0002", conducted_by="P9"),
        txn("T3", _ts(14, 16, 30), None, "A1", ctr - 50, "cash", "deposit", "US", "US", [da_struct],
            location="US-NY-10001:B01-BR0001"),
        txn("T4", _ts(15, 9), "A1", "A2", 14_000.0, "wire", "transfer", "US", "AE",
            [da_chain, "path"], memo="INV 7 & <misc>"),
        txn("T5", _ts(16, 11), "A2", "A3", 13_500.0, "wire", "transfer", "AE", "LB",
            [da_chain, "path"]),
    ]
    if crypto:
        rows.append(txn("T6", _ts(16, 12), "W2", "W1", 2_600.0, "crypto", "transfer", None, None,
                        ["path"], amount=0.04, currency="BTC", chain="bitcoin", tx_hash="ab" * 32))
    deposits = [r["amount_usd"] for r in rows[:3]]
    detector_alerts = [
        {"alert_id": da_struct, "detector": "structuring", "rule": "structuring.window",
         "params": {"window_days": 7, "band_low_usd": band, "ctr_threshold_usd": ctr,
                    "min_band_deposits": 3, "min_band_share": 0.5, "max_above_share": 0.0},
         "config_version": "v1-abcdef123456", "strength": 0.8, "account_id": "A1", "party_id": "P1",
         "start_ts": rows[0]["ts"], "end_ts": rows[2]["ts"], "detected_on": date(2026, 1, 14),
         "observed": {"n_band_deposits": 3.0, "band_total_usd": sum(deposits), "n_days": 3.0,
                      "threshold_usd": ctr},
         "total_usd": sum(deposits), "n_evidence": 3, "evidence_txn_ids": ["T1", "T2", "T3"],
         "path_accounts": None, "explanation": "3 cash deposits just below the threshold."},
        {"alert_id": da_chain, "detector": "rapid_movement", "rule": "movement.chain",
         "params": {"min_amount_usd": 3000.0, "chain_link_hours": 48, "chain_min_links": 2,
                    "chain_max_links": 12, "fan_min_degree": 5},
         "config_version": "v1-abcdef123456", "strength": 0.6, "account_id": "A1", "party_id": "P1",
         "start_ts": rows[3]["ts"], "end_ts": rows[4]["ts"], "detected_on": date(2026, 1, 16),
         "observed": {"start_usd": 14_000.0, "end_usd": 13_500.0, "links": 2.0, "hours": 26.0},
         "total_usd": 27_500.0, "n_evidence": 2, "evidence_txn_ids": ["T4", "T5"],
         "path_accounts": ["A1", "A2", "A3"], "explanation": "Money passed through 2 accounts."},
    ] if rules else []
    path_accounts, path_txns = (["A1", "A2", "A3"], ["T4", "T5"]) if facilitator else (None, None)
    alert = {
        "alert_id": ALERT_ID, "as_of": date(2026, 1, 16), "queue_rank": 3, "account_id": "A1",
        "party_id": "P1", "score": 0.91, "threshold": 0.3, "model_version": "m20260101-abc",
        "contributions": [
            {"feature": "cash_in_band_usd", "value": sum(deposits), "reference": 0.0,
             "contribution": 2.31},
            {"feature": "hops_to_terror", "value": 2.0, "reference": None, "contribution": 1.7}],
        "detector_alert_ids": [d["alert_id"] for d in detector_alerts],
        "detector_rules": sorted({d["rule"] for d in detector_alerts}),
        "facilitator_path_accounts": path_accounts, "facilitator_path_txn_ids": path_txns,
        "facilitator_entity_id": "SYN-00042" if facilitator else None,
        "facilitator_programs": ["SDGT"] if facilitator else None,
        "convergent": facilitator and rules, "explanation": "Score 0.910 ...",
    }
    path_row = {"direction": "to_terror", "hops": 2, "facilitator_account_id": "A3",
                "entity_id": "SYN-00042", "entity_name": "HASSAN EXAMPLE", "programs": ["SDGT"],
                "path_accounts": ["A1", "A2", "A3"], "path_txn_ids": ["T4", "T5"],
                "path_usd": [14_000.0, 13_500.0], "bottleneck_usd": 13_500.0,
                "last_ts": rows[4]["ts"]} if facilitator else None
    if not facilitator and not rules:
        rows = rows[3:4]
        rows[0]["evidence_of"] = []
    return AlertEvidence(
        alert=alert,
        account={"account_id": "A1", "owner_party_id": "P1", "bank_id": "B01",
                 "account_type": "checking", "country": "US", "currency": "USD",
                 "home_location": "US-NY-10001:B01-BR0001", "opened_date": date(2021, 3, 2)},
        party={"party_id": "P1", "name": subject_name, "kind": subject_kind, "country": "US",
               "address": "12 Main St, New York, NY 10001", "phone": "+12125550100",
               "id_type": "ssn", "id_number": "123-45-6789",
               "birth_date": date(1980, 5, 17) if subject_kind == "person" else None},
        detector_alerts=detector_alerts,
        transactions=pl.DataFrame(rows, schema=TXN_SCHEMA),
        activity=pl.DataFrame(),
        network_nodes=pl.DataFrame(),
        network_edges=pl.DataFrame(),
        facilitator_path=path_row,
        prior_alerts=[{"alert_id": "MA-aaaaaaaaaaaaaaaaaaaa", "as_of": date(2025, 12, 20),
                       "account_id": "A1", "party_id": "P1", "score": 0.45,
                       "model_version": "m20251201-abc", "detector_rules": ["structuring.daily"],
                       "convergent": False}],
        sar_filings=[{"sar_id": "SAR-2025-000017", "account_id": "A1", "party_id": "P1",
                      "filing_date": date(2025, 11, 30), "activity_start": date(2025, 11, 1),
                      "activity_end": date(2025, 11, 20), "category": "structuring",
                      "subcategory": "transactions below CTR threshold", "amount_usd": 18_250.0}],
        thresholds={"ctr_threshold_usd": ctr, "recordkeeping_threshold_usd": 3_000.0,
                    "structuring_band_low_usd": band},
        window=(date(2025, 12, 18), date(2026, 1, 16)),
    )


def _xml(ev: AlertEvidence, note: str = "Deposits split across branches.") -> bytes:
    return goaml_xml(ev, analyst="jdoe", note=note, decided_at=DECIDED, config=CONFIG)


def _narrative(ev: AlertEvidence, note: str = "Deposits split across branches.") -> str:
    return sar_narrative(ev, analyst="jdoe", note=note, decided_at=DECIDED, config=CONFIG)


def _holder_name(account: etree._Element) -> str | None:
    entity = account.find("t_entity/name")
    if entity is not None:
        return entity.text
    person = account.find("signatory/t_person")
    return None if person is None else _person_name(person)


def _person_name(person: etree._Element) -> str:
    parts = (person.find("first_name"), person.find("last_name"))
    return " ".join(p.text for p in parts if p is not None)


def _side_name(side: etree._Element, prefix: str) -> str | None:
    entity = side.find(f"{prefix}_entity/name")
    if entity is not None:
        return entity.text
    return _person_name(side.find(f"{prefix}_person"))


# --- goAML XML -------------------------------------------------------------------------------

def test_xml_is_valid_utf8_with_declaration():
    xml = _xml(make_evidence())
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert b"\n  <transaction>" in xml  # pretty printed
    assert validate_goaml(xml) == []
    root = etree.fromstring(xml)
    assert root.tag == "report"
    assert root.findtext("rentity_id") == CONFIG.reporting_entity.rentity_id
    assert root.findtext("entity_reference") == ALERT_ID
    assert root.findtext("submission_code") == "E"
    assert root.findtext("report_code") == "SAR"
    assert root.findtext("submission_date") == "2026-01-20T15:30:00"
    assert root.findtext("reporting_person/last_name") == "jdoe"


def test_xml_has_every_evidence_transaction_with_both_parties_and_amounts():
    ev = make_evidence()
    root = etree.fromstring(_xml(ev))
    by_number = {t.findtext("transactionnumber"): t for t in root.findall("transaction")}
    assert set(by_number) == set(ev.transactions["txn_id"])
    for row in ev.transactions.to_dicts():
        t = by_number[row["txn_id"]]
        assert t.findtext("amount_local") == f"{row['amount_usd']:.2f}"
        assert t.findtext("date_transaction") == row["ts"].strftime("%Y-%m-%dT%H:%M:%S")
        src = t.find("t_from_my_client")
        src = t.find("t_from") if src is None else src
        dst = t.find("t_to_my_client")
        dst = t.find("t_to") if dst is None else dst
        assert src.findtext("from_country") == row["src_country"]
        assert dst.findtext("to_country") == row["dst_country"]
        if row["src_account"] is None:  # cash handed in: the depositor, never an account
            assert src.find("from_account") is None
        else:
            assert src.findtext("from_account/account") == row["src_account"]
            assert src.findtext("from_account/institution_code") == row["src_bank_id"]
            assert _holder_name(src.find("from_account")) == row["src_party_name"]
        assert dst.findtext("to_account/account") == row["dst_account"]
        assert _holder_name(dst.find("to_account")) == row["dst_party_name"]


def test_cash_and_wire_codes():
    root = etree.fromstring(_xml(make_evidence()))
    t = {x.findtext("transactionnumber"): x for x in root.findall("transaction")}
    # cash deposit by the owner: cash (K) from the owner, deposit (A) into the client's account
    assert t["T1"].findtext("transmode_code") == "CASH"
    assert t["T1"].findtext("t_from/from_funds_code") == "K"
    assert _side_name(t["T1"].find("t_from"), "from") == "Maria Lopez"
    assert t["T1"].findtext("t_to_my_client/to_funds_code") == "A"
    assert t["T1"].findtext("transaction_location") == "US-NY-10001:B01-BR0001"
    # a third party handed the cash in: known by party id only
    assert t["T2"].findtext("t_from/from_person/party_ref") == "P9"
    assert t["T2"].findtext("t_from/from_person/name_unknown") == "true"
    # wire out of the client's account to another bank's customer
    assert t["T4"].findtext("transmode_code") == "WIRE"
    assert t["T4"].findtext("t_from_my_client/from_funds_code") == "W"
    assert t["T4"].findtext("t_to/to_funds_code") == "W"
    assert t["T4"].findtext("transaction_description") == "wire transfer; memo: INV 7 & <misc>"
    assert "path" in t["T5"].findtext("comments")
    # the subject's full record on its own account
    subject = t["T4"].find("t_from_my_client/from_account")
    assert subject.findtext("currency_code") == "USD"
    assert subject.findtext("signatory/t_person/birthdate") == "1980-05-17"
    assert subject.findtext("signatory/t_person/identification/number") == "123-45-6789"


def test_crypto_transfer_carries_the_virtual_asset():
    ev = make_evidence(crypto=True)
    root = etree.fromstring(_xml(ev))
    t6 = next(t for t in root.findall("transaction") if t.findtext("transactionnumber") == "T6")
    assert t6.findtext("transmode_code") == "VIRTUAL_ASSET"
    assert t6.findtext("t_from/from_funds_code") == "V"
    assert t6.findtext("virtual_asset/asset_code") == "BTC"
    assert t6.findtext("virtual_asset/asset_amount") == "0.04"
    assert t6.findtext("virtual_asset/tx_hash") == "ab" * 32
    # no country on chain: the wallet owners' countries
    assert t6.findtext("t_from/from_country") == "SC"
    assert t6.findtext("t_to/to_country") == "US"  # a self-hosted wallet is no client of the bank
    assert "VASP" in report_indicators(ev)


def test_xsd_enumerations_are_the_module_codes():
    xsd = etree.parse(str(goaml_schema_path()))
    ns = {"xs": "http://www.w3.org/2001/XMLSchema"}

    def enum(name: str) -> set[str]:
        return set(xsd.xpath(f"//xs:simpleType[@name='{name}']//xs:enumeration/@value",
                             namespaces=ns))

    assert enum("t_funds_code") == set(FUNDS_CODES)
    assert enum("t_transmode_code") == set(TRANSMODE_BY_CHANNEL.values())
    assert enum("t_indicator") == set(INDICATORS)
    assert enum("t_report_code") == {"STR", "SAR"}


def test_goaml_schema_path_is_the_repository_schema():
    path = goaml_schema_path()
    assert path.is_file()
    assert path == Path(__file__).resolve().parents[1] / "schemas" / "goaml_report.xsd"


# --- indicators ------------------------------------------------------------------------------

def test_indicators_from_rules_convergence_and_path():
    ev = make_evidence()
    assert report_indicators(ev) == ["STRUCT", "RAPID", "TF-NEXUS", "SANCTIONS-LINK"]
    root = etree.fromstring(_xml(ev))
    assert [i.text for i in root.findall("report_indicators/indicator")] == report_indicators(ev)


def test_indicators_without_rules_or_path_fall_back_to_the_model_score():
    ev = make_evidence(facilitator=False, rules=False)
    assert report_indicators(ev) == ["MODEL-SCORE"]
    assert validate_goaml(_xml(ev)) == []
    assert report_indicators(make_evidence(facilitator=False)) == ["STRUCT", "RAPID"]


# --- validation ------------------------------------------------------------------------------

def _mutate(xml: bytes, change) -> bytes:
    root = etree.fromstring(xml)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _set(path: str, value: str):
    def change(root):
        root.find(path).text = value
    return change


def _drop(path: str):
    def change(root):
        for el in root.findall(path):
            el.getparent().remove(el)
    return change


def _duplicate_txn(root):
    root.find("transaction").addnext(etree.fromstring(etree.tostring(root.find("transaction"))))


@pytest.mark.parametrize(("change", "expected"), [
    (_drop("reason"), "reason"),
    (_drop("transaction/amount_local"), "amount_local"),
    (_drop("transaction"), "transaction"),
    (_drop("report_indicators/indicator"), "indicator"),
    (_set("transaction/amount_local", "-5.00"), "amount_local"),
    (_set("transaction/amount_local", "0.00"), "amount_local"),
    (_set("transaction/amount_local", "12.345"), "amount_local"),
    (_set("transaction/t_from/from_country", "USA"), "from_country"),
    (_set("transaction/t_to_my_client/to_country", "us"), "to_country"),
    (_set("currency_code_local", "US$"), "currency_code_local"),
    (_set("report_code", "CTR"), "report_code"),
    (_set("transaction/transmode_code", "TELEPORT"), "transmode_code"),
    (_set("transaction/t_from/from_funds_code", "Z"), "from_funds_code"),
    (_set("transaction/date_transaction", "2026-01-12"), "date_transaction"),
    (_set("report_indicators/indicator", "WHATEVER"), "indicator"),
    (_duplicate_txn, "unique"),
])
def test_validate_rejects_broken_reports(change, expected):
    xml = _mutate(_xml(make_evidence()), change)
    errors = validate_goaml(xml)
    assert errors, "the broken report passed validation"
    assert any(expected in e for e in errors), errors


def test_validate_rejects_malformed_xml():
    errors = validate_goaml(b"<report><rentity_id>9999</report>")
    assert len(errors) == 1 and errors[0].startswith("malformed XML")
    assert validate_goaml(b"") and validate_goaml(b"not xml at all")


def test_validate_refuses_external_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    valid = _xml(make_evidence()).decode()
    body = valid.split("?>", 1)[1].replace("<action>", "<action>&xxe;")
    assert "&xxe;" in body
    payload = ('<?xml version="1.0"?>\n'
               f'<!DOCTYPE report [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>{body}').encode()
    errors = validate_goaml(payload)
    assert errors and "DOCTYPE" in errors[0]
    assert not any("TOP-SECRET" in e for e in errors)


def test_validate_refuses_entity_expansion_bombs():
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    payload = (f'<?xml version="1.0"?><!DOCTYPE report [<!ENTITY l0 "lol">{lol}]>'
               "<report>&l9;</report>")
    start = time.perf_counter()
    errors = validate_goaml(payload.encode())
    assert errors
    assert time.perf_counter() - start < 2.0


def test_goaml_xml_raises_without_evidence_transactions():
    ev = make_evidence()
    ev.transactions = ev.transactions.clear()
    with pytest.raises(ReportInvalid) as info:
        _xml(ev)
    assert any("no evidence transactions" in e for e in info.value.errors)


def test_goaml_xml_raises_on_evidence_that_breaks_the_schema():
    ev = make_evidence()
    ev.transactions = ev.transactions.with_columns(
        pl.when(pl.col("txn_id") == "T4").then(0.0).otherwise(pl.col("amount_usd"))
        .alias("amount_usd"),
        pl.when(pl.col("txn_id") == "T5").then(pl.lit("LEB")).otherwise(pl.col("dst_country"))
        .alias("dst_country"))
    with pytest.raises(ReportInvalid) as info:
        _xml(ev)
    errors = info.value.errors
    assert any(e.startswith("transaction T4:") and "amount_local" in e for e in errors), errors
    assert any(e.startswith("transaction T5:") and "to_country" in e for e in errors), errors


def test_goaml_xml_refuses_a_local_currency_the_amounts_are_not_in():
    with pytest.raises(ReportInvalid, match="currency_code_local"):
        goaml_xml(make_evidence(), analyst="jdoe", note="x", decided_at=DECIDED,
                  config=dataclasses.replace(CONFIG, currency_code_local="EUR"))


def test_xml_special_characters_round_trip():
    name = "O'Neil & <Sons> \"Holdings\""
    note = 'Checked <b>ledger</b> & "memo"; see </reason>'
    ev = make_evidence(subject_name=name, subject_kind="organization", middle_name="A&B <Trade> Co")
    xml = _xml(ev, note=note)
    assert validate_goaml(xml) == []
    assert b"&amp;" in xml and b"&lt;Sons&gt;" in xml
    root = etree.fromstring(xml)
    names = {e.text for e in root.iter("name")}
    assert {name, "A&B <Trade> Co"} <= names
    assert note in root.findtext("action")
    assert name in root.findtext("reason")
    assert name in _narrative(ev, note=note) and note in _narrative(ev, note=note)


def test_xml_replaces_characters_xml_cannot_carry():
    ev = make_evidence()
    ev.transactions = ev.transactions.with_columns(
        pl.when(pl.col("txn_id") == "T5").then(pl.lit("bad\x00memo")).otherwise(pl.col("memo"))
        .alias("memo"))
    root = etree.fromstring(_xml(ev))
    t5 = root.xpath("//transaction[transactionnumber='T5']")[0]
    assert t5.findtext("transaction_description") == "wire transfer; memo: bad\ufffdmemo"


# --- narrative -------------------------------------------------------------------------------

def test_narrative_has_the_five_ws_and_how_in_order():
    text = _narrative(make_evidence())
    labels = ("WHO", "WHAT", "WHEN", "WHERE", "WHY", "HOW")
    positions = [text.index(f"\n\n{label}: ") for label in labels]
    assert positions == sorted(positions)
    assert text.index("Analyst note: Deposits split across branches.") > positions[-1]
    assert text.rstrip().endswith(
        f"Prepared by jdoe on 2026-01-20; alert {ALERT_ID}, model m20260101-abc.")


def test_narrative_quotes_the_configured_ctr_threshold():
    text = _narrative(make_evidence(ctr=5_000.0))
    why = text.split("\n\nWHY: ", 1)[1].split("\n\nHOW: ", 1)[0]
    assert "5,000.00 USD" in why
    assert "4,000.00 USD" in why  # the configured band
    assert "10,000" not in text and "10000" not in text
    assert "3 of the 3 cash deposits" in why
    assert "14,600.00 USD" in why  # 4,900 + 4,750 + 4,950
    assert "10,000.00 USD" in _narrative(make_evidence())


def test_narrative_names_the_facilitator_and_the_path_in_order():
    text = _narrative(make_evidence())
    who = text.split("\n\nWHO: ", 1)[1].split("\n\n", 1)[0]
    assert "SYN-00042 (HASSAN EXAMPLE)" in who and "SDGT" in who and "Hassan Example" in who
    how = text.split("\n\nHOW: ", 1)[1]
    assert ("A1 [Maria Lopez] -> A2 [Delta Trading FZE] (14,000.00 USD on 2026-01-15, T4) -> "
            "A3 [Hassan Example] (13,500.00 USD on 2026-01-16, T5)") in how
    assert "Crime-terror convergence" in text and "terror-designated facilitator (SDGT)" in text


def test_narrative_figures_come_from_the_evidence():
    ev = make_evidence()
    text = _narrative(ev)
    total = sum(ev.transactions["amount_usd"])
    assert f"The evidence comprises 5 transactions totalling {total:,.2f} USD" in text  # 57,100.00
    assert "cash deposit x3 (29,600.00 USD)" in text and "wire transfer x2 (27,500.00 USD)" in text
    assert "2026-01-12 14:05:00 UTC" in text and "2026-01-16 11:00:00 UTC" in text
    assert "The alert was raised on 2026-01-16" in text
    assert "score" in text and "0.910" in text and "0.300" in text
    assert "cash_in_band_usd = 29,600.00 (typical 0; +2.31 log-odds)" in text
    assert "window_days = 7" in text and "chain_link_hours = 48" in text
    assert "fan_min_degree" not in text  # only the rule's own parameters
    assert "US-NY-10002:B01-BR0002" in text and "T4 US -> AE, 14,000.00 USD on 2026-01-15" in text
    assert "conducted by P9" in text
    assert "MA-aaaaaaaaaaaaaaaaaaaa on 2025-12-20" in text
    assert "SAR-2025-000017 filed 2025-11-30" in text


def test_narrative_without_rules_or_path_rests_on_the_model():
    text = _narrative(make_evidence(facilitator=False, rules=False))
    assert "No detector rule fired" in text
    assert "Sanctions link" not in text and "convergence" not in text
    assert "HOW: No money path" in text
