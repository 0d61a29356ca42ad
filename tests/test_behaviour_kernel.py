"""The behaviour kernel (nexusfin/features/behaviour.py) against the polars reference
(tests/features_reference.py): random small ledgers and a few worlds pinned by hand.

The property test draws ledgers from tests/strategies.py (cash deposits and withdrawals with the
-1 side, transfers across US/MX with unknown countries, amounts at the CTR and band edges, rows in
random order), adds self-transfers and random counterparty tags, draws the high-risk list and
the near-CTR band, and sometimes a partition; every column must match (relative 1e-9: sums may add
up in another order).
"""

from __future__ import annotations

import math
import os
from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from features_reference import behaviour_frame_reference
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from strategies import BASE, GRID, describe, frames, ledgers

from nexusfin.detect.ledger import TAG_BRIDGE, TAG_EXCHANGE, TAG_MIXER, TAG_SANCTIONED, build_ledger
from nexusfin.features.behaviour import BEHAVIOUR_COLUMNS, active_accounts, behaviour_frame
from nexusfin.settings import Regulatory, load_regulatory

REG = load_regulatory()
PROPERTY = settings(max_examples=int(os.environ.get("NEXUSFIN_PROPERTY_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def regulatory(band_low: float = 8000.0, ctr: float = 10000.0, high_risk: tuple[str, ...] = ("MX",)) -> Regulatory:
    return Regulatory(ctr_threshold_usd=ctr, recordkeeping_threshold_usd=3000.0, structuring_band_low_usd=band_low,
                      high_risk_jurisdictions=high_risk)


def assert_frames_match(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.columns == ["code", *BEHAVIOUR_COLUMNS]
    assert got.schema == want.schema
    assert got.get_column("code").to_list() == want.get_column("code").to_list()
    for c in BEHAVIOUR_COLUMNS:
        for code, g, w in zip(want.get_column("code").to_list(), got.get_column(c).to_list(),
                              want.get_column(c).to_list(), strict=True):
            assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12), f"account {code}: {c} = {g}, reference {w}"


def both(ledger, reg: Regulatory) -> pl.DataFrame:
    got, want = behaviour_frame(ledger, reg), behaviour_frame_reference(ledger, reg)
    assert_frames_match(got, want)
    assert got.get_column("code").to_list() == active_accounts(ledger).tolist()
    return got


def row(frame: pl.DataFrame, ledger, account: str) -> dict:
    return frame.filter(pl.col("code") == ledger.account_code(account)).row(0, named=True)


@st.composite
def worlds(draw):
    """A strategies.ledgers() world plus a few self-transfers (sender == receiver)."""
    kinds = draw(st.sampled_from((
        ("deposit", "deposit", "withdrawal", "transfer"),
        ("transfer",) * 4 + ("deposit", "withdrawal"),
        ("deposit",) * 4 + ("withdrawal",),
    )))
    tx, acc = draw(ledgers(kinds=kinds, motifs=(0, 2)))
    ids = acc.get_column("account_id").to_list()
    extra = []
    for k in range(draw(st.integers(0, 2))):
        a = draw(st.sampled_from(ids))
        cc = draw(st.sampled_from(("US", "MX", None)))
        extra.append({"txn_id": f"S{k}", "ts": BASE + GRID * draw(st.integers(0, 40)), "src_account": a,
                      "dst_account": a, "amount_usd": draw(st.sampled_from((500.0, 9000.0, 1234.56))),
                      "channel": draw(st.sampled_from(("internal", "cash", "crypto"))), "txn_type": "transfer",
                      "src_country": "US", "dst_country": cc,
                      "location": draw(st.sampled_from((None, "US-TX-78040:B03-BR0042")))})
    if extra:
        tx = pl.concat([tx, frames(extra, [])[0]])
    return tx, acc


@PROPERTY
@given(world=worlds(), data=st.data())
def test_kernel_matches_reference(world, data):
    tx, acc = world
    note(describe(tx, acc))
    partition = data.draw(st.sampled_from(((0, 1), (0, 1), (0, 2), (1, 2))), label="partition")
    ledger = build_ledger(tx, acc, partition=partition)
    # random counterparty tags (the generator's accounts only carry the exchange tag of their type)
    bits = data.draw(st.lists(st.sampled_from((0, 0, TAG_MIXER, TAG_BRIDGE, TAG_SANCTIONED, TAG_EXCHANGE | TAG_MIXER,
                                                TAG_MIXER | TAG_BRIDGE | TAG_EXCHANGE | TAG_SANCTIONED)),
                                  min_size=ledger.n_accounts, max_size=ledger.n_accounts), label="tags")
    ledger.acct_tags = ledger.acct_tags | np.array(bits, dtype=np.int8)
    band_low, ctr = data.draw(st.sampled_from(((8000.0, 10000.0), (7999.99, 9999.99), (9000.0, 9500.0),
                                               (1000.0, 3000.0))), label="band")
    high_risk = data.draw(st.sampled_from(((), ("MX",), ("US",), ("US", "MX"), ("LB", "SY"))), label="high_risk")
    both(ledger, regulatory(band_low, ctr, high_risk))


# -- hand cases ------------------------------------------------------------------------------------
def _tx(i: int, src, dst, usd: float, *, hours: int = 0, channel: str = "wire", ttype: str = "transfer",
        src_cc="US", dst_cc="US", location=None) -> dict:
    return {"txn_id": f"T{i}", "ts": BASE + timedelta(hours=hours), "src_account": src, "dst_account": dst,
            "amount_usd": usd, "channel": channel, "txn_type": ttype, "src_country": src_cc, "dst_country": dst_cc,
            "location": location}


ACCOUNTS = [{"account_id": a, "owner_party_id": f"P{a}", "account_type": "checking", "country": cc}
            for a, cc in (("A", "US"), ("B", "US"), ("C", "MX"), ("D", "US"))]


def test_cash_rows_near_ctr_band_edges_and_locations():
    rows = [
        _tx(1, None, "A", 8000.00, channel="cash", ttype="deposit", src_cc=None, location="US-TX-78040:B1"),
        _tx(2, None, "A", 10000.00, hours=1, channel="cash", ttype="deposit", src_cc=None, location="US-TX-78041:B1"),
        _tx(3, None, "A", 7999.99, hours=2, channel="cash", ttype="deposit", src_cc=None, location="US-TX-78040:B2"),
        _tx(4, None, "A", 10000.01, hours=30, channel="cash", ttype="deposit", src_cc=None, location=None),
        _tx(5, "A", None, 9000.00, hours=50, channel="cash", ttype="withdrawal", dst_cc=None,
            location="MX-BCN-22000:B9"),
        _tx(6, "A", "B", 150.50, hours=51),
        _tx(7, "A", "B", 1200.00, hours=52),
    ]
    tx, acc = frames(rows, ACCOUNTS)
    ledger = build_ledger(tx, acc)
    a = row(both(ledger, REG), ledger, "A")
    assert (a["n_in"], a["n_out"], a["n_cash"]) == (4.0, 3.0, 5.0)
    assert a["n_cash_near_ctr"] == 3.0  # 8,000.00 and 10,000.00 (both ends included) and 9,000.00
    assert a["cash_near_ctr_share"] == pytest.approx(3 / 5)
    assert a["cash_in_usd"] == pytest.approx(8000 + 10000 + 7999.99 + 10000.01)
    assert a["cash_out_usd"] == 9000.0
    assert a["n_cash_locations"] == 3.0  # US-TX-78040 twice, US-TX-78041, MX-BCN-22000; the null is none
    assert (a["n_counterparties_in"], a["n_counterparties_out"]) == (0.0, 1.0)  # the cash side is nobody
    assert a["round_amount_share"] == pytest.approx(4 / 7)  # 8000, 10000, 9000, 1200
    assert a["active_days"] == 3.0
    assert a["max_txn_usd"] == 10000.01


def test_self_transfer_counts_once_on_each_side():
    rows = [_tx(1, "A", "A", 500.0, channel="internal"), _tx(2, "A", "B", 300.0, hours=24)]
    tx, acc = frames(rows, ACCOUNTS)
    ledger = build_ledger(tx, acc)
    ledger.acct_tags[ledger.account_code("A")] |= TAG_MIXER
    a = row(both(ledger, REG), ledger, "A")
    assert (a["n_out"], a["n_in"], a["usd_out"], a["usd_in"]) == (2.0, 1.0, 800.0, 500.0)
    assert (a["n_counterparties_out"], a["n_counterparties_in"]) == (2.0, 1.0)  # itself counts
    assert a["mixer_usd"] == 1000.0  # its own (tagged) side, once as payee and once as payer
    assert a["flow_through_ratio"] == pytest.approx(500 / 800)
    assert a["active_days"] == 2.0
    assert a["round_amount_share"] == 1.0


def test_high_risk_is_the_counterparty_sides_country():
    rows = [
        _tx(1, "A", "C", 1000.0, dst_cc="MX"),  # A pays into Mexico: high risk for A, cross-border
        _tx(2, "C", "B", 3000.0, src_cc="MX", dst_cc="US", hours=1),  # B is paid from Mexico
        _tx(3, "D", "A", 500.0, src_cc=None, dst_cc="MX", hours=2),  # unknown side: not cross-border
    ]
    tx, acc = frames(rows, ACCOUNTS)
    ledger = build_ledger(tx, acc)
    assert "MX" in REG.high_risk_jurisdictions
    f = both(ledger, REG)
    a, b, c = row(f, ledger, "A"), row(f, ledger, "B"), row(f, ledger, "C")
    assert a["high_risk_share"] == pytest.approx(1000 / 1500)  # the in-row's sender side is unknown
    assert a["cross_border_share"] == pytest.approx(1000 / 1500)
    assert b["high_risk_share"] == 1.0 and b["cross_border_share"] == 1.0
    assert c["high_risk_share"] == 0.0  # its counterparties' sides are US
    assert c["cross_border_share"] == 1.0
    assert row(f, ledger, "D")["cross_border_share"] == 0.0


def test_unsorted_rows_hub_and_no_rows():
    # a hub with more counterparties than the insertion-sort cut-off, rows in reverse time order
    accounts = [{"account_id": f"X{i:02d}", "owner_party_id": "P", "account_type": "checking", "country": "US"}
                for i in range(40)]
    rows = [_tx(i, f"X{i % 39 + 1:02d}", "X00", 100.0 + i, hours=200 - 5 * i) for i in range(40)]
    rows += [_tx(100 + i, "X00", f"X{(7 * i) % 39 + 1:02d}", 50.0, hours=3 * i, channel="crypto") for i in range(30)]
    tx, acc = frames(rows, accounts)
    ledger = build_ledger(tx, acc)
    hub = row(both(ledger, REG), ledger, "X00")
    assert (hub["n_counterparties_in"], hub["n_counterparties_out"]) == (39.0, 30.0)
    assert hub["crypto_usd"] == 1500.0
    empty = build_ledger(frames([], accounts)[0], acc)
    assert both(empty, REG).height == 0


def test_zero_and_negative_amounts_follow_the_reference():
    # the contract forbids them (amount_usd > 0), but the ledger does not check: the kernel must
    # still agree (no 0/0, and Python's floored % for the round-amount test: -0.001 % 100 = 99.999)
    rows = [_tx(1, "A", "B", 0.0), _tx(2, "C", "D", -0.001, dst_cc="MX", hours=1),
            _tx(3, "C", "D", -200.0, hours=2)]
    tx, acc = frames(rows, ACCOUNTS)
    ledger = build_ledger(tx, acc)
    f = both(ledger, REG)
    a = row(f, ledger, "A")
    assert (a["flow_through_ratio"], a["cross_border_share"], a["high_risk_share"]) == (0.0, 0.0, 0.0)
    assert a["round_amount_share"] == 1.0
    assert row(f, ledger, "C")["round_amount_share"] == 0.5
