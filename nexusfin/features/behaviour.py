"""Behaviour, geography and crypto-exposure statistics per account over one feature window.

Each row of the ledger counts once for its sender (an *out* row) and once for its receiver (an *in*
row); a row whose sender and receiver are the same account counts once on each side, and the cash
side (-1) of a cash row is nobody. Per account (see :data:`BEHAVIOUR_COLUMNS`):

* ``n_out``, ``n_in``, ``usd_out``, ``usd_in``: rows and USD sent / received;
* ``n_counterparties_out`` / ``_in``: distinct accounts paid / paying (the cash side excluded);
* ``active_days``: distinct UTC days with a row on either side;
* ``flow_through_ratio``: min(usd_in, usd_out) / max(usd_in, usd_out) (0 when both are 0);
* ``max_txn_usd``; ``round_amount_share``: share of the account's (row, side) pairs whose amount
  is a whole multiple of 100 USD (``abs(usd % 100) < 0.005``);
* ``cash_in_usd``, ``cash_out_usd``, ``n_cash``; ``n_cash_near_ctr``: cash rows with
  ``band_low <= usd <= ctr`` (both ends included), and their share of ``n_cash``;
  ``n_cash_locations``: distinct areas of the account's cash rows;
* ``cross_border_share``: USD of rows whose two country codes are known and differ, and
  ``high_risk_share``: USD of rows whose *counterparty side's* country (``dst_cc`` of an out row,
  ``src_cc`` of an in row) is a high-risk jurisdiction, each as a share of all the account's USD
  (both sides; 0 when that is 0);
* ``crypto_usd``: USD on the crypto channel; ``mixer_usd``, ``bridge_usd``, ``exchange_usd``,
  ``sanctioned_wallet_usd``: USD exchanged with a counterparty carrying that tag.

Computed by numba kernels over the ledger's CSR indexes. First one pass over the rows packs what
the accounts read of a row (amount, both sides, area, day, flags such as cash / cross-border /
near-CTR / round amount, and the tags of both sides) into one 32-byte record; then accounts are
taken in blocks (in parallel), a block gathers the records of its out rows and its in rows in
index order (one cache line per (row, side) pair instead of a dozen scattered columns) and makes
one pass per account over them. Distinct counterparties, days and cash areas are counted by sorting
the account's own slice of a per-block scratch array (already sorted for days, since the CSR rows
are in time order): O(rows log rows) per account and nothing shared between threads. Sums add up
out rows then in rows, each in time order, so they may differ from a sum in another order in the
last bits. ``tests/features_reference.py`` keeps the plain polars aggregation these figures are
checked against.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from nexusfin.detect._numba import njit, pnjit, prange
from nexusfin.detect.ledger import (
    CASH,
    COUNTRIES,
    CRYPTO,
    DAY_US,
    TAG_BRIDGE,
    TAG_EXCHANGE,
    TAG_MIXER,
    TAG_SANCTIONED,
    Ledger,
)
from nexusfin.settings import Regulatory

BEHAVIOUR_COLUMNS = (
    "n_out", "n_in", "usd_out", "usd_in", "n_counterparties_out", "n_counterparties_in", "active_days",
    "flow_through_ratio", "max_txn_usd", "round_amount_share", "cash_in_usd", "cash_out_usd", "n_cash",
    "n_cash_near_ctr", "cash_near_ctr_share", "n_cash_locations", "cross_border_share", "high_risk_share",
    "crypto_usd", "mixer_usd", "bridge_usd", "exchange_usd", "sanctioned_wallet_usd",
)
_N_COLS = len(BEHAVIOUR_COLUMNS)
_USD = _N_COLS  # extra accumulator: the account's USD over both sides (in the order the shares' sums add up)
_BLOCK = 1024  # accounts per parallel work item (its gathered records and scratch stay cache-sized)


def _country_mask(codes: tuple[str, ...]) -> np.ndarray:
    """Lookup table: country code (+1, so -1 'unknown' is index 0) -> in ``codes``."""
    mask = np.zeros(len(COUNTRIES) + 1, dtype=bool)
    wanted = set(codes)
    for i, cc in enumerate(COUNTRIES):
        mask[i + 1] = cc in wanted
    return mask


def active_accounts(ledger: Ledger) -> np.ndarray:
    """Account codes with at least one transaction (either side) in the ledger's window."""
    n_out = np.diff(ledger.out_ptr)
    n_in = np.diff(ledger.in_ptr)
    return np.flatnonzero((n_out + n_in) > 0).astype(np.int32)


@njit
def _n_distinct(x, lo, hi):
    """Distinct values of ``x[lo:hi]`` (sorted in place unless they already are)."""
    n = hi - lo
    if n <= 1:
        return n
    for j in range(lo + 1, hi):
        if x[j] < x[j - 1]:
            if n <= 32:  # insertion sort: the usual handful of values
                for p in range(lo + 1, hi):
                    v = x[p]
                    q = p - 1
                    while q >= lo and x[q] > v:
                        x[q + 1] = x[q]
                        q -= 1
                    x[q + 1] = v
            else:
                x[lo:hi].sort()
            break
    k = 1
    for j in range(lo + 1, hi):
        k += x[j] != x[j - 1]
    return k


# per-row flags of the packed rows
_F_CASH, _F_CRYPTO, _F_CROSS, _F_HR_SRC, _F_HR_DST, _F_NEAR, _F_ROUND = 1, 2, 4, 8, 16, 32, 64


@pnjit
def _pack_rows(ts, usd, channel, src, dst, area, src_cc, dst_cc, tags, hr, band_low, ctr):
    """Everything the account pass reads of a row, in one 32-byte record (half a cache line):
    the account pass then gathers one record per (row, side) instead of a dozen columns.

    ``rec`` is int64 (n_rows, 4): word 0 holds the USD amount (its float64 view), the int32 view's
    columns 2-6 hold src, dst, area, day (``ts // DAY_US``) and flags | tag of src << 8 | tag of
    dst << 16."""
    n = len(usd)
    rec = np.empty((n, 4), dtype=np.int64)
    rec_f = rec.view(np.float64)
    rec_i = rec.view(np.int32)
    for r in prange(n):
        u = usd[r]
        s, d = src[r], dst[r]
        scc, dcc = np.int64(src_cc[r]), np.int64(dst_cc[r])
        f = 0
        if channel[r] == CASH:
            f |= _F_CASH
            if u >= band_low and u <= ctr:
                f |= _F_NEAR
        elif channel[r] == CRYPTO:
            f |= _F_CRYPTO
        if scc >= 0 and dcc >= 0 and scc != dcc:
            f |= _F_CROSS
        if hr[scc + 1]:
            f |= _F_HR_SRC
        if hr[dcc + 1]:
            f |= _F_HR_DST
        if abs(u % 100.0) < 0.005:
            f |= _F_ROUND
        t_src = np.int32(tags[s]) & 0xFF if s >= 0 else 0
        t_dst = np.int32(tags[d]) & 0xFF if d >= 0 else 0
        rec_f[r, 0] = u
        rec_i[r, 2] = s
        rec_i[r, 3] = d
        rec_i[r, 4] = area[r]
        rec_i[r, 5] = ts[r] // DAY_US
        rec_i[r, 6] = f | (t_src << 8) | (t_dst << 16)
        rec_i[r, 7] = 0
    return rec


@njit
def _side(lo, hi, out_side, g, g_i, acc, scratch, s0):
    """Add the gathered (row, side) pairs ``g[lo:hi]`` of one account to ``acc``; their
    counterparties (-1, the cash side, skipped) go to ``scratch[s0:]``; returns how many."""
    n_cp = 0
    cp_col = 3 if out_side else 2  # the other side: dst of an out row, src of an in row
    hr_bit = _F_HR_DST if out_side else _F_HR_SRC  # the counterparty side's country
    tag_shift = 16 if out_side else 8
    for j in range(lo, hi):
        u = g[j, 0]
        f = g_i[j, 6]
        acc[2 if out_side else 3] += u
        acc[_USD] += u
        if u > acc[8]:
            acc[8] = u
        if f & _F_ROUND:
            acc[9] += 1.0
        if f & _F_CASH:
            acc[11 if out_side else 10] += u
            acc[12] += 1.0
            if f & _F_NEAR:
                acc[13] += 1.0
        if f & _F_CROSS:
            acc[16] += u
        if f & hr_bit:
            acc[17] += u
        if f & _F_CRYPTO:
            acc[18] += u
        t = (f >> tag_shift) & 0xFF
        if t:
            if t & TAG_MIXER:
                acc[19] += u
            if t & TAG_BRIDGE:
                acc[20] += u
            if t & TAG_EXCHANGE:
                acc[21] += u
            if t & TAG_SANCTIONED:
                acc[22] += u
        cp = g_i[j, cp_col]
        if cp >= 0:
            scratch[s0 + n_cp] = cp
            n_cp += 1
    return n_cp


@njit
def _gather(rec, idx, lo, hi):
    """The records of rows ``idx[lo:hi]``, in that order (a tight loop, so many loads are in
    flight; the account pass then reads them sequentially)."""
    g = np.empty((hi - lo, 4), dtype=np.int64)
    for j in range(lo, hi):
        r = idx[j]
        g[j - lo, 0] = rec[r, 0]
        g[j - lo, 1] = rec[r, 1]
        g[j - lo, 2] = rec[r, 2]
        g[j - lo, 3] = rec[r, 3]
    return g


@pnjit
def _behaviour_kernel(codes, out_ptr, out_idx, in_ptr, in_idx, rec):
    """Per active account (``codes``, ascending): the :data:`BEHAVIOUR_COLUMNS`, as a (column,
    account) array, from the packed rows ``rec`` (:func:`_pack_rows`)."""
    n = len(codes)
    res = np.empty((_N_COLS, n), dtype=np.float64)
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for b in prange(n_blocks):
        k0 = b * _BLOCK
        k1 = min(n, k0 + _BLOCK)
        # the block's pairs are contiguous in out_idx and in_idx (inactive accounts have none)
        po = out_ptr[codes[k0]]
        pi = in_ptr[codes[k0]]
        go = _gather(rec, out_idx, po, out_ptr[codes[k1 - 1] + 1])
        gi = _gather(rec, in_idx, pi, in_ptr[codes[k1 - 1] + 1])
        go_f, go_i = go.view(np.float64), go.view(np.int32)
        gi_f, gi_i = gi.view(np.float64), gi.view(np.int32)
        scratch = np.empty(len(go) + len(gi), dtype=np.int32)
        acc = np.empty(_N_COLS + 1, dtype=np.float64)
        for k in range(k0, k1):
            a = codes[k]
            o0, o1, i0, i1 = out_ptr[a] - po, out_ptr[a + 1] - po, in_ptr[a] - pi, in_ptr[a + 1] - pi
            s0 = o0 + i0
            acc[:] = 0.0
            acc[8] = -np.inf  # max_txn_usd (every active account has a row)
            n_cp_out = _side(o0, o1, True, go_f, go_i, acc, scratch, s0)
            n_cp_in = _side(i0, i1, False, gi_f, gi_i, acc, scratch, s0 + n_cp_out)
            total = acc[_USD]
            n_o, n_i = o1 - o0, i1 - i0
            acc[0] = n_o
            acc[1] = n_i
            acc[4] = _n_distinct(scratch, s0, s0 + n_cp_out)
            acc[5] = _n_distinct(scratch, s0 + n_cp_out, s0 + n_cp_out + n_cp_in)
            # active days: merge the two (time-sorted) sides, so the days usually come out sorted
            p, q, m = o0, i0, s0
            while p < o1 or q < i1:
                if q >= i1 or (p < o1 and go_i[p, 5] <= gi_i[q, 5]):
                    scratch[m] = go_i[p, 5]
                    p += 1
                else:
                    scratch[m] = gi_i[q, 5]
                    q += 1
                m += 1
            acc[6] = _n_distinct(scratch, s0, m)
            # cash locations
            m = s0
            for j in range(o0, o1):
                if go_i[j, 6] & _F_CASH and go_i[j, 4] >= 0:
                    scratch[m] = go_i[j, 4]
                    m += 1
            for j in range(i0, i1):
                if gi_i[j, 6] & _F_CASH and gi_i[j, 4] >= 0:
                    scratch[m] = gi_i[j, 4]
                    m += 1
            acc[15] = _n_distinct(scratch, s0, m)
            hi = max(acc[2], acc[3])
            acc[7] = min(acc[2], acc[3]) / hi if hi > 0 else 0.0
            acc[9] = acc[9] / (n_o + n_i)
            acc[14] = acc[13] / acc[12] if acc[12] > 0 else 0.0
            if total > 0:
                acc[16] = min(max(acc[16] / total, 0.0), 1.0)
                acc[17] = min(max(acc[17] / total, 0.0), 1.0)
            else:
                acc[16] = 0.0
                acc[17] = 0.0
            for c in range(_N_COLS):
                res[c, k] = acc[c]
    return res


def behaviour_frame(ledger: Ledger, regulatory: Regulatory) -> pl.DataFrame:
    """One row per active account code (column ``code``, sorted) with :data:`BEHAVIOUR_COLUMNS`."""
    codes = active_accounts(ledger)
    rec = _pack_rows(
        ledger.ts, ledger.usd, ledger.channel, ledger.src, ledger.dst, ledger.area, ledger.src_cc, ledger.dst_cc,
        ledger.acct_tags, _country_mask(regulatory.high_risk_jurisdictions),
        float(regulatory.structuring_band_low_usd), float(regulatory.ctr_threshold_usd),
    )
    res = _behaviour_kernel(codes, ledger.out_ptr, ledger.out_idx, ledger.in_ptr, ledger.in_idx, rec)
    del rec  # 32 bytes a row: let it go before the frame is built
    return pl.DataFrame({"code": codes, **{c: res[j] for j, c in enumerate(BEHAVIOUR_COLUMNS)}})
