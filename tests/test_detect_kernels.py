"""Detector kernels against slow reference implementations (tests/detect_reference.py).

Property tests draw small random ledgers (tests/strategies.py) and random parameters and compare
each rule's hits with the reference: the same (subject, evidence transactions) and the same
observed values. Explicit tests pin the edges: the exact CTR threshold, equal timestamps, window
boundaries, empty and single-transaction accounts, unsorted input, partitions, unknown accounts,
and one account with more than a million rows.
"""

from __future__ import annotations

import math
import os
import time
from datetime import datetime, timedelta

import detect_reference as ref
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from strategies import (
    BASE,
    cash_ledgers,
    describe,
    frames,
    funnel_configs,
    funnel_ledgers,
    ledgers,
    movement_configs,
    movement_ledgers,
    structuring_configs,
)

from nexusfin.detect import LedgerInputError, build_ledger, load_detector_config
from nexusfin.detect import funnel as funnel_mod
from nexusfin.detect import movement as movement_mod
from nexusfin.detect import structuring as structuring_mod
from nexusfin.detect.hits import SUBJECT_PERSON, Hits

CFG = load_detector_config()
# NEXUSFIN_PROPERTY_EXAMPLES=2000 for a long hunt; the default keeps the suite fast
PROPERTY = settings(max_examples=int(os.environ.get("NEXUSFIN_PROPERTY_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
PATH_RULES = {"movement.chain", "movement.cycle"}
STRUCTURING_RULES = ("structuring.daily", "structuring.window", "structuring.smurfing")
MOVEMENT_RULES = ("movement.pass_through", "movement.chain", "movement.cycle", "movement.fan_in", "movement.fan_out",
                  "movement.gather_scatter", "movement.scatter_gather")


# -- running the kernels and comparing -------------------------------------------------------------
def run_structuring(ledger, cfg) -> dict[str, Hits]:
    s = cfg.structuring
    return {
        "structuring.daily": structuring_mod.structuring_daily(ledger, s),
        "structuring.window": structuring_mod.structuring_window(ledger, s),
        "structuring.smurfing": structuring_mod.smurfing(ledger, s),
    }


def run_funnel(ledger, cfg) -> dict[str, Hits]:
    return {"funnel.multi_location": funnel_mod.detect_funnel(ledger, cfg.funnel)[0]}


def run_movement(ledger, cfg) -> dict[str, Hits]:
    return {h.rule: h for h in movement_mod.detect_movement(ledger, cfg.movement)}


def kernel_hits(ledger, hits: Hits) -> dict[tuple[str, tuple[str, ...]], dict[str, float]]:
    """{(subject id, evidence txn ids): observed values}; evidence sorted unless a path rule."""
    out = {}
    names = ledger.party_ids if hits.subject_kind == SUBJECT_PERSON else ledger.account_ids
    for h in range(len(hits)):
        rows = hits.evidence(h)
        assert len(set(rows.tolist())) == len(rows), f"{hits.rule}: a row is evidence twice"
        ids = ledger.txn_ids.gather(rows).to_list()
        ids = tuple(ids) if hits.rule in PATH_RULES else tuple(sorted(ids))
        key = (str(names[hits.subject[h]]), ids)
        # walks from several heads that merge report the cycle they run into once per head (the
        # alerts are unique by id, so this only costs a few rows); every other rule: once
        assert key not in out or hits.rule == "movement.cycle", f"{hits.rule}: hit {key} reported twice"
        out[key] = {n: float(hits.values[h, i]) for i, n in enumerate(hits.value_names)}
    return out


def reference_hits(refs: list[ref.RefHit]) -> dict[tuple[str, tuple[str, ...]], dict[str, float]]:
    out = {}
    for r in refs:
        assert r.key not in out, f"reference reports {r.key} twice"
        out[r.key] = r.values
    return out


def assert_same(rule: str, got: dict, want: dict) -> None:
    missing = {k: want[k] for k in want.keys() - got.keys()}
    extra = {k: got[k] for k in got.keys() - want.keys()}
    assert not missing and not extra, f"{rule}: kernel misses {missing}\n  and reports extra {extra}"
    for k, values in want.items():
        for name, v in values.items():
            assert math.isclose(got[k][name], v, rel_tol=1e-9, abs_tol=1e-6), \
                f"{rule} {k}: {name} = {got[k][name]}, reference {v}"


def check(rule: str, ledger, hits: Hits, refs: list[ref.RefHit]) -> None:
    assert hits.rule == rule
    assert_same(rule, kernel_hits(ledger, hits), reference_hits(refs))


def alert_sets(by_rule: dict[str, Hits], ledger) -> dict[str, set]:
    return {rule: set(kernel_hits(ledger, h)) for rule, h in by_rule.items()}


# -- property tests: kernel == reference -----------------------------------------------------------
@PROPERTY
@given(world=cash_ledgers(), overrides=structuring_configs())
def test_structuring_rules_match_reference(world, overrides):
    cfg = CFG.replace(**overrides)
    tx, acc = world
    note(describe(tx, acc))
    ledger = build_ledger(tx, acc)
    w = ref.World.from_frames(tx, acc)
    got = run_structuring(ledger, cfg)
    want = ref.structuring(w, cfg.structuring)
    for rule in STRUCTURING_RULES:
        check(rule, ledger, got[rule], want[rule])


@PROPERTY
@given(world=cash_ledgers(amount=st.sampled_from((150.0, 199.99, 200.0, 200.01, 120.5, 9000.0))))
def test_targeting_order_matches_reference(world):
    tx, acc = world
    note(describe(tx, acc))
    ledger = build_ledger(tx, acc)
    w = ref.World.from_frames(tx, acc)
    s = CFG.structuring
    assert s.targeting_orders, "regulatory.yaml names a targeting order"
    got = {h.rule_params["targeting_order"]: h for h in structuring_mod.structuring_targeting_orders(ledger, s)}
    for order in s.targeting_orders:
        want = ref.structuring_targeting_order(w, s, order)
        if order[0] not in got:  # the kernel skips an order none of whose areas the ledger has
            assert not want
            continue
        check("structuring.targeting_order", ledger, got[order[0]], want)


@PROPERTY
@given(world=funnel_ledgers(), overrides=funnel_configs())
def test_funnel_matches_reference(world, overrides):
    cfg = CFG.replace(**overrides)
    tx, acc = world
    note(describe(tx, acc))
    ledger = build_ledger(tx, acc)
    check("funnel.multi_location", ledger, run_funnel(ledger, cfg)["funnel.multi_location"],
          ref.funnel(ref.World.from_frames(tx, acc), cfg.funnel))


@PROPERTY
@given(world=movement_ledgers(), hours=st.sampled_from((24, 12, 0)), ratio=st.sampled_from(((0.8, 1.0), (0.5, 1.2))),
       min_usd=st.sampled_from((3000.0, 1000.0)), fiat_only=st.booleans(),
       excluded=st.sampled_from(((), ("payment", "payroll"))))
def test_pass_through_pairs_match_reference(world, hours, ratio, min_usd, fiat_only, excluded):
    tx, acc = world
    note(describe(tx, acc))
    ledger = build_ledger(tx, acc)
    p_in, p_out = movement_mod.pass_through_pairs(ledger, hours, *ratio, min_usd, fiat_only=fiat_only,
                                                  excluded_txn_types=excluded)
    ids = ledger.txn_ids
    got = list(zip(ids.gather(p_in).to_list(), ids.gather(p_out).to_list(), strict=True))
    assert len(set(got)) == len(got), "a pair is reported twice"
    want = ref.pass_through_pairs(ref.World.from_frames(tx, acc), hours, *ratio, min_usd, fiat_only=fiat_only,
                                  excluded_txn_types=excluded)
    assert set(got) == want
    # the documented order: grouped by account, in-row time order, out-rows in time order per in-row
    acct = ledger.dst[p_in].tolist()
    runs = [a for k, a in enumerate(acct) if k == 0 or a != acct[k - 1]]
    assert len(runs) == len(set(runs)), "pairs of one account are not contiguous"
    for k in range(1, len(p_in)):
        if acct[k] == acct[k - 1]:
            assert ledger.ts[p_in[k]] >= ledger.ts[p_in[k - 1]]
            if p_in[k] == p_in[k - 1]:
                assert ledger.ts[p_out[k]] >= ledger.ts[p_out[k - 1]]


@PROPERTY
@given(world=movement_ledgers(), overrides=movement_configs())
def test_movement_rules_match_reference(world, overrides):
    cfg = CFG.replace(**overrides)
    tx, acc = world
    note(describe(tx, acc))
    ledger = build_ledger(tx, acc)
    got = run_movement(ledger, cfg)
    want = ref.movement(ref.World.from_frames(tx, acc), cfg.movement)
    for rule in MOVEMENT_RULES:
        check(rule, ledger, got[rule], want[rule])


@PROPERTY
@given(world=movement_ledgers(n_accounts=(5, 8), max_rows=30, days=6), overrides=movement_configs())
def test_fan_rules_match_reference_on_busy_hubs(world, overrides):
    """More accounts and rows over fewer days, so fans of several counterparties happen."""
    cfg = CFG.replace(**overrides)
    tx, acc = world
    note(describe(tx, acc))
    ledger = build_ledger(tx, acc)
    got = run_movement(ledger, cfg)
    w = ref.World.from_frames(tx, acc)
    m = cfg.movement
    for rule, fn in (("movement.fan_in", ref.fan_in), ("movement.fan_out", ref.fan_out),
                     ("movement.gather_scatter", ref.gather_scatter), ("movement.scatter_gather", ref.scatter_gather)):
        check(rule, ledger, got[rule], fn(w, m))


@PROPERTY
@given(world=ledgers(motifs=(0, 2), motif_kinds=("structuring", "funnel", "fan_in", "fan_out")),
       seed=st.integers(0, 2**32 - 1), s_cfg=structuring_configs(), f_cfg=funnel_configs(), m_cfg=movement_configs())
def test_alerts_do_not_depend_on_input_row_order(world, seed, s_cfg, f_cfg, m_cfg):
    """Shuffled input rows (the strategies never sort them either) give the same alerts; the
    first-link rules (chain, cycle, scatter-gather) are left out: two candidate out-rows at the
    same instant are broken by input order, see detect_reference.first_links."""
    tx, acc = world
    note(describe(tx, acc))
    shuffled = tx.sample(fraction=1.0, shuffle=True, seed=seed)
    cfg = CFG.replace(**s_cfg, **f_cfg, **m_cfg)
    results = []
    for frame in (tx, shuffled):
        ledger = build_ledger(frame, acc)
        by_rule = {**run_structuring(ledger, cfg), **run_funnel(ledger, cfg), **run_movement(ledger, cfg)}
        for rule in ("movement.chain", "movement.cycle", "movement.scatter_gather"):
            by_rule.pop(rule)
        results.append(alert_sets(by_rule, ledger))
    assert results[0] == results[1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=ledgers(motifs=(1, 3), motif_kinds=("structuring", "smurfing", "funnel", "fan_in", "fan_out",
                                                 "chain")),
       s_cfg=structuring_configs(), f_cfg=funnel_configs(), m_cfg=movement_configs())
def test_partitioned_ledgers_give_the_same_alerts(world, s_cfg, f_cfg, m_cfg):
    """Per-account and per-person rules on partition (i, n) ledgers, n = 2 and 3: every alert of
    the whole ledger comes out of exactly one partition, and nothing else does."""
    tx, acc = world
    note(describe(tx, acc))
    cfg = CFG.replace(**s_cfg, **f_cfg, **m_cfg)
    local = (*STRUCTURING_RULES, "structuring.targeting_order", "funnel.multi_location", "movement.pass_through",
             "movement.fan_in", "movement.fan_out", "movement.gather_scatter")

    def alerts(ledger) -> list[tuple]:
        hits = {**run_structuring(ledger, cfg), **run_funnel(ledger, cfg), **run_movement(ledger, cfg)}
        for h in structuring_mod.structuring_targeting_orders(ledger, cfg.structuring):
            hits[f"structuring.targeting_order {h.rule_params['targeting_order']}"] = h
        return [(rule, *key) for rule, h in hits.items() if rule.split()[0] in local for key in kernel_hits(ledger, h)]

    whole = alerts(build_ledger(tx, acc))
    for n in (2, 3):
        parts = [a for i in range(n) for a in alerts(build_ledger(tx, acc, partition=(i, n)))]
        assert sorted(parts) == sorted(whole), f"partitions of {n}"


# -- explicit edge cases ------------------------------------------------------------------------------
ACCOUNTS = [
    {"account_id": "A1", "owner_party_id": "P1", "account_type": "checking", "country": "US"},
    {"account_id": "A2", "owner_party_id": "P1", "account_type": "savings", "country": "US"},
    {"account_id": "B1", "owner_party_id": "P2", "account_type": "checking", "country": "US"},
    {"account_id": "C1", "owner_party_id": "P3", "account_type": "business", "country": "US"},
    {"account_id": "D1", "owner_party_id": "P4", "account_type": "checking", "country": "MX"},
    {"account_id": "E1", "owner_party_id": "P5", "account_type": "checking", "country": "US"},
    {"account_id": "F1", "owner_party_id": "P6", "account_type": "checking", "country": "US"},
    {"account_id": "G1", "owner_party_id": "P7", "account_type": "checking", "country": "US"},
    {"account_id": "X1", "owner_party_id": "P9", "account_type": "exchange", "country": "US"},
]
COUNTRY = {a["account_id"]: a["country"] for a in ACCOUNTS}


def at(days: float = 0, hours: float = 0, us: int = 0) -> datetime:
    return BASE + timedelta(days=days, hours=hours, microseconds=us)


def dep(txn_id: str, ts: datetime, dst: str, usd: float, by: str | None = None, area: str = "US-TX-78040") -> dict:
    return {"txn_id": txn_id, "ts": ts, "src_account": None, "dst_account": dst, "amount_usd": usd,
            "channel": "cash", "txn_type": "deposit", "dst_country": COUNTRY.get(dst), "location": f"{area}:B03-BR0042",
            "conducted_by": by}


def wd(txn_id: str, ts: datetime, src: str, usd: float, area: str = "US-TX-78040") -> dict:
    return {"txn_id": txn_id, "ts": ts, "src_account": src, "dst_account": None, "amount_usd": usd,
            "channel": "cash", "txn_type": "withdrawal", "src_country": COUNTRY.get(src), "location": f"{area}:B01-BR0007"}


def wire(txn_id: str, ts: datetime, src: str, dst: str, usd: float, ttype: str = "transfer") -> dict:
    return {"txn_id": txn_id, "ts": ts, "src_account": src, "dst_account": dst, "amount_usd": usd,
            "channel": "wire", "txn_type": ttype, "src_country": COUNTRY.get(src), "dst_country": COUNTRY.get(dst)}


def run_all(rows: list[dict], cfg=CFG, accounts=ACCOUNTS) -> dict[str, set]:
    """{rule: {(subject, evidence ids)}} of the kernels, checked against the reference on the way."""
    tx, acc = frames(rows, accounts)
    ledger = build_ledger(tx, acc)
    w = ref.World.from_frames(tx, acc)
    got = {**run_structuring(ledger, cfg), **run_funnel(ledger, cfg), **run_movement(ledger, cfg)}
    want = {**ref.structuring(w, cfg.structuring), "funnel.multi_location": ref.funnel(w, cfg.funnel),
            **ref.movement(w, cfg.movement)}
    for rule, hits in got.items():
        check(rule, ledger, hits, want[rule])
    return alert_sets(got, ledger)


@pytest.mark.parametrize(("amounts", "reported"), [
    ((10000.00, 5000.00), True),  # 10,000.00 is not reportable alone, so it is aggregated
    ((10000.01, 5000.00), False),  # 10,000.01 is reportable alone (a CTR): not structuring
    ((5000.00, 5000.00), False),  # exactly the threshold is not MORE than it
    ((5000.00, 5000.01), True),
    ((4409.12, 5300.01, 290.87), False),  # 10,000.00 exactly; the float sum is 10000.000000000002
    ((4409.12, 5300.01, 290.88), True),
    ((9999.99, 0.02), True),
    ((10000.00,), False),  # one deposit is never structuring
])
def test_ctr_threshold_is_exact(amounts, reported):
    rows = [dep(f"T{k}", at(hours=9 + k), "A1" if k % 2 else "A2", usd) for k, usd in enumerate(amounts)]
    daily = run_all(rows)["structuring.daily"]
    expected = {("P1", tuple(sorted(r["txn_id"] for r in rows if r["amount_usd"] <= 10000.0)))}
    assert daily == (expected if reported else set())


def test_person_includes_deposits_they_conducted_for_others():
    rows = [dep("T1", at(hours=9), "A1", 6000.0, by="P1"), dep("T2", at(hours=10), "B1", 6000.0, by="P1"),
            dep("T3", at(hours=11), "C1", 6000.0, by="P3")]
    daily = run_all(rows)["structuring.daily"]
    assert daily == {("P1", ("T1", "T2"))}  # P2 owns B1 but only one deposit reached it


def test_day_boundary_is_utc_midnight():
    late, early = at(hours=24, us=-1), at(hours=24)
    assert run_all([dep("T1", late, "A1", 6000.0), dep("T2", early, "A1", 6000.0)])["structuring.daily"] == set()
    same_day = [dep("T1", at(), "A1", 6000.0), dep("T2", late, "A1", 6000.0)]
    assert run_all(same_day)["structuring.daily"] == {("P1", ("T1", "T2"))}


@pytest.mark.parametrize(("gap_us", "fires"), [(0, True), (1, False)])
def test_window_boundaries_are_inclusive(gap_us, fires):
    """Every rule window is a closed interval: a row exactly one window length later is in it."""
    cfg = CFG.replace(structuring={"min_band_deposits": 2})
    week = 7 * 24 * 3_600_000_000
    s_rows = [dep("S1", at(hours=10), "A1", 9000.0), dep("S2", at(hours=10, us=week + gap_us), "A1", 9000.0)]
    assert bool(run_all(s_rows, cfg)["structuring.window"]) is fires
    smurf = [dep("M1", at(hours=10), "C1", 1000.0, by="P1"), dep("M2", at(days=3), "C1", 1000.0, by="P2"),
             dep("M3", at(hours=10, us=week + gap_us), "C1", 1000.0, by="P4")]
    assert bool(run_all(smurf)["structuring.smurfing"]) is fires
    day = 24 * 3_600_000_000
    pt = [wire("P1", at(), "B1", "A1", 5000.0), wire("P2", at(us=day + gap_us), "A1", "C1", 4000.0)]
    assert bool(run_all(pt)["movement.pass_through"]) is fires
    funnel = [dep("F1", at(), "A1", 4000.0, area="US-TX-78040"), dep("F2", at(hours=6), "A1", 4000.0, area="US-TX-78041"),
              dep("F3", at(hours=12), "A1", 4000.0, area="US-CA-92173"),
              wd("F4", at(hours=12, us=3 * day + gap_us), "A1", 9000.0, area="MX-BCN-22000")]
    assert bool(run_all(funnel)["funnel.multi_location"]) is fires


def test_equal_timestamps_are_one_instant():
    """Rows at the same time are never split between windows: here five of six simultaneous
    senders would qualify as a fan-in (40,000 forwarded of 50,000) but all six do not (of 60,000);
    before the fix the kernel reported the first five in input order. Same for the funnel."""
    cfg = CFG.replace(movement={"fan_min_degree": 5})
    t = at(hours=9)
    fan = [wire(f"I{k}", t, src, "A1", 10000.0) for k, src in enumerate(("B1", "C1", "D1", "E1", "F1", "G1"))]
    fan += [wire(f"O{k}", t, "A1", "B1", 10000.0) for k in range(4)]
    for rows in (fan, fan[::-1]):
        assert run_all(rows, cfg)["movement.fan_in"] == set()
    funnel = [dep(f"D{k}", t, "A1", 10000.0, area=a) for k, a in enumerate(["US-TX-78040"] * 3 + ["US-TX-78041"] * 13)]
    funnel += [wire("W1", t, "A1", "D1", 20000.0)]
    for rows in (funnel, funnel[::-1]):
        assert run_all(rows, CFG.replace(funnel={"min_areas": 2}))["funnel.multi_location"] == set()


def test_structuring_window_reports_the_span_of_its_evidence():
    """n_days counts the days of the band deposits (the evidence), not of a small deposit the window
    was extended over (before the fix: 3 days for band deposits on Mon and Tue), and t1 is the
    last band deposit."""
    cfg = CFG.replace(structuring={"min_band_deposits": 2})
    rows = [dep("T1", at(), "A1", 10000.0), dep("T2", at(days=1), "A1", 10000.0), dep("T3", at(days=2), "A1", 500.0)]
    tx, acc = frames(rows, ACCOUNTS)
    ledger = build_ledger(tx, acc)
    hits = structuring_mod.structuring_window(ledger, cfg.structuring)
    assert kernel_hits(ledger, hits) == {("P1", ("T1", "T2")): pytest.approx({
        "band_total_usd": 20000.0, "n_band_deposits": 2, "band_share": 2 / 3, "n_days": 2, "n_accounts": 1,
        "threshold_usd": 10000.0})}
    assert hits.t1[0] == ledger.ts[ledger.txn_ids.to_list().index("T2")]


@pytest.mark.parametrize(("out_usd", "pair"), [
    (3246.72, True),  # exactly 80 % of 4,058.40 (0.8 * 4058.4 is 3246.7200000000003 in floating point)
    (3246.71, False),
    (4058.40, True),  # exactly 100 %
    (4058.41, False),
])
def test_pass_through_ratio_edges_are_exact(out_usd, pair):
    rows = [wire("T1", at(), "B1", "A1", 4058.40), wire("T2", at(hours=1), "A1", "C1", out_usd)]
    tx, acc = frames(rows, ACCOUNTS)
    ledger = build_ledger(tx, acc)
    p_in, _ = movement_mod.pass_through_pairs(ledger, 24, 0.8, 1.0, 3000.0)
    assert (len(p_in) == 1) is pair
    assert bool(run_all(rows)["movement.pass_through"]) is pair


def test_empty_ledger_and_accounts_without_transactions():
    tx, acc = frames([], ACCOUNTS)
    ledger = build_ledger(tx, acc)
    assert ledger.n_rows == 0 and ledger.n_accounts == len(ACCOUNTS)
    for hits in (*run_structuring(ledger, CFG).values(), *run_funnel(ledger, CFG).values(),
                 *run_movement(ledger, CFG).values()):
        assert len(hits) == 0
    assert all(len(h) == 0 for h in structuring_mod.structuring_targeting_orders(ledger, CFG.structuring))
    p_in, p_out = movement_mod.pass_through_pairs(ledger, 24, 0.8, 1.0, 3000.0)
    assert len(p_in) == len(p_out) == 0
    # and a ledger where most accounts have nothing: only A1 and B1 move
    sets = run_all([wire("T1", at(), "B1", "A1", 5000.0), wire("T2", at(hours=1), "A1", "B1", 4500.0)])
    assert sets["movement.pass_through"] == {("A1", ("T1", "T2")), ("B1", ("T2",))} - {("B1", ("T2",))}


def test_single_transaction_accounts():
    rows = [dep("T1", at(), "A1", 9999.99), wd("T2", at(hours=1), "B1", 9000.0), wire("T3", at(hours=2), "C1", "D1", 9000.0),
            dep("T4", at(hours=3), "E1", 10000.0, by="P5")]
    assert {rule: s for rule, s in run_all(rows).items() if s} == {}


def test_unsorted_input_is_indexed_in_time_order():
    rows = [dep(f"T{k}", at(hours=(7 * k) % 40), "A1", 9000.0 + k) for k in range(12)]
    rows += [wire(f"W{k}", at(hours=(5 * k) % 33), "A1", "B1", 1000.0 + k) for k in range(9)]
    tx, acc = frames(rows, ACCOUNTS)
    ledger = build_ledger(tx, acc)
    a = ledger.account_code("A1")
    for ptr, idx in ((ledger.in_ptr, ledger.in_idx), (ledger.out_ptr, ledger.out_idx)):
        seg = idx[ptr[a]:ptr[a + 1]]
        assert len(seg) and np.all(np.diff(ledger.ts[seg]) >= 0)
    shuffled = build_ledger(tx.reverse(), acc)
    assert alert_sets(run_structuring(ledger, CFG), ledger) == alert_sets(run_structuring(shuffled, CFG), shuffled)


def test_unknown_accounts_are_a_clear_error():
    for row in (wire("T1", at(), "A1", "ZZ9", 100.0), wire("T1", at(), "ZZ9", "A1", 100.0),
                dep("T1", at(), "A1", 100.0) | {"dst_account": "ZZ9"}):
        tx, acc = frames([row], ACCOUNTS)
        with pytest.raises(LedgerInputError, match="ZZ9"):
            build_ledger(tx, acc)
    tx, acc = frames([], ACCOUNTS + ACCOUNTS[:1])
    with pytest.raises(LedgerInputError, match="duplicate"):
        build_ledger(tx, acc)
    with pytest.raises(LedgerInputError, match="partition"):
        build_ledger(tx, acc.unique("account_id"), partition=(3, 3))


# -- one account with more than a million rows --------------------------------------------------------
@pytest.mark.slow
def test_account_with_millions_of_rows():
    """2M rows on one account: 1.5M cash deposits, 6 a day by three rotating third parties (the days
    cycle through totals of 12,000.00 (structuring), 9,000.00, exactly 10,000.00 (not structuring)
    and 10,000.01 (structuring)), and every day a 5,000 wire in at 08:00 and 4,500 out at 09:00.
    The number of alerts of each rule is known in closed form."""
    n_days, per_day = 250_000, 6
    day_amounts = np.array([
        [2000.0] * 6,
        [1500.0] * 6,
        [2204.56, 2204.56, 2650.00, 2650.01, 145.43, 145.44],  # 10,000.00
        [2204.56, 2204.56, 2650.00, 2650.01, 145.43, 145.45],  # 10,000.01
    ])
    n = n_days * per_day
    day = np.repeat(np.arange(n_days, dtype=np.int64), per_day)
    slot = np.tile(np.arange(per_day, dtype=np.int64), n_days)
    base_us = int(BASE.timestamp() * 1_000_000)
    ts = base_us + day * 86_400_000_000 + (slot + 1) * 3_600_000_000
    tx = pl.DataFrame({
        "txn_id": pl.int_range(n, eager=True).cast(pl.String),
        "ts": pl.Series(ts).cast(pl.Datetime("us", "UTC")),
        "src_account": pl.repeat(None, n, dtype=pl.String, eager=True),
        "dst_account": pl.repeat("A1", n, eager=True),
        "amount_usd": day_amounts[day % 4, slot],
        "channel": pl.repeat("cash", n, eager=True),
        "txn_type": pl.repeat("deposit", n, eager=True),
        "src_country": pl.repeat(None, n, dtype=pl.String, eager=True),
        "dst_country": pl.repeat("US", n, eager=True),
        "location": pl.repeat("US-TX-78040:B03-BR0042", n, eager=True),
        "conducted_by": pl.Series(np.array(["C0", "C1", "C2"])[slot % 3]),
    })
    days = np.arange(n_days, dtype=np.int64)
    wires = pl.DataFrame({
        "txn_id": pl.Series([f"w{k}" for k in range(2 * n_days)]),
        "ts": pl.Series(np.concatenate([base_us + days * 86_400_000_000 + h * 3_600_000_000 for h in (8, 9)])
                        ).cast(pl.Datetime("us", "UTC")),
        "src_account": ["B1"] * n_days + ["A1"] * n_days,
        "dst_account": ["A1"] * n_days + ["C1"] * n_days,
        "amount_usd": [5000.0] * n_days + [4500.0] * n_days,
        "channel": "wire", "txn_type": "transfer", "src_country": "US", "dst_country": "US",
        "location": pl.repeat(None, 2 * n_days, dtype=pl.String, eager=True),
        "conducted_by": pl.repeat(None, 2 * n_days, dtype=pl.String, eager=True),
    })
    tx = pl.concat([tx, wires], how="vertical_relaxed")
    _, acc = frames([], ACCOUNTS)
    start = time.perf_counter()
    ledger = build_ledger(tx, acc)
    assert ledger.n_rows == n + 2 * n_days
    cfg = CFG.replace(structuring={"smurfing_window_days": 0.5})
    daily = structuring_mod.structuring_daily(ledger, cfg.structuring)
    window = structuring_mod.structuring_window(ledger, cfg.structuring)
    smurf = structuring_mod.smurfing(ledger, cfg.structuring)
    funnel = funnel_mod.detect_funnel(ledger, cfg.funnel)[0]
    move = run_movement(ledger, cfg)
    elapsed = time.perf_counter() - start
    assert len(daily) == n_days // 2  # days 0 and 3 of every 4
    assert set(ledger.party_ids[daily.subject]) == {"P1"}  # each conductor made 2 deposits a day, 4,000 at most
    assert np.all(daily.ev_hi - daily.ev_lo == per_day)
    assert sorted(daily.values[:, 0].round(2).tolist()[:2]) == [10000.01, 12000.0]
    assert len(window) == 0  # nothing in the band just below the threshold
    assert len(smurf) == n_days  # each day's three conductors within 12 hours
    assert np.all(smurf.ev_hi - smurf.ev_lo == per_day) and np.all(smurf.values[:, 2] == 3)
    assert len(funnel) == 0  # one area only
    # in-rows exactly 24 h apart never leave the pass-through window: one episode of every pair
    pt = move["movement.pass_through"]
    assert len(pt) == 1 and pt.values[0, 4] == n_days and pt.ev_hi[0] - pt.ev_lo[0] == 2 * n_days
    assert pt.values[0, 2] == pytest.approx(0.9)
    assert all(len(h) == 0 for rule, h in move.items() if rule != "movement.pass_through")
    assert elapsed < 30, f"{elapsed:.1f} s"
