"""Slow, obviously-correct references for graph proximity, personalized PageRank and convergence.

Written from the definitions in the docstrings of ``nexusfin/linkage/graph.py`` and
``nexusfin/linkage/convergence.py``, not from the kernels: plain Python over the list of
transactions (string account ids, row = position in the input frame, which is the ledger's row
order), no CSR, no frontier arrays, no push/pull; every level of the BFS re-scans every row, and
every path is walked to compute its bottleneck and recency.

Only the test-suite imports this module.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Edge:
    row: int  # position in the transactions frame
    txn_id: str
    ts: int  # µs
    src: str
    dst: str
    usd: float


@dataclass
class RefLabel:
    hops: int
    seed: str
    row: int | None  # next_row_to / prev_row_from (None for seeds)
    path_rows: list[int]  # in money order
    path_accounts: list[str]  # in money order
    bottleneck: float | None
    first_usd: float | None
    last_ts: int | None


def edges(tx: pl.DataFrame) -> list[Edge]:
    """Rows with an account on both sides that are not self-transfers."""
    ts = tx.get_column("ts").dt.cast_time_unit("us").to_physical().to_list()
    out = []
    for pos, (r, t) in enumerate(zip(tx.iter_rows(named=True), ts, strict=True)):
        if r["src_account"] is None or r["dst_account"] is None or r["src_account"] == r["dst_account"]:
            continue
        out.append(Edge(pos, r["txn_id"], int(t), r["src_account"], r["dst_account"], float(r["amount_usd"])))
    return out


def bfs(tx: pl.DataFrame, seeds: list[str], direction: str, *, max_hops: int, time_respecting: bool,
        min_usd: float) -> dict[str, RefLabel]:
    """The level-synchronous BFS of :func:`nexusfin.linkage.graph.proximity`, one direction."""
    es = [e for e in edges(tx) if e.usd >= min_usd]
    level = {s: 0 for s in seeds}
    bound: dict[str, float] = {s: (float("inf") if direction == "to" else float("-inf")) for s in seeds}
    step: dict[str, Edge] = {}
    for k in range(max_hops):
        best: dict[str, Edge] = {}
        for e in es:
            new, known = (e.src, e.dst) if direction == "to" else (e.dst, e.src)
            if new in level or level.get(known) != k:
                continue
            if time_respecting and (e.ts > bound[known] if direction == "to" else e.ts < bound[known]):
                continue
            b = best.get(new)
            t_key = e.ts if direction == "to" else -e.ts
            if b is None or (t_key, e.usd, -e.row) > ((b.ts if direction == "to" else -b.ts), b.usd, -b.row):
                best[new] = e
        if not best:
            break
        for new, e in best.items():
            level[new] = k + 1
            bound[new] = e.ts
            step[new] = e
    out = {}
    for a, h in level.items():
        rows: list[Edge] = []
        cur = a
        while level[cur] > 0:  # walk toward the seed
            e = step[cur]
            rows.append(e)
            cur = e.dst if direction == "to" else e.src
        if direction == "from":
            rows.reverse()
        accounts = ([a] + [e.dst for e in rows]) if direction == "to" else ([cur] + [e.dst for e in rows])
        out[a] = RefLabel(
            hops=h, seed=cur, row=step[a].row if h else None, path_rows=[e.row for e in rows],
            path_accounts=accounts,
            bottleneck=min(e.usd for e in rows) if rows else None,
            first_usd=step[a].usd if h else None,
            last_ts=max(e.ts for e in rows) if rows else None,
        )
    return out


def pagerank(tx: pl.DataFrame, accounts: list[str], seeds: list[str], *, alpha: float, iterations: int,
             tol: float, weight: str) -> dict[str, float]:
    """Power iteration over a dict-of-lists undirected graph (one entry per row, both ways)."""
    nbrs: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for e in edges(tx):
        w = e.usd if weight == "usd" else 1.0
        nbrs[e.src].append((e.dst, w))
        nbrs[e.dst].append((e.src, w))
    if not seeds:
        return dict.fromkeys(accounts, 0.0)
    seeds = sorted(set(seeds))
    strength = {a: sum(w for _, w in nbrs[a]) for a in accounts}
    e = {a: (1.0 / len(seeds) if a in seeds else 0.0) for a in accounts}
    p = dict(e)
    for _ in range(iterations):
        dangling = sum(p[a] for a in accounts if strength[a] <= 0.0)
        new = {}
        for a in accounts:
            new[a] = (1 - alpha) * sum(w * p[b] / strength[b] for b, w in nbrs[a] if strength[b] > 0.0) \
                + (alpha + (1 - alpha) * dangling) * e[a]
        diff = sum(abs(new[a] - p[a]) for a in accounts)
        p = new
        if diff < tol:
            break
    return p


def convergence(to: dict[str, RefLabel], alerts: pl.DataFrame, families: tuple[str, ...],
                rules: tuple[str, ...] | None) -> dict[str, object]:
    """Crime, convergent, on-path accounts and groups (as sets keyed by seed) from the reference
    labels of a proximity computed with terror seeds only."""
    crime = set()
    for a in alerts.iter_rows(named=True):
        if a["detector"] in families and (rules is None or a["rule"] in rules):
            crime.add(a["account_id"])
    convergent = {a for a in crime if a in to}
    on_path: set[str] = set()
    groups: dict[str, set[str]] = defaultdict(set)
    for a in convergent:
        on_path.update(to[a].path_accounts)
        groups[to[a].seed].update(to[a].path_accounts)
    return {"crime": crime, "convergent": convergent, "on_path": on_path, "groups": dict(groups)}
