"""Graph proximity: how money connects each account to facilitator accounts.

The transaction graph of one window: every ledger row with an account on both sides (``src`` and
``dst`` >= 0, ``src != dst``) is a directed edge ``src -> dst`` carrying ``usd`` at time ``ts``;
cash rows (one side -1) and self-transfers are not edges. Facilitator accounts (*seeds*) are
decided elsewhere (watchlist screening); terror-designated ones are a subset.

:func:`proximity` labels every account with the shortest money path **to** a seed (money the
account sends that reaches a facilitator) and **from** a seed (money a facilitator sends that
reaches the account): number of transfers (hops), which seed, the first transfer of the path,
its bottleneck (smallest amount on the path) and its recency (latest transfer on the path).
:func:`best_path` and :func:`paths_frame` turn those labels into evidence an analyst can check
(accounts, transaction ids, times, amounts, in the order the money moved).
:func:`personalized_pagerank` gives a smooth score of closeness to the seeds over the undirected
graph weighted by amounts.

Partitions: graph proximity needs every row in reach of an account, so it runs on the **whole
window ledger** (a partitioned ledger, ``ledger.partition[1] > 1``, is refused). The resulting
per-account arrays are then independent features any account partition can read.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import polars as pl

from nexusfin.detect._numba import njit, pnjit, prange
from nexusfin.detect.ledger import Ledger

__all__ = [
    "NO_TS",
    "PathEvidence",
    "Proximity",
    "best_path",
    "paths_frame",
    "personalized_pagerank",
    "proximity",
]

NO_TS = np.iinfo(np.int64).min
"""``last_ts_*`` of seeds and unreachable accounts (no transfer on the path)."""
_TS_INF = np.iinfo(np.int64).max
MAX_HOPS_LIMIT = 20
_MODES = {"auto": 0, "push": 1, "pull": 2}
_SMALL = 200_000  # rows + accounts below which one thread beats waking the pool for every level / iteration


@contextmanager
def _threads_for(size: int):
    """Run small ledgers on the calling thread only (numba's thread count is per calling thread)."""
    import numba

    before = numba.get_num_threads()
    if size >= _SMALL or before == 1:
        yield before
        return
    numba.set_num_threads(1)
    try:
        yield 1
    finally:
        numba.set_num_threads(before)


@dataclass
class Proximity:
    """Per-account proximity to the seeds (index = account code; arrays of length ``n_accounts``).

    ``to`` fields describe money the account sends toward a seed; ``from`` fields money a seed
    sends that reaches the account. Seeds have hops 0; accounts not reached within ``max_hops``
    have hops -1, seed -1, row -1, amounts NaN and ``last_ts`` :data:`NO_TS` (seeds too, for
    amounts, rows and time: a seed's path has no transfer).
    """

    seeds: np.ndarray  # int32, distinct and sorted
    max_hops: int
    time_respecting: bool
    min_usd: float
    hops_to: np.ndarray  # int8
    seed_to: np.ndarray  # int32
    next_row_to: np.ndarray  # int64: first transfer of the path; dst of it is the next account
    path_usd_to: np.ndarray  # float64: smallest amount on the path (bottleneck)
    first_usd_to: np.ndarray  # float64: amount of the account's own transfer on the path
    last_ts_to: np.ndarray  # int64 µs: latest transfer on the path
    hops_from: np.ndarray  # int8
    seed_from: np.ndarray  # int32
    prev_row_from: np.ndarray  # int64: last transfer of the path (into the account); src of it is the previous account
    path_usd_from: np.ndarray  # float64
    last_ts_from: np.ndarray  # int64 µs

    @property
    def n_accounts(self) -> int:
        return len(self.hops_to)


@dataclass
class PathEvidence:
    """One account's best path, in the order the money moved (``to``: the account first, the seed
    last; ``from``: the seed first, the account last). ``rows[i]`` moved money from ``accounts[i]``
    to ``accounts[i + 1]``."""

    direction: str
    account: int
    seed: int  # -1 when the account is not reached
    hops: int  # -1 when the account is not reached
    accounts: np.ndarray  # int32 account codes, hops + 1 of them (empty when not reached)
    account_ids: list[str]
    rows: np.ndarray  # int64 ledger rows, hops of them
    txn_ids: list[str]
    ts: np.ndarray  # int64 µs
    usd: np.ndarray  # float64

    @property
    def bottleneck_usd(self) -> float:
        return float(self.usd.min()) if len(self.usd) else float("nan")


# -- proximity ---------------------------------------------------------------------------------------
def proximity(ledger: Ledger, seeds: np.ndarray, *, max_hops: int = 4, time_respecting: bool = True,
              min_usd: float = 0.0) -> Proximity:
    """Hops, seed, path, bottleneck and recency of the money path between each account and the
    nearest seed, in both directions.

    Level-synchronous BFS, for ``to`` (money the account sends toward a seed):

    * level 0: the seeds, deadline +inf;
    * level k+1: every account ``u`` not yet labelled that sent a row ``r`` (``src = u``,
      ``dst = v``, ``v`` at level k, ``usd[r] >= min_usd`` and, if ``time_respecting``,
      ``ts[r] <= deadline[v]``); its deadline is the latest such ``ts[r]`` and ``next_row_to`` the
      row achieving it (ties: larger amount, then smaller row index).

    ``from`` mirrors it: level 0 the seeds with arrival -inf; level k+1 the accounts not yet
    labelled that received a row from a level-k account ``u`` with ``ts[r] >= arrival[u]``; their
    arrival is the earliest such ``ts[r]`` and ``prev_row_from`` the row achieving it (ties: larger
    amount, then smaller row index).

    So the ``to`` path of an account is the **hop-minimal** path with the **latest departure**
    (the longest time left to forward the money at every step), and the ``from`` path the
    hop-minimal one with the earliest arrival. It is an approximation of the set of all
    time-respecting paths: an account reached at level k keeps only its best deadline, so a
    longer path that would have been time-respecting through a later-labelled route is not
    explored, and an account that is only time-respectingly reachable through a *non-shortest*
    route can be missed. The exact answer (a time-respecting shortest path with every
    deadline per hop count) costs a label set per account and hop; this costs one label per
    account, O(edges x hops) in the worst case and O(edges) overall with push steps (each
    account's rows are scanned when it joins the frontier), and is exact when
    ``time_respecting=False`` (plain k-hop reachability).

    Rows with a cash side (-1) and self-transfers are not edges. ``seeds`` are account codes;
    ``max_hops`` is 1..20. Runs on a whole-window ledger only (see the module docstring).
    """
    return _proximity(ledger, seeds, max_hops=max_hops, time_respecting=time_respecting, min_usd=min_usd)


def _check_ledger(ledger: Ledger) -> None:
    if not isinstance(ledger, Ledger):
        raise TypeError(f"ledger must be a nexusfin Ledger, not {type(ledger).__name__}")
    if ledger.partition[1] > 1:
        raise ValueError(
            f"graph proximity needs the whole window ledger (every row in reach of an account); got partition "
            f"{ledger.partition}. Build the ledger without partition= and read the per-account results per partition.")


def _check_seeds(ledger: Ledger, seeds) -> np.ndarray:
    arr = np.asarray(seeds)
    if arr.ndim != 1:
        raise ValueError(f"seeds must be a 1-d array of account codes, got shape {arr.shape}")
    if len(arr) and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"seeds must be integer account codes, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if len(arr) and (arr.min() < 0 or arr.max() >= ledger.n_accounts):
        bad = arr[(arr < 0) | (arr >= ledger.n_accounts)]
        raise ValueError(f"seeds must be account codes in 0..{ledger.n_accounts - 1}; got {bad[:5].tolist()}")
    return np.unique(arr).astype(np.int32)


def _proximity(ledger: Ledger, seeds, *, max_hops: int = 4, time_respecting: bool = True, min_usd: float = 0.0,
               mode: str = "auto", threads: int | None = None) -> Proximity:
    """:func:`proximity` with the BFS step forced (``mode``: push, pull or auto); tests use it to
    check that both steps give the same labels."""
    _check_ledger(ledger)
    seeds = _check_seeds(ledger, seeds)
    if isinstance(max_hops, bool) or not isinstance(max_hops, (int, np.integer)) or not 1 <= max_hops <= MAX_HOPS_LIMIT:
        raise ValueError(f"max_hops must be an integer in 1..{MAX_HOPS_LIMIT}, not {max_hops!r}")
    min_usd = float(min_usd)
    if not np.isfinite(min_usd):
        raise ValueError(f"min_usd must be a finite amount, not {min_usd!r}")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {sorted(_MODES)}")
    with _threads_for(ledger.n_rows + ledger.n_accounts) as nthreads:
        nthreads = nthreads if threads is None else int(threads)
        rec = np.empty((ledger.n_rows, 3), dtype=np.int64)
        _records(ledger.src, ledger.dst, ledger.ts, ledger.usd, rec, rec.view(np.float64))
        args = (seeds, int(max_hops), bool(time_respecting), min_usd, _MODES[mode], nthreads)
        # to: the new account is the sender; the frontier's received rows (in) are pushed, the
        # candidate's sent rows (out, latest first) are pulled; later ts is better
        to = _bfs(rec, rec.view(np.float64), True, ledger.in_ptr, ledger.in_idx, ledger.out_ptr, ledger.out_idx, *args)
        # from: the mirror; earlier ts is better (the kernels compare -ts)
        fr = _bfs(rec, rec.view(np.float64), False, ledger.out_ptr, ledger.out_idx, ledger.in_ptr, ledger.in_idx, *args)
        del rec
    return Proximity(
        seeds=seeds, max_hops=int(max_hops), time_respecting=bool(time_respecting), min_usd=min_usd,
        hops_to=to[0], seed_to=to[1], next_row_to=to[2], path_usd_to=to[3], first_usd_to=to[4], last_ts_to=to[5],
        hops_from=fr[0], seed_from=fr[1], prev_row_from=fr[2], path_usd_from=fr[3], last_ts_from=fr[5],
    )


@pnjit
def _records(src, dst, ts, usd, rec, recf):
    """One 24-byte record per row (ts, src and dst in one word, usd): a step reads one cache line
    instead of one per column."""
    for r in prange(len(ts)):
        rec[r, 0] = ts[r]
        rec[r, 1] = (np.int64(src[r]) << 32) | (np.int64(dst[r]) & 0xFFFFFFFF)
        recf[r, 2] = usd[r]


@njit
def _key(rec, r, fwd):
    """How good a row's time is: ts (to: later is better) or -ts (from: earlier is better)."""
    return rec[r, 0] if fwd else -rec[r, 0]


@njit
def _low(x):
    y = x & 0xFFFFFFFF
    return y - 4294967296 if y >= 2147483648 else y


@njit
def _new(rec, r, fwd):
    """The account a row labels: its sender (to) or its receiver (from); -1 for a cash side."""
    return rec[r, 1] >> 32 if fwd else _low(rec[r, 1])


@njit
def _known(rec, r, fwd):
    """The already labelled account a row leads to (to: its receiver) or comes from (from: its sender)."""
    return _low(rec[r, 1]) if fwd else rec[r, 1] >> 32


@njit
def _better(key_a, usd_a, r_a, key_b, usd_b, r_b):
    """Is row a a better step than row b: larger key (ts for to, -ts for from), then larger
    amount, then smaller row index."""
    if key_a != key_b:
        return key_a > key_b
    if usd_a != usd_b:
        return usd_a > usd_b
    return r_a < r_b


@njit
def _bfs(rec, recf, fwd, push_ptr, push_idx, pull_ptr, pull_idx, seeds, max_hops, time_respecting, min_usd, mode,
         nthreads):
    """One direction of the BFS over the row records (``fwd``: to, else from). A row's *new* side
    is the account it may label (src for to), its *known* side the labelled account it leads to.
    ``push_*``: rows by known side (a frontier account's rows); ``pull_*``: rows by new side; both
    sorted by ts within an account.

    Each level runs either as a *push* (serial: the frontier's rows, each seen once overall; with
    time, only the part of an account's rows before its deadline, by binary search) or a *pull*
    (parallel over unlabelled accounts: their rows, best first, stopping once no later row can
    win) - whichever scans fewer rows per thread. Both give the same labels: the chosen row is the
    best of all qualifying rows under a total order."""
    n = len(push_ptr) - 1
    hops = np.full(n, -1, dtype=np.int8)
    row = np.full(n, -1, dtype=np.int64)
    dl = np.full(n, _TS_INF, dtype=np.int64)  # deadline (to) / -arrival (from)
    seed = np.full(n, -1, dtype=np.int32)
    bott = np.full(n, np.nan)
    first = np.full(n, np.nan)
    last = np.full(n, NO_TS, dtype=np.int64)
    cand = np.full(n, -1, dtype=np.int64)
    frontier = seeds.astype(np.int64)
    m_unlabelled = pull_ptr[n]
    for i in range(len(frontier)):
        s = frontier[i]
        hops[s] = 0
        seed[s] = s
        bott[s] = np.inf
        m_unlabelled -= pull_ptr[s + 1] - pull_ptr[s]
    level = 0
    while level < max_hops and len(frontier) > 0:
        level += 1
        m_front = 0
        for i in range(len(frontier)):
            v = frontier[i]
            m_front += push_ptr[v + 1] - push_ptr[v]
        pull = mode == 2 or (mode == 0 and m_front * nthreads > m_unlabelled)
        if pull:
            _pull_level(cand, hops, dl, rec, recf, fwd, pull_ptr, pull_idx, level, time_respecting, min_usd)
            count = 0
            for u in range(n):
                if cand[u] >= 0:
                    count += 1
            nxt = np.empty(count, dtype=np.int64)
            count = 0
            for u in range(n):
                if cand[u] >= 0:
                    nxt[count] = u
                    count += 1
        else:
            buf = np.empty(16, dtype=np.int64)
            count = 0
            for i in range(len(frontier)):
                v = frontier[i]
                lo, hi = push_ptr[v], push_ptr[v + 1]
                if time_respecting and level > 1:  # only the rows up to the deadline (to) / from the arrival on
                    lo, hi = _within(push_idx, rec, fwd, lo, hi, dl[v])
                for j in range(lo, hi):
                    r = np.int64(push_idx[j])
                    u = _new(rec, r, fwd)
                    if u < 0 or u == v or hops[u] != -1:
                        continue
                    k = _key(rec, r, fwd)
                    x = recf[r, 2]
                    if x < min_usd or (time_respecting and k > dl[v]):
                        continue
                    c = cand[u]
                    if c < 0:
                        cand[u] = r
                        if count == len(buf):
                            grown = np.empty(2 * len(buf), dtype=np.int64)
                            grown[:count] = buf[:count]
                            buf = grown
                        buf[count] = u
                        count += 1
                    elif _better(k, x, r, _key(rec, c, fwd), recf[c, 2], c):
                        cand[u] = r
            nxt = buf[:count].copy()
        for i in range(len(nxt)):  # label the new level; its paths extend those of the level before
            u = nxt[i]
            r = cand[u]
            v = _known(rec, r, fwd)
            x = recf[r, 2]
            hops[u] = level
            row[u] = r
            dl[u] = _key(rec, r, fwd)
            seed[u] = seed[v]
            bott[u] = min(x, bott[v])
            first[u] = x
            last[u] = max(rec[r, 0], last[v])
            cand[u] = -1
            m_unlabelled -= pull_ptr[u + 1] - pull_ptr[u]
        frontier = nxt
    for i in range(len(seeds)):
        bott[seeds[i]] = np.nan
    return hops, seed, row, bott, first, last


@njit
def _within(idx, rec, fwd, lo, hi, bound):
    """The part of ``idx[lo:hi]`` (rows in time order) whose key is at most ``bound``, by binary
    search: a prefix for to (key = ts ascending), a suffix for from (key = -ts descending)."""
    a, b = lo, hi
    if fwd:  # first position with key > bound
        while a < b:
            m = (a + b) >> 1
            if rec[idx[m], 0] <= bound:
                a = m + 1
            else:
                b = m
        return lo, a
    while a < b:  # first position with key <= bound
        m = (a + b) >> 1
        if -rec[idx[m], 0] > bound:
            a = m + 1
        else:
            b = m
    return a, hi


@njit
def _balanced(ptr, parts):
    """Account boundaries of ``parts`` contiguous blocks holding about as many CSR entries each:
    parallel loops run over blocks, so a thread that gets the merchants and hubs (account codes
    are ordered by owner, not spread at random) does not do most of the work alone."""
    n = len(ptr) - 1
    total = ptr[n] - ptr[0]
    b = np.empty(parts + 1, dtype=np.int64)
    for i in range(parts + 1):
        b[i] = min(np.searchsorted(ptr, ptr[0] + total * i // parts), n)
    b[0] = 0
    b[parts] = n
    return b


_PARTS = 256


@pnjit
def _pull_level(cand, hops, dl, rec, recf, fwd, pull_ptr, pull_idx, level, time_respecting, min_usd):
    """Pull step: every unlabelled account scans its own rows, best key first (from the latest for
    to, the earliest for from), and stops once a row's key is below the best found (ties on the
    key are all examined). Parallel over blocks of accounts with about as many rows each."""
    blocks = _balanced(pull_ptr, _PARTS)
    for c in prange(_PARTS):
        for u in range(blocks[c], blocks[c + 1]):
            if hops[u] != -1:
                continue
            best = np.int64(-1)
            best_key = np.int64(0)
            lo, hi = pull_ptr[u], pull_ptr[u + 1]
            for jj in range(hi - lo):
                j = hi - 1 - jj if fwd else lo + jj
                r = np.int64(pull_idx[j])
                k = _key(rec, r, fwd)
                if best >= 0 and k < best_key:
                    break  # rows come best key first: nothing later can win
                v = _known(rec, r, fwd)
                if v < 0 or v == u or hops[v] != level - 1:
                    continue
                x = recf[r, 2]
                if x < min_usd or (time_respecting and k > dl[v]):
                    continue
                if best < 0 or _better(k, x, r, best_key, recf[best, 2], best):
                    best = r
                    best_key = k
            cand[u] = best


# -- personalized PageRank ------------------------------------------------------------------------------
def personalized_pagerank(ledger: Ledger, seeds: np.ndarray, *, alpha: float = 0.15, iterations: int = 30,
                          tol: float = 1e-9, weight: str = "usd") -> np.ndarray:
    """Personalized PageRank seeded at ``seeds`` over the undirected transaction graph.

    Every row with an account on both sides (not a self-transfer) is an undirected edge between
    ``src`` and ``dst`` weighted by its amount (``weight="usd"``) or 1 (``"count"``); parallel rows
    add up. Power iteration from the uniform distribution over the seeds::

        p' = alpha * e + (1 - alpha) * (W D^-1 p + dangling(p) * e)

    with ``e`` uniform over the seeds, ``D`` the weighted degrees, ``dangling(p)`` the mass on
    accounts with no weighted edge (it returns to the seeds). Stops after ``iterations`` or when
    the L1 change is below ``tol``. The scores sum to 1; empty ``seeds`` gives all zeros.
    Pull-based: each account sums its neighbours' shares, in parallel. The neighbours come from
    both CSR indexes, copied once into a contiguous (neighbour, weight) adjacency: pulling through
    the indexes themselves reads a random row's ``dst``/``src`` and ``usd`` per entry and costs ~9x
    more per iteration on a 10M-row ledger than the one-off copy.
    """
    _check_ledger(ledger)
    seeds = _check_seeds(ledger, seeds)
    if not 0.0 < float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], not {alpha!r}")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise ValueError(f"iterations must be a non-negative integer, not {iterations!r}")
    if not float(tol) >= 0.0:
        raise ValueError(f"tol must be >= 0, not {tol!r}")
    if weight not in ("usd", "count"):
        raise ValueError(f"weight must be 'usd' or 'count', not {weight!r}")
    n = ledger.n_accounts
    if len(seeds) == 0 or n == 0:
        return np.zeros(n, dtype=np.float64)
    with _threads_for(ledger.n_rows + n):
        ptr, nbr, w = _undirected(ledger.src, ledger.dst, ledger.usd, ledger.out_ptr, ledger.out_idx, ledger.in_ptr,
                                  ledger.in_idx, weight == "usd")
        return _ppr(ptr, nbr, w, seeds, float(alpha), int(iterations), float(tol))


@njit
def _non_edges(src, dst, n):
    """Per account, how many of its CSR entries are not graph edges (cash side or self-transfer):
    one sequential pass over the rows instead of a gather through both indexes."""
    bad = np.zeros(n, dtype=np.int64)
    for r in range(len(src)):
        s, d = src[r], dst[r]
        if s >= 0 and (d < 0 or d == s):
            bad[s] += 1
        if d >= 0 and (s < 0 or s == d):
            bad[d] += 1
    return bad


@pnjit
def _undirected(src, dst, usd, out_ptr, out_idx, in_ptr, in_idx, by_usd):
    """Adjacency of the undirected graph in CSR form: each account's sent rows then received
    rows, as (neighbour, weight) pairs laid out contiguously so iterations read them in order."""
    n = len(out_ptr) - 1
    bad = _non_edges(src, dst, n)
    deg = np.zeros(n + 1, dtype=np.int64)
    for a in range(n):
        deg[a + 1] = deg[a] + (out_ptr[a + 1] - out_ptr[a]) + (in_ptr[a + 1] - in_ptr[a]) - bad[a]
    nbr = np.empty(deg[n], dtype=np.int32)
    w = np.empty(deg[n], dtype=np.float64)
    blocks = _balanced(deg, _PARTS)
    for c in prange(_PARTS):
        for a in range(blocks[c], blocks[c + 1]):
            k = deg[a]
            for j in range(out_ptr[a], out_ptr[a + 1]):
                r = out_idx[j]
                b = dst[r]
                if b >= 0 and b != a:
                    nbr[k] = b
                    w[k] = usd[r] if by_usd else 1.0
                    k += 1
            for j in range(in_ptr[a], in_ptr[a + 1]):
                r = in_idx[j]
                b = src[r]
                if b >= 0 and b != a:
                    nbr[k] = b
                    w[k] = usd[r] if by_usd else 1.0
                    k += 1
    return deg, nbr, w


@pnjit
def _ppr(ptr, nbr, w, seeds, alpha, iterations, tol):
    """Power iteration, one parallel pass per iteration: each account pulls its neighbours'
    shares ``q = p / strength`` of the previous iteration and, in the same pass, writes its own
    share for the next one and adds to the dangling mass and the L1 change."""
    n = len(ptr) - 1
    strength = np.zeros(n)
    for a in prange(n):
        s = 0.0
        for j in range(ptr[a], ptr[a + 1]):
            s += w[j]
        strength[a] = s
    ev = np.zeros(n)
    for i in range(len(seeds)):
        ev[seeds[i]] = 1.0 / len(seeds)
    p = ev.copy()
    q = np.zeros(n)
    dangling = 0.0
    for a in range(n):
        if strength[a] > 0.0:
            q[a] = p[a] / strength[a]
        else:
            dangling += p[a]
    new = np.empty(n)
    q_new = np.empty(n)
    blocks = _balanced(ptr, _PARTS)
    for _ in range(iterations):
        back = alpha + (1.0 - alpha) * dangling
        diff = 0.0
        dangling_new = 0.0
        for c in prange(_PARTS):
            for a in range(blocks[c], blocks[c + 1]):
                acc = 0.0
                for j in range(ptr[a], ptr[a + 1]):
                    acc += w[j] * q[nbr[j]]
                v = (1.0 - alpha) * acc + back * ev[a]
                new[a] = v
                diff += abs(v - p[a])
                if strength[a] > 0.0:
                    q_new[a] = v / strength[a]
                else:
                    q_new[a] = 0.0
                    dangling_new += v
        p, new = new, p
        q, q_new = q_new, q
        dangling = dangling_new
        if diff < tol:
            break
    return p


# -- paths as evidence ------------------------------------------------------------------------------------
def _direction(prox: Proximity, direction: str):
    if direction == "to":
        return prox.hops_to, prox.next_row_to, prox.seed_to
    if direction == "from":
        return prox.hops_from, prox.prev_row_from, prox.seed_from
    raise ValueError(f"direction must be 'to' or 'from', not {direction!r}")


def _check_prox(ledger: Ledger, prox: Proximity) -> None:
    if prox.n_accounts != ledger.n_accounts:
        raise ValueError(f"proximity has {prox.n_accounts} accounts, the ledger {ledger.n_accounts}: "
                         "compute it on this ledger")


@njit
def _walk(codes, hops, rows, step):
    """Rows of each account's path, in walking order (to: account -> seed; from: account -> seed
    backwards), concatenated; ``ptr`` delimits them."""
    ptr = np.zeros(len(codes) + 1, dtype=np.int64)
    for i in range(len(codes)):
        ptr[i + 1] = ptr[i] + max(np.int64(hops[codes[i]]), 0)
    out = np.empty(ptr[-1], dtype=np.int64)
    for i in range(len(codes)):
        a = codes[i]
        for k in range(ptr[i], ptr[i + 1]):
            r = rows[a]
            out[k] = r
            a = step[r]
    return ptr, out


def _paths(ledger: Ledger, prox: Proximity, codes: np.ndarray, direction: str):
    """(ptr, rows, accounts_ptr, accounts) of the paths in money order (see :class:`PathEvidence`)."""
    hops, rows, _ = _direction(prox, direction)
    step = ledger.dst if direction == "to" else ledger.src
    ptr, walk = _walk(codes, hops, rows, step)
    lengths = np.diff(ptr)
    reached = hops[codes] >= 0
    n_acc = np.where(reached, lengths + 1, 0)
    aptr = np.zeros(len(codes) + 1, dtype=np.int64)
    np.cumsum(n_acc, out=aptr[1:])
    accounts = np.empty(aptr[-1], dtype=np.int32)
    if direction == "to":  # account, dst of each row
        path_rows = walk
        starts = aptr[:-1][reached]
        accounts[starts] = codes[reached]
        mask = np.ones(len(accounts), dtype=bool)
        mask[starts] = False
        accounts[mask] = ledger.dst[walk]
    else:  # reverse each walk: seed first; accounts are the src of each row, then the account
        owner = np.repeat(np.arange(len(codes)), lengths)
        pos = np.arange(len(walk)) - ptr[:-1][owner]
        rev = ptr[:-1][owner] + (lengths[owner] - 1 - pos)
        path_rows = np.empty_like(walk)
        path_rows[rev] = walk
        ends = aptr[1:][reached] - 1
        accounts[ends] = codes[reached]
        mask = np.ones(len(accounts), dtype=bool)
        mask[ends] = False
        accounts[mask] = ledger.src[path_rows]
    return ptr, path_rows, aptr, accounts


def best_path(ledger: Ledger, prox: Proximity, account_code: int, direction: str = "to") -> PathEvidence:
    """The best path of one account (see :func:`proximity`), as evidence."""
    _check_prox(ledger, prox)
    hops, _, seeds = _direction(prox, direction)
    code = int(account_code)
    if not 0 <= code < ledger.n_accounts:
        raise ValueError(f"account code must be in 0..{ledger.n_accounts - 1}, not {account_code!r}")
    _, rows, _, accounts = _paths(ledger, prox, np.array([code], dtype=np.int64), direction)
    ids = ledger.account_ids
    return PathEvidence(
        direction=direction, account=code, seed=int(seeds[code]), hops=int(hops[code]),
        accounts=accounts, account_ids=[str(ids[a]) for a in accounts], rows=rows,
        txn_ids=ledger.txn_ids.gather(rows).to_list() if len(rows) else [],
        ts=ledger.ts[rows], usd=ledger.usd[rows],
    )


def _list_column(name: str, values: pl.Series, offsets: np.ndarray) -> pl.Series:
    import pyarrow as pa

    arr = values.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pl.Series(name, pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), arr))


def paths_frame(ledger: Ledger, prox: Proximity, account_codes: np.ndarray, direction: str = "to") -> pl.DataFrame:
    """One row per account code (in the given order): ``account_id``, ``hops`` (-1 not reached),
    ``seed_account_id``, ``path_accounts`` (money order, see :class:`PathEvidence`),
    ``path_txn_ids``, ``path_usd``, ``bottleneck_usd`` (null for seeds and unreached accounts) and
    ``last_ts`` (latest transfer on the path)."""
    _check_prox(ledger, prox)
    hops, _, seeds = _direction(prox, direction)
    codes = np.asarray(account_codes)
    if codes.ndim != 1 or (len(codes) and not np.issubdtype(codes.dtype, np.integer)):
        raise ValueError("account_codes must be a 1-d array of integer account codes")
    codes = codes.astype(np.int64)
    if len(codes) and (codes.min() < 0 or codes.max() >= ledger.n_accounts):
        raise ValueError(f"account codes must be in 0..{ledger.n_accounts - 1}")
    ptr, rows, aptr, accounts = _paths(ledger, prox, codes, direction)
    ids = pl.Series("account_id", ledger.account_ids, dtype=pl.String)
    h = hops[codes].astype(np.int8)
    s = seeds[codes]
    bottleneck = (prox.path_usd_to if direction == "to" else prox.path_usd_from)[codes]
    last = (prox.last_ts_to if direction == "to" else prox.last_ts_from)[codes]
    usd = pl.Series("path_usd", ledger.usd[rows], dtype=pl.Float64)
    frame = pl.DataFrame([
        ids.gather(codes),
        pl.Series("hops", h, dtype=pl.Int8),
        ids.gather(np.maximum(s, 0)).alias("seed_account_id") if len(ids) else pl.Series("seed_account_id", [None] * len(codes), dtype=pl.String),
        _list_column("path_accounts", ids.gather(accounts), aptr),
        _list_column("path_txn_ids", ledger.txn_ids.gather(rows).cast(pl.String), ptr),
        _list_column("path_usd", usd, ptr),
        pl.Series("bottleneck_usd", bottleneck, dtype=pl.Float64),
        pl.Series("last_ts", last, dtype=pl.Int64),
    ])
    return frame.with_columns(
        pl.when(pl.col("hops") >= 0).then(pl.col("seed_account_id")).alias("seed_account_id"),
        pl.col("path_accounts").cast(pl.List(pl.String)),
        pl.col("path_txn_ids").cast(pl.List(pl.String)),
        pl.col("path_usd").cast(pl.List(pl.Float64)),
        pl.col("bottleneck_usd").fill_nan(None),
        pl.when(pl.col("last_ts") != NO_TS).then(pl.col("last_ts")).cast(pl.Datetime("us", "UTC")).alias("last_ts"),
    )
