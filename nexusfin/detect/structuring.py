"""Structuring and smurfing (31 CFR 1010.311, 1010.313, 1010.100(xx)).

A *person* (the owner of the credited accounts, and the party who conducted a deposit into
someone else's account) is looked at across all their accounts, branches and banks:

* ``structuring.daily``: on one UTC business day, at least ``min_daily_deposits`` cash deposits,
  each at most the CTR threshold (so none is reportable alone), add up to MORE than it.
* ``structuring.window``: within ``window_days``, deposits inside the band just below the
  threshold add up to more than it, and make up at least ``min_band_share`` of all the person's
  cash deposits in the window (a cash business that sometimes lands near the threshold, or that
  deposits above it and files CTRs, does not; a structurer does), while deposits just ABOVE the
  threshold (as far above as the band reaches below) are at most ``max_above_share`` of the band
  deposits: a structurer avoids the threshold, a business whose amounts merely straddle it does
  not. Days already reported by the daily rule are not repeated.
* ``structuring.targeting_order``: the daily rule with a geographic targeting order's lowered
  threshold, on the deposits made in the order's areas.
* ``structuring.smurfing`` (per account): at least ``smurfing_min_conductors`` distinct third
  parties deposit sub-threshold cash into one account within ``smurfing_window_days``, adding up
  to at least ``smurfing_min_total_usd``.
"""

from __future__ import annotations

import numpy as np

from nexusfin.detect._numba import njit, pnjit, prange
from nexusfin.detect.config import StructuringConfig
from nexusfin.detect.hits import (
    HALF_CENT,
    SUBJECT_ACCOUNT,
    SUBJECT_PERSON,
    Hits,
    alloc_outputs,
    n_distinct,
    offsets,
    slide_window,
    sliding_distinct_links,
)
from nexusfin.detect.ledger import ACCOUNT_TYPES, CASH, DAY_US, DEPOSIT, Ledger, _csr_kernel

DAILY_VALUES = ("total_usd", "n_deposits", "max_usd", "n_accounts", "n_locations", "threshold_usd")
WINDOW_VALUES = ("band_total_usd", "n_band_deposits", "band_share", "n_days", "n_accounts", "threshold_usd")
SMURF_VALUES = ("total_usd", "n_deposits", "n_conductors", "max_usd", "threshold_usd")


@njit
def _daily_scan(p, rows, ts, usd, dst, area, thr, min_n, write, out, hpos, epos):
    o_subj, o_t0, o_t1, o_val, o_lo, o_hi, o_ev = out
    nh, ne, i, n = 0, 0, 0, len(rows)
    while i < n:
        d = ts[rows[i]] // DAY_US
        j, total, mx = i, 0.0, 0.0
        while j < n and ts[rows[j]] // DAY_US == d:
            total += usd[rows[j]]
            mx = max(mx, usd[rows[j]])
            j += 1
        if j - i >= min_n and total > thr + HALF_CENT:
            if write:
                h = hpos + nh
                seg = rows[i:j]
                o_subj[h], o_t0[h], o_t1[h] = p, ts[rows[i]], ts[rows[j - 1]]
                o_val[h, 0], o_val[h, 1], o_val[h, 2] = total, j - i, mx
                o_val[h, 3], o_val[h, 4], o_val[h, 5] = n_distinct(dst[seg]), n_distinct(area[seg]), thr
                o_lo[h] = epos + ne
                for q in range(i, j):
                    o_ev[epos + ne + q - i] = rows[q]
                o_hi[h] = epos + ne + j - i
            nh += 1
            ne += j - i
        i = j
    return nh, ne


@njit
def _window_scan(p, rows, ts, usd, dst, thr, band_lo, window_us, min_band, min_share, min_daily, max_above_share,
                 write, out, hpos,
                 epos):
    o_subj, o_t0, o_t1, o_val, o_lo, o_hi, o_ev = out
    n = len(rows)  # every cash deposit of the person; the band and the daily rule use those <= thr
    # rows of days the daily rule reports: a window made only of those is not repeated
    daily = np.zeros(n, dtype=np.bool_)
    i = 0
    while i < n:
        d = ts[rows[i]] // DAY_US
        j, total, cnt = i, 0.0, 0
        while j < n and ts[rows[j]] // DAY_US == d:
            if usd[rows[j]] <= thr:
                total += usd[rows[j]]
                cnt += 1
            j += 1
        if cnt >= min_daily and total > thr + HALF_CENT:
            for q in range(i, j):
                daily[q] = usd[rows[q]] <= thr
        i = j
    # prefix counts so every window is O(1): band rows, their sum, band rows not already reported
    cb = np.zeros(n + 1, dtype=np.int64)
    sb = np.zeros(n + 1, dtype=np.float64)
    cf = np.zeros(n + 1, dtype=np.int64)
    ca = np.zeros(n + 1, dtype=np.int64)  # deposits just ABOVE the threshold (as far above as the band is below)
    next_band = np.full(n + 1, n, dtype=np.int64)
    for q in range(n):
        inband = band_lo <= usd[rows[q]] <= thr
        cb[q + 1] = cb[q] + inband
        sb[q + 1] = sb[q] + (usd[rows[q]] if inband else 0.0)
        cf[q + 1] = cf[q] + (inband and not daily[q])
        ca[q + 1] = ca[q] + (thr < usd[rows[q]] <= thr + (thr - band_lo))
    for q in range(n - 1, -1, -1):
        next_band[q] = q if band_lo <= usd[rows[q]] <= thr else next_band[q + 1]
    nh, ne, s, e = 0, 0, 0, 0
    while e < n:
        t_end = ts[rows[e]]
        while ts[rows[s]] < t_end - window_us:
            s += 1
        if not band_lo <= usd[rows[e]] <= thr:
            e += 1
            continue
        while e + 1 < n and ts[rows[e + 1]] == t_end:  # a window holds every deposit of its last instant
            e += 1
        nb, bsum, first_band = cb[e + 1] - cb[s], sb[e + 1] - sb[s], next_band[s]
        fresh = cf[e + 1] - cf[s] > 0
        share = nb / (e - s + 1)
        multi_day = ts[rows[first_band]] // DAY_US != t_end // DAY_US
        avoids = ca[e + 1] - ca[s] <= max_above_share * nb  # threshold avoidance: (almost) none just above
        if nb >= min_band and bsum > thr + HALF_CENT and share >= min_share and multi_day and fresh and avoids:
            # extend to the longest window from the same start that still qualifies (an instant at a
            # time: rows with the same ts are never split), report it once
            while e + 1 < n and ts[rows[e + 1]] - ts[rows[s]] <= window_us:
                g = e + 1
                while g + 1 < n and ts[rows[g + 1]] == ts[rows[e + 1]]:
                    g += 1
                if (cb[g + 1] - cb[s]) / (g + 1 - s) < min_share or ca[g + 1] - ca[s] > max_above_share * (
                        cb[g + 1] - cb[s]):
                    break
                e = g
            nb, bsum = cb[e + 1] - cb[s], sb[e + 1] - sb[s]
            last_band = e  # the evidence is the band deposits: its span ends at the last of them
            while not band_lo <= usd[rows[last_band]] <= thr:
                last_band -= 1
            if write:
                h = hpos + nh
                o_subj[h], o_t0[h], o_t1[h] = p, ts[rows[first_band]], ts[rows[last_band]]
                o_val[h, 0], o_val[h, 1], o_val[h, 2] = bsum, nb, nb / (e - s + 1)
                o_val[h, 3] = ts[rows[last_band]] // DAY_US - ts[rows[first_band]] // DAY_US + 1
                o_lo[h] = epos + ne
                k = 0
                for q in range(s, e + 1):
                    if band_lo <= usd[rows[q]] <= thr:
                        o_ev[epos + ne + k] = rows[q]
                        k += 1
                o_hi[h] = epos + ne + k
                o_val[h, 4] = n_distinct(dst[o_ev[o_lo[h]:o_hi[h]]])
                o_val[h, 5] = thr
            nh += 1
            ne += nb
            e += 1
            s = e
            continue
        e += 1
    return nh, ne


@njit
def _person_candidates(channel, ttype, usd, dst, cond, acct_owner, acct_ok, area, area_ok, thr, cash, dep):
    """One pass over the rows (the fused filter): every cash deposit of at most ``thr`` into an
    aggregated account, keyed by its owner, and again by its conductor when that is someone else."""
    n = len(channel)
    use_area = len(area_ok) > 0
    m = 0
    for r in range(n):
        d = dst[r]
        if channel[r] == cash and ttype[r] == dep and d >= 0 and usd[r] <= thr and acct_ok[d]:
            if use_area and (area[r] < 0 or not area_ok[area[r]]):
                continue
            m += 1
            if cond[r] >= 0 and cond[r] != acct_owner[d]:
                m += 1
    rows = np.empty(m, dtype=np.int32)
    keys = np.empty(m, dtype=np.int32)
    m = 0
    for r in range(n):
        d = dst[r]
        if channel[r] == cash and ttype[r] == dep and d >= 0 and usd[r] <= thr and acct_ok[d]:
            if use_area and (area[r] < 0 or not area_ok[area[r]]):
                continue
            rows[m], keys[m] = r, acct_owner[d]
            m += 1
            if cond[r] >= 0 and cond[r] != acct_owner[d]:
                rows[m], keys[m] = r, cond[r]
                m += 1
    return rows, keys


@pnjit
def _persons_kernel(rule, owned, cptr, cidx, crows, ts, usd, dst, area, thr, band_lo, window_us, min_daily, min_band,
                    min_share, max_above_share):
    """rule 0: daily aggregation; rule 1: multi-day band window. Person p's candidate deposits are
    ``crows[cidx[cptr[p]:cptr[p + 1]]]``, in time order; persons with fewer than two are skipped."""
    n_p = len(owned)
    nh = np.zeros(n_p, dtype=np.int64)
    ne = np.zeros(n_p, dtype=np.int64)
    dummy = alloc_outputs(0, 0)
    for p in prange(n_p):
        if not owned[p] or cptr[p + 1] - cptr[p] < 2:
            continue
        rows = crows[cidx[cptr[p]:cptr[p + 1]]]
        if rule == 0:
            nh[p], ne[p] = _daily_scan(p, rows, ts, usd, dst, area, thr, min_daily, False, dummy, 0, 0)
        else:
            nh[p], ne[p] = _window_scan(p, rows, ts, usd, dst, thr, band_lo, window_us, min_band, min_share,
                                        min_daily, max_above_share, False, dummy, 0, 0)
    ho, eo = offsets(nh), offsets(ne)
    out = alloc_outputs(ho[-1], eo[-1])
    for p in prange(n_p):
        if nh[p] == 0:
            continue
        rows = crows[cidx[cptr[p]:cptr[p + 1]]]
        if rule == 0:
            _daily_scan(p, rows, ts, usd, dst, area, thr, min_daily, True, out, ho[p], eo[p])
        else:
            _window_scan(p, rows, ts, usd, dst, thr, band_lo, window_us, min_band, min_share, min_daily,
                         max_above_share, True, out, ho[p], eo[p])
    return out


@njit
def _smurf_scan(a, in_ptr, in_idx, ts, usd, cond, channel, ttype, owner, thr, window_us, min_cond, min_total, cash,
                dep, write, out, hpos, epos):
    o_subj, o_t0, o_t1, o_val, o_lo, o_hi, o_ev = out
    m = 0
    for k in range(in_ptr[a], in_ptr[a + 1]):
        r = in_idx[k]
        if channel[r] == cash and ttype[r] == dep and usd[r] <= thr and cond[r] >= 0 and cond[r] != owner:
            m += 1
    if m < min_cond:
        return 0, 0
    rows = np.empty(m, dtype=np.int32)
    m = 0
    for k in range(in_ptr[a], in_ptr[a + 1]):
        r = in_idx[k]
        if channel[r] == cash and ttype[r] == dep and usd[r] <= thr and cond[r] >= 0 and cond[r] != owner:
            rows[m] = r
            m += 1
    prev, nxt = sliding_distinct_links(cond[rows])
    nh, ne, s, distinct, total = 0, 0, 0, 0, 0.0
    e = 0
    while e < m:
        s, distinct, total = slide_window(rows, e, s, distinct, total, ts, usd, prev, nxt, window_us)
        if distinct >= min_cond and total >= min_total - HALF_CENT:
            while e + 1 < m and ts[rows[e + 1]] - ts[rows[s]] <= window_us:
                e += 1
            tot, mx = 0.0, 0.0
            for q in range(s, e + 1):
                tot += usd[rows[q]]
                mx = max(mx, usd[rows[q]])
            if write:
                h = hpos + nh
                o_subj[h], o_t0[h], o_t1[h] = a, ts[rows[s]], ts[rows[e]]
                o_val[h, 0], o_val[h, 1], o_val[h, 2] = tot, e - s + 1, n_distinct(cond[rows[s:e + 1]])
                o_val[h, 3], o_val[h, 4] = mx, thr
                o_lo[h] = epos + ne
                for q in range(s, e + 1):
                    o_ev[epos + ne + q - s] = rows[q]
                o_hi[h] = epos + ne + e - s + 1
            nh += 1
            ne += e - s + 1
            e += 1
            s, distinct, total = e, 0, 0.0
            continue
        e += 1
    return nh, ne


@pnjit
def _smurf_kernel(owned, acct_owner, in_ptr, in_idx, ts, usd, cond, channel, ttype, thr, window_us, min_cond,
                  min_total, cash, dep):
    n_a = len(owned)
    nh = np.zeros(n_a, dtype=np.int64)
    ne = np.zeros(n_a, dtype=np.int64)
    dummy = alloc_outputs(0, 0)
    for a in prange(n_a):
        if owned[a] and in_ptr[a + 1] - in_ptr[a] >= min_cond:
            nh[a], ne[a] = _smurf_scan(a, in_ptr, in_idx, ts, usd, cond, channel, ttype, acct_owner[a], thr,
                                       window_us, min_cond, min_total, cash, dep, False, dummy, 0, 0)
    ho, eo = offsets(nh), offsets(ne)
    out = alloc_outputs(ho[-1], eo[-1])
    for a in prange(n_a):
        if nh[a]:
            _smurf_scan(a, in_ptr, in_idx, ts, usd, cond, channel, ttype, acct_owner[a], thr, window_us, min_cond,
                        min_total, cash, dep, True, out, ho[a], eo[a])
    return out


_NO_AREAS = np.zeros(0, dtype=np.bool_)


def _aggregated_accounts(ledger: Ledger, cfg: StructuringConfig) -> np.ndarray:
    """Accounts whose cash deposits are aggregated (not those of filers such as licensed MSBs)."""
    excluded = [ACCOUNT_TYPES.index(t) for t in cfg.excluded_account_types if t in ACCOUNT_TYPES]
    return ~np.isin(ledger.acct_type, excluded)


def _person_rule(ledger: Ledger, rule: int, thr: float, area_ok: np.ndarray, cfg: StructuringConfig):
    # the window rule also sees reportable deposits (the denominator of its band share)
    gthr = float(thr) if rule == 0 else np.inf
    crows, keys = _person_candidates(ledger.channel, ledger.ttype, ledger.usd, ledger.dst, ledger.cond,
                                     ledger.acct_owner, _aggregated_accounts(ledger, cfg), ledger.area, area_ok,
                                     gthr, CASH, DEPOSIT)
    cptr, cidx = _csr_kernel(keys, ledger.ts[crows], ledger.n_parties)
    return _persons_kernel(
        rule, ledger.owned_parties, cptr, cidx, crows, ledger.ts, ledger.usd, ledger.dst, ledger.area, float(thr),
        float(cfg.band_low_usd), int(cfg.window_days * DAY_US), int(cfg.min_daily_deposits),
        int(cfg.min_band_deposits), float(cfg.min_band_share), float(cfg.max_above_share),
    )


def structuring_daily(ledger: Ledger, cfg: StructuringConfig) -> Hits:
    out = _person_rule(ledger, 0, cfg.ctr_threshold_usd, _NO_AREAS, cfg)
    return Hits.from_arrays("structuring.daily", SUBJECT_PERSON, out, DAILY_VALUES)


def structuring_window(ledger: Ledger, cfg: StructuringConfig) -> Hits:
    out = _person_rule(ledger, 1, cfg.ctr_threshold_usd, _NO_AREAS, cfg)
    return Hits.from_arrays("structuring.window", SUBJECT_PERSON, out, WINDOW_VALUES)


def structuring_targeting_orders(ledger: Ledger, cfg: StructuringConfig) -> list[Hits]:
    """The daily rule once per targeting order, on the deposits made in the order's areas."""
    result = []
    for order_id, thr, locations in cfg.targeting_orders:
        area_ok = np.isin(ledger.areas, np.array(locations, dtype=object)) if len(ledger.areas) else _NO_AREAS
        if not area_ok.any():
            continue
        out = _person_rule(ledger, 0, thr, area_ok, cfg)
        hits = Hits.from_arrays("structuring.targeting_order", SUBJECT_PERSON, out, DAILY_VALUES)
        hits.rule_params = {"targeting_order": order_id, "threshold_usd": thr, "areas": list(locations)}
        result.append(hits)
    return result


def smurfing(ledger: Ledger, cfg: StructuringConfig) -> Hits:
    out = _smurf_kernel(
        ledger.owned_accounts, ledger.acct_owner, ledger.in_ptr, ledger.in_idx, ledger.ts, ledger.usd, ledger.cond,
        ledger.channel, ledger.ttype, float(cfg.ctr_threshold_usd), int(cfg.smurfing_window_days * DAY_US),
        int(cfg.smurfing_min_conductors), float(cfg.smurfing_min_total_usd), CASH, DEPOSIT,
    )
    return Hits.from_arrays("structuring.smurfing", SUBJECT_ACCOUNT, out, SMURF_VALUES)


def detect_structuring(ledger: Ledger, cfg: StructuringConfig) -> list[Hits]:
    return [
        structuring_daily(ledger, cfg),
        structuring_window(ledger, cfg),
        *structuring_targeting_orders(ledger, cfg),
        smurfing(ledger, cfg),
    ]
