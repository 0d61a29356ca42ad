"""Columnar event batches: integer-coded transactions before they become strings."""

from __future__ import annotations

import numpy as np

FIELDS = {
    "ts": np.int64,  # microseconds since epoch, UTC
    "src": np.int64,  # account index, -1 = cash side
    "dst": np.int64,
    "usd": np.float64,  # intended value in USD (converted to the account currency later)
    "channel": np.int8,
    "ttype": np.int8,
    "loc": np.int32,  # location index, -1 = none
    "cond": np.int64,  # conducting party index, -1 = none
    "memo": np.int32,  # memo index, -1 = none
    "hn": np.int32,  # hard-negative scenario index, -1 = none
    "hnrole": np.int8,
    "pid": np.int64,  # planted event id, -1 = background
}


class Batch:
    """A growing list of column chunks; ``concat`` turns it into one dict of arrays."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []
        self.day0 = 0

    def add(
        self, ts, src, dst, usd, channel, ttype, loc=-1, cond=-1, memo=-1, hn=-1, hnrole=-1, pid=-1
    ) -> None:
        ts = np.asarray(ts, dtype=np.int64)
        n = ts.shape[0]
        if n == 0:
            return
        vals = dict(
            ts=ts,
            src=src,
            dst=dst,
            usd=usd,
            channel=channel,
            ttype=ttype,
            loc=loc,
            cond=cond,
            memo=memo,
            hn=hn,
            hnrole=hnrole,
            pid=pid,
        )
        part = {}
        for k, dt in FIELDS.items():
            v = np.asarray(vals[k], dtype=dt)
            part[k] = np.broadcast_to(v, (n,)) if v.ndim == 0 else v
        self.parts.append(part)

    def concat(self) -> dict[str, np.ndarray]:
        if not self.parts:
            return {k: np.empty(0, dtype=dt) for k, dt in FIELDS.items()}
        return {k: np.concatenate([p[k] for p in self.parts]) for k in FIELDS}
