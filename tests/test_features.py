"""Account features on a hand-built window where every figure can be checked by hand.

A1 (Ana) deposits 9,500 USD cash twice on one day (structuring), wires 15,000 to A3 (Bob), who
wires 14,000 on to AF, the bank account of Qasim Haddad, a terror-designated (SDGT) facilitator,
and 500 to a Mexican account. Dora (A4) shares Haddad's listed phone number. So: A1 reaches the
facilitator in 2 hops, A3 in 1; A1's structuring meets a path to a terror facilitator
(convergence) and A3 lies on that path.
"""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from nexusfin.contracts import contract
from nexusfin.detect import detect_alerts, load_detector_config
from nexusfin.detect.ledger import build_ledger
from nexusfin.features import FEATURE_COLUMNS, Reference, features_for_window, reference_linkage
from nexusfin.scoring.config import load_scoring_config

DAY = date(2026, 3, 10)
PHONE = "+96170123456"


def _frame(table: str, rows: list[dict]) -> pl.DataFrame:
    c = contract(table)
    return c.conform(pl.DataFrame([{n: r.get(n) for n in c.names} for r in rows], schema=c.polars_schema()))


def _tx(i: int, hour: int, src, dst, usd: float, channel="wire", ttype="transfer", dst_cc="US", **kw) -> dict:
    return {"txn_id": f"T{i}", "ts": datetime(2026, 3, 10, hour, 0, tzinfo=UTC), "src_account": src,
            "dst_account": dst, "amount": usd, "currency": "USD", "amount_usd": usd, "channel": channel,
            "txn_type": ttype, "src_country": "US", "dst_country": dst_cc, "location": kw.get("location"),
            "conducted_by": kw.get("conducted_by"), "chain": None, "tx_hash": None, "memo": None}


@pytest.fixture(scope="module")
def window():
    parties = _frame("parties", [
        {"party_id": "P1", "name": "Ana Lopez", "kind": "person", "country": "US"},
        {"party_id": "P3", "name": "Bob Stone", "kind": "person", "country": "US"},
        {"party_id": "PF", "name": "Kasim Hadad", "kind": "person", "country": "LB", "phone": PHONE,
         "birth_date": date(1970, 5, 1)},
        {"party_id": "P4", "name": "Dora Quinn", "kind": "person", "country": "US", "phone": PHONE},
        {"party_id": "P5", "name": "Comercial Norte SA de CV", "kind": "organization", "country": "MX",
         "business_type": "trading_company"},
    ])
    accounts = _frame("accounts", [
        {"account_id": a, "owner_party_id": p, "bank_id": "B1", "account_type": "checking", "country": cc,
         "currency": "USD", "opened_date": date(2020, 1, 1)}
        for a, p, cc in (("A1", "P1", "US"), ("A3", "P3", "US"), ("AF", "PF", "US"), ("A4", "P4", "US"),
                         ("MXA", "P5", "MX"))
    ])
    watchlist = _frame("watchlist", [
        {"entity_id": "SYN-1", "name": "QASIM HADDAD", "aliases": ["Kassem Haddad"], "kind": "person",
         "programs": ["SDGT"], "country": "LB", "id_numbers": [], "phones": [PHONE], "addresses": [],
         "crypto_wallets": [], "birth_date": date(1970, 5, 1), "source": "synthetic"},
    ])
    tags = contract("address_tags").empty()
    sar = contract("sar_filings").empty()
    loc = "US-TX-78040:B1-BR1"
    tx = _frame("transactions", [
        _tx(1, 9, None, "A1", 9500.0, "cash", "deposit", location=loc, conducted_by="P1"),
        _tx(2, 10, None, "A1", 9500.0, "cash", "deposit", location=loc, conducted_by="P1"),
        _tx(3, 12, "A1", "A3", 15000.0),
        _tx(4, 14, "A3", "AF", 14000.0),
        _tx(5, 15, "A3", "MXA", 500.0, dst_cc="MX"),
        _tx(6, 11, "A4", "A3", 200.0),
    ])
    config = load_scoring_config()
    ref = Reference(accounts, parties, watchlist, tags, sar)
    link = reference_linkage(ref, config)
    ledger = build_ledger(tx, accounts, tags)
    alerts = pl.concat(list(detect_alerts(ledger, load_detector_config()).values()))
    wf = features_for_window(tx, ref, link, alerts, config, DAY)
    return wf, link, alerts


def _row(wf, account: str) -> dict:
    return wf.features.filter(pl.col("account_id") == account).row(0, named=True)


def test_screening_names_the_facilitator_account(window):
    _, link, _ = window
    fac = link.facilitator_accounts
    assert fac.get_column("account_id").to_list() == ["AF"]
    assert fac.row(0, named=True)["terror_designated"] is True


def test_every_active_account_has_one_row_conforming_to_the_contract(window):
    wf, _, _ = window
    assert sorted(wf.features.get_column("account_id").to_list()) == ["A1", "A3", "A4", "AF", "MXA"]
    assert contract("account_features").violations(wf.features) == {}
    assert wf.features.select(FEATURE_COLUMNS).width == len(FEATURE_COLUMNS)


def test_behaviour_figures_match_the_transactions(window):
    wf, _, _ = window
    a1 = _row(wf, "A1")
    assert (a1["n_in"], a1["n_out"], a1["usd_in"], a1["usd_out"]) == (2.0, 1.0, 19000.0, 15000.0)
    assert (a1["cash_in_usd"], a1["n_cash"], a1["n_cash_near_ctr"], a1["cash_near_ctr_share"]) == (
        19000.0, 2.0, 2.0, 1.0)
    a3 = _row(wf, "A3")
    assert a3["n_counterparties_out"] == 2.0 and a3["n_counterparties_in"] == 2.0
    assert a3["flow_through_ratio"] == pytest.approx(14500.0 / 15200.0)
    # MX is on the high-risk list: the 500 USD leg, out of 29,700 USD A3 moved
    assert a3["high_risk_share"] == pytest.approx(500.0 / 29700.0)
    assert a3["cross_border_share"] == pytest.approx(500.0 / 29700.0)
    assert _row(wf, "MXA")["home_high_risk"] == 1.0


def test_linkage_features_follow_the_money_to_the_facilitator(window):
    wf, _, _ = window
    a1, a3, af = _row(wf, "A1"), _row(wf, "A3"), _row(wf, "AF")
    assert (a1["hops_to_facilitator"], a3["hops_to_facilitator"], af["hops_to_facilitator"]) == (2.0, 1.0, 0.0)
    assert a1["hops_to_terror"] == 2.0
    assert a1["usd_to_facilitator"] == 14000.0  # the smaller of the two transfers on the path
    assert af["watchlist_strong"] == 1.0 and af["watchlist_terror"] == 1.0
    assert _row(wf, "MXA")["hops_to_facilitator"] is None
    assert _row(wf, "A4")["identifier_link"] == 1.0  # shares the listed phone
    assert a1["identifier_link"] == 0.0
    path = wf.paths.filter((pl.col("account_id") == "A1") & (pl.col("direction") == "to")).row(0, named=True)
    assert path["path_accounts"] == ["A1", "A3", "AF"] and path["path_txn_ids"] == ["T3", "T4"]
    assert path["entity_id"] == "SYN-1" and path["programs"] == ["SDGT"]


def test_structuring_that_reaches_a_terror_facilitator_is_convergence(window):
    wf, _, alerts = window
    assert "structuring" in alerts.get_column("detector").to_list()
    a1, a3 = _row(wf, "A1"), _row(wf, "A3")
    assert a1["alerts_structuring"] >= 1 and a1["convergent"] == 1.0
    assert a3["on_convergence_path"] == 1.0
    # A3 passes 14,000 of the 15,000 on within hours: its own pass-through alert makes it convergent too
    assert a3["alerts_rapid_movement"] >= 1 and a3["convergent"] == 1.0
    # Dora's 200 USD (sent before A3 paid AF) reaches the facilitator, but she has no crime alert
    a4 = _row(wf, "A4")
    assert a4["hops_to_terror"] == 2.0 and a4["convergent"] == 0.0
    assert _row(wf, "MXA")["on_convergence_path"] == 0.0
