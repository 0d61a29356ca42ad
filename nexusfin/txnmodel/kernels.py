"""numba kernels of the transaction-level graph features.

Every kernel works on rows **sorted by time** (``ts`` non-decreasing, int64 microseconds) and a
per-row visibility bound ``limit``: row ``i`` may only see rows ``j < limit[i]`` (see
``nexusfin.txnmodel.split``: the end of its split's graph under the published protocol, or the
rows up to its own time in causal mode). ``limit`` is non-decreasing and ``limit[i] > i``.

Accounts are integer codes ``0..n_accounts-1``. ``out_ptr/out_rows`` lists each account's debited
rows, ``in_ptr/in_rows`` its credited rows, each in ascending row order (so ascending time): a
CSR index (:func:`csr`). Every result depends on times, not on the order of rows that share a
timestamp (tests/test_txnmodel_kernels.py checks this against slow references in
tests/txnmodel_reference.py).

Windows are closed: ``[t - back, t + fwd]``; ``INF`` means unbounded.
"""

from __future__ import annotations

import numpy as np

from nexusfin.detect._numba import njit, pnjit, prange

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


# -- small helpers -------------------------------------------------------------------------------
@njit
def _first_ts_ge(rows, lo, hi, ts, t):
    """First position p in [lo, hi) with ts[rows[p]] >= t (hi if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if ts[rows[mid]] < t:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _first_ts_gt(rows, lo, hi, ts, t):
    """First position p in [lo, hi) with ts[rows[p]] > t."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if ts[rows[mid]] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _first_row_ge(rows, lo, hi, r):
    """First position p in [lo, hi) with rows[p] >= r."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if rows[mid] < r:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _span(ptr, rows, a, ts, t_lo, t_hi, lim):
    """Positions [p, q) of account a's rows with t_lo <= ts <= t_hi and row < lim."""
    lo, hi = ptr[a], ptr[a + 1]
    p = _first_ts_ge(rows, lo, hi, ts, t_lo)
    q = _first_ts_gt(rows, p, hi, ts, t_hi)
    q = _first_row_ge(rows, p, q, lim)
    return p, q


@njit
def _neumaier(acc, comp, x):
    y = acc + x
    if abs(acc) >= abs(x):
        comp += (acc - y) + x
    else:
        comp += (x - y) + acc
    return y, comp


# -- 1. sliding windows: count, distinct counterparties, value moments, volume -------------------
@pnjit
def window_stats(q_ptr, q_rows, e_ptr, e_rows, ts, other, val, vol, limit, back, fwd, n_other, chunks):
    """For every query row q of account a (``q_rows`` in ``q_ptr[a]:q_ptr[a+1]``), over a's edge
    rows e (``e_rows`` in ``e_ptr[a]:e_ptr[a+1]``) with ``ts[q]-back <= ts[e] <= ts[q]+fwd`` and
    ``e < limit[q]``: the number of rows, of distinct ``other[e]``, the sum and sum of squares of
    ``val[e]`` and the (compensated) sum of ``vol[e]``. Two pointers per account: O(rows)."""
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
                while lo < e1 and ts[e_rows[lo]] < t_lo:
                    if lo < hi:
                        r = e_rows[lo]
                        k -= 1
                        o = other[r]
                        seen[o] -= 1
                        if seen[o] == 0:
                            nd -= 1
                        a1 -= val[r]
                        a2 -= val[r] * val[r]
                        v, vc = _neumaier(v, vc, -vol[r])
                    lo += 1
                if hi < lo:
                    hi = lo
                while hi < e1 and ts[e_rows[hi]] <= t_hi and e_rows[hi] < lim:
                    r = e_rows[hi]
                    k += 1
                    o = other[r]
                    if seen[o] == 0:
                        nd += 1
                    seen[o] += 1
                    a1 += val[r]
                    a2 += val[r] * val[r]
                    v, vc = _neumaier(v, vc, vol[r])
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
                seen[other[e_rows[p]]] = 0
    return cnt, dist, s1, s2, sv


# -- 2. repeated edges -----------------------------------------------------------------------------
@pnjit
def pair_stats(ts, limit, pair_ptr, pair_rows, group, rev_group, window):
    """Per row i of pair (src, dst) = group[i]: rows of the same pair with ts < ts[i]
    (``prior``) and visible rows of the same pair (``total``, i itself included); rows of the
    reverse pair (dst, src) = rev_group[i] (-1: none; self-transfers have none) with
    ts <= ts[i] (``rev_prior``) and with |ts - ts[i]| <= window and row < limit[i]
    (``rev_window``)."""
    n = len(ts)
    prior = np.zeros(n, np.int64)
    total = np.zeros(n, np.int64)
    rev_prior = np.zeros(n, np.int64)
    rev_win = np.zeros(n, np.int64)
    for i in prange(n):
        t = ts[i]
        g = group[i]
        lo, hi = pair_ptr[g], pair_ptr[g + 1]
        prior[i] = _first_ts_ge(pair_rows, lo, hi, ts, t) - lo
        total[i] = _first_row_ge(pair_rows, lo, hi, limit[i]) - lo
        h = rev_group[i]
        if h >= 0:
            lo, hi = pair_ptr[h], pair_ptr[h + 1]
            rev_prior[i] = _first_ts_gt(pair_rows, lo, hi, ts, t) - lo
            p = _first_ts_ge(pair_rows, lo, hi, ts, t - window)
            q = _first_ts_gt(pair_rows, p, hi, ts, t + window)
            q = _first_row_ge(pair_rows, p, q, limit[i])
            rev_win[i] = q - p
    return prior, total, rev_prior, rev_win


# -- 3. gaps: money in before it goes out, out after it came in ------------------------------------
@pnjit
def gaps(ts, src, dst, amount, limit, out_ptr, out_rows, in_ptr, in_rows):
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
        # latest debited row of s at or before t, other than i
        lo, hi = out_ptr[s], out_ptr[s + 1]
        p = _first_ts_gt(out_rows, lo, hi, ts, t)
        p0 = _first_ts_ge(out_rows, lo, p, ts, t)
        if p - p0 >= 2:  # another row at the same t
            out[i, 0] = 0.0
        elif p0 > lo:
            out[i, 0] = t - ts[out_rows[p0 - 1]]
        # latest credited rows of s at or before t, other than i (i is credited to s if s == d)
        lo, hi = in_ptr[s], in_ptr[s + 1]
        p = _first_ts_gt(in_rows, lo, hi, ts, t)
        best_t = np.int64(-1)
        best_a = -1.0
        j = p - 1
        while j >= lo:
            r = in_rows[j]
            if r == i:
                j -= 1
                continue
            if best_t < 0:
                best_t = ts[r]
            elif ts[r] != best_t:
                break
            if amount[r] > best_a:
                best_a = amount[r]
            j -= 1
        if best_t >= 0:
            out[i, 1] = t - best_t
            out[i, 2] = best_a
        # latest credited row of d at or before t, other than i
        lo, hi = in_ptr[d], in_ptr[d + 1]
        p = _first_ts_gt(in_rows, lo, hi, ts, t)
        j = p - 1
        while j >= lo and in_rows[j] == i:
            j -= 1
        if j >= lo:
            # i may sit between rows of the same t: any other row at or before t will do
            out[i, 3] = t - ts[in_rows[j]]
        # earliest visible debited rows of d at or after t, other than i
        lo, hi = out_ptr[d], out_ptr[d + 1]
        p = _first_ts_ge(out_rows, lo, hi, ts, t)
        q = _first_row_ge(out_rows, p, hi, limit[i])
        best_t = np.int64(-1)
        best_a = -1.0
        j = p
        while j < q:
            r = out_rows[j]
            if r == i:
                j += 1
                continue
            if best_t < 0:
                best_t = ts[r]
            elif ts[r] != best_t:
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
def _degree(a, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
    p, q = _span(out_ptr, out_rows, a, ts, t_lo, t_hi, lim)
    p2, q2 = _span(in_ptr, in_rows, a, ts, t_lo, t_hi, lim)
    return (q - p) + (q2 - p2)


@njit
def _is_hub(a, stamp, hub, tok, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
    """Whether account a has more than cap window rows (cached per query token)."""
    if stamp[a] != tok:
        stamp[a] = tok
        hub[a] = _degree(a, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim) > cap
    return hub[a]


@pnjit
def cycle_length(ts, src, dst, limit, out_ptr, out_rows, in_ptr, in_rows, window, fwd_depth, back_depth,
                 cap, n_accounts, chunks):
    """Per row i (s -> d at t): the length of the shortest directed cycle through i, i.e. 1 + the
    shortest path d -> ... -> s, over the rows j < limit[i] with |ts[j] - t| <= window, among
    accounts with at most ``cap`` such rows (in + out); at most fwd_depth + back_depth + 1 edges.
    0: no such cycle; -1: s or d has more than cap rows in the window (not searched); self
    transfers (s == d) give 1. Bidirectional breadth-first search: fwd_depth levels from d,
    back_depth levels back from s."""
    n = len(ts)
    res = np.zeros(n, np.int64)
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
            if _is_hub(s, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim) or \
                    _is_hub(d, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
                res[i] = -1
                continue
            # forward from d
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
                    p, q = _span(out_ptr, out_rows, u, ts, t_lo, t_hi, lim)
                    for e in range(p, q):
                        v = dst[out_rows[e]]
                        if fstamp[v] == i:
                            continue
                        if v != s and _is_hub(v, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts,
                                              t_lo, t_hi, lim):
                            continue
                        fstamp[v] = i
                        fdist[v] = depth
                        nxt[nn] = v
                        nn += 1
                for f in range(nn):
                    frontier[f] = nxt[f]
                nf = nn
            best = np.int64(1) << 40
            if fstamp[s] == i:
                best = fdist[s]
            # backward from s
            bstamp[s] = i
            frontier[0] = s
            nf = 1
            for depth in range(1, back_depth + 1):
                if depth + 1 > best:  # cannot beat a forward-only path
                    break
                nn = 0
                for f in range(nf):
                    u = frontier[f]
                    if u == d:
                        continue
                    p, q = _span(in_ptr, in_rows, u, ts, t_lo, t_hi, lim)
                    for e in range(p, q):
                        v = src[in_rows[e]]
                        if bstamp[v] == i:
                            continue
                        if v != d and _is_hub(v, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts,
                                              t_lo, t_hi, lim):
                            continue
                        bstamp[v] = i
                        if fstamp[v] == i and fdist[v] + depth < best:
                            best = fdist[v] + depth
                        nxt[nn] = v
                        nn += 1
                for f in range(nn):
                    frontier[f] = nxt[f]
                nf = nn
            res[i] = best + 1 if best < (np.int64(1) << 40) else 0
    return res


@pnjit
def motifs(ts, src, dst, limit, out_ptr, out_rows, in_ptr, in_rows, window, cap, n_accounts, chunks):
    """Per row i (s -> d at t), over the rows j < limit[i] with |ts[j] - t| <= window, ignoring
    accounts with more than ``cap`` such rows (hubs); all -1 when s or d is a hub; all 0 for
    self transfers:

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
            if _is_hub(s, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim) or \
                    _is_hub(d, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
                res[i, 0] = -1
                res[i, 1] = -1
                res[i, 2] = -1
                continue
            # gather: mark the senders of d
            tok += 1
            pd, qd = _span(in_ptr, in_rows, d, ts, t_lo, t_hi, lim)
            for e in range(pd, qd):
                mark[src[in_rows[e]]] = tok
            best = 0
            ps, qs = _span(in_ptr, in_rows, s, ts, t_lo, t_hi, lim)
            otok = tok
            for e in range(ps, qs):
                o = src[in_rows[e]]
                if o == s or o == d or oseen[o] == otok:  # noqa: SIM109 (numba kernel)
                    continue
                oseen[o] = otok
                if _is_hub(o, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
                    continue
                tok += 1
                k = 0
                p, q = _span(out_ptr, out_rows, o, ts, t_lo, t_hi, lim)
                for e2 in range(p, q):
                    m = dst[out_rows[e2]]
                    if m == o or m == d or mark[m] != otok or seen[m] == tok:  # noqa: SIM109 (numba kernel)
                        continue
                    if _is_hub(m, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
                        continue
                    seen[m] = tok
                    k += 1
                if k > best:
                    best = k
            res[i, 0] = best
            # scatter: mark the receivers of s
            tok += 1
            p1, q1 = _span(out_ptr, out_rows, s, ts, t_lo, t_hi, lim)
            for e in range(p1, q1):
                mark[dst[out_rows[e]]] = tok
            best = 0
            otok = tok
            p2, q2 = _span(out_ptr, out_rows, d, ts, t_lo, t_hi, lim)
            for e in range(p2, q2):
                g = dst[out_rows[e]]
                if g == s or g == d or oseen[g] == otok:  # noqa: SIM109 (numba kernel)
                    continue
                oseen[g] = otok
                if _is_hub(g, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
                    continue
                tok += 1
                k = 0
                p, q = _span(in_ptr, in_rows, g, ts, t_lo, t_hi, lim)
                for e3 in range(p, q):
                    m = src[in_rows[e3]]
                    if m == s or m == g or mark[m] != otok or seen[m] == tok:  # noqa: SIM109 (numba kernel)
                        continue
                    if _is_hub(m, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
                        continue
                    seen[m] = tok
                    k += 1
                if k > best:
                    best = k
            res[i, 1] = best
            # bipartite: the receivers of s other than d are still marked with otok
            k = 0
            tok += 1
            btok = tok
            for e in range(pd, qd):
                s2 = src[in_rows[e]]
                if s2 == s or s2 == d or oseen[s2] == btok:  # noqa: SIM109 (numba kernel)
                    continue
                oseen[s2] = btok
                if _is_hub(s2, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
                    continue
                p, q = _span(out_ptr, out_rows, s2, ts, t_lo, t_hi, lim)
                for e4 in range(p, q):
                    m = dst[out_rows[e4]]
                    if m != d and m != s and m != s2 and mark[m] == otok and not _is_hub(
                            m, hstamp, hub, i, cap, out_ptr, out_rows, in_ptr, in_rows, ts, t_lo, t_hi, lim):
                        k += 1
                        break
            res[i, 2] = k
    return res
