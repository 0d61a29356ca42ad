"""Per-account rolling-window count and sum: a detector building block and a model feature.

For every row credited to an account (``side="in"``; or debited from it, ``side="out"``) the
number and USD sum of that account's rows on the same side with ``ts`` in ``[ts - window, ts]``.
Rows with the same ``ts`` are peers: each of them counts all of them, later rows included, which
is what SQL's ``RANGE BETWEEN INTERVAL '<window>' PRECEDING AND CURRENT ROW`` does (DuckDB,
PostgreSQL) and what ``polars.DataFrame.rolling(..., closed="both")`` does.

The kernel walks each account's time-sorted CSR slice once with two pointers (O(rows) in all),
accounts in parallel. The sum is kept with compensated (Neumaier) summation, so adding and
removing rows while the window slides does not accumulate rounding error on busy accounts.
"""

from __future__ import annotations

import math

import numpy as np

from nexusfin.detect._numba import njit, pnjit, prange
from nexusfin.detect.ledger import HOUR_US, Ledger

__all__ = ["rolling_window_stats"]



def rolling_window_stats(ledger: Ledger, window_hours: float, side: str = "in"
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, count, sum_usd)``, one entry per row of the side's CSR index.

    ``rows`` are ledger rows grouped by account, by time within an account (the CSR order:
    ``ledger.in_idx`` for ``side="in"``, ``ledger.out_idx`` for ``"out"``; a read-only view, not a
    copy). ``count[k]`` (int64) and ``sum_usd[k]`` (float64) describe the window ending at row
    ``rows[k]``: that account's rows with ``ts`` in ``[ts[rows[k]] - window, ts[rows[k]]]``, the
    row itself and rows with the same ``ts`` included. Rows without an account on that side (the
    cash side of a deposit or withdrawal) are not in ``rows``.
    """
    if side == "in":
        ptr, idx = ledger.in_ptr, ledger.in_idx
    elif side == "out":
        ptr, idx = ledger.out_ptr, ledger.out_idx
    else:
        raise ValueError(f"side must be 'in' or 'out', not {side!r}")
    if isinstance(window_hours, bool) or not isinstance(window_hours, (int, float, np.integer, np.floating)):
        raise TypeError(f"window_hours must be a number, not {type(window_hours).__name__}")
    if not math.isfinite(window_hours) or window_hours < 0:
        raise ValueError(f"window_hours must be a finite number >= 0, not {window_hours}")
    window_us = round(float(window_hours) * HOUR_US)
    count, total = _rolling_kernel(ptr, idx, ledger.ts, ledger.usd, np.int64(window_us))
    rows = idx.view()
    rows.flags.writeable = False
    return rows, count, total


@njit
def _add(acc, comp, x):
    """Neumaier step: (acc + comp) + x, with the rounding error of the addition kept in comp."""
    y = acc + x
    if abs(acc) >= abs(x):
        comp += (acc - y) + x
    else:
        comp += (x - y) + acc
    return y, comp


@pnjit
def _rolling_kernel(ptr, idx, ts, usd, window_us):
    n_keys = len(ptr) - 1
    count = np.empty(len(idx), dtype=np.int64)
    total = np.empty(len(idx), dtype=np.float64)
    for a in prange(n_keys):
        lo, hi = ptr[a], ptr[a + 1]
        s = lo  # first row still inside the window
        acc, comp = 0.0, 0.0  # Neumaier: the window sum is acc + comp
        g = lo
        while g < hi:
            t = ts[idx[g]]
            t_from = t - window_us
            while s < g and ts[idx[s]] < t_from:  # rows that left the window
                acc, comp = _add(acc, comp, -usd[idx[s]])
                s += 1
            if s == g:  # nothing left from earlier rows: restart the sum exactly
                acc, comp = 0.0, 0.0
            # the peer group [g, e): every row with this ts enters before any of them is reported
            e = g
            while e < hi and ts[idx[e]] == t:
                acc, comp = _add(acc, comp, usd[idx[e]])
                e += 1
            value = acc + comp
            for q in range(g, e):
                count[q] = e - s
                total[q] = value
            g = e
    return count, total
