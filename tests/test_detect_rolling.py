"""rolling_window_stats against a slow, obviously-correct reference on random ledgers; and the
column-by-column Parquet ledger builder the benchmark reads with, against build_ledger.

The reference is a double loop over the input rows: for each row with an account on the chosen
side, count and add up every row of the same account on that side with ``ts - window <= ts' <= ts``.
Timestamps sit on a coarse grid (plus or minus one microsecond now and then) so ties and exact
window boundaries are common; rows come in random order; accounts may have no rows or one.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexusfin.detect import build_ledger
from nexusfin.detect.ledger import build_ledger_from_parquet
from nexusfin.detect.rolling import rolling_window_stats

BASE = datetime(2026, 1, 5, tzinfo=UTC)
HOUR_US = 3_600_000_000
TX_SCHEMA = {
    "txn_id": pl.String, "ts": pl.Datetime("us", "UTC"), "src_account": pl.String, "dst_account": pl.String,
    "amount_usd": pl.Float64, "channel": pl.String, "txn_type": pl.String, "src_country": pl.String,
    "dst_country": pl.String, "location": pl.String, "conducted_by": pl.String,
}


def _frames(rows: list[tuple[int, int | None, int | None, float]], n_accounts: int):
    """rows: (ts in microseconds after BASE, src account or None, dst account or None, usd)."""
    recs = []
    for k, (t_us, s, d, usd) in enumerate(rows):
        cash = s is None or d is None
        recs.append({
            "txn_id": f"T{k:05d}", "ts": BASE + timedelta(microseconds=t_us),
            "src_account": None if s is None else f"A{s}", "dst_account": None if d is None else f"A{d}",
            "amount_usd": usd, "channel": "cash" if cash else "wire",
            "txn_type": ("deposit" if s is None else "withdrawal") if cash else "transfer",
            "src_country": "US", "dst_country": "US",
            "location": "US-TX-78040:B01-BR1" if cash else None, "conducted_by": None,
        })
    tx = pl.DataFrame(recs, schema=TX_SCHEMA, orient="row") if recs else pl.DataFrame(schema=TX_SCHEMA)
    acc = pl.DataFrame({
        "account_id": [f"A{a}" for a in range(n_accounts)],
        "owner_party_id": [f"P{a // 2}" for a in range(n_accounts)],  # two accounts per person
        "account_type": ["checking"] * n_accounts,
    })
    return tx, acc


def reference(tx: pl.DataFrame, window_us: int, side: str) -> dict[str, tuple[int, float]]:
    """{txn_id: (count, sum)} for every row with an account on ``side``, by brute force."""
    col = "dst_account" if side == "in" else "src_account"
    ids = tx.get_column("txn_id").to_list()
    keys = tx.get_column(col).to_list()
    ts = [int(v) for v in tx.get_column("ts").dt.epoch("us").to_list()]
    usd = tx.get_column("amount_usd").to_list()
    out = {}
    for i in range(len(ids)):
        if keys[i] is None:
            continue
        n, s = 0, 0.0
        for j in range(len(ids)):
            if keys[j] == keys[i] and ts[i] - window_us <= ts[j] <= ts[i]:
                n += 1
                s += usd[j]
        out[ids[i]] = (n, s)
    return out


def kernel(tx: pl.DataFrame, acc: pl.DataFrame, window_hours: float, side: str) -> dict[str, tuple[int, float]]:
    ledger = build_ledger(tx, acc)
    rows, count, total = rolling_window_stats(ledger, window_hours, side)
    assert len(rows) == len(count) == len(total)
    assert count.dtype == np.int64 and total.dtype == np.float64
    ids = ledger.txn_ids.gather(rows).to_list() if len(rows) else []
    assert len(set(ids)) == len(ids), "a row is reported twice"
    return {t: (int(c), float(s)) for t, c, s in zip(ids, count, total, strict=True)}


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for t, (n, s) in want.items():
        assert got[t][0] == n, (t, got[t], (n, s))
        assert got[t][1] == pytest.approx(s, rel=1e-9, abs=1e-6), (t, got[t], (n, s))


GRID_US = 6 * HOUR_US


@st.composite
def ledgers(draw):
    n_accounts = draw(st.integers(1, 5))
    account = st.integers(0, n_accounts - 1)
    jitter = st.sampled_from((0, 0, 0, 1, -1))
    row = st.tuples(
        st.integers(0, 4 * 7 * 4).map(lambda k: k * GRID_US),  # four weeks on a 6-hour grid
        jitter,
        st.one_of(st.none(), account),
        st.one_of(st.none(), account),
        st.one_of(st.sampled_from((1000.0, 3000.0, 0.01, 1e9)), st.integers(1, 10**8).map(lambda c: c / 100)),
    ).filter(lambda r: r[2] is not None or r[3] is not None)
    raw = draw(st.lists(row, max_size=40))
    rows = [(max(0, t + j), s, d, u) for t, j, s, d, u in raw]  # list order is the (unsorted) input order
    return rows, n_accounts


windows = st.one_of(st.sampled_from((0.0, 6.0, 24.0, 168.0)), st.integers(0, 24 * 30).map(float),
                    st.floats(0, 1000, allow_nan=False))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=ledgers(), window_hours=windows, side=st.sampled_from(("in", "out")))
def test_matches_reference(world, window_hours, side):
    rows, n_accounts = world
    tx, acc = _frames(rows, n_accounts)
    window_us = round(window_hours * HOUR_US)
    assert_same(kernel(tx, acc, window_hours, side), reference(tx, window_us, side))


def test_peers_and_boundaries():
    """Same-ts rows all see each other (later ones too); the window is closed at both ends."""
    h = HOUR_US
    rows = [
        (0, 9, 0, 1.0),  # exactly 24 h before the two peers: inside a 24 h window
        (24 * h, 9, 0, 2.0),
        (24 * h, 9, 0, 4.0),
        (24 * h + 1, 9, 0, 8.0),  # 24 h + 1 us after the first row: it has left
        (3 * h, None, 1, 16.0),  # another account
    ]
    tx, acc = _frames(rows, 10)
    got = kernel(tx, acc, 24, "in")
    assert got["T00000"] == (1, 1.0)
    assert got["T00001"] == got["T00002"] == (3, 7.0)
    assert got["T00003"] == (3, 14.0)
    assert got["T00004"] == (1, 16.0)
    out = kernel(tx, acc, 24, "out")  # account 9 sent the same four rows; the cash deposit has no out side
    assert out == {k: v for k, v in got.items() if k != "T00004"}
    zero = kernel(tx, acc, 0, "in")
    assert zero["T00001"] == zero["T00002"] == (2, 6.0) and zero["T00000"] == (1, 1.0)


def test_empty_and_single_row():
    tx, acc = _frames([], 3)
    rows, count, total = rolling_window_stats(build_ledger(tx, acc), 24)
    assert len(rows) == len(count) == len(total) == 0
    tx, acc = _frames([(5, None, 2, 12.5)], 3)
    assert kernel(tx, acc, 168, "in") == {"T00000": (1, 12.5)}
    assert kernel(tx, acc, 168, "out") == {}


def test_busy_account_sum_stays_accurate():
    """Many adds and removes on one account: the compensated sum stays on the exact value."""
    rng = np.random.default_rng(1)
    n = 5_000
    usd = np.round(rng.lognormal(8, 3, n), 2)
    t = np.sort(rng.integers(0, 30 * 24 * HOUR_US, n))
    rows = [(int(t[k]), None, 0, float(usd[k])) for k in range(n)]
    tx, acc = _frames(rows, 1)
    ledger = build_ledger(tx, acc)
    w = 24 * HOUR_US
    rows_, count, total = rolling_window_stats(ledger, 24)
    ts = ledger.ts[rows_]
    lo = np.searchsorted(ts, ts - w, side="left")
    hi = np.searchsorted(ts, ts, side="right")
    prefix = np.concatenate([[0], np.cumsum(np.round(ledger.usd[rows_] * 100).astype(np.int64))])
    assert (count == hi - lo).all()
    np.testing.assert_allclose(total, (prefix[hi] - prefix[lo]) / 100, rtol=1e-12, atol=1e-6)


def test_rows_are_the_csr_order_and_read_only():
    rows = [(3 * HOUR_US, 1, 0, 5.0), (HOUR_US, 0, 1, 7.0), (2 * HOUR_US, None, 0, 1.0)]
    tx, acc = _frames(rows, 2)
    ledger = build_ledger(tx, acc)
    r_in, _, _ = rolling_window_stats(ledger, 1, "in")
    r_out, _, _ = rolling_window_stats(ledger, 1, "out")
    np.testing.assert_array_equal(r_in, ledger.in_idx)
    np.testing.assert_array_equal(r_out, ledger.out_idx)
    with pytest.raises(ValueError):
        r_in[0] = 0


@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), float("inf")])
def test_rejects_bad_window(bad):
    tx, acc = _frames([(0, None, 0, 1.0)], 1)
    with pytest.raises(ValueError, match="window_hours"):
        rolling_window_stats(build_ledger(tx, acc), bad)


def test_rejects_bad_side_and_type():
    tx, acc = _frames([(0, None, 0, 1.0)], 1)
    ledger = build_ledger(tx, acc)
    with pytest.raises(ValueError, match="side"):
        rolling_window_stats(ledger, 24, side="both")
    with pytest.raises(TypeError):
        rolling_window_stats(ledger, "24")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        rolling_window_stats(ledger, True)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(world=ledgers(), partition=st.sampled_from(((0, 1), (0, 2), (1, 3))))
def test_ledger_from_parquet_is_build_ledger(world, partition, tmp_path):
    rows, n_accounts = world
    tx, acc = _frames(rows, n_accounts)
    path = tmp_path / "tx.parquet"
    tx.write_parquet(path)
    want = build_ledger(tx, acc, partition=partition)
    got = build_ledger_from_parquet(path, acc, partition=partition)
    for f in dataclasses.fields(want):
        a, b = getattr(got, f.name), getattr(want, f.name)
        if isinstance(b, pl.Series):
            assert a.equals(b), f.name
        elif isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), f.name
        else:
            assert a == b, f.name
