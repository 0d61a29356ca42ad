"""Detector alerts from a small hand-built ledger in which every structuring, funnel and
rapid-movement rule fires once (or a known number of times): the alert rows follow the
detector_alerts contract, carry their rule, parameters, observed values, strength, evidence and an
explanation, name the person and an account for person rules, give ordered paths for path rules,
and keep their ids across reruns, row orders and partitionings."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import polars as pl
import pytest
from strategies import frames

from nexusfin.contracts import contract
from nexusfin.detect import (
    build_ledger,
    detect_alerts,
    detect_alerts_partitioned,
    load_detector_config,
)
from nexusfin.detect.alerts import FAMILY_OF_RULE, PATH_RULES

FAMILIES = ("structuring", "funnel", "rapid_movement")
CFG = load_detector_config()
T0 = datetime(2026, 1, 5, tzinfo=UTC)  # Monday 00:00 UTC

# account -> owner; one owner per account unless a scenario needs a person with several accounts
OWNERS = {
    "A1": "P1", "A2": "P1",  # structuring.daily: one person, two accounts
    "B1": "P2",  # structuring.window
    "C1": "P3",  # structuring.smurfing (conductors Q1..Q3 own no account)
    "F1": "P4",  # funnel
    "G1": "PG", "H1": "PH", "J1": "PJ", "K1": "PK",  # chain G1 -> H1 -> J1 -> K1
    "L1": "PL", "M1": "PM", "N1": "PN",  # cycle L1 -> M1 -> N1 -> L1
    "R1": "PR", "T1": "PT", "T2": "PT2",  # fan-in to R1, forwarded to T1 and T2 (also gather-scatter)
    **{f"S{k}": f"PS{k}" for k in range(1, 6)},
    "U1": "PU", "V1": "PV",  # fan-out from U1, funded by V1
    **{f"W{k}": f"PW{k}" for k in range(1, 6)},
    "O1": "PO", "Y1": "PY1", "Y2": "PY2", "Y3": "PY3", "Z1": "PZ",  # scatter-gather O1 -> Y* -> Z1
}
ACCOUNTS = [{"account_id": a, "owner_party_id": p, "account_type": "savings" if a == "A2" else "checking",
             "country": "US"} for a, p in OWNERS.items()]


def at(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


def dep(i: str, ts: datetime, dst: str, usd: float, area: str = "US-TX-78040", by: str | None = None) -> dict:
    return {"txn_id": i, "ts": ts, "dst_account": dst, "amount_usd": usd, "channel": "cash", "txn_type": "deposit",
            "dst_country": "US", "location": f"{area}:B03-BR0042", "conducted_by": by}


def wire(i: str, ts: datetime, src: str, dst: str, usd: float) -> dict:
    return {"txn_id": i, "ts": ts, "src_account": src, "dst_account": dst, "amount_usd": usd, "channel": "wire",
            "txn_type": "transfer", "src_country": "US", "dst_country": "US"}


ROWS = [
    # structuring.daily: P1 deposits 6,000 + 5,000 into two own accounts on Monday
    dep("SD1", at(hours=9), "A1", 6000.0), dep("SD2", at(hours=15), "A2", 5000.0, area="US-TX-78041"),
    # structuring.window: P2 deposits just below the threshold on three days running
    dep("SW1", at(days=1, hours=10), "B1", 9000.0), dep("SW2", at(days=2, hours=10), "B1", 9500.0),
    dep("SW3", at(days=3, hours=10), "B1", 9200.0),
    # structuring.smurfing: three third parties deposit into C1
    dep("SM1", at(hours=11), "C1", 3000.0, by="Q1"), dep("SM2", at(days=1, hours=11), "C1", 2500.0, by="Q2"),
    dep("SM3", at(days=2, hours=11), "C1", 2000.0, by="Q3"),
    # funnel.multi_location: cash in three areas, withdrawn across the border
    dep("FU1", at(hours=10), "F1", 4000.0, "US-TX-78040"), dep("FU2", at(days=1, hours=10), "F1", 4000.0, "US-TX-78041"),
    dep("FU3", at(days=2, hours=10), "F1", 4000.0, "US-CA-92173"),
    {"txn_id": "FU4", "ts": at(days=3), "src_account": "F1", "amount_usd": 9000.0, "channel": "cash",
     "txn_type": "withdrawal", "src_country": "US", "location": "MX-BCN-22000:B09-BR0001"},
    # movement.chain (and a pass-through at H1 and at J1)
    wire("CH1", at(hours=10), "G1", "H1", 20000.0), wire("CH2", at(hours=14), "H1", "J1", 19000.0),
    wire("CH3", at(hours=20), "J1", "K1", 18000.0),
    # movement.cycle (and pass-throughs at M1, N1)
    wire("CY1", at(days=1, hours=9), "L1", "M1", 15000.0), wire("CY2", at(days=1, hours=12), "M1", "N1", 14500.0),
    wire("CY3", at(days=1, hours=15), "N1", "L1", 14000.0),
    # movement.fan_in to R1 (5 senders), forwarded to two recipients: also movement.gather_scatter
    *[wire(f"FI{k}", at(days=1, hours=8 + k), f"S{k}", "R1", 2000.0) for k in range(1, 6)],
    wire("FI6", at(days=2, hours=8), "R1", "T1", 4000.0), wire("FI7", at(days=2, hours=9), "R1", "T2", 4000.0),
    # movement.fan_out from U1 to 5 recipients, funded just before by V1
    wire("FO0", at(days=4, hours=8), "V1", "U1", 10000.0),
    *[wire(f"FO{k}", at(days=4, hours=9 + k), "U1", f"W{k}", 1900.0) for k in range(1, 6)],
    # movement.scatter_gather: O1 pays Y1..Y3, each forwards to Z1 (and three pass-throughs)
    *[wire(f"SG{k}", at(days=5, hours=9), "O1", f"Y{k}", 5000.0) for k in range(1, 4)],
    *[wire(f"SG{k + 3}", at(days=5, hours=12 + k), f"Y{k}", "Z1", 4500.0) for k in range(1, 4)],
]
EXPECTED = {  # rule -> number of alerts
    "structuring.daily": 1, "structuring.window": 1, "structuring.smurfing": 1, "funnel.multi_location": 1,
    "movement.chain": 1, "movement.cycle": 1, "movement.fan_in": 1, "movement.gather_scatter": 1,
    "movement.fan_out": 1, "movement.scatter_gather": 1,
    "movement.pass_through": 7,  # H1, J1, M1, N1, Y1, Y2, Y3
}


def alerts(rows: list[dict] = ROWS, **kw) -> pl.DataFrame:
    tx, acc = frames(rows, ACCOUNTS)
    by_family = detect_alerts(build_ledger(tx, acc, **kw), CFG, FAMILIES)
    return pl.concat(list(by_family.values()))


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return alerts()


def test_every_rule_fires_as_built(table):
    assert dict(table.group_by("rule").len().iter_rows()) == EXPECTED


def test_alerts_follow_the_contract(table):
    contract("detector_alerts").validate(table)
    tx, acc = frames(ROWS, ACCOUNTS)
    for fam, df in detect_alerts(build_ledger(tx, acc), CFG, FAMILIES).items():
        contract("detector_alerts").validate(df)
        assert set(df.get_column("detector")) <= {fam}
    assert table.get_column("alert_id").is_unique().all()


def test_every_alert_is_checkable(table):
    tx = {r["txn_id"]: r for r in ROWS}
    for a in table.iter_rows(named=True):
        assert a["detector"] == FAMILY_OF_RULE[a["rule"]]
        assert 0.0 <= a["strength"] <= 1.0
        params = json.loads(a["params"])
        observed = json.loads(a["observed"])
        assert params and observed and all(isinstance(v, int | float) for v in observed.values())
        assert re.fullmatch(r"v\d+-[0-9a-f]{12}", a["config_version"])
        ids = a["evidence_txn_ids"]
        assert ids and set(ids) <= tx.keys() and len(set(ids)) == len(ids) == a["n_evidence"]
        assert a["total_usd"] == pytest.approx(sum(tx[i]["amount_usd"] for i in ids))
        times = [tx[i]["ts"] for i in ids]
        assert (a["start_ts"], a["end_ts"]) == (min(times), max(times))
        assert a["detected_on"] == max(times).date()
        if a["rule"] not in PATH_RULES:
            assert times == sorted(times), "evidence in time order"
        assert a["explanation"].endswith(".") and "{" not in a["explanation"] and len(a["explanation"]) > 30
        assert a["account_id"] in OWNERS


def test_observed_values_of_the_hand_built_cases(table):
    observed = {r["rule"]: json.loads(r["observed"]) for r in table.iter_rows(named=True)
                if r["rule"] != "movement.pass_through"}
    assert observed["structuring.daily"] == {"total_usd": 11000.0, "n_deposits": 2, "max_usd": 6000.0,
                                             "n_accounts": 2, "n_locations": 2, "threshold_usd": 10000.0}
    assert observed["structuring.window"]["band_total_usd"] == 27700.0
    assert observed["structuring.window"]["n_days"] == 3
    assert observed["structuring.smurfing"]["n_conductors"] == 3
    assert observed["funnel.multi_location"]["out_ratio"] == 0.75
    assert observed["movement.chain"]["links"] == 2
    assert observed["movement.cycle"]["length"] == 3
    assert observed["movement.fan_in"]["degree"] == 5
    assert observed["movement.fan_out"]["degree"] == 5
    assert observed["movement.scatter_gather"]["intermediaries"] == 3


def test_person_alerts_name_the_party_and_an_account(table):
    persons = table.filter(pl.col("subject_kind") == "person")
    assert set(persons.get_column("rule")) >= {"structuring.daily", "structuring.window"}
    for a in persons.iter_rows(named=True):
        assert a["party_id"] in set(OWNERS.values())
        assert OWNERS[a["account_id"]] == a["party_id"], "the account is one of the person's"
    daily = persons.filter(pl.col("rule") == "structuring.daily").row(0, named=True)
    assert daily["party_id"] == "P1" and daily["account_id"] in {"A1", "A2"}
    for a in table.filter(pl.col("subject_kind") == "account").iter_rows(named=True):
        assert a["party_id"] == OWNERS[a["account_id"]]


def test_path_rules_give_ordered_path_accounts(table):
    tx = {r["txn_id"]: r for r in ROWS}
    paths = {r["rule"]: r for r in table.iter_rows(named=True) if r["rule"] in PATH_RULES}
    assert paths["movement.chain"]["path_accounts"] == ["G1", "H1", "J1", "K1"]
    assert paths["movement.chain"]["evidence_txn_ids"] == ["CH1", "CH2", "CH3"]
    assert paths["movement.chain"]["account_id"] == "H1"  # the first pass-through account
    assert paths["movement.cycle"]["path_accounts"] == ["L1", "M1", "N1", "L1"]
    assert paths["movement.cycle"]["account_id"] == "L1"
    for a in paths.values():
        legs = [tx[i] for i in a["evidence_txn_ids"]]
        assert all(x["dst_account"] == y["src_account"] for x, y in pairwise(legs))
        assert [legs[0]["src_account"], *(x["dst_account"] for x in legs)] == a["path_accounts"]
    others = table.filter(~pl.col("rule").is_in(list(PATH_RULES)))
    assert others.get_column("path_accounts").null_count() == len(others)


def test_alert_ids_are_stable(table):
    """Same ids on a rerun, with the input rows in another order, and over partitioned ledgers."""
    ids = sorted(table.get_column("alert_id"))
    assert sorted(alerts().get_column("alert_id")) == ids
    assert sorted(alerts(ROWS[::-1]).get_column("alert_id")) == ids
    for n in (2, 3):
        local = table.filter(~pl.col("rule").is_in(["movement.chain", "movement.cycle", "movement.scatter_gather"]))
        parts = pl.concat([alerts(partition=(i, n)) for i in range(n)])
        parts = parts.filter(~pl.col("rule").is_in(["movement.chain", "movement.cycle", "movement.scatter_gather"]))
        assert sorted(parts.get_column("alert_id")) == sorted(local.get_column("alert_id")), f"{n} partitions"
        # the graph rules too, once the partitions exchange their links
        tx, acc = frames(ROWS, ACCOUNTS)
        exchanged = detect_alerts_partitioned(tx, acc, None, CFG, n, FAMILIES)
        assert sorted(pl.concat(list(exchanged.values())).get_column("alert_id")) == ids
