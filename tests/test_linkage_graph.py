"""Graph proximity, personalized PageRank and crime-terror convergence against slow references
(tests/linkage_reference.py).

Property tests draw small random ledgers (tests/strategies.py: transfers on a 6-hour grid so equal
times are common, amounts from a short list so equal amounts are common, chains, cycles, fans and
cash rows) and random seeds and parameters, and compare the kernels (both BFS steps, push and pull,
forced, and the automatic choice) with the references. Explicit tests pin a time-violating hop,
ties, cash rows and self-transfers, PageRank mass, input checks, convergence cases, and one small
generated world with planted facilitator networks and convergence scenarios.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from datetime import timedelta

import linkage_reference as ref
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from strategies import BASE, TRANSFER_AMOUNTS, amounts, describe, frames, ledgers

from nexusfin.detect import build_ledger
from nexusfin.linkage import graph as G
from nexusfin.linkage.convergence import TERROR_PROGRAMS, convergence, terror_seeds
from nexusfin.linkage.graph import NO_TS, best_path, paths_frame, personalized_pagerank, proximity

PROPERTY = settings(max_examples=int(os.environ.get("NEXUSFIN_PROPERTY_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
HOUR = timedelta(hours=1)


def small_ledger(tx, acc, **kw):
    """build_ledger on the calling thread: these ledgers are tiny, and waking numba's pool for each
    of its parallel string lookups costs more than the lookups (a lot more on a busy machine)."""
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return build_ledger(tx, acc, **kw)
    finally:
        numba.set_num_threads(before)


def graph_ledgers(**kw):
    """Mostly transfers among up to 9 accounts, with chains, cycles and fans, plus a few cash rows."""
    kw.setdefault("amount", amounts(TRANSFER_AMOUNTS, 500.0, 11000.0))
    kw.setdefault("motifs", (0, 3))
    kw.setdefault("max_rows", 30)
    kw.setdefault("n_accounts", (2, 9))
    kw.setdefault("n_parties", (2, 5))
    return ledgers(kinds=("transfer",) * 6 + ("deposit", "withdrawal"), **kw)


def t(src, dst, hours, usd, txn_id=None, channel="wire"):
    return {"ts": BASE + hours * HOUR, "src_account": src, "dst_account": dst, "amount_usd": usd, "channel": channel,
            "txn_type": "transfer", "txn_id": txn_id}


def make(rows: list[dict], ids: str | list[str] = "ABCDEFGH"):
    for i, r in enumerate(rows):
        r["txn_id"] = r.get("txn_id") or f"T{i:02d}"
    accounts = [{"account_id": a, "owner_party_id": f"P{a}", "account_type": "checking", "country": "US"} for a in ids]
    tx, acc = frames(rows, accounts)
    return tx, acc, small_ledger(tx, acc)


@contextmanager
def on_all_threads():
    """Run the kernels on numba's thread pool even for tiny ledgers (they use one thread below
    graph._SMALL), so the parallel loops are what gets compared."""
    before = G._SMALL
    G._SMALL = 0
    try:
        yield
    finally:
        G._SMALL = before


def code(ledger, account_id: str) -> int:
    return ledger.account_code(account_id)


def codes(ledger, ids) -> np.ndarray:
    return np.array([code(ledger, a) for a in ids], dtype=np.int32)


# -- comparing kernel and reference ------------------------------------------------------------------
def check_direction(ledger, tx, prox, seeds: list[str], direction: str) -> None:
    want = ref.bfs(tx, seeds, direction, max_hops=prox.max_hops, time_respecting=prox.time_respecting,
                   min_usd=prox.min_usd)
    ids = ledger.account_ids
    if direction == "to":
        hops, seed, row, bott, last = (prox.hops_to, prox.seed_to, prox.next_row_to, prox.path_usd_to,
                                       prox.last_ts_to)
        first = prox.first_usd_to
    else:
        hops, seed, row, bott, last = (prox.hops_from, prox.seed_from, prox.prev_row_from, prox.path_usd_from,
                                       prox.last_ts_from)
        first = None
    for a in range(ledger.n_accounts):
        w = want.get(str(ids[a]))
        if w is None:
            assert hops[a] == -1 and seed[a] == -1 and row[a] == -1 and math.isnan(bott[a]) and last[a] == NO_TS, \
                f"{direction}: {ids[a]} reached by the kernel (hops {hops[a]}) but not by the reference"
            continue
        got = (int(hops[a]), str(ids[seed[a]]), None if row[a] < 0 else int(row[a]))
        assert got == (w.hops, w.seed, w.row), f"{direction} {ids[a]}: kernel {got}, reference {(w.hops, w.seed, w.row)}"
        if w.bottleneck is None:
            assert math.isnan(bott[a]) and last[a] == NO_TS
        else:
            assert bott[a] == w.bottleneck and last[a] == w.last_ts, f"{direction} {ids[a]}"
        if first is not None:
            assert (math.isnan(first[a]) if w.first_usd is None else first[a] == w.first_usd)
    frame = paths_frame(ledger, prox, np.arange(ledger.n_accounts), direction)
    txn = tx.get_column("txn_id").to_list()
    for r in frame.iter_rows(named=True):
        w = want.get(r["account_id"])
        if w is None:
            assert r["hops"] == -1 and r["path_accounts"] == [] and r["seed_account_id"] is None
            continue
        assert r["path_accounts"] == w.path_accounts
        assert r["path_txn_ids"] == [txn[i] for i in w.path_rows]
        assert r["hops"] == w.hops and r["seed_account_id"] == w.seed
        assert len(r["path_usd"]) == w.hops
        ev = best_path(ledger, prox, code(ledger, r["account_id"]), direction)
        assert ev.account_ids == w.path_accounts and ev.rows.tolist() == w.path_rows
        assert ev.txn_ids == r["path_txn_ids"]


@st.composite
def proximity_cases(draw):
    tx, acc = draw(graph_ledgers())
    ids = acc.get_column("account_id").to_list()
    seeds = draw(st.lists(st.sampled_from(ids), min_size=0, max_size=3))
    params = {
        "max_hops": draw(st.sampled_from((1, 2, 3, 4, 6))),
        "time_respecting": draw(st.booleans()),
        "min_usd": draw(st.sampled_from((0.0, 0.0, 1000.0, 3000.0, 5000.0))),
    }
    return tx, acc, seeds, params


@PROPERTY
@given(case=proximity_cases())
def test_proximity_matches_reference(case):
    tx, acc, seeds, params = case
    note(describe(tx, acc))
    note(f"seeds {seeds} {params}")
    ledger = small_ledger(tx, acc)
    seed_codes = codes(ledger, seeds)
    results = [G._proximity(ledger, seed_codes, mode=m, **params) for m in ("push", "pull", "auto")]
    with on_all_threads():
        results.append(G._proximity(ledger, seed_codes, mode="pull", **params))
    for prox in results:
        for direction in ("to", "from"):
            check_direction(ledger, tx, prox, seeds, direction)


@st.composite
def pagerank_cases(draw):
    tx, acc = draw(graph_ledgers())
    ids = acc.get_column("account_id").to_list()
    seeds = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3))
    return tx, acc, seeds, {
        "alpha": draw(st.sampled_from((0.15, 0.5, 0.05, 1.0))),
        "iterations": draw(st.sampled_from((0, 1, 2, 30, 60))),
        "weight": draw(st.sampled_from(("usd", "count"))),
    }


@PROPERTY
@given(case=pagerank_cases())
def test_pagerank_matches_reference(case):
    tx, acc, seeds, params = case
    note(describe(tx, acc))
    ledger = small_ledger(tx, acc)
    want = ref.pagerank(tx, [str(a) for a in ledger.account_ids], seeds, tol=0.0, **params)
    got = personalized_pagerank(ledger, codes(ledger, seeds), tol=0.0, **params)
    assert math.isclose(got.sum(), 1.0, abs_tol=1e-12)
    for a in range(ledger.n_accounts):
        assert math.isclose(got[a], want[str(ledger.account_ids[a])], rel_tol=1e-9, abs_tol=1e-12), \
            f"{ledger.account_ids[a]}: {got[a]} vs reference {want[str(ledger.account_ids[a])]}"


def test_pagerank_early_stop_by_tolerance():
    _, _, ledger = make([t("A", "B", 1, 100.0), t("B", "C", 2, 100.0), t("C", "A", 3, 100.0)], "ABC")
    loose = personalized_pagerank(ledger, codes(ledger, ["A"]), iterations=500, tol=1e-3)
    tight = personalized_pagerank(ledger, codes(ledger, ["A"]), iterations=500, tol=0.0)
    assert math.isclose(loose.sum(), 1.0) and np.abs(loose - tight).sum() < 1e-2
    assert np.abs(loose - tight).sum() > 0  # it stopped early


FAMILY_RULES = {
    "structuring": ("structuring.daily", "structuring.window"),
    "funnel": ("funnel.multi_location",),
    "rapid_movement": ("movement.pass_through", "movement.chain"),
    "crypto": ("crypto.cash_out",),
}


@st.composite
def convergence_cases(draw):
    tx, acc = draw(graph_ledgers(motifs=(1, 3)))
    ids = acc.get_column("account_id").to_list()
    seeds = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
    alerts = []
    for i in range(draw(st.integers(0, 6))):
        fam = draw(st.sampled_from((*FAMILY_RULES, "other")))
        rule = draw(st.sampled_from(FAMILY_RULES.get(fam, ("other.rule",))))
        alerts.append({"alert_id": f"DA-{i:020x}", "detector": fam, "rule": rule,
                       "account_id": draw(st.sampled_from([*ids, "NOT-IN-LEDGER"]))})
    families = draw(st.sampled_from((("structuring", "funnel", "rapid_movement", "crypto"), ("structuring",))))
    rules = draw(st.sampled_from((None, ("structuring.daily", "movement.chain"))))
    return tx, acc, seeds, alerts, families, rules, draw(st.sampled_from((2, 4)))


@PROPERTY
@given(case=convergence_cases())
def test_convergence_matches_reference(case):
    tx, acc, seeds, alert_rows, families, rules, max_hops = case
    note(describe(tx, acc))
    note(f"seeds {seeds} alerts {alert_rows} families {families} rules {rules}")
    ledger = small_ledger(tx, acc)
    alerts = pl.DataFrame(alert_rows, schema={"alert_id": pl.String, "detector": pl.String, "rule": pl.String,
                                              "account_id": pl.String})
    prox = proximity(ledger, codes(ledger, seeds), max_hops=max_hops)
    conv = convergence(ledger, prox, alerts, crime_families=families, crime_rules=rules)
    to = ref.bfs(tx, seeds, "to", max_hops=max_hops, time_respecting=True, min_usd=0.0)
    want = ref.convergence(to, alerts, families, rules)
    ids = [str(a) for a in ledger.account_ids]
    assert {ids[a] for a in np.flatnonzero(conv.crime)} == want["crime"] - {"NOT-IN-LEDGER"}
    assert {ids[a] for a in np.flatnonzero(conv.convergent)} == want["convergent"]
    assert {ids[a] for a in np.flatnonzero(conv.on_convergence_path)} == want["on_path"]
    got_groups = {}
    for g in range(conv.groups.height):
        members = {ids[a] for a in np.flatnonzero(conv.group == g)}
        got_groups[conv.groups.item(g, "seed_account_id")] = members
        assert conv.groups.item(g, "group") == g
        assert set(conv.groups.item(g, "path_account_ids")) == members
    assert got_groups == want["groups"]
    assert (conv.group >= 0).sum() == len(want["on_path"])
    flagged = set(conv.accounts.get_column("account_id").to_list())
    assert flagged == want["on_path"]
    assert conv.accounts.get_column("reason").str.len_chars().min() or not flagged


# -- hand-written proximity cases --------------------------------------------------------------------------
def test_three_hop_chain_with_a_time_violating_edge():
    # A -> B -> C -> F in time order; D -> C after C already forwarded: not time-respecting
    _, _, ledger = make([
        t("A", "B", 1, 5000.0), t("B", "C", 2, 4000.0), t("C", "F", 3, 3000.0), t("D", "C", 5, 9000.0),
    ], "ABCDF")
    F = code(ledger, "F")
    p = proximity(ledger, np.array([F]))
    hops = {a: int(p.hops_to[code(ledger, a)]) for a in "ABCDF"}
    assert hops == {"A": 3, "B": 2, "C": 1, "D": -1, "F": 0}
    ev = best_path(ledger, p, code(ledger, "A"))
    assert ev.account_ids == ["A", "B", "C", "F"] and ev.txn_ids == ["T00", "T01", "T02"]
    assert ev.bottleneck_usd == 3000.0 and ev.hops == 3 and ev.seed == F
    a = code(ledger, "A")
    assert p.first_usd_to[a] == 5000.0 and p.path_usd_to[a] == 3000.0 and p.last_ts_to[a] == ledger.ts[2]
    # ignoring time, D reaches F in 2 hops through C
    q = proximity(ledger, np.array([F]), time_respecting=False)
    assert q.hops_to[code(ledger, "D")] == 2
    # a 2-hop limit cuts A off; min_usd above a hop's amount cuts the chain there
    assert proximity(ledger, np.array([F]), max_hops=2).hops_to[a] == -1
    assert proximity(ledger, np.array([F]), min_usd=3500.0).hops_to[code(ledger, "C")] == -1
    # from the seed: nothing leaves F; from A: money reaches B, C, F in order
    assert (p.hops_from[np.arange(ledger.n_accounts) != F] == -1).all()
    r = proximity(ledger, np.array([a]))
    assert [int(r.hops_from[code(ledger, x)]) for x in "ABCDF"] == [0, 1, 2, -1, 3]
    ev = best_path(ledger, r, F, "from")
    assert ev.account_ids == ["A", "B", "C", "F"] and ev.txn_ids == ["T00", "T01", "T02"]
    assert r.last_ts_from[F] == ledger.ts[2] and r.path_usd_from[F] == 3000.0


def test_one_label_per_account_misses_a_longer_time_respecting_route():
    # Y reaches F directly at 1 h (deadline 1 h) and through Z later (Y -> Z 6 h, Z -> F 7 h).
    # X -> Y at 5 h continues X -> Y -> Z -> F in time order, but Y keeps its first-level label
    # (deadline 1 h), so X is not reached: the documented approximation.
    _, _, ledger = make([t("Y", "F", 1, 100.0), t("Y", "Z", 6, 100.0), t("Z", "F", 7, 100.0),
                         t("X", "Y", 5, 100.0)], ["F", "X", "Y", "Z"])
    p = proximity(ledger, codes(ledger, ["F"]))
    assert [int(p.hops_to[code(ledger, a)]) for a in "XYZ"] == [-1, 1, 1]
    assert proximity(ledger, codes(ledger, ["F"]), time_respecting=False).hops_to[code(ledger, "X")] == 2


def test_ties_prefer_the_latest_then_the_largest_then_the_first_row():
    _, _, ledger = make([
        t("A", "F", 1, 900.0),  # T00 earlier
        t("A", "F", 4, 500.0),  # T01 latest, smaller
        t("A", "F", 4, 700.0),  # T02 latest, larger  <- A's step
        t("B", "F", 2, 800.0),  # T03 same time and amount as T04: the first row wins
        t("B", "F", 2, 800.0),  # T04
        t("C", "A", 3, 100.0),  # T05: C -> A at 3 h (A leaves at 4 h)
        t("C", "B", 3, 100.0),  # T06: C -> B at 3 h, after B left at 2 h: not time-respecting
    ], "ABCF")
    p = proximity(ledger, codes(ledger, ["F"]))
    assert ledger.txn_ids[int(p.next_row_to[code(ledger, "A")])] == "T02"
    assert ledger.txn_ids[int(p.next_row_to[code(ledger, "B")])] == "T03"
    c = code(ledger, "C")
    assert p.hops_to[c] == 2 and ledger.txn_ids[int(p.next_row_to[c])] == "T05"
    # from: earliest arrival wins
    q = proximity(ledger, codes(ledger, ["C"]))
    assert q.hops_from[code(ledger, "F")] == 2
    # F hears from C through A (A -> F at 4 h: T01 and T02 tie on time, T02 is larger); B -> F at 2 h
    # is before C -> B at 3 h
    assert ledger.txn_ids[int(q.prev_row_from[code(ledger, "F")])] == "T02"
    for mode in ("push", "pull"):
        m = G._proximity(ledger, codes(ledger, ["F"]), mode=mode)
        assert (m.next_row_to == p.next_row_to).all()


def test_cash_rows_and_self_transfers_are_not_edges():
    _, _, ledger = make([
        {**t(None, "A", 1, 9000.0), "channel": "cash", "txn_type": "deposit"},
        {**t("A", None, 2, 9000.0), "channel": "cash", "txn_type": "withdrawal"},
        t("A", "A", 3, 5000.0),
        t("B", "B", 3, 5000.0),
        t("B", "F", 4, 5000.0),
    ], "ABF")
    p = proximity(ledger, codes(ledger, ["F"]))
    assert p.hops_to[code(ledger, "A")] == -1 and p.hops_to[code(ledger, "B")] == 1
    pr = personalized_pagerank(ledger, codes(ledger, ["A"]))
    assert pr[code(ledger, "A")] == pytest.approx(1.0) and pr[code(ledger, "B")] == 0.0


def test_seeds_and_unreached_accounts_carry_no_path():
    _, _, ledger = make([t("A", "F", 1, 100.0)], "ABF")
    F = code(ledger, "F")
    p = proximity(ledger, np.array([F, F]))  # duplicates are fine
    assert p.seeds.tolist() == [F]
    assert p.hops_to[F] == 0 and p.seed_to[F] == F and p.next_row_to[F] == -1 and math.isnan(p.path_usd_to[F])
    assert p.last_ts_to[F] == NO_TS
    b = code(ledger, "B")
    assert p.hops_to[b] == -1 and p.seed_to[b] == -1 and math.isnan(p.first_usd_to[b])
    frame = paths_frame(ledger, p, np.array([F, b, code(ledger, "A")]))
    assert frame.schema == pl.Schema({
        "account_id": pl.String, "hops": pl.Int8, "seed_account_id": pl.String, "path_accounts": pl.List(pl.String),
        "path_txn_ids": pl.List(pl.String), "path_usd": pl.List(pl.Float64), "bottleneck_usd": pl.Float64,
        "last_ts": pl.Datetime("us", "UTC")})
    assert frame.rows() == [
        ("F", 0, "F", ["F"], [], [], None, None),
        ("B", -1, None, [], [], [], None, None),
        ("A", 1, "F", ["A", "F"], ["T00"], [100.0], 100.0, BASE + HOUR),
    ]
    empty = proximity(ledger, np.array([], dtype=np.int32))
    assert (empty.hops_to == -1).all() and (empty.hops_from == -1).all()
    assert paths_frame(ledger, p, np.array([], dtype=np.int64)).height == 0


def test_pagerank_star_sums_to_one_and_the_seed_holds_the_most():
    rows = [t("H", x, i, 1000.0) for i, x in enumerate("ABCDE")] + [t("A", "B", 9, 10.0)]
    _, _, ledger = make(rows, "ABCDEHX")
    pr = personalized_pagerank(ledger, codes(ledger, ["H"]))
    assert math.isclose(pr.sum(), 1.0, abs_tol=1e-12)
    h = code(ledger, "H")
    assert pr[h] == pr.max() and (np.delete(pr, h) < pr[h]).all()
    assert pr[code(ledger, "X")] == 0.0  # no edge: unreachable
    assert (personalized_pagerank(ledger, np.array([], dtype=np.int32)) == 0).all()
    # a seed with no edge: its (dangling) mass returns to the seeds, half of it to itself, so it
    # holds x = (alpha + (1 - alpha) x) / 2
    both = personalized_pagerank(ledger, codes(ledger, ["H", "X"]))
    assert math.isclose(both.sum(), 1.0) and math.isclose(both[code(ledger, "X")], 0.15 / 2 / (1 - 0.85 / 2))


def test_inputs_are_checked():
    tx, acc, ledger = make([t("A", "F", 1, 100.0)], "AF")
    with pytest.raises(ValueError, match=r"account codes in 0\.\.1"):
        proximity(ledger, np.array([2]))
    with pytest.raises(ValueError, match=r"account codes in 0\.\.1"):
        proximity(ledger, np.array([-1]))
    with pytest.raises(ValueError, match="integer account codes"):
        proximity(ledger, np.array([0.5]))
    for bad in (0, 21, 2.5, True):
        with pytest.raises(ValueError, match="max_hops"):
            proximity(ledger, np.array([0]), max_hops=bad)
    with pytest.raises(ValueError, match="min_usd"):
        proximity(ledger, np.array([0]), min_usd=float("nan"))
    with pytest.raises(ValueError, match="direction"):
        best_path(ledger, proximity(ledger, np.array([0])), 0, "sideways")
    with pytest.raises(ValueError, match="alpha"):
        personalized_pagerank(ledger, np.array([0]), alpha=0.0)
    with pytest.raises(ValueError, match="weight"):
        personalized_pagerank(ledger, np.array([0]), weight="age")
    with pytest.raises(ValueError, match="iterations"):
        personalized_pagerank(ledger, np.array([0]), iterations=-1)
    part = small_ledger(tx, acc, partition=(0, 2))
    with pytest.raises(ValueError, match="whole window ledger"):
        proximity(part, np.array([0]))
    other = proximity(make([t("A", "B", 1, 1.0)], "ABC")[2], np.array([0]))
    with pytest.raises(ValueError, match="compute it on this ledger"):
        paths_frame(ledger, other, np.array([0]))


def test_push_pull_serial_and_parallel_agree_on_a_larger_random_graph():
    rng = np.random.default_rng(5)
    n, m = 300, 3000
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    hours = rng.integers(0, 24 * 14, m)
    usd = rng.choice([1000.0, 2000.0, 5000.0], m)
    rows = [t(f"A{s:03d}", f"A{d:03d}", int(h), float(u)) for s, d, h, u in zip(src, dst, hours, usd, strict=True)]
    tx, _, ledger = make(rows, [f"A{i:03d}" for i in range(n)])
    seeds = rng.choice(n, 5, replace=False)
    for tr in (True, False):
        a, b, c = (G._proximity(ledger, seeds, time_respecting=tr, max_hops=6, mode=mo) for mo in ("push", "pull", "auto"))
        with on_all_threads():
            d, e = (G._proximity(ledger, seeds, time_respecting=tr, max_hops=6, mode=mo) for mo in ("pull", "auto"))
        for f in ("hops_to", "seed_to", "next_row_to", "path_usd_to", "first_usd_to", "last_ts_to", "hops_from",
                  "seed_from", "prev_row_from", "path_usd_from", "last_ts_from"):
            for other in (b, c, d, e):
                np.testing.assert_array_equal(getattr(a, f), getattr(other, f))
        assert (a.hops_to >= 2).any() and (a.hops_to == -1).any()
        check_direction(ledger, tx, a, [f"A{s:03d}" for s in seeds], "to")
        check_direction(ledger, tx, a, [f"A{s:03d}" for s in seeds], "from")
    with on_all_threads():
        par = personalized_pagerank(ledger, seeds, tol=0.0)
    want = ref.pagerank(tx, [str(a) for a in ledger.account_ids], [f"A{s:03d}" for s in seeds], alpha=0.15,
                        iterations=30, tol=0.0, weight="usd")
    np.testing.assert_allclose(par, [want[str(a)] for a in ledger.account_ids], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(par, personalized_pagerank(ledger, seeds, tol=0.0), rtol=1e-12, atol=1e-15)


# -- convergence ----------------------------------------------------------------------------------------------
ENTITIES = {
    "F": {"entity_id": "SYN-10003", "name": "HUSSEIN AL-TAMIMI", "programs": ["SDGT", "FTO"]},
    "N": {"entity_id": "SYN-10000", "name": "CARTEL DEL PACIFICO SUR", "programs": ["SDNTK"]},
}


def _alerts(rows):
    return pl.DataFrame(rows, schema={"alert_id": pl.String, "detector": pl.String, "rule": pl.String,
                                      "account_id": pl.String})


def _nexus_ledger():
    # S structures cash, wires to intermediary I, then hub H, then terror facilitator F;
    # K (no alert) sends to H as well; S2 structures and sends only to the narcotics seed N
    return make([
        {**t(None, "S", 1, 9500.0), "channel": "cash", "txn_type": "deposit"},
        {**t(None, "S", 2, 9400.0), "channel": "cash", "txn_type": "deposit"},
        t("S", "I", 20, 18000.0),
        t("I", "H", 40, 17500.0),
        t("K", "H", 41, 3000.0),
        t("H", "F", 60, 20000.0),
        t("S2", "N", 30, 15000.0),
    ], ["S", "I", "H", "F", "K", "S2", "N", "X"])


def test_a_structuring_account_whose_money_reaches_a_terror_facilitator_is_convergent():
    _, _, ledger = _nexus_ledger()
    entities = {code(ledger, k): v for k, v in ENTITIES.items()}
    seeds_t = terror_seeds(entities)
    assert seeds_t.tolist() == [code(ledger, "F")]  # the SDNTK-only entity is not a terror seed
    alerts = _alerts([
        {"alert_id": "DA-" + "a" * 20, "detector": "structuring", "rule": "structuring.daily", "account_id": "S"},
        {"alert_id": "DA-" + "b" * 20, "detector": "structuring", "rule": "structuring.daily", "account_id": "S2"},
    ])
    prox = proximity(ledger, seeds_t)
    conv = convergence(ledger, prox, alerts, seed_entities=entities)
    flag = {a: (bool(conv.crime[code(ledger, a)]), bool(conv.convergent[code(ledger, a)]),
                bool(conv.on_convergence_path[code(ledger, a)]), int(conv.group[code(ledger, a)]))
            for a in ["S", "I", "H", "F", "K", "S2", "N"]}
    assert flag == {
        "S": (True, True, True, 0), "I": (False, False, True, 0), "H": (False, False, True, 0),
        "F": (False, False, True, 0), "K": (False, False, False, -1),
        "S2": (True, False, False, -1),  # its money only reaches the narcotics seed
        "N": (False, False, False, -1),
    }
    g = conv.groups.row(0, named=True)
    assert g["seed_account_id"] == "F" and g["entity_id"] == "SYN-10003" and g["programs"] == ["SDGT", "FTO"]
    assert g["crime_account_ids"] == ["S"] and g["crime_alert_ids"] == ["DA-" + "a" * 20]
    assert g["intermediary_account_ids"] == ["I", "H"] and g["path_account_ids"] == ["S", "I", "H", "F"]
    assert g["path_txn_ids"] == ["T02", "T03", "T05"] and g["total_usd"] == 20000.0
    assert (g["min_hops"], g["max_hops"]) == (3, 3)
    assert g["reason"] == (
        "Account S with structuring alerts (DA-aaaaaaaaaaaaaaaaaaaa) sends money in 3 hops through I, H to account F "
        "of SYN-10003 HUSSEIN AL-TAMIMI (SDGT, FTO); 20,000 USD reached it within 40 hours (2026-01-05 to "
        "2026-01-07).")
    roles = dict(conv.accounts.select("account_id", "role").iter_rows())
    assert roles == {"S": "crime_source", "I": "intermediary", "H": "intermediary", "F": "terror_facilitator"}
    s_reason = conv.reason("S")
    assert "DA-aaaaaaaaaaaaaaaaaaaa" in s_reason and "in 3 hops via I, H" in s_reason and "18,000 USD left" in s_reason
    assert "smallest transfer on the path was 17,500 USD" in s_reason
    assert "from 1 crime-alerted account (S)" in conv.reason("H")
    assert conv.reason("K") is None

    # the same money without the crime alert: nothing converges
    none = convergence(ledger, prox, alerts.filter(pl.col("account_id") != "S"), seed_entities=entities)
    assert not none.convergent.any() and not none.on_convergence_path.any() and none.groups.height == 0
    assert none.crime[code(ledger, "S2")] and none.accounts.height == 0
    # alerts of families or rules outside the crime set do not count
    assert not convergence(ledger, prox, alerts, crime_families=("funnel",)).convergent.any()
    assert not convergence(ledger, prox, alerts, crime_rules=("structuring.window",)).convergent.any()
    # a proximity seeded with the narcotics-only facilitator is refused when entities are known
    with pytest.raises(ValueError, match="terror-designated seeds only"):
        convergence(ledger, proximity(ledger, codes(ledger, ["F", "N"])), alerts, seed_entities=entities)
    # unless the caller's own terror programmes include the narcotics one
    wide = convergence(ledger, proximity(ledger, codes(ledger, ["F", "N"])), alerts, seed_entities=entities,
                       terror_programs=("SDGT", "SDNTK"))
    assert wide.convergent[code(ledger, "S2")] and wide.groups.height == 2
    with pytest.raises(ValueError, match="lack column"):
        convergence(ledger, prox, alerts.drop("detector"))


def test_a_crime_alert_on_the_facilitator_itself_and_several_sources_form_one_group():
    _, _, ledger = _nexus_ledger()
    alerts = _alerts([
        {"alert_id": "DA-" + "1" * 20, "detector": "structuring", "rule": "structuring.daily", "account_id": "S"},
        {"alert_id": "DA-" + "2" * 20, "detector": "rapid_movement", "rule": "movement.pass_through",
         "account_id": "I"},
        {"alert_id": "DA-" + "3" * 20, "detector": "funnel", "rule": "funnel.multi_location", "account_id": "F"},
        {"alert_id": "DA-" + "4" * 20, "detector": "rapid_movement", "rule": "movement.fan_in", "account_id": "K"},
    ])
    conv = convergence(ledger, proximity(ledger, codes(ledger, ["F"])), alerts)
    assert conv.groups.height == 1
    g = conv.groups.row(0, named=True)
    assert g["crime_account_ids"] == ["F", "I", "K", "S"] and g["entity_id"] is None
    assert g["intermediary_account_ids"] == ["H"] and (g["min_hops"], g["max_hops"]) == (2, 3)
    assert g["total_usd"] == 20000.0  # one transfer into F carries all three paths
    assert "3 accounts with funnel/rapid movement/structuring" not in g["reason"]
    assert g["reason"].startswith("3 accounts with rapid movement/structuring alerts")
    assert "The facilitator account F itself has funnel alerts (DA-3333333333333333333" in g["reason"]
    assert "(terror-designated facilitator)" in g["reason"]
    assert set(conv.accounts.filter(pl.col("role") == "crime_source").get_column("account_id")) == {"S", "I", "K"}
    assert "It has funnel alerts itself" in conv.reason("F")


# -- a generated world -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from nexusfin.detect import detect_alerts, load_detector_config
    from nexusfin.layout import DataRoot
    from synthetic import WorldConfig, generate

    out = tmp_path_factory.mktemp("linkage_world")
    generate(WorldConfig(seed=8, n_accounts=3000, days=14,
                         typology_counts={"facilitator_network": 8, "convergence": 8}), out)
    root = DataRoot(out)
    files = [str(p) for p in sorted(root.landing_days().values())]
    ledger = build_ledger(pl.scan_parquet(files), pl.read_parquet(root.reference_file("accounts")),
                          pl.read_parquet(root.reference_file("address_tags")))
    labels = pl.read_parquet(root.truth_file("truth_account_labels"))
    scenarios = pl.read_parquet(root.truth_file("truth_scenarios"))
    watch = pl.read_parquet(root.reference_file("watchlist"))
    txn_labels = pl.concat([pl.read_parquet(f) for f in sorted((root.truth / "transaction_labels").glob("*.parquet"))])
    alerts = pl.concat(list(detect_alerts(ledger, load_detector_config()).values()))
    code_of = pl.DataFrame({"account_id": ledger.account_ids, "code": np.arange(ledger.n_accounts)})
    fac = (labels.filter(pl.col("role").is_in(["facilitator_owned", "facilitator"]))
           .join(code_of, on="account_id")
           .join(scenarios.select("scenario_id", pl.col("params").str.json_path_match("$.entity_id").alias("entity_id")),
                 on="scenario_id")
           .join(watch.select("entity_id", "name", "programs"), on="entity_id"))
    entities = {r["code"]: {"entity_id": r["entity_id"], "name": r["name"], "programs": r["programs"]}
                for r in fac.iter_rows(named=True)}
    tx = pl.scan_parquet(files).select("txn_id", "src_account", "dst_account").collect()
    return ledger, labels, txn_labels, tx, alerts, entities


def test_facilitator_networks_are_reached_and_background_mostly_not(world):
    ledger, labels, _, _, _, entities = world
    seeds = np.array(sorted(entities), dtype=np.int32)
    assert len(seeds) >= 16
    prox = proximity(ledger, seeds)
    hops = pl.DataFrame({"account_id": ledger.account_ids, "hops_to": prox.hops_to})
    planted = (labels.filter(pl.col("typology").is_in(["facilitator_network", "convergence"])
                             & pl.col("role").is_in(["counterparty", "pass_through", "convergence_hub"]))
               .join(hops, on="account_id"))
    rates = planted.group_by("typology").agg(pl.len().alias("n"), (pl.col("hops_to") >= 0).mean().alias("reached"))
    background = hops.join(labels.select("account_id").unique(), on="account_id", how="anti")
    bg_rate = float((background.get_column("hops_to") >= 0).mean())
    print(f"\nreached within 4 hops: {rates.sort('typology').rows()}; background {bg_rate:.3f} "
          f"of {background.height}")
    reached = dict(rates.select("typology", "reached").iter_rows())
    # facilitator-network counterparties send to the facilitator in 1-3 hops: all of them
    assert reached["facilitator_network"] == 1.0
    # convergence intermediaries and hubs: all but those whose last leg goes through an exchange
    # (fiat in at the exchange's bank account, crypto out of its hot wallet: no money edge joins them)
    assert reached["convergence"] >= 0.6
    assert bg_rate <= 0.1


def test_convergence_flags_the_feeders_of_convergence_scenarios(world):
    ledger, labels, txn_labels, tx, alerts, entities = world
    terror = terror_seeds(entities)
    assert 0 < len(terror) < len(entities)  # some facilitators are narcotics-only
    assert all(set(entities[int(s)]["programs"]) & set(TERROR_PROGRAMS) for s in terror)
    # feeder -> first intermediary -> (up to 2 more) -> hub -> facilitator: up to 5 hops
    prox = proximity(ledger, terror, max_hops=5)
    conv = convergence(ledger, prox, alerts, seed_entities=entities)
    legs = txn_labels.filter(pl.col("typology") == "convergence").join(tx, on="txn_id")
    first_inter = legs.filter(pl.col("role") == "layer_hop_1").select("scenario_id", pl.col("src_account").alias("inter"))
    crypto_route = legs.group_by("scenario_id").agg((pl.col("role") == "to_exchange").any().alias("crypto_route"))
    feeders = (legs.join(first_inter, on="scenario_id")
               .filter((pl.col("dst_account") == pl.col("inter")) & pl.col("src_account").is_not_null())
               .select("scenario_id", pl.col("src_account").alias("account_id")).unique()
               .join(crypto_route, on="scenario_id"))
    flags = pl.DataFrame({"account_id": ledger.account_ids, "convergent": conv.convergent, "crime": conv.crime,
                          "group": conv.group})
    f = feeders.join(flags, on="account_id")
    bank = f.filter(~pl.col("crypto_route"))
    print(f"\nfeeders: {f.height} ({bank.height} on bank routes), with crime alerts "
          f"{f.get_column('crime').mean():.2f}, convergent: bank routes {bank.get_column('convergent').mean():.2f}, "
          f"crypto routes {f.filter(pl.col('crypto_route')).get_column('convergent').mean()}; "
          f"{conv.groups.height} groups, {int(conv.flagged.sum())} flagged accounts")
    assert bank.height >= 5
    assert bank.get_column("convergent").mean() >= 0.8
    # every convergent bank-route feeder lands in the group of its scenario's facilitator
    fac_of = (labels.filter((pl.col("typology") == "convergence") & (pl.col("role") == "facilitator_owned"))
              .select("scenario_id", pl.col("account_id").alias("fac")))
    seed_of_group = dict(conv.groups.select("group", "seed_account_id").iter_rows())
    for r in bank.join(fac_of, on="scenario_id").filter(pl.col("convergent")).iter_rows(named=True):
        assert seed_of_group[r["group"]] == r["fac"]
    # no unlabeled background account is flagged
    background = flags.join(labels.select("account_id").unique(), on="account_id", how="anti")
    assert background.get_column("convergent").sum() == 0
    # each group reads as a sentence naming its entity and programmes
    for g in conv.groups.iter_rows(named=True):
        assert g["entity_id"] in g["reason"] and ", ".join(g["programs"]) in g["reason"]
        assert g["reason"].endswith(").")
