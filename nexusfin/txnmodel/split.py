"""The temporal 60/20/20 split and what each row may see.

Published protocol (Altman et al., NeurIPS 2023; Egressy et al., AAAI 2024): transactions are
ordered by time and split into train / validation / test by time, 60 / 20 / 20 %. The model is
fitted on train labels only, the decision threshold is chosen on validation and F1 of the
minority (laundering) class is reported on test. Graph features of a split are computed on the
graph visible at that split: train rows on the train graph (train rows only), validation rows on
train + validation rows, test rows on all rows. Windows may look forward in time *within* that
graph (a fan-out is recognised from its later legs too), never past the split's end.

``mode="causal"`` is stricter than the protocol: every row sees only rows up to its own
timestamp (what a system scoring transactions as they arrive could compute).

Boundaries are timestamps: every row with ``ts < t1`` is train, ``t1 <= ts < t2`` validation,
the rest test, where ``t1`` and ``t2`` are the timestamps of the rows at 60 % and 80 % of the
time-sorted table (``unit="time"``), so rows sharing a timestamp never straddle a split.
``unit="day"`` instead cuts at the UTC midnights closest to 60 % and 80 % of the rows, as the
reference implementation of Multi-GNN does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY_US = 86_400_000_000
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Split:
    bounds: tuple[int, int, int, int]  # row index: train [b0, b1), validation [b1, b2), test [b2, b3)
    times: tuple[int, int]  # the two boundary timestamps (microseconds)
    unit: str

    def rows(self, name: str) -> slice:
        k = SPLITS.index(name)
        return slice(self.bounds[k], self.bounds[k + 1])

    def sizes(self) -> dict[str, int]:
        return {s: self.bounds[k + 1] - self.bounds[k] for k, s in enumerate(SPLITS)}

    def shares(self) -> dict[str, float]:
        n = self.bounds[3]
        return {s: v / n for s, v in self.sizes().items()}


def temporal_split(ts: np.ndarray, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
                   unit: str = "time") -> Split:
    """Split time-sorted rows ``ts`` into train / validation / test by time (see module doc)."""
    ts = np.asarray(ts)
    n = len(ts)
    if n < 3:
        raise ValueError("need at least 3 rows to split")
    if np.any(np.diff(ts) < 0):
        raise ValueError("ts must be sorted")
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError("fractions must be three positive shares summing to 1")
    c1, c2 = fractions[0], fractions[0] + fractions[1]
    if unit == "time":
        t1 = int(ts[min(n - 1, round(c1 * n))])
        t2 = int(ts[min(n - 1, round(c2 * n))])
    elif unit == "day":
        days = np.unique(ts // DAY_US)
        cuts = (days[1:] * DAY_US) if len(days) > 1 else np.array([int(ts[-1]) + 1])
        share = np.searchsorted(ts, cuts, side="left") / n
        t1 = int(cuts[np.argmin(np.abs(share - c1))])
        rest = cuts[cuts > t1]
        t2 = int(rest[np.argmin(np.abs(np.searchsorted(ts, rest, side="left") / n - c2))]) if len(rest) else t1
    else:
        raise ValueError("unit must be 'time' or 'day'")
    b1 = int(np.searchsorted(ts, t1, side="left"))
    b2 = int(np.searchsorted(ts, t2, side="left"))
    if not 0 < b1 < b2 < n:
        raise ValueError(f"the time split leaves an empty split (rows {b1}, {b2 - b1}, {n - b2}): "
                         "too few distinct timestamps")
    return Split((0, b1, b2, n), (t1, t2), unit)


def visibility(ts: np.ndarray, split: Split, mode: str = "split") -> np.ndarray:
    """``limit[i]``: row i may see rows ``j < limit[i]`` (non-decreasing, > i).

    ``split``: the end of the row's own split (the published protocol); ``causal``: the rows
    with ``ts <= ts[i]``."""
    n = len(ts)
    if mode == "split":
        limit = np.empty(n, np.int64)
        b = split.bounds
        for k in range(3):
            limit[b[k]:b[k + 1]] = b[k + 1]
        return limit
    if mode == "causal":
        return np.searchsorted(ts, ts, side="right").astype(np.int64)
    raise ValueError("mode must be 'split' or 'causal'")
