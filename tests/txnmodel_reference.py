"""Slow, obviously-correct reference implementations of the nexusfin.txnmodel kernels.

Written from the kernel docstrings (``nexusfin/txnmodel/kernels.py``), not from the kernels: for
every row, the set of rows it may see is built explicitly (``visible``), then counted, summed or
searched with plain Python sets, dicts and a breadth-first search. No CSR, no two pointers, no
binary search, no stamps. Sums use ``math.fsum``.

A table is given as lists ``ts, src, dst`` (rows sorted by ``ts``) and ``limit`` (row i sees
rows j < limit[i]). Only the test-suite imports this module.
"""

from __future__ import annotations

import math
from collections import deque


def visible(ts, limit, i, back, fwd):
    """Rows j < limit[i] with ts[i] - back <= ts[j] <= ts[i] + fwd."""
    t = ts[i]
    return [j for j in range(limit[i]) if t - back <= ts[j] <= t + fwd]


def window_stats(ts, key_q, key_e, other, val, vol, limit, back, fwd, edge_mask=None):
    """Per row q: over rows e with key_e[e] == key_q[q] (and edge_mask[e]) visible to q in the
    window: (rows, distinct other[e], sum val, sum val^2, sum vol)."""
    out = []
    for q in range(len(ts)):
        rows = [e for e in visible(ts, limit, q, back, fwd)
                if key_e[e] == key_q[q] and (edge_mask is None or edge_mask[e])]
        out.append((len(rows), len({other[e] for e in rows}), math.fsum(val[e] for e in rows),
                    math.fsum(val[e] * val[e] for e in rows), math.fsum(vol[e] for e in rows)))
    return out


def pair_stats(ts, src, dst, limit, window):
    """Per row: (same-edge rows earlier, same-edge rows visible, reverse-edge rows at or before,
    reverse-edge rows visible within the window); reverse counts 0 for self transfers."""
    out = []
    n = len(ts)
    for i in range(n):
        same = [j for j in range(n) if src[j] == src[i] and dst[j] == dst[i]]
        prior = sum(1 for j in same if ts[j] < ts[i])
        total = sum(1 for j in same if j < limit[i])
        if src[i] == dst[i]:
            rp = rw = 0
        else:
            rev = [j for j in range(n) if src[j] == dst[i] and dst[j] == src[i]]
            rp = sum(1 for j in rev if ts[j] <= ts[i])
            rw = sum(1 for j in rev if j < limit[i] and abs(ts[j] - ts[i]) <= window)
        out.append((prior, total, rp, rw))
    return out


def gaps(ts, src, dst, amount, limit):
    """Per row the six gap values of kernels.gaps (-1 where there is no such row)."""
    out = []
    n = len(ts)
    for i in range(n):
        t, s, d = ts[i], src[i], dst[i]
        others = [j for j in range(n) if j != i]
        r = [-1.0] * 6
        prev_out = [ts[j] for j in others if src[j] == s and ts[j] <= t]
        if prev_out:
            r[0] = float(t - max(prev_out))
        prev_in = [j for j in others if dst[j] == s and ts[j] <= t]
        if prev_in:
            latest = max(ts[j] for j in prev_in)
            r[1] = float(t - latest)
            r[2] = max(amount[j] for j in prev_in if ts[j] == latest)
        d_in = [ts[j] for j in others if dst[j] == d and ts[j] <= t]
        if d_in:
            r[3] = float(t - max(d_in))
        nxt = [j for j in others if src[j] == d and ts[j] >= t and j < limit[i]]
        if nxt:
            first = min(ts[j] for j in nxt)
            r[4] = float(first - t)
            r[5] = max(amount[j] for j in nxt if ts[j] == first)
        out.append(r)
    return out


def _window_graph(ts, src, dst, limit, i, window, cap):
    rows = visible(ts, limit, i, window, window)
    deg: dict[int, int] = {}
    for j in rows:
        deg[src[j]] = deg.get(src[j], 0) + 1
        deg[dst[j]] = deg.get(dst[j], 0) + 1

    def hub(a):
        return deg.get(a, 0) > cap

    return rows, hub


def cycle_length(ts, src, dst, limit, window, fwd_depth, back_depth, cap):
    """Per row: 1 + shortest path dst -> src over the window graph without hubs (0: none within
    fwd_depth + back_depth edges; -1: src or dst a hub; 1: self transfer)."""
    out = []
    for i in range(len(ts)):
        s, d = src[i], dst[i]
        if s == d:
            out.append(1)
            continue
        rows, hub = _window_graph(ts, src, dst, limit, i, window, cap)
        if hub(s) or hub(d):
            out.append(-1)
            continue
        succ: dict[int, set[int]] = {}
        for j in rows:
            if not hub(src[j]) and not hub(dst[j]):
                succ.setdefault(src[j], set()).add(dst[j])
        dist = {d: 0}
        queue = deque([d])
        while queue:
            u = queue.popleft()
            for v in succ.get(u, ()):
                if v not in dist:
                    dist[v] = dist[u] + 1
                    queue.append(v)
        L = dist.get(s)
        out.append(L + 1 if L is not None and L <= fwd_depth + back_depth else 0)
    return out


def motifs(ts, src, dst, limit, window, cap):
    """Per row: (gather, scatter, bipartite) of kernels.motifs."""
    out = []
    for i in range(len(ts)):
        s, d = src[i], dst[i]
        if s == d:
            out.append((0, 0, 0))
            continue
        rows, hub = _window_graph(ts, src, dst, limit, i, window, cap)
        if hub(s) or hub(d):
            out.append((-1, -1, -1))
            continue
        edges = {(src[j], dst[j]) for j in rows}

        def senders(a, edges=edges):
            return {x for (x, y) in edges if y == a}

        def receivers(a, edges=edges):
            return {y for (x, y) in edges if x == a}

        gather = 0
        for o in senders(s) - {s, d}:
            if hub(o):
                continue
            ms = {m for m in receivers(o) if m not in (o, d) and not hub(m) and (m, d) in edges}
            gather = max(gather, len(ms))
        scatter = 0
        for g in receivers(d) - {s, d}:
            if hub(g):
                continue
            ms = {m for m in senders(g) if m not in (s, g) and not hub(m) and (s, m) in edges}
            scatter = max(scatter, len(ms))
        bip = 0
        for s2 in senders(d) - {s, d}:
            if hub(s2):
                continue
            shared = {m for m in receivers(s2) & receivers(s) if m not in (d, s, s2) and not hub(m)}
            bip += bool(shared)
        out.append((gather, scatter, bip))
    return out
