"""numba kernels of the transaction-level graph features.

Every kernel works on rows **sorted by time** (``ts`` non-decreasing, int64 microseconds) and a
per-row visibility bound ``limit``: row ``i`` may only see rows ``j < limit[i]`` (see
``nexusfin.txnmodel.split``: the end of its split's graph under the published protocol, or the
rows up to its own time in causal mode). ``limit`` is non-decreasing and ``limit[i] > i``.

Accounts are integer codes ``0..n_accounts-1``. ``out_ptr/out_rows`` lists each account's debited
rows, ``in_ptr/in_rows`` its credited rows, each in ascending row order (so ascending time): a
CSR index (:func:`csr`). ``out_ts/out_nbr`` (``in_ts/in_nbr``) hold the time and the
counterparty (receiver / sender) of each listed row in list order, so that walking a list reads
memory in sequence (:func:`adjacency`). Every result depends on times, not on the order of rows that share a
timestamp (tests/test_txnmodel_kernels.py checks this against slow references in
tests/txnmodel_reference.py).

Windows are closed: ``[t - back, t + fwd]``; ``INF`` means unbounded.
"""

from __future__ import annotations

import numpy as np

from nexusfin.detect._numba import njit, pnjit, prange
from nexusfin.detect.rolling import (
    _add as _neumaier,  # compensated summation, shared with the detectors
)

INF = np.int64(1) << np.int64(62)


def csr(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """(ptr, rows): the rows of each key in ascending row order (keys in 0..n_keys-1)."""
    keys = np.asarray(keys, dtype=np.int64)
    rows = np.argsort(keys, kind="stable").astype(np.int64)
    ptr = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_keys), out=ptr[1:])
    return ptr, rows


def balanced_chunks(ptr: np.ndarray, n_chunks: int) -> np.ndarray:
    """Key boundaries splitting a CSR index into chunks of about equal row counts."""
    total = int(ptr[-1])
    n_keys = len(ptr) - 1
    if n_keys == 0:
        return np.zeros(1, dtype=np.int64)
    targets = np.linspace(0, total, n_chunks + 1)[1:-1]
    cuts = np.searchsorted(ptr, targets, side="left")
    return np.unique(np.concatenate([[0], np.clip(cuts, 0, n_keys), [n_keys]])).astype(np.int64)


def adjacency(ts: np.ndarray, src: np.ndarray, dst: np.ndarray, n_accounts: int) -> dict[str, np.ndarray]:
    """Both CSR indexes with the time and counterparty of each listed row, in list order."""
    out_ptr, out_rows = csr(src, n_accounts)
    in_ptr, in_rows = csr(dst, n_accounts)
    return {"out_ptr": out_ptr, "out_rows": out_rows, "out_ts": ts[out_rows], "out_nbr": dst[out_rows],
            "in_ptr": in_ptr, "in_rows": in_rows, "in_ts": ts[in_rows], "in_nbr": src[in_rows]}


# -- small helpers -------------------------------------------------------------------------------
@njit
def _first_ge(a, lo, hi, x):
    """First position p in [lo, hi) with a[p] >= x (hi if none); a sorted on [lo, hi)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _first_gt(a, lo, hi, x):
    """First position p in [lo, hi) with a[p] > x."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _span(ptr, rows, lts, a, t_lo, t_hi, lim):
    """Positions [p, q) of account a's listed rows with t_lo <= ts <= t_hi and row < lim."""
    lo, hi = ptr[a], ptr[a + 1]
    p = _first_ge(lts, lo, hi, t_lo)
    q = _first_gt(lts, p, hi, t_hi)
    q = _first_ge(rows, p, q, lim)
    return p, q


# -- 1. sliding windows: count, distinct counterparties, value moments, volume -------------------
@pnjit
def window_stats(q_ptr, q_rows, e_ptr, e_rows, e_ts, e_other, e_val, e_vol, ts, limit, back, fwd, n_other,
                 chunks):
    """For every query row q of key a (``q_rows[q_ptr[a]:q_ptr[a+1]]``), over the edge rows e of
    key a (``e_rows[e_ptr[a]:e_ptr[a+1]]``, with their time, counterparty, value and volume in
    ``e_ts``, ``e_other``, ``e_val``, ``e_vol`` at the same positions) with
    ``ts[q]-back <= ts(e) <= ts[q]+fwd`` and ``e < limit[q]``: the number of rows, of distinct
    counterparties, the sum and sum of squares of the values and the (compensated) sum of the
    volumes. Two pointers per key: O(rows)."""
    n = len(ts)
    cnt = np.zeros(n, np.int64)
    dist = np.zeros(n, np.int64)
    s1 = np.zeros(n, np.float64)
    s2 = np.zeros(n, np.float64)
    sv = np.zeros(n, np.float64)
    for c in prange(len(chunks) - 1):
        seen = np.zeros(n_other, np.int64)
        for a in range(chunks[c], chunks[c + 1]):
            q0, q1 = q_ptr[a], q_ptr[a + 1]
            if q0 == q1:
                continue
            e0, e1 = e_ptr[a], e_ptr[a + 1]
            lo = e0
            hi = e0
            k = 0
            nd = 0
            a1 = 0.0
            a2 = 0.0
            v = 0.0
            vc = 0.0
            for p in range(q0, q1):
                q = q_rows[p]
                t = ts[q]
                t_lo = t - back
                t_hi = t + fwd
                lim = limit[q]
                while lo < e1 and e_ts[lo] < t_lo:
                    if lo < hi:
                        k -= 1
                        o = e_other[lo]
                        seen[o] -= 1
                        if seen[o] == 0:
                            nd -= 1
                        x = e_val[lo]
                        a1 -= x
                        a2 -= x * x
                        v, vc = _neumaier(v, vc, -e_vol[lo])
                    lo += 1
                if hi < lo:
                    hi = lo
                while hi < e1 and e_ts[hi] <= t_hi and e_rows[hi] < lim:
                    k += 1
                    o = e_other[hi]
                    if seen[o] == 0:
                        nd += 1
                    seen[o] += 1
                    x = e_val[hi]
                    a1 += x
                    a2 += x * x
                    v, vc = _neumaier(v, vc, e_vol[hi])
                    hi += 1
                cnt[q] = k
                dist[q] = nd
                if k == 0:  # an empty window: drop the rounding left over from adds and removes
                    a1 = 0.0
                    a2 = 0.0
                    v = 0.0
                    vc = 0.0
                s1[q] = a1
                s2[q] = a2
                sv[q] = v + vc
            for p in range(lo, hi):
                seen[e_other[p]] = 0
    return cnt, dist, s1, s2, sv


# -- 2. repeated edges -----------------------------------------------------------------------------
@pnjit
def pair_stats(ts, limit, pair_ptr, pair_rows, pair_ts, group, rev_group, window):
    """Per row i of pair (src, dst) = group[i]: rows of the same pair with ts < ts[i]
    (``prior``) and visible rows of the same pair (``total``, i itself included); rows of the
    reverse pair (dst, src) = rev_group[i] (-1: none; self-transfers have none) with
    ts <= ts[i] (``rev_prior``) and with |ts - ts[i]| <= window and row < limit[i]
    (``rev_window``). ``pair_ts`` is ts of ``pair_rows``."""
    n = len(ts)
    prior = np.zeros(n, np.int64)
    total = np.zeros(n, np.int64)
    rev_prior = np.zeros(n, np.int64)
    rev_win = np.zeros(n, np.int64)
    for i in prange(n):
        t = ts[i]
        g = group[i]
        lo, hi = pair_ptr[g], pair_ptr[g + 1]
        prior[i] = _first_ge(pair_ts, lo, hi, t) - lo
        total[i] = _first_ge(pair_rows, lo, hi, limit[i]) - lo
        h = rev_group[i]
        if h >= 0:
            lo, hi = pair_ptr[h], pair_ptr[h + 1]
            rev_prior[i] = _first_gt(pair_ts, lo, hi, t) - lo
            p, q = _span(pair_ptr, pair_rows, pair_ts, h, t - window, t + window, limit[i])
            rev_win[i] = q - p
    return prior, total, rev_prior, rev_win


# -- 3. gaps: money in before it goes out, out after it came in ------------------------------------
@pnjit
def gaps(ts, src, dst, amount, limit, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts):
    """Per row i (src s, dst d, time t); -1 where there is no such row:

    0. ``src_prev_out``: t minus the latest ts <= t of s's other debited rows
    1. ``src_prev_in``: t minus the latest ts <= t of s's other credited rows
    2. ``src_prev_in_amount``: the largest amount among those credited rows at that latest ts
    3. ``dst_prev_in``: t minus the latest ts <= t of d's other credited rows
    4. ``dst_next_out``: the earliest ts >= t of d's other visible debited rows, minus t
    5. ``dst_next_out_amount``: the largest amount among those debited rows at that earliest ts

    "other": row i itself is left out; rows sharing t count (gap 0)."""
    n = len(ts)
    out = np.full((n, 6), -1.0)
    for i in prange(n):
        t = ts[i]
        s = src[i]
        d = dst[i]
        # latest debited row of s at or before t, other than i (i is one of s's debited rows)
        lo, hi = out_ptr[s], out_ptr[s + 1]
        p = _first_gt(out_ts, lo, hi, t)
        p0 = _first_ge(out_ts, lo, p, t)
        if p - p0 >= 2:  # another row at the same t
            out[i, 0] = 0.0
        elif p0 > lo:
            out[i, 0] = t - out_ts[p0 - 1]
        # latest credited rows of s at or before t, other than i (i is credited to s if s == d)
        lo, hi = in_ptr[s], in_ptr[s + 1]
        j = _first_gt(in_ts, lo, hi, t) - 1
        best_t = np.int64(-1)
        best_a = -1.0
        while j >= lo:
            r = in_rows[j]
            if r != i:
                if best_t < 0:
                    best_t = in_ts[j]
                elif in_ts[j] != best_t:
                    break
                if amount[r] > best_a:
                    best_a = amount[r]
            j -= 1
        if best_t >= 0:
            out[i, 1] = t - best_t
            out[i, 2] = best_a
        # latest credited row of d at or before t, other than i (i is one of d's credited rows)
        lo, hi = in_ptr[d], in_ptr[d + 1]
        j = _first_gt(in_ts, lo, hi, t) - 1
        if j >= lo and in_rows[j] == i:
            j -= 1
        if j >= lo:  # i may sit among rows of the same t: any other row at or before t will do
            out[i, 3] = t - in_ts[j]
        # earliest visible debited rows of d at or after t, other than i
        lo, hi = out_ptr[d], out_ptr[d + 1]
        j = _first_ge(out_ts, lo, hi, t)
        q = _first_ge(out_rows, j, hi, limit[i])
        best_t = np.int64(-1)
        best_a = -1.0
        while j < q:
            r = out_rows[j]
            if r != i:
                if best_t < 0:
                    best_t = out_ts[j]
                elif out_ts[j] != best_t:
                    break
                if amount[r] > best_a:
                    best_a = amount[r]
            j += 1
        if best_t >= 0:
            out[i, 4] = best_t - t
            out[i, 5] = best_a
    return out


# -- 4 and 5: cycles and scatter-gather / bipartite motifs ----------------------------------------
@njit
def _is_hub(a, stamp, hub, tok, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts, t_lo, t_hi, lim):
    """Whether account a has more than cap rows (sent + received) in the query's window and
    visible graph; cached per query token."""
    if stamp[a] != tok:
        stamp[a] = tok
        p, q = _span(out_ptr, out_rows, out_ts, a, t_lo, t_hi, lim)
        k = q - p
        if k <= cap:
            p, q = _span(in_ptr, in_rows, in_ts, a, t_lo, t_hi, lim)
            k += q - p
        hub[a] = k > cap
    return hub[a]


@pnjit
def cycle_length(ts, src, dst, limit, out_ptr, out_rows, out_ts, out_nbr, in_ptr, in_rows, in_ts, in_nbr,
                 window, fwd_depth, back_depth, cap, n_accounts, chunks):
    """Per row i (s -> d at t): the length of the shortest directed cycle through i, i.e. 1 + the
    shortest path d -> ... -> s, over the rows j < limit[i] with |ts[j] - t| <= window, through
    accounts with at most ``cap`` such rows (in + out; more: a hub, left out of the graph); at
    most fwd_depth + back_depth + 1 edges. 0: no such cycle; -1: s or d is a hub (not searched);
    self transfers (s == d): 1. Bidirectional breadth-first search, fwd_depth levels forward
    from d and back_depth levels backward from s; hub status is checked only for accounts the
    search expands or meets at."""
    n = len(ts)
    res = np.zeros(n, np.int64)
    NONE = np.int64(1) << 40
    for c in prange(len(chunks) - 1):
        hstamp = np.full(n_accounts, -1, np.int64)
        hub = np.zeros(n_accounts, np.bool_)
        fstamp = np.full(n_accounts, -1, np.int64)
        fdist = np.zeros(n_accounts, np.int64)
        bstamp = np.full(n_accounts, -1, np.int64)
        frontier = np.empty(n_accounts, np.int64)
        nxt = np.empty(n_accounts, np.int64)
        for i in range(chunks[c], chunks[c + 1]):
            s = src[i]
            d = dst[i]
            if s == d:
                res[i] = 1
                continue
            t = ts[i]
            t_lo = t - window
            t_hi = t + window
            lim = limit[i]
            if _is_hub(s, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts, t_lo, t_hi, lim) \
                    or _is_hub(d, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts,
                               t_lo, t_hi, lim):
                res[i] = -1
                continue
            # forward from d: fdist = shortest distance from d (hubs are marked but never expanded)
            fstamp[d] = i
            fdist[d] = 0
            frontier[0] = d
            nf = 1
            for depth in range(1, fwd_depth + 1):
                nn = 0
                for f in range(nf):
                    u = frontier[f]
                    if u == s:  # paths end at s
                        continue
                    if u != d and _is_hub(u, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows,
                                          in_ts, t_lo, t_hi, lim):
                        continue
                    p, q = _span(out_ptr, out_rows, out_ts, u, t_lo, t_hi, lim)
                    for e in range(p, q):
                        v = out_nbr[e]
                        if fstamp[v] == i:
                            continue
                        fstamp[v] = i
                        fdist[v] = depth
                        nxt[nn] = v
                        nn += 1
                for f in range(nn):
                    frontier[f] = nxt[f]
                nf = nn
            best = NONE
            if fstamp[s] == i:
                best = fdist[s]
            # backward from s, meeting forward-reached accounts (hubs excepted, d and s allowed)
            bstamp[s] = i
            frontier[0] = s
            nf = 1
            for depth in range(1, back_depth + 1):
                if depth >= best:  # no meeting at this depth can beat what was found
                    break
                nn = 0
                for f in range(nf):
                    u = frontier[f]
                    if u == d:
                        continue
                    if u != s and _is_hub(u, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows,
                                          in_ts, t_lo, t_hi, lim):
                        continue
                    p, q = _span(in_ptr, in_rows, in_ts, u, t_lo, t_hi, lim)
                    for e in range(p, q):
                        v = in_nbr[e]
                        if bstamp[v] == i:
                            continue
                        bstamp[v] = i
                        if fstamp[v] == i and fdist[v] + depth < best and (
                                v == d or not _is_hub(v, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr,
                                                      in_rows, in_ts, t_lo, t_hi, lim)):
                            best = fdist[v] + depth
                        nxt[nn] = v
                        nn += 1
                for f in range(nn):
                    frontier[f] = nxt[f]
                nf = nn
            res[i] = best + 1 if best < NONE else 0
    return res


@pnjit
def motifs(ts, src, dst, limit, out_ptr, out_rows, out_ts, out_nbr, in_ptr, in_rows, in_ts, in_nbr, window, cap,
           n_accounts, chunks):
    """Per row i (s -> d at t), over the rows j < limit[i] with |ts[j] - t| <= window, leaving
    out accounts with more than ``cap`` such rows (hubs); all -1 when s or d is a hub; all 0
    for self transfers:

    0. ``gather``: the largest number, over senders o -> s (o not s, d), of distinct accounts m
       (m not o, d) with o -> m and m -> d: i is a gather leg of a scatter-gather o => d.
    1. ``scatter``: the largest number, over receivers d -> g (g not s, d), of distinct accounts
       m (m not s, g) with s -> m and m -> g: i is a scatter leg of s => g.
    2. ``bipartite``: distinct other senders s' -> d (s' not s, d) that also pay an account m
       paid by s (m not d, s, s').
    """
    n = len(ts)
    res = np.zeros((n, 3), np.int64)
    for c in prange(len(chunks) - 1):
        hstamp = np.full(n_accounts, -1, np.int64)
        hub = np.zeros(n_accounts, np.bool_)
        mark = np.full(n_accounts, -1, np.int64)  # members of the reference set of this query
        seen = np.full(n_accounts, -1, np.int64)  # distinct within one inner scan
        oseen = np.full(n_accounts, -1, np.int64)  # distinct outer accounts
        tok = np.int64(0)
        for i in range(chunks[c], chunks[c + 1]):
            s = src[i]
            d = dst[i]
            if s == d:
                continue
            t = ts[i]
            t_lo = t - window
            t_hi = t + window
            lim = limit[i]
            if _is_hub(s, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts, t_lo, t_hi, lim) \
                    or _is_hub(d, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts,
                               t_lo, t_hi, lim):
                res[i, 0] = -1
                res[i, 1] = -1
                res[i, 2] = -1
                continue
            # gather: mark the senders of d
            tok += 1
            otok = tok
            pd, qd = _span(in_ptr, in_rows, in_ts, d, t_lo, t_hi, lim)
            for e in range(pd, qd):
                mark[in_nbr[e]] = otok
            best = 0
            ps, qs = _span(in_ptr, in_rows, in_ts, s, t_lo, t_hi, lim)
            for e in range(ps, qs):
                o = in_nbr[e]
                if o == s or o == d or oseen[o] == otok:  # noqa: SIM109 (numba kernel)
                    continue
                oseen[o] = otok
                if _is_hub(o, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts, t_lo, t_hi,
                           lim):
                    continue
                tok += 1
                k = 0
                p, q = _span(out_ptr, out_rows, out_ts, o, t_lo, t_hi, lim)
                for e2 in range(p, q):
                    m = out_nbr[e2]
                    if m == o or m == d or mark[m] != otok or seen[m] == tok:  # noqa: SIM109 (numba kernel)
                        continue
                    seen[m] = tok
                    if _is_hub(m, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts, t_lo,
                               t_hi, lim):
                        continue
                    k += 1
                if k > best:
                    best = k
            res[i, 0] = best
            # scatter: mark the receivers of s
            tok += 1
            otok = tok
            p1, q1 = _span(out_ptr, out_rows, out_ts, s, t_lo, t_hi, lim)
            for e in range(p1, q1):
                mark[out_nbr[e]] = otok
            best = 0
            p2, q2 = _span(out_ptr, out_rows, out_ts, d, t_lo, t_hi, lim)
            for e in range(p2, q2):
                g = out_nbr[e]
                if g == s or g == d or oseen[g] == otok:  # noqa: SIM109 (numba kernel)
                    continue
                oseen[g] = otok
                if _is_hub(g, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts, t_lo, t_hi,
                           lim):
                    continue
                tok += 1
                k = 0
                p, q = _span(in_ptr, in_rows, in_ts, g, t_lo, t_hi, lim)
                for e3 in range(p, q):
                    m = in_nbr[e3]
                    if m == s or m == g or mark[m] != otok or seen[m] == tok:  # noqa: SIM109 (numba kernel)
                        continue
                    seen[m] = tok
                    if _is_hub(m, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts, t_lo,
                               t_hi, lim):
                        continue
                    k += 1
                if k > best:
                    best = k
            res[i, 1] = best
            # bipartite: the receivers of s are still marked with otok
            tok += 1
            btok = tok
            k = 0
            for e in range(pd, qd):
                s2 = in_nbr[e]
                if s2 == s or s2 == d or oseen[s2] == btok:  # noqa: SIM109 (numba kernel)
                    continue
                oseen[s2] = btok
                if _is_hub(s2, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts, t_lo, t_hi,
                           lim):
                    continue
                p, q = _span(out_ptr, out_rows, out_ts, s2, t_lo, t_hi, lim)
                for e4 in range(p, q):
                    m = out_nbr[e4]
                    if m != d and m != s and m != s2 and mark[m] == otok and not _is_hub(
                            m, hstamp, hub, i, cap, out_ptr, out_rows, out_ts, in_ptr, in_rows, in_ts, t_lo, t_hi,
                            lim):
                        k += 1
                        break
            res[i, 2] = k
    return res
