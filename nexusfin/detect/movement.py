"""Rapid movement of funds: pass-through, layering chains, cycles, fan-in, fan-out, gather-scatter
and scatter-gather.

The primitive is the **pass-through pair**: at one account, an incoming transfer ``i`` (from
another account, at least ``min_amount_usd``) and an outgoing transaction ``o`` with
``ts_i <= ts_o <= ts_i + T`` and ``ratio_low <= usd_o / usd_i <= ratio_high`` (``o != i``). Pairs are
found per account (independent partitions); a pair's in-row and out-row are transfers, so the
*link* ``i -> o`` also joins two accounts, and chains, cycles and scatter-gather are assembled from
links, which is all a distributed engine needs to exchange between partitions.

Rules:
* ``movement.pass_through``: an account with pairs within ``pass_through_hours`` (consecutive ones
  grouped into one alert).
* ``movement.chain``: ``chain_min_links`` or more pass-through accounts in a row, each forwarding
  within ``chain_link_hours`` (the first qualifying out-row of each in-row is its link).
* ``movement.cycle``: a chain that comes back to an account it left from.
* ``movement.fan_in``: ``fan_min_degree`` distinct senders within ``fan_window_hours`` (each at least
  ``fan_min_amount_usd``), and at least ``fan_forward_ratio`` of it sent on within
  ``fan_forward_hours`` after the last of them.
* ``movement.fan_out``: ``fan_min_degree`` distinct recipients within ``fan_window_hours``, funded by
  inflows in the ``fan_out_funding_hours`` before (at least ``fan_out_funding_ratio`` of the payout).
* ``movement.gather_scatter``: ``gather_scatter_min_in`` distinct senders within
  ``gather_scatter_window_hours``, then within ``gather_scatter_forward_hours`` at least
  ``gather_scatter_min_out`` distinct recipients taking ``fan_forward_ratio`` (at most
  ``fan_forward_ratio_max``) of it; slower than fan-in because trade settles over days.
* ``movement.scatter_gather``: one origin pays ``scatter_gather_min_intermediaries`` accounts that
  each forward (a link) to one same collector.
"""

from __future__ import annotations

import itertools

import numpy as np

from nexusfin.detect._numba import njit, pnjit, prange
from nexusfin.detect.config import MovementConfig
from nexusfin.detect.hits import (
    SUBJECT_ACCOUNT,
    USD_EPS,
    Hits,
    alloc_outputs,
    n_distinct,
    offsets,
    slide_window,
    sliding_distinct_links,
)
from nexusfin.detect.ledger import (
    CRYPTO,
    HOUR_US,
    TXN_TYPES,
    Ledger,
    _csr_kernel,
    eligible_accounts,
)

PASS_VALUES = ("in_usd", "out_usd", "ratio", "hours", "n_pairs")
CHAIN_VALUES = ("links", "start_usd", "end_usd", "kept_ratio", "hours")
CYCLE_VALUES = ("length", "start_usd", "returned_usd", "returned_ratio", "hours")
FAN_IN_VALUES = ("degree", "in_usd", "window_hours", "forward_usd", "forward_ratio", "forward_hours")
FAN_OUT_VALUES = ("degree", "out_usd", "window_hours", "funding_usd", "funding_ratio")
GS_VALUES = ("in_degree", "in_usd", "out_degree", "out_usd", "out_ratio", "hours")
SG_VALUES = ("intermediaries", "scatter_usd", "gather_usd", "hours")


# -- pass-through pairs -------------------------------------------------------------------------
@njit
def _pair_scan(a, in_ptr, in_idx, out_ptr, out_idx, ts, usd, src, row_ok, window_us, lo, hi, min_usd, write, o_in,
               o_out, pos):
    n = 0
    j0 = out_ptr[a]
    j_end = out_ptr[a + 1]
    for k in range(in_ptr[a], in_ptr[a + 1]):
        i = in_idx[k]
        if src[i] < 0 or usd[i] < min_usd or not row_ok[i]:
            continue
        t = ts[i]
        while j0 < j_end and ts[out_idx[j0]] < t:  # ins are time-sorted: the start only moves forward
            j0 += 1
        lo_usd, hi_usd = lo * usd[i] - USD_EPS, hi * usd[i] + USD_EPS
        for j in range(j0, j_end):
            o = out_idx[j]
            if ts[o] > t + window_us:
                break
            if o == i or not row_ok[o]:
                continue
            if lo_usd <= usd[o] <= hi_usd:
                if write:
                    o_in[pos + n] = i
                    o_out[pos + n] = o
                n += 1
    return n


@pnjit
def _pairs_kernel(eligible, in_ptr, in_idx, out_ptr, out_idx, ts, usd, src, row_ok, window_us, lo, hi, min_usd):
    n_a = len(eligible)
    cnt = np.zeros(n_a, dtype=np.int64)
    dummy = np.zeros(0, dtype=np.int32)
    for a in prange(n_a):
        if eligible[a] and in_ptr[a + 1] > in_ptr[a] and out_ptr[a + 1] > out_ptr[a]:
            cnt[a] = _pair_scan(a, in_ptr, in_idx, out_ptr, out_idx, ts, usd, src, row_ok, window_us, lo, hi,
                                min_usd, False, dummy, dummy, 0)
    off = offsets(cnt)
    o_in = np.empty(off[-1], dtype=np.int32)
    o_out = np.empty(off[-1], dtype=np.int32)
    for a in prange(n_a):
        if cnt[a]:
            _pair_scan(a, in_ptr, in_idx, out_ptr, out_idx, ts, usd, src, row_ok, window_us, lo, hi, min_usd, True,
                       o_in, o_out, off[a])
    return o_in, o_out


def moved_rows(ledger: Ledger, fiat_only: bool, excluded_txn_types: tuple[str, ...] = ()) -> np.ndarray:
    """Rows that count as moving funds: not crypto (when fiat_only) and not of an excluded type
    (payments for goods and services, purchases, payroll and fees are ordinary business)."""
    ok = ~np.isin(ledger.ttype, [TXN_TYPES.index(t) for t in excluded_txn_types])
    if fiat_only:
        ok &= ledger.channel != CRYPTO
    return ok


def _candidate_ins(ledger: Ledger, row_ok: np.ndarray, min_usd: float, eligible: np.ndarray):
    """CSR of the in-rows that can start a pair (from an account, at least ``min_usd``, moved funds,
    into an eligible account), so the pair scan touches only them (about 1 row in 10)."""
    ok = (ledger.src >= 0) & (ledger.dst >= 0) & (ledger.usd >= min_usd) & row_ok
    ok[ok] = eligible[ledger.dst[ok]]
    key = np.where(ok, ledger.dst, -1).astype(np.int32)
    return _csr_kernel(key, ledger.ts, ledger.n_accounts)


def pass_through_pairs(ledger: Ledger, hours: float, ratio_low: float, ratio_high: float, min_amount_usd: float,
                       *, fiat_only: bool = True, excluded_txn_types: tuple[str, ...] = (),
                       eligible: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every pass-through pair (in-row, out-row), grouped by account, in time order of the in-row."""
    if ratio_low > ratio_high or hours < 0:
        raise ValueError("need ratio_low <= ratio_high and hours >= 0")
    el = ledger.owned_accounts if eligible is None else eligible
    row_ok = moved_rows(ledger, fiat_only, excluded_txn_types)
    c_ptr, c_idx = _candidate_ins(ledger, row_ok, float(min_amount_usd), el)
    return _pairs_kernel(el, c_ptr, c_idx, ledger.out_ptr, ledger.out_idx, ledger.ts, ledger.usd, ledger.src, row_ok,
                         round(hours * HOUR_US), float(ratio_low), float(ratio_high), float(min_amount_usd))


@njit
def _pass_through_hits(p_in, p_out, dst, ts, usd, window_us):
    """Group the pairs of each account: consecutive in-rows within the window form one episode."""
    n = len(p_in)
    # episodes: same account (dst of the in-row) and in-row within window of the episode's last in-row
    starts = []
    for k in range(n):
        if k == 0 or dst[p_in[k]] != dst[p_in[k - 1]] or ts[p_in[k]] - ts[p_in[k - 1]] > window_us:
            starts.append(k)
    starts.append(n)
    n_h = len(starts) - 1
    n_ev = 0
    for h in range(n_h):
        n_ev += 2 * (starts[h + 1] - starts[h])
    out = alloc_outputs(n_h, n_ev)
    o_subj, o_t0, o_t1, o_val, o_lo, o_hi, o_ev = out
    pos = 0
    for h in range(n_h):
        a, b = starts[h], starts[h + 1]
        rows = np.concatenate((p_in[a:b], p_out[a:b]))
        rows = np.unique(rows)
        o_lo[h] = pos
        in_sum, out_sum, hours = 0.0, 0.0, 0.0
        for r in rows:
            o_ev[pos] = r
            pos += 1
            if dst[r] == dst[p_in[a]]:
                in_sum += usd[r]
            else:
                out_sum += usd[r]
        o_hi[h] = pos
        for k in range(a, b):
            hours = max(hours, (ts[p_out[k]] - ts[p_in[k]]) / HOUR_US)
        o_subj[h] = dst[p_in[a]]
        o_t0[h], o_t1[h] = ts[rows].min(), ts[rows].max()
        o_val[h, 0], o_val[h, 1] = in_sum, out_sum
        o_val[h, 2] = out_sum / in_sum if in_sum > 0 else 0.0
        o_val[h, 3], o_val[h, 4] = hours, b - a
    return out


# -- chains and cycles from links ------------------------------------------------------------------
@njit
def _first_links(p_in, p_out, n_rows):
    """succ[in-row] = the first qualifying out-row at that account (pairs are in out-time order)."""
    succ = np.full(n_rows, -1, dtype=np.int64)
    for k in range(len(p_in)):
        if succ[p_in[k]] < 0:
            succ[p_in[k]] = p_out[k]
    return succ


@njit
def _walk_chains(succ, src, dst, ts, usd, min_links, max_links, min_cycle):
    n = len(succ)
    has_pred = np.zeros(n, dtype=np.bool_)
    for r in range(n):
        if succ[r] >= 0:
            has_pred[succ[r]] = True
    heads = []
    for r in range(n):
        if succ[r] >= 0 and not has_pred[r]:
            heads.append(r)
    # pass 1: paths (bounded by max_links) and whether they close a cycle
    chain_paths = []
    cycle_paths = []
    for r in heads:
        path = [r]
        cur = r
        closed = -1
        while succ[cur] >= 0 and len(path) <= max_links:
            cur = succ[cur]
            path.append(cur)
            # does this transfer return to an account the path already left from?
            for q in range(len(path) - 1):
                if src[path[q]] == dst[cur]:
                    closed = q
                    break
            if closed >= 0:
                break
        if closed >= 0 and len(path) - closed >= min_cycle:
            arr = np.empty(len(path) - closed, dtype=np.int64)
            for q in range(closed, len(path)):
                arr[q - closed] = path[q]
            cycle_paths.append(arr)
        elif closed < 0 and len(path) - 1 >= min_links:
            arr = np.empty(len(path), dtype=np.int64)
            for q in range(len(path)):
                arr[q] = path[q]
            chain_paths.append(arr)
    return chain_paths, cycle_paths


def _paths_to_hits(rule, paths, ledger: Ledger, cycle: bool, value_names) -> Hits:
    if not paths:
        return Hits.empty(rule, SUBJECT_ACCOUNT, value_names)
    n = len(paths)
    lengths = np.array([len(p) for p in paths], dtype=np.int64)
    ev_hi = np.cumsum(lengths)
    ev_lo = ev_hi - lengths
    ev = np.concatenate(paths).astype(np.int32)
    vals = np.zeros((n, len(value_names)))
    subj = np.empty(n, dtype=np.int32)
    t0 = np.empty(n, dtype=np.int64)
    t1 = np.empty(n, dtype=np.int64)
    for h, p in enumerate(paths):
        first, last = p[0], p[-1]
        t0[h], t1[h] = ledger.ts[first], ledger.ts[last]
        hours = (t1[h] - t0[h]) / HOUR_US
        ratio = ledger.usd[last] / ledger.usd[first]
        if cycle:
            subj[h] = ledger.src[first]
            vals[h] = (len(p), ledger.usd[first], ledger.usd[last], ratio, hours)
        else:
            subj[h] = ledger.dst[first]  # the first pass-through account
            vals[h] = (len(p) - 1, ledger.usd[first], ledger.usd[last], ratio, hours)
    return Hits(rule, SUBJECT_ACCOUNT, subj, t0, t1, vals, tuple(value_names), ev_lo, ev_hi, ev)


# -- fan-in / fan-out / gather-scatter -------------------------------------------------------------
@njit
def _sum_after(a_ptr_lo, a_ptr_hi, idx, ts, usd, t_from, t_to, row_ok):
    s, n, t_last = 0.0, 0, t_from
    for k in range(a_ptr_lo, a_ptr_hi):
        r = idx[k]
        if ts[r] < t_from:
            continue
        if ts[r] > t_to:
            break
        if not row_ok[r]:
            continue
        s += usd[r]
        n += 1
        t_last = ts[r]
    return s, n, t_last


@njit
def _qualifying(lo_k, hi_k, idx, other, usd, min_usd, row_ok):
    m = 0
    for k in range(lo_k, hi_k):
        r = idx[k]
        if other[r] >= 0 and usd[r] >= min_usd and row_ok[r]:
            m += 1
    rows = np.empty(m, dtype=np.int32)
    m = 0
    for k in range(lo_k, hi_k):
        r = idx[k]
        if other[r] >= 0 and usd[r] >= min_usd and row_ok[r]:
            rows[m] = r
            m += 1
    return rows


@njit
def _fan_scan(a, mode, in_ptr, in_idx, out_ptr, out_idx, ts, usd, src, dst, row_ok, window_us, k_min, min_usd,
              fwd_us, fwd_ratio, fwd_max, fund_us, fund_ratio, k_out, write, out, hpos, epos):
    """mode 0 fan-in, 1 fan-out, 2 gather-scatter."""
    o_subj, o_t0, o_t1, o_val, o_lo, o_hi, o_ev = out
    if mode == 1:
        rows = _qualifying(out_ptr[a], out_ptr[a + 1], out_idx, dst, usd, min_usd, row_ok)
        keys = dst[rows]
    else:
        rows = _qualifying(in_ptr[a], in_ptr[a + 1], in_idx, src, usd, min_usd, row_ok)
        keys = src[rows]
    m = len(rows)
    if m < k_min:
        return 0, 0
    prev, nxt = sliding_distinct_links(keys)
    nh, ne, s, e, distinct, total = 0, 0, 0, 0, 0, 0.0
    while e < m:
        s, distinct, total = slide_window(rows, e, s, distinct, total, ts, usd, prev, nxt, window_us)
        if e + 1 < m and ts[rows[e + 1]] == ts[rows[e]]:  # a window holds every row of its last instant
            e += 1
            continue
        if distinct >= k_min:
            t_first, t_last = ts[rows[s]], ts[rows[e]]
            t_f = t_last
            ok = False
            if mode == 1:
                f_sum, f_n, t_f = _sum_after(in_ptr[a], in_ptr[a + 1], in_idx, ts, usd, t_first - fund_us, t_first,
                                             row_ok)
                ok = f_n > 0 and fund_ratio * total - USD_EPS <= f_sum
            else:
                f_sum, f_n, t_f = _sum_after(out_ptr[a], out_ptr[a + 1], out_idx, ts, usd, t_last, t_last + fwd_us,
                                             row_ok)
                # what leaves is about what came in: a share of it, not a business's other outgoings
                ok = f_n > 0 and fwd_ratio * total - USD_EPS <= f_sum <= fwd_max * total + USD_EPS
                if ok and mode == 2:
                    lo_k = out_ptr[a]
                    hi_k = out_ptr[a + 1]
                    tmp = np.empty(f_n, dtype=np.int32)
                    q = 0
                    for k in range(lo_k, hi_k):
                        r = out_idx[k]
                        if ts[r] >= t_last and ts[r] <= t_last + fwd_us and row_ok[r]:
                            tmp[q] = dst[r]
                            q += 1
                    ok = n_distinct(tmp[:q]) >= k_out
            if ok:
                n_ev = e - s + 1 + f_n
                if write:
                    h = hpos + nh
                    p = epos + ne
                    o_lo[h] = p
                    for q in range(s, e + 1):
                        o_ev[p] = rows[q]
                        p += 1
                    if mode == 1:
                        lo_k, hi_k, idx, t_a, t_b = in_ptr[a], in_ptr[a + 1], in_idx, t_first - fund_us, t_first
                    else:
                        lo_k, hi_k, idx, t_a, t_b = out_ptr[a], out_ptr[a + 1], out_idx, t_last, t_last + fwd_us
                    for k in range(lo_k, hi_k):
                        r = idx[k]
                        if ts[r] >= t_a and ts[r] <= t_b and row_ok[r]:
                            o_ev[p] = r
                            p += 1
                    o_hi[h] = p
                    o_subj[h] = a
                    o_t0[h], o_t1[h] = t_first, t_last
                    span = (t_last - t_first) / HOUR_US
                    if mode == 0:
                        o_val[h, 0], o_val[h, 1], o_val[h, 2] = distinct, total, span
                        o_val[h, 3], o_val[h, 4] = f_sum, f_sum / total
                        o_val[h, 5] = (t_f - t_last) / HOUR_US
                    elif mode == 1:
                        o_val[h, 0], o_val[h, 1], o_val[h, 2] = distinct, total, span
                        o_val[h, 3], o_val[h, 4] = f_sum, f_sum / total
                    else:
                        o_val[h, 0], o_val[h, 1] = distinct, total
                        o_val[h, 2] = n_distinct(dst[o_ev[epos + ne + e - s + 1:p]])
                        o_val[h, 3], o_val[h, 4] = f_sum, f_sum / total
                        o_val[h, 5] = (t_f - t_first) / HOUR_US
                nh += 1
                ne += n_ev
                e += 1
                s, distinct, total = e, 0, 0.0
                continue
        e += 1
    return nh, ne


@pnjit
def _fan_kernel(mode, eligible, in_ptr, in_idx, out_ptr, out_idx, ts, usd, src, dst, row_ok, window_us, k_min, min_usd,
                fwd_us, fwd_ratio, fwd_max, fund_us, fund_ratio, k_out):
    n_a = len(eligible)
    nh = np.zeros(n_a, dtype=np.int64)
    ne = np.zeros(n_a, dtype=np.int64)
    dummy = alloc_outputs(0, 0)
    for a in prange(n_a):
        deg = out_ptr[a + 1] - out_ptr[a] if mode == 1 else in_ptr[a + 1] - in_ptr[a]
        if eligible[a] and deg >= k_min:
            nh[a], ne[a] = _fan_scan(a, mode, in_ptr, in_idx, out_ptr, out_idx, ts, usd, src, dst, row_ok, window_us,
                                     k_min, min_usd, fwd_us, fwd_ratio, fwd_max, fund_us, fund_ratio, k_out, False,
                                     dummy, 0, 0)
    ho, eo = offsets(nh), offsets(ne)
    out = alloc_outputs(ho[-1], eo[-1])
    for a in prange(n_a):
        if nh[a]:
            _fan_scan(a, mode, in_ptr, in_idx, out_ptr, out_idx, ts, usd, src, dst, row_ok, window_us, k_min, min_usd,
                      fwd_us, fwd_ratio, fwd_max, fund_us, fund_ratio, k_out, True, out, ho[a], eo[a])
    return out


def _fan(ledger: Ledger, cfg: MovementConfig, mode: int, eligible: np.ndarray, row_ok: np.ndarray):
    k_min = cfg.gather_scatter_min_in if mode == 2 else cfg.fan_min_degree
    window = cfg.gather_scatter_window_hours if mode == 2 else cfg.fan_window_hours
    return _fan_kernel(
        mode, eligible, ledger.in_ptr, ledger.in_idx, ledger.out_ptr, ledger.out_idx, ledger.ts, ledger.usd,
        ledger.src, ledger.dst, row_ok, int(window * HOUR_US), int(k_min), float(cfg.fan_min_amount_usd),
        int((cfg.gather_scatter_forward_hours if mode == 2 else cfg.fan_forward_hours) * HOUR_US),
        float(cfg.fan_forward_ratio), float(cfg.fan_forward_ratio_max),
        int(cfg.fan_out_funding_hours * HOUR_US), float(cfg.fan_out_funding_ratio), int(cfg.gather_scatter_min_out),
    )


# -- scatter-gather from links --------------------------------------------------------------------------
def _scatter_gather(ledger: Ledger, p_in: np.ndarray, p_out: np.ndarray, min_k: int) -> Hits:
    """Group links by (origin = sender of the in-row, collector = recipient of the out-row)."""
    rule = "movement.scatter_gather"
    if len(p_in) == 0:
        return Hits.empty(rule, SUBJECT_ACCOUNT, SG_VALUES)
    origin, mid, coll = ledger.src[p_in], ledger.dst[p_in], ledger.dst[p_out]
    ok = (coll >= 0) & (origin >= 0) & (coll != mid) & (origin != mid)
    origin, mid, coll, p_in, p_out = origin[ok], mid[ok], coll[ok], p_in[ok], p_out[ok]
    order = np.lexsort((mid, coll, origin))
    origin, mid, coll, p_in, p_out = origin[order], mid[order], coll[order], p_in[order], p_out[order]
    key_change = np.flatnonzero((np.diff(origin) != 0) | (np.diff(coll) != 0)) + 1
    bounds = np.concatenate([[0], key_change, [len(origin)]])
    subj, t0, t1, vals, paths = [], [], [], [], []
    for b0, b1 in itertools.pairwise(bounds):
        k = len(np.unique(mid[b0:b1]))
        if k < min_k:
            continue
        rows_in = np.unique(p_in[b0:b1])
        rows_out = np.unique(p_out[b0:b1])
        rows = np.concatenate([rows_in, rows_out])
        subj.append(int(coll[b0]))
        t0.append(int(ledger.ts[rows].min()))
        t1.append(int(ledger.ts[rows].max()))
        vals.append((k, ledger.usd[rows_in].sum(), ledger.usd[rows_out].sum(), (t1[-1] - t0[-1]) / HOUR_US))
        paths.append(rows)
    if not subj:
        return Hits.empty(rule, SUBJECT_ACCOUNT, SG_VALUES)
    lengths = np.array([len(p) for p in paths])
    ev_hi = np.cumsum(lengths)
    return Hits(rule, SUBJECT_ACCOUNT, np.array(subj, dtype=np.int32), np.array(t0), np.array(t1), np.array(vals),
                SG_VALUES, ev_hi - lengths, ev_hi, np.concatenate(paths).astype(np.int32))


def link_rules(ledger: Ledger, links: tuple[np.ndarray, np.ndarray], cfg: MovementConfig) -> list[Hits]:
    """Chains, cycles and scatter-gather from links (in-row -> its first qualifying out-row).

    Links are computed per account, so partitions only exchange them; this step is global."""
    li, lo_ = links
    eligible = eligible_accounts(ledger, cfg.excluded_account_types) | ~ledger.owned_accounts
    succ = _first_links(li, lo_, ledger.n_rows)
    chains, cycles = _walk_chains(succ, ledger.src, ledger.dst, ledger.ts, ledger.usd, int(cfg.chain_min_links),
                                  int(cfg.chain_max_links), int(cfg.cycle_min_length))
    # a cycle must close at an account we monitor for movement (not e.g. an exchange's own account,
    # where a customer's sale and later re-purchase look like money going round)
    cycles = [c for c in cycles if eligible[ledger.src[c[0]]]]
    return [
        _paths_to_hits("movement.chain", list(chains), ledger, False, CHAIN_VALUES),
        _paths_to_hits("movement.cycle", cycles, ledger, True, CYCLE_VALUES),
        _scatter_gather(ledger, li, lo_, int(cfg.scatter_gather_min_intermediaries)),
    ]


LINK_RULES = ("movement.chain", "movement.cycle", "movement.scatter_gather")


def account_rules(ledger: Ledger, cfg: MovementConfig) -> tuple[list[Hits], tuple[np.ndarray, np.ndarray]]:
    """Per-account rules (pass-through, fans) and the links of this ledger's accounts."""
    eligible = eligible_accounts(ledger, cfg.excluded_account_types)
    link_h = max(cfg.chain_link_hours, cfg.pass_through_hours)
    row_ok = moved_rows(ledger, cfg.fiat_only, cfg.excluded_txn_types)
    c_ptr, c_idx = _candidate_ins(ledger, row_ok, float(cfg.min_amount_usd), eligible)
    p_in, p_out = _pairs_kernel(eligible, c_ptr, c_idx, ledger.out_ptr, ledger.out_idx, ledger.ts, ledger.usd,
                                ledger.src, row_ok, round(link_h * HOUR_US), float(cfg.ratio_low),
                                float(cfg.ratio_high), float(cfg.min_amount_usd))
    delay = ledger.ts[p_out] - ledger.ts[p_in]
    short = delay <= round(cfg.pass_through_hours * HOUR_US)
    pt = _pass_through_hits(p_in[short], p_out[short], ledger.dst, ledger.ts, ledger.usd,
                            int(cfg.pass_through_hours * HOUR_US))
    hits = [
        Hits.from_arrays("movement.pass_through", SUBJECT_ACCOUNT, pt, PASS_VALUES),
        Hits.from_arrays("movement.fan_in", SUBJECT_ACCOUNT, _fan(ledger, cfg, 0, eligible, row_ok), FAN_IN_VALUES),
        Hits.from_arrays("movement.fan_out", SUBJECT_ACCOUNT, _fan(ledger, cfg, 1, eligible, row_ok), FAN_OUT_VALUES),
        Hits.from_arrays("movement.gather_scatter", SUBJECT_ACCOUNT, _fan(ledger, cfg, 2, eligible, row_ok),
                         GS_VALUES),
    ]
    link_ok = delay <= round(cfg.chain_link_hours * HOUR_US)
    li, lo_ = p_in[link_ok], p_out[link_ok]
    first = np.r_[True, li[1:] != li[:-1]] if len(li) else np.zeros(0, dtype=bool)  # first link per in-row
    return hits, (li[first].astype(np.int64), lo_[first].astype(np.int64))


def detect_movement(ledger: Ledger, cfg: MovementConfig) -> list[Hits]:
    hits, links = account_rules(ledger, cfg)
    return hits + link_rules(ledger, links, cfg)
