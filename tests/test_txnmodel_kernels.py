"""nexusfin.txnmodel kernels against slow references (tests/txnmodel_reference.py).

Hypothesis draws small time-sorted tables (few accounts, so counterparties repeat and cycles,
fans and bipartite shapes occur; timestamps on an hour grid, so ties and exact window edges are
common), a visibility bound from the published split (random boundaries) or causal mode, random
windows and hub caps, and compares every kernel's output row by row with the reference. Further
tests: results do not depend on the order of rows sharing a timestamp; build_features glues the
kernels to the right columns (same-format and first-time-edge windows included); the split.
"""

from __future__ import annotations

import os

import numpy as np
import polars as pl
import pytest
import txnmodel_reference as ref
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from nexusfin.txnmodel import kernels as K
from nexusfin.txnmodel.data import TxnTable
from nexusfin.txnmodel.features import FeatureConfig, build_features, pair_index
from nexusfin.txnmodel.split import Split, temporal_split, visibility

PROPERTY = settings(max_examples=int(os.environ.get("NEXUSFIN_PROPERTY_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
H = 3_600_000_000  # one hour in microseconds
WINDOWS = (0, H, 2 * H, 5 * H, int(K.INF))


# -- drawing tables ----------------------------------------------------------------------------
@st.composite
def tables(draw, max_rows: int = 28, max_accounts: int = 6) -> dict:
    n = draw(st.integers(1, max_rows))
    n_acc = draw(st.integers(1, max_accounts))
    hours = sorted(draw(st.lists(st.integers(0, 16), min_size=n, max_size=n)))
    jitter = draw(st.lists(st.sampled_from((0, 0, 0, 0, 1, -1)), min_size=n, max_size=n))
    ts = sorted(h * H + j for h, j in zip(hours, jitter, strict=True))
    ts = [t - min(ts) for t in ts]
    accounts = st.integers(0, n_acc - 1)
    src = draw(st.lists(accounts, min_size=n, max_size=n))
    dst = draw(st.lists(accounts, min_size=n, max_size=n))
    amount = draw(st.lists(st.one_of(st.sampled_from((0.01, 1.0, 250.0, 9999.99, 3.5e7)),
                                     st.floats(0.01, 1e6, allow_nan=False)), min_size=n, max_size=n))
    mode = draw(st.sampled_from(("split", "causal")))
    ts_a = np.array(ts, dtype=np.int64)
    if mode == "split":
        cuts = sorted(draw(st.lists(st.sampled_from([*ts, ts[-1] + 1]), min_size=2, max_size=2)))
        b1, b2 = (int(np.searchsorted(ts_a, c, side="left")) for c in cuts)
        split = Split((0, b1, b2, n), (cuts[0], cuts[1]), "time")
        limit = visibility(ts_a, split, "split")
    else:
        limit = visibility(ts_a, None, "causal")
    return {"ts": ts, "src": src, "dst": dst, "amount": amount, "limit": limit.tolist(), "n_accounts": n_acc,
            "mode": mode}


def arrays(tb: dict) -> tuple[np.ndarray, ...]:
    return (np.array(tb["ts"], np.int64), np.array(tb["src"], np.int64), np.array(tb["dst"], np.int64),
            np.array(tb["amount"], np.float64), np.array(tb["limit"], np.int64))


def describe(tb: dict) -> str:
    return "\n".join(f"{i}: t={t / H:.6g}h {s}->{d} {a} limit={lim}" for i, (t, s, d, a, lim) in
                     enumerate(zip(tb["ts"], tb["src"], tb["dst"], tb["amount"], tb["limit"], strict=True)))


def chunks_of(n: int, k: int = 3) -> np.ndarray:
    return np.linspace(0, n, k + 1).astype(np.int64)


# -- running the kernels -----------------------------------------------------------------------
SIDES = {"src_out": ("src", "src", "dst"), "src_in": ("src", "dst", "src"), "dst_in": ("dst", "dst", "src"),
         "dst_out": ("dst", "src", "dst")}  # query key column, edge key column, counterparty column


def run_window(tb, side, back, fwd, edge_mask=None):
    ts, src, dst, amount, limit = arrays(tb)
    cols = {"src": src, "dst": dst}
    qk, ek, oc = SIDES[side]
    n_acc = tb["n_accounts"]
    q_ptr, q_rows = K.csr(cols[qk], n_acc)
    key = cols[ek] if edge_mask is None else np.where(edge_mask, cols[ek], n_acc)
    e_ptr, e_rows = K.csr(key, n_acc + 1)
    val, other = np.log1p(amount), cols[oc]
    return K.window_stats(q_ptr, q_rows, e_ptr[:-1].copy(), e_rows, ts[e_rows], other[e_rows], val[e_rows],
                          amount[e_rows], ts, limit, np.int64(back), np.int64(fwd), n_acc,
                          K.balanced_chunks(q_ptr, 3))


def ref_window(tb, side, back, fwd, edge_mask=None):
    qk, ek, oc = SIDES[side]
    val = [float(np.log1p(a)) for a in tb["amount"]]
    return ref.window_stats(tb["ts"], tb[qk], tb[ek], tb[oc], val, tb["amount"], tb["limit"], back, fwd,
                            None if edge_mask is None else edge_mask.tolist())


def adjacency(tb):
    ts, src, dst, _, _ = arrays(tb)
    g = K.adjacency(ts, src, dst, tb["n_accounts"])
    return (g["out_ptr"], g["out_rows"], g["out_ts"], g["out_nbr"], g["in_ptr"], g["in_rows"], g["in_ts"],
            g["in_nbr"])


def run_pairs(tb, window):
    ts, src, dst, _, limit = arrays(tb)
    ptr, rows, group, rev = pair_index(src, dst, tb["n_accounts"])
    return K.pair_stats(ts, limit, ptr, rows, ts[rows], group, rev, np.int64(window))


def run_gaps(tb):
    ts, src, dst, amount, limit = arrays(tb)
    a = adjacency(tb)
    return K.gaps(ts, src, dst, amount, limit, a[0], a[1], a[2], a[4], a[5], a[6])


def run_cycles(tb, window, fd, bd, cap):
    ts, src, dst, _, limit = arrays(tb)
    return K.cycle_length(ts, src, dst, limit, *adjacency(tb), np.int64(window), fd, bd, cap, tb["n_accounts"],
                          chunks_of(len(ts)))


def run_motifs(tb, window, cap):
    ts, src, dst, _, limit = arrays(tb)
    return K.motifs(ts, src, dst, limit, *adjacency(tb), np.int64(window), cap, tb["n_accounts"],
                    chunks_of(len(ts)))


def assert_window_equal(got, want):
    cnt, dist, s1, s2, vol = got
    for i, w in enumerate(want):
        assert (cnt[i], dist[i]) == (w[0], w[1]), f"row {i}: rows/distinct {cnt[i], dist[i]} != {w[:2]}"
        assert s1[i] == pytest.approx(w[2], rel=1e-9, abs=1e-9), f"row {i}: sum"
        assert s2[i] == pytest.approx(w[3], rel=1e-9, abs=1e-9), f"row {i}: sum of squares"
        assert vol[i] == pytest.approx(w[4], rel=1e-9, abs=1e-6), f"row {i}: volume"


# -- properties ----------------------------------------------------------------------------------
@PROPERTY
@given(tb=tables(), side=st.sampled_from(tuple(SIDES)), back=st.sampled_from(WINDOWS),
       fwd=st.sampled_from(WINDOWS), masked=st.booleans(), data=st.data())
def test_window_stats_matches_reference(tb, side, back, fwd, masked, data):
    note(describe(tb))
    n = len(tb["ts"])
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n))) if masked else None
    assert_window_equal(run_window(tb, side, back, fwd, mask), ref_window(tb, side, back, fwd, mask))


@PROPERTY
@given(tb=tables(), window=st.sampled_from(WINDOWS))
def test_pair_stats_matches_reference(tb, window):
    note(describe(tb))
    got = np.column_stack(run_pairs(tb, window)).tolist()
    want = [list(r) for r in ref.pair_stats(tb["ts"], tb["src"], tb["dst"], tb["limit"], window)]
    assert got == want


@PROPERTY
@given(tb=tables())
def test_gaps_match_reference(tb):
    note(describe(tb))
    got = run_gaps(tb)
    want = np.array(ref.gaps(tb["ts"], tb["src"], tb["dst"], tb["amount"], tb["limit"]))
    np.testing.assert_array_equal(got, want.reshape(got.shape))


@PROPERTY
@given(tb=tables(), window=st.sampled_from(WINDOWS), fd=st.integers(1, 3), bd=st.integers(1, 3),
       cap=st.integers(1, 12))
def test_cycle_length_matches_reference(tb, window, fd, bd, cap):
    note(describe(tb))
    got = run_cycles(tb, window, fd, bd, cap).tolist()
    assert got == ref.cycle_length(tb["ts"], tb["src"], tb["dst"], tb["limit"], window, fd, bd, cap)


@PROPERTY
@given(tb=tables(max_accounts=8), window=st.sampled_from(WINDOWS), cap=st.integers(1, 14))
def test_motifs_match_reference(tb, window, cap):
    note(describe(tb))
    got = [tuple(r) for r in run_motifs(tb, window, cap).tolist()]
    assert got == ref.motifs(tb["ts"], tb["src"], tb["dst"], tb["limit"], window, cap)


@PROPERTY
@given(tb=tables(), seed=st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_the_order_of_rows_sharing_a_timestamp(tb, seed):
    """Shuffle rows within each timestamp: every kernel gives each row the same result."""
    note(describe(tb))
    ts = np.array(tb["ts"])
    rng = np.random.default_rng(seed)
    perm = np.lexsort((rng.random(len(ts)), ts))  # new position -> old row
    tb2 = {**tb, **{k: [tb[k][j] for j in perm] for k in ("ts", "src", "dst", "amount", "limit")}}
    tb2["limit"] = (visibility(np.array(tb2["ts"]), None, "causal") if tb["mode"] == "causal"
                    else np.array(tb2["limit"])).tolist()

    def all_results(t):
        w = run_window(t, "dst_in", 2 * H, H)
        cols = [*w, *run_pairs(t, 2 * H), *run_gaps(t).T, run_cycles(t, 5 * H, 2, 2, 6), *run_motifs(t, 5 * H, 8).T]
        return np.column_stack([np.asarray(c, dtype=np.float64) for c in cols])

    a, b = all_results(tb), all_results(tb2)
    np.testing.assert_allclose(b, a[perm], rtol=1e-9, atol=1e-6)


# -- explicit edges ------------------------------------------------------------------------------
def table(rows: list[tuple[float, int, int, float]], mode: str = "causal", n_accounts: int | None = None) -> dict:
    ts = [round(h * H) for h, _, _, _ in rows]
    tb = {"ts": ts, "src": [r[1] for r in rows], "dst": [r[2] for r in rows], "amount": [r[3] for r in rows],
          "n_accounts": n_accounts or 1 + max(max(r[1], r[2]) for r in rows), "mode": mode}
    tb["limit"] = visibility(np.array(ts, np.int64), None, "causal").tolist() if mode == "causal" \
        else [len(ts)] * len(ts)
    return tb


def test_cycle_of_six_hops_is_found_and_seven_is_not():
    ring6 = [(h, h, (h + 1) % 6, 100.0) for h in range(6)]
    assert run_cycles(table(ring6, "all"), 10 * H, 3, 2, 10).tolist() == [6] * 6
    ring7 = [(h, h, (h + 1) % 7, 100.0) for h in range(7)]
    assert run_cycles(table(ring7, "all"), 10 * H, 3, 2, 10).tolist() == [0] * 7
    # causal: only the last hop sees the whole ring
    assert run_cycles(table(ring6), 10 * H, 3, 2, 10).tolist() == [0] * 5 + [6]


def test_cycle_avoids_hubs_and_outside_window():
    # 0 -> 1 -> 2 -> 0, and 1 is also paid by 3..9 (a hub at cap 5)
    rows = [(0, 0, 1, 5.0), (1, 1, 2, 5.0), (2, 2, 0, 5.0)] + [(1, k, 1, 1.0) for k in range(3, 10)]
    rows.sort()
    got = run_cycles(table(rows, "all"), 10 * H, 3, 2, 5)
    tb = table(rows, "all")
    assert got.tolist() == ref.cycle_length(tb["ts"], tb["src"], tb["dst"], tb["limit"], 10 * H, 3, 2, 5)
    assert -1 in got.tolist()  # rows touching the hub are not searched
    # a window too narrow for the ring: no cycle
    assert run_cycles(table([(0, 0, 1, 1.0), (5, 1, 0, 1.0)], "all"), 2 * H, 3, 2, 10).tolist() == [0, 0]
    assert run_cycles(table([(0, 0, 1, 1.0), (5, 1, 0, 1.0)], "all"), 5 * H, 3, 2, 10).tolist() == [2, 2]


def test_scatter_gather_and_bipartite_shapes():
    # scatter-gather 0 => 5 through 1, 2, 3
    rows = [(0, 0, 1, 1.0), (0, 0, 2, 1.0), (0, 0, 3, 1.0), (1, 1, 5, 1.0), (1, 2, 5, 1.0), (1, 3, 5, 1.0)]
    mo = run_motifs(table(rows, "all"), 5 * H, 20)
    assert mo[:3, 1].tolist() == [3, 3, 3]  # scatter legs
    assert mo[3:, 0].tolist() == [3, 3, 3]  # gather legs
    # complete bipartite {0, 1} x {2, 3}
    rows = [(0, 0, 2, 1.0), (0, 0, 3, 1.0), (0, 1, 2, 1.0), (0, 1, 3, 1.0)]
    assert run_motifs(table(rows, "all"), 5 * H, 20)[:, 2].tolist() == [1, 1, 1, 1]


def test_window_stats_on_a_busy_account_and_unbounded_windows():
    rng = np.random.default_rng(3)
    n = 5000
    hours = np.sort(rng.integers(0, 200, n))
    rows = [(float(h), 0, int(rng.integers(1, 40)), float(rng.integers(1, 10**6)) / 100) for h in hours]
    tb = table(rows, "all", n_accounts=41)
    got = run_window(tb, "src_out", int(K.INF), int(K.INF))
    assert set(got[0].tolist()) == {n}
    assert set(got[1].tolist()) == {len(set(r[2] for r in rows))}
    assert got[4][0] == pytest.approx(sum(r[3] for r in rows), rel=1e-12)
    got = run_window(tb, "dst_in", 24 * H, 0)
    small = {k: v for k, v in tb.items()}
    want = ref_window(small, "dst_in", 24 * H, 0)
    assert_window_equal(got, want)


# -- glue: build_features puts every kernel result in its column ----------------------------------
def txn_table(tb: dict, channel: list[int]) -> TxnTable:
    ts, src, dst, amount, _ = arrays(tb)
    n = len(ts)
    return TxnTable(txn_id=pl.Series([f"t{i}" for i in range(n)]), ts=ts, src=src, dst=dst, amount=amount,
                    amount_usd=amount, pay_ccy=np.zeros(n, np.int64), recv_ccy=np.zeros(n, np.int64),
                    channel=np.array(channel, np.int64), txn_type=np.zeros(n, np.int64),
                    same_owner=np.full(n, -1, np.int8), same_bank=np.full(n, -1, np.int8),
                    label=np.zeros(n, np.int8), typology=pl.Series([None] * n, dtype=pl.String),
                    n_accounts=tb["n_accounts"], ccy_names=["USD"], channel_names=["a", "b", "c"],
                    txn_type_names=["transfer"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tb=tables(max_rows=40), data=st.data())
def test_build_features_columns_match_references(tb, data):
    note(describe(tb))
    n = len(tb["ts"])
    channel = data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    cfg = FeatureConfig(window_hours=(2.0, 5.0), pass_hours=3.0, pair_hours=2.0, cycle_hours=5.0, motif_hours=4.0,
                        hub_cap=6, chunks_per_thread=2)
    f = build_features(txn_table(tb, channel), np.array(tb["limit"]), cfg)
    assert f.X.shape == (n, len(f.names)) and len(set(f.names)) == len(f.names)
    val = [float(np.log1p(a)) for a in tb["amount"]]

    # the visible span of each row, in days (at least an hour): first row to the last row it sees
    span = [max((tb["ts"][lim - 1] - tb["ts"][0]) / (24 * H), 1 / 24) for lim in tb["limit"]]

    def check_window(name, key_q, key_e, other, back, fwd, mask=None):
        want = ref.window_stats(tb["ts"], key_q, key_e, other, val, tb["amount"], tb["limit"], back, fwd, mask)
        per_day = name.endswith("_all")
        div = np.array(span) if per_day else 1.0
        suffix = "_per_day" if per_day else ""
        np.testing.assert_allclose(f.column(f"{name}_rows{suffix}"), np.array([w[0] for w in want]) / div, rtol=1e-6)
        np.testing.assert_allclose(f.column(f"{name}_distinct{suffix}"), np.array([w[1] for w in want]) / div,
                                   rtol=1e-6)
        vol = np.log1p(np.array([w[4] for w in want]) / div)
        np.testing.assert_allclose(f.column(f"{name}_log_volume{suffix}"), vol.astype(np.float32), rtol=1e-5,
                                   atol=1e-5)
        return want

    src, dst = tb["src"], tb["dst"]
    check_window("src_out_2h", src, src, dst, 2 * H, 2 * H)
    all_rows = [w[0] for w in check_window("dst_in_all", dst, dst, src, K.INF, K.INF)]
    rows_5h = [w[0] for w in ref.window_stats(tb["ts"], dst, dst, src, val, tb["amount"], tb["limit"], 5 * H, 5 * H)]
    ts_, lim_ = tb["ts"], tb["limit"]
    w_days = [max((min(t + 5 * H, ts_[lim - 1]) - max(t - 5 * H, ts_[0])) / (24 * H), 1 / 24)
              for t, lim in zip(ts_, lim_, strict=True)]
    burst = [np.log((r + 1) / wd) - np.log((a + 1) / sd) for r, wd, a, sd in zip(rows_5h, w_days, all_rows, span,
                                                                               strict=True)]
    np.testing.assert_allclose(f.column("dst_in_5h_burst"), np.array(burst, np.float32), rtol=1e-5, atol=1e-5)
    check_window("src_in_pre3h", src, dst, src, 3 * H, 0)
    check_window("dst_out_post3h", dst, src, dst, 0, 3 * H)
    fsrc = [s * 3 + c for s, c in zip(src, channel, strict=True)]
    fdst = [d * 3 + c for d, c in zip(dst, channel, strict=True)]
    check_window("dst_in_5h_same_format", fdst, fdst, src, 5 * H, 5 * H)
    check_window("src_in_2h_same_format", fsrc, fdst, src, 2 * H, 2 * H)
    pairs = ref.pair_stats(tb["ts"], src, dst, tb["limit"], 2 * H)
    first = [p[0] == 0 for p in pairs]
    check_window("src_out_5h_new_edges", src, src, dst, 5 * H, 5 * H, first)
    check_window("dst_in_2h_new_edges", dst, dst, src, 2 * H, 2 * H, first)
    np.testing.assert_array_equal(f.column("edge_prior_rows"), [p[0] for p in pairs])
    np.testing.assert_array_equal(f.column("reverse_edge_window_rows"), [p[3] for p in pairs])
    cyc = ref.cycle_length(tb["ts"], src, dst, tb["limit"], 5 * H, 3, 2, 6)
    np.testing.assert_array_equal(f.column("cycle_length"), [np.nan if c < 0 else c for c in cyc])
    mo = ref.motifs(tb["ts"], src, dst, tb["limit"], 4 * H, 6)
    np.testing.assert_array_equal(f.column("bipartite_co_senders"), [np.nan if m[2] < 0 else m[2] for m in mo])
    gp = ref.gaps(tb["ts"], src, dst, tb["amount"], tb["limit"])
    want = [np.nan if g[4] < 0 else np.log1p(g[4] / 60e6) for g in gp]
    np.testing.assert_allclose(f.column("dst_next_out_gap_log_min"), np.array(want, np.float32), rtol=1e-6)


# -- the split ------------------------------------------------------------------------------------
def test_temporal_split_keeps_ties_together_and_is_60_20_20():
    rng = np.random.default_rng(1)
    ts = np.sort(rng.integers(0, 500, 10_000)).astype(np.int64) * H
    sp = temporal_split(ts)
    b0, b1, b2, b3 = sp.bounds
    assert (b0, b3) == (0, len(ts))
    assert ts[b1 - 1] < ts[b1] and ts[b2 - 1] < ts[b2]  # boundaries between timestamps
    shares = sp.shares()
    assert shares["train"] == pytest.approx(0.6, abs=0.01)
    assert shares["validation"] == pytest.approx(0.2, abs=0.01)
    assert shares["test"] == pytest.approx(0.2, abs=0.01)
    day = temporal_split(ts, unit="day")
    assert all(t % (24 * H) == 0 for t in day.times)
    lim = visibility(ts, sp, "split")
    assert lim[0] == b1 and lim[b1] == b2 and lim[-1] == b3
    causal = visibility(ts, sp, "causal")
    assert np.all(causal > np.arange(len(ts))) and np.all(ts[causal - 1] == ts)
    with pytest.raises(ValueError, match="empty split"):
        temporal_split(np.zeros(10, np.int64))
