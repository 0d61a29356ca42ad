"""What a kernel returns: hits with their observed values and evidence rows.

Kernels run in two passes over their subjects (accounts or persons): the first counts the hits
and evidence rows of every subject, the second, for the few subjects with hits, writes them at
precomputed offsets. Both passes run in parallel without locks, and output memory is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nexusfin.detect._numba import njit

SUBJECT_ACCOUNT, SUBJECT_PERSON = 0, 1


@dataclass
class Hits:
    """``n`` hits of one rule. Evidence rows of hit ``h`` are ``ev[ev_lo[h]:ev_hi[h]]`` (in path order
    for chains); ``values[h]`` holds the observed values named by ``value_names``."""

    rule: str
    subject_kind: int
    subject: np.ndarray  # int32 account or party code
    t0: np.ndarray  # int64 us, first evidence transaction
    t1: np.ndarray  # int64 us, last evidence transaction
    values: np.ndarray  # float64 [n, len(value_names)]
    value_names: tuple[str, ...]
    ev_lo: np.ndarray
    ev_hi: np.ndarray
    ev: np.ndarray  # int32 ledger rows
    rule_params: dict | None = None  # parameters specific to this run of the rule (e.g. which order)
    path_n: np.ndarray | None = None  # for path rules: how many leading evidence rows form the path

    def __len__(self) -> int:
        return len(self.subject)

    def evidence(self, h: int) -> np.ndarray:
        return self.ev[self.ev_lo[h] : self.ev_hi[h]]

    @classmethod
    def from_arrays(cls, rule, kind, arrays, value_names) -> Hits:
        subject, t0, t1, values, ev_lo, ev_hi, ev = arrays
        return cls(rule, kind, subject, t0, t1, values[:, : len(value_names)], tuple(value_names), ev_lo, ev_hi, ev)

    @classmethod
    def empty(cls, rule: str, kind: int, value_names) -> Hits:
        z = np.zeros(0, dtype=np.int64)
        return cls(rule, kind, z.astype(np.int32), z, z, np.zeros((0, len(value_names))), tuple(value_names), z, z,
                   z.astype(np.int32))


N_VALUES = 8  # columns reserved per hit for observed values

# Slack for comparing float USD sums and products with a rule's bound, so that a value exactly on
# the boundary counts as on it. Float sums of cents are off by far less than a cent, e.g. deposits
# of 4,409.12 + 5,300.01 + 290.87 total exactly 10,000.00 (not MORE than the CTR threshold) but
# their float sum is 10000.000000000002; 0.8 * 4058.40 is 3246.7200000000003, not 3246.72.
# (numba freezes both into the kernels that use them and keys its on-disk cache on the kernel's
# own file: after changing them here, clear NUMBA_CACHE_DIR.)
HALF_CENT = 0.005  # sums of whole-cent amounts against a whole-cent threshold
USD_EPS = 1e-6  # against ratio x amount, which may fall between cents (ratios of <= 4 decimals)


@njit
def alloc_outputs(n_hits, n_ev):
    return (
        np.empty(n_hits, dtype=np.int32),
        np.empty(n_hits, dtype=np.int64),
        np.empty(n_hits, dtype=np.int64),
        np.zeros((n_hits, N_VALUES), dtype=np.float64),
        np.empty(n_hits, dtype=np.int64),
        np.empty(n_hits, dtype=np.int64),
        np.empty(n_ev, dtype=np.int32),
    )


@njit
def offsets(counts):
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    for i in range(len(counts)):
        out[i + 1] = out[i] + counts[i]
    return out


@njit
def sliding_distinct_links(keys):
    """prev[j] / nxt[j]: index of the previous / next element with the same key (-1 / n if none).

    With them the number of distinct keys in a sliding window [s, e] is maintained in O(1) per
    step: adding e counts it if prev[e] < s; dropping s uncounts it unless nxt[s] <= e.
    """
    n = len(keys)
    prev = np.full(n, -1, dtype=np.int64)
    nxt = np.full(n, n, dtype=np.int64)
    order = np.argsort(keys, kind="mergesort")
    for k in range(1, n):
        a, b = order[k - 1], order[k]
        if keys[a] == keys[b]:
            prev[b] = a
            nxt[a] = b
    return prev, nxt


@njit
def n_distinct(x):
    """Number of distinct values of a small array."""
    if len(x) == 0:
        return 0
    s = np.sort(x)
    c = 1
    for i in range(1, len(s)):
        if s[i] != s[i - 1]:
            c += 1
    return c


@njit
def slide_window(rows, e, s, distinct, total, ts, usd, prev, nxt, window_us):
    """Add row ``e`` to the window [s, e] and drop rows older than ``window_us`` before it; keeps the
    distinct-key count (see ``sliding_distinct_links``) and the USD total. Returns (s, distinct, total)."""
    total += usd[rows[e]]
    if prev[e] < s:
        distinct += 1
    while ts[rows[s]] < ts[rows[e]] - window_us:
        total -= usd[rows[s]]
        if nxt[s] > e:
            distinct -= 1
        s += 1
    return s, distinct, total
