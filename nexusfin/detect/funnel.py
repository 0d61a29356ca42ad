"""Funnel accounts (FinCEN FIN-2014-A005).

``funnel.multi_location``: within ``window_days`` an account receives cash deposits in at least
``min_areas`` distinct areas (the country-region-ZIP part of the location) adding up to at least
``min_cash_in_usd``; within ``out_window_hours`` after the last of them, at least
``min_out_ratio`` of that cash leaves as cash withdrawals in an area where none of the deposits
was made, or as transfers to an account at home in another country or another area than the
funnel account's own.
"""

from __future__ import annotations

import numpy as np

from nexusfin.detect._numba import njit, pnjit, prange
from nexusfin.detect.config import FunnelConfig
from nexusfin.detect.hits import (
    HALF_CENT,
    SUBJECT_ACCOUNT,
    USD_EPS,
    Hits,
    alloc_outputs,
    offsets,
    slide_window,
    sliding_distinct_links,
)
from nexusfin.detect.ledger import CASH, DEPOSIT, HOUR_US, WITHDRAWAL, Ledger, eligible_accounts

FUNNEL_VALUES = ("cash_in_usd", "n_deposits", "n_areas", "out_usd", "out_ratio", "hours_to_out", "n_out")


@njit
def _is_out(r, dep_areas, area, channel, ttype, src, dst, src_cc, dst_cc, acct_area, cash, wd):
    """Cash withdrawn in an area where none of the deposits was made, or a transfer to an account
    at home in another country or in another area than the funnel account itself."""
    if channel[r] == cash and ttype[r] == wd:
        where = area[r]
    elif dst[r] >= 0:
        # a transfer hands the funds to someone else: abroad, or to another party at home elsewhere
        if dst_cc[r] >= 0 and src_cc[r] >= 0 and dst_cc[r] != src_cc[r]:
            return True
        if acct_area[dst[r]] < 0:
            return False
        return acct_area[dst[r]] != acct_area[src[r]]
    else:
        return False
    if where < 0:
        return False
    for x in dep_areas:  # noqa: SIM110 (numba kernel: no generators)
        if x == where:
            return False
    return True


@njit
def _funnel_scan(a, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, ttype, area, src, dst, src_cc, dst_cc, acct_area,
                 window_us, min_areas, min_cash, out_us, min_ratio, cash, dep, wd, write, out, hpos, epos):
    o_subj, o_t0, o_t1, o_val, o_lo, o_hi, o_ev = out
    m = 0
    for k in range(in_ptr[a], in_ptr[a + 1]):
        r = in_idx[k]
        if channel[r] == cash and ttype[r] == dep and area[r] >= 0:
            m += 1
    if m < min_areas:
        return 0, 0
    rows = np.empty(m, dtype=np.int32)
    m = 0
    for k in range(in_ptr[a], in_ptr[a + 1]):
        r = in_idx[k]
        if channel[r] == cash and ttype[r] == dep and area[r] >= 0:
            rows[m] = r
            m += 1
    prev, nxt = sliding_distinct_links(area[rows])
    o_lo_k, o_hi_k = out_ptr[a], out_ptr[a + 1]
    nh, ne, s, e, distinct, total = 0, 0, 0, 0, 0, 0.0
    while e < m:
        s, distinct, total = slide_window(rows, e, s, distinct, total, ts, usd, prev, nxt, window_us)
        if e + 1 < m and ts[rows[e + 1]] == ts[rows[e]]:  # a window holds every row of its last instant
            e += 1
            continue
        if distinct >= min_areas and total >= min_cash - HALF_CENT:
            dep_areas = area[rows[s:e + 1]]
            t_first, t_last = ts[rows[s]], ts[rows[e]]
            out_sum, n_out, t_out = 0.0, 0, t_last
            for k in range(o_lo_k, o_hi_k):
                r = out_idx[k]
                if ts[r] < t_first:
                    continue
                if ts[r] > t_last + out_us:
                    break
                if _is_out(r, dep_areas, area, channel, ttype, src, dst, src_cc, dst_cc, acct_area, cash, wd):
                    out_sum += usd[r]
                    n_out += 1
                    t_out = max(t_out, ts[r])
            if n_out and out_sum >= min_ratio * total - USD_EPS:
                if write:
                    h = hpos + nh
                    o_subj[h], o_t0[h], o_t1[h] = a, t_first, t_out
                    o_val[h, 0], o_val[h, 1], o_val[h, 2] = total, e - s + 1, distinct
                    o_val[h, 3], o_val[h, 4] = out_sum, out_sum / total
                    o_val[h, 5], o_val[h, 6] = (t_out - t_last) / HOUR_US, n_out
                    p = epos + ne
                    o_lo[h] = p
                    for q in range(s, e + 1):
                        o_ev[p] = rows[q]
                        p += 1
                    for k in range(o_lo_k, o_hi_k):
                        r = out_idx[k]
                        if ts[r] < t_first:
                            continue
                        if ts[r] > t_last + out_us:
                            break
                        if _is_out(r, dep_areas, area, channel, ttype, src, dst, src_cc, dst_cc, acct_area, cash, wd):
                            o_ev[p] = r
                            p += 1
                    o_hi[h] = p
                nh += 1
                ne += e - s + 1 + n_out
                e += 1
                s, distinct, total = e, 0, 0.0
                continue
        e += 1
    return nh, ne


@pnjit
def _funnel_kernel(eligible, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, ttype, area, src, dst, src_cc, dst_cc,
                   acct_area, window_us, min_areas, min_cash, out_us, min_ratio, cash, dep, wd):
    n_a = len(eligible)
    nh = np.zeros(n_a, dtype=np.int64)
    ne = np.zeros(n_a, dtype=np.int64)
    dummy = alloc_outputs(0, 0)
    for a in prange(n_a):
        if eligible[a] and in_ptr[a + 1] - in_ptr[a] >= min_areas:
            nh[a], ne[a] = _funnel_scan(a, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, ttype, area, src, dst,
                                        src_cc, dst_cc, acct_area, window_us, min_areas, min_cash, out_us, min_ratio, cash, dep,
                                        wd, False, dummy, 0, 0)
    ho, eo = offsets(nh), offsets(ne)
    out = alloc_outputs(ho[-1], eo[-1])
    for a in prange(n_a):
        if nh[a]:
            _funnel_scan(a, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, ttype, area, src, dst, src_cc, dst_cc,
                         acct_area, window_us, min_areas, min_cash, out_us, min_ratio, cash, dep, wd, True, out, ho[a], eo[a])
    return out


def detect_funnel(ledger: Ledger, cfg: FunnelConfig) -> list[Hits]:
    out = _funnel_kernel(
        eligible_accounts(ledger, cfg.excluded_account_types), ledger.in_ptr, ledger.in_idx, ledger.out_ptr, ledger.out_idx,
        ledger.ts, ledger.usd, ledger.channel, ledger.ttype, ledger.area, ledger.src, ledger.dst, ledger.src_cc,
        ledger.dst_cc,
        ledger.acct_area, int(cfg.window_days * 24 * HOUR_US), int(cfg.min_areas), float(cfg.min_cash_in_usd),
        int(cfg.out_window_hours * HOUR_US), float(cfg.min_out_ratio), CASH, DEPOSIT, WITHDRAWAL,
    )
    return [Hits.from_arrays("funnel.multi_location", SUBJECT_ACCOUNT, out, FUNNEL_VALUES)]
