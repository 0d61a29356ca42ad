"""Crypto hops: peel chains, mixer and bridge exposure, chain hopping, fiat on-ramp and cash-out.

Rules (parameters in ``CryptoConfig``; "service" wallets are those tagged mixer, bridge or
exchange in the address tags, plus exchanges' bank accounts):

* ``crypto.peel_chain``: a self-custody wallet receives ``x`` and, within ``peel_link_hours``,
  forwards a *remainder* of at least ``peel_min_remainder * x`` while a *peel* of at most
  ``peel_max_fraction * x`` goes elsewhere; the remainder's wallet does the same, and so on for at
  least ``peel_min_hops`` hops. Evidence: the remainder path, then the peels.
* ``crypto.mixer_exposure`` / ``crypto.bridge_exposure``: a wallet that received funds from a mixer
  (bridge) within ``exposure_max_hops`` time-respecting hops, or sent funds that reached one
  within that many hops; each hop at least ``min_amount_usd``. Evidence: the path.
* ``crypto.chain_hop``: funds sent into a bridge on one chain come out of a bridge on another
  chain into a wallet of the same owner within ``chain_hop_hours`` (at least
  ``chain_hop_min_ratio`` of the amount), ``chain_hop_min_hops`` times in a row.
* ``crypto.cash_out``: an exchange sale pays fiat into an account and at least
  ``cash_out_ratio`` of it leaves as cash or transfers within ``cash_out_hours``.
* ``crypto.on_ramp``: an exchange purchase from an account that received cash deposits covering
  at least ``on_ramp_ratio`` of it in the ``on_ramp_days`` before.
"""

from __future__ import annotations

import numpy as np

from nexusfin.detect._numba import njit, pnjit, prange
from nexusfin.detect.config import CryptoConfig
from nexusfin.detect.hits import SUBJECT_ACCOUNT, SUBJECT_PERSON, Hits, alloc_outputs, offsets
from nexusfin.detect.ledger import (
    CASH,
    CRYPTO,
    DEPOSIT,
    EXCHANGE_BUY,
    EXCHANGE_SELL,
    HOUR_US,
    TAG_BRIDGE,
    TAG_EXCHANGE,
    TAG_MIXER,
    TXN_TYPES,
    Ledger,
)

SELL, BUY = EXCHANGE_SELL, EXCHANGE_BUY
SERVICE = TAG_MIXER | TAG_BRIDGE | TAG_EXCHANGE

PEEL_VALUES = ("hops", "start_usd", "end_usd", "peeled_usd", "n_peels", "hours")
EXPOSURE_VALUES = ("hops", "usd", "direction", "hours")
HOP_VALUES = ("hops", "start_usd", "end_usd", "n_chains", "hours")
CASH_OUT_VALUES = ("in_usd", "out_usd", "out_ratio", "hours", "n_out")
ON_RAMP_VALUES = ("n_cash_deposits", "cash_usd", "buy_usd", "cash_ratio", "hours")


# -- peel chains ------------------------------------------------------------------------------------
@njit
def _peel_links_scan(a, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, dst, tags, link_us, max_frac, min_rem,
                     min_usd, crypto, service, succ, peel):
    """For each crypto in-row of wallet a: its remainder out-row (succ) and one peel out-row."""
    j0 = out_ptr[a]
    j_end = out_ptr[a + 1]
    for k in range(in_ptr[a], in_ptr[a + 1]):
        e = in_idx[k]
        if channel[e] != crypto or usd[e] < min_usd:
            continue
        t = ts[e]
        while j0 < j_end and ts[out_idx[j0]] < t:
            j0 += 1
        best_f, best_g = -1, -1
        for j in range(j0, j_end):
            f = out_idx[j]
            if ts[f] > t + link_us:
                break
            if channel[f] != crypto or f == e or dst[f] < 0 or (tags[dst[f]] & service) != 0:
                continue
            if not (min_rem * usd[e] <= usd[f] <= usd[e] * 1.0001):
                continue
            for jj in range(j0, j_end):  # a peel beside it, together no more than what came in
                g = out_idx[jj]
                if ts[g] > t + link_us:
                    break
                if g == f or g == e or channel[g] != crypto:  # noqa: SIM109 (numba kernel)
                    continue
                if usd[g] <= max_frac * usd[e] and usd[f] + usd[g] <= usd[e] * 1.0001:
                    best_f, best_g = f, g
                    break
            if best_f >= 0:
                break
        if best_f >= 0:
            succ[e] = best_f
            peel[e] = best_g


@pnjit
def _peel_links(eligible, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, dst, tags, link_us, max_frac, min_rem,
                min_usd, crypto, service):
    n = len(ts)
    succ = np.full(n, -1, dtype=np.int64)
    peel = np.full(n, -1, dtype=np.int64)
    for a in prange(len(eligible)):  # each in-row belongs to exactly one account: no write conflicts
        if eligible[a] and out_ptr[a + 1] - out_ptr[a] >= 2:
            _peel_links_scan(a, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, dst, tags, link_us, max_frac,
                             min_rem, min_usd, crypto, service, succ, peel)
    return succ, peel


@njit
def _walk_peels(succ, peel, min_hops, max_hops):
    n = len(succ)
    has_pred = np.zeros(n, dtype=np.bool_)
    for r in range(n):
        if succ[r] >= 0:
            has_pred[succ[r]] = True
    paths = []
    peels = []
    for r in range(n):
        if succ[r] < 0 or has_pred[r]:
            continue
        path = [r]
        pl_ = [peel[r]]
        cur = r
        while succ[cur] >= 0 and len(path) <= max_hops:
            cur = succ[cur]
            path.append(cur)
            if succ[cur] >= 0:
                pl_.append(peel[cur])
        if len(path) - 1 >= min_hops:
            arr = np.empty(len(path), dtype=np.int64)
            for q in range(len(path)):
                arr[q] = path[q]
            parr = np.empty(len(pl_), dtype=np.int64)
            for q in range(len(pl_)):
                parr[q] = pl_[q]
            paths.append(arr)
            peels.append(parr)
    return paths, peels


def wallet_accounts(ledger: Ledger) -> np.ndarray:
    """Owned self-custody wallets (on a chain, not tagged as a service)."""
    return ledger.owned_accounts & (ledger.acct_chain >= 0) & ((ledger.acct_tags & SERVICE) == 0)


def peel_links(ledger: Ledger, cfg: CryptoConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(in-row, remainder out-row, peel out-row) at every self-custody wallet of the ledger."""
    el = (ledger.acct_chain >= 0) & ((ledger.acct_tags & SERVICE) == 0) & ledger.owned_accounts
    succ, peel = _peel_links(el, ledger.in_ptr, ledger.in_idx, ledger.out_ptr, ledger.out_idx, ledger.ts, ledger.usd,
                             ledger.channel, ledger.dst, ledger.acct_tags, int(cfg.peel_link_hours * HOUR_US),
                             float(cfg.peel_max_fraction), float(cfg.peel_min_remainder), float(cfg.min_amount_usd),
                             CRYPTO, SERVICE)
    e = np.flatnonzero(succ >= 0)
    return e, succ[e], peel[e]


def peel_chains(ledger: Ledger, cfg: CryptoConfig, links=None) -> Hits:
    """Walk peel links into chains (links may come from several partitions' ledgers)."""
    rule = "crypto.peel_chain"
    e, f, g = peel_links(ledger, cfg) if links is None else links
    succ = np.full(ledger.n_rows, -1, dtype=np.int64)
    peel = np.full(ledger.n_rows, -1, dtype=np.int64)
    succ[e], peel[e] = f, g
    paths, peels = _walk_peels(succ, peel, int(cfg.peel_min_hops), 64)
    keep = list(range(len(paths)))
    if not keep:
        return Hits.empty(rule, SUBJECT_ACCOUNT, PEEL_VALUES)
    subj, t0, t1, vals, ev, path_n = [], [], [], [], [], []
    for i in keep:
        p, g = paths[i], peels[i]
        rows = np.concatenate([p, g])
        subj.append(int(ledger.dst[p[0]]))  # the first peeling wallet
        t0.append(int(ledger.ts[rows].min()))
        t1.append(int(ledger.ts[rows].max()))
        vals.append((len(p) - 1, ledger.usd[p[0]], ledger.usd[p[-1]], ledger.usd[g].sum(), len(g),
                     (t1[-1] - t0[-1]) / HOUR_US))
        ev.append(rows)
        path_n.append(len(p))
    return _hits(rule, SUBJECT_ACCOUNT, subj, t0, t1, vals, PEEL_VALUES, ev, path_n)


def _hits(rule, kind, subj, t0, t1, vals, names, ev, path_n=None) -> Hits:
    lengths = np.array([len(x) for x in ev], dtype=np.int64)
    hi = np.cumsum(lengths)
    h = Hits(rule, kind, np.array(subj, dtype=np.int32), np.array(t0, dtype=np.int64), np.array(t1, dtype=np.int64),
             np.array(vals, dtype=np.float64).reshape(len(subj), len(names)), tuple(names), hi - lengths, hi,
             np.concatenate(ev).astype(np.int32))
    h.path_n = None if path_n is None else np.array(path_n, dtype=np.int64)
    return h


# -- exposure to mixers / bridges ------------------------------------------------------------------
@njit
def _exposure(rows, ts, usd, src, dst, tags, target, service, max_hops, min_usd, forward):
    """Level-by-level, time-respecting reach from (forward) or to (backward) tagged wallets.

    Forward: level 1 = wallets receiving from a target (earliest such transfer); level h+1 =
    wallets receiving from a level-h wallet at or after it was reached. Backward mirrors it with
    the latest transfer into a target and transfers at or before it.
    """
    n_acct = len(tags)
    hop = np.full(n_acct, 127, dtype=np.int8)
    when = np.zeros(n_acct, dtype=np.int64)
    via = np.full(n_acct, -1, dtype=np.int64)
    for level in range(1, max_hops + 1):
        for r in rows:
            if usd[r] < min_usd:
                continue
            a, b = (src[r], dst[r]) if forward else (dst[r], src[r])  # a: nearer the target
            if a < 0 or b < 0 or (tags[b] & service) != 0:
                continue
            if level == 1:
                ok = (tags[a] & target) != 0
            else:
                ok = hop[a] == level - 1 and ((ts[r] >= when[a]) if forward else (ts[r] <= when[a]))
            if not ok or hop[b] < level:
                continue
            better = hop[b] > level or (ts[r] < when[b] if forward else ts[r] > when[b])
            if better:
                hop[b] = level
                when[b] = ts[r]
                via[b] = r
    return hop, via


def _exposure_hits(ledger: Ledger, cfg: CryptoConfig, target: int, rule: str) -> Hits:
    crypto_rows = np.flatnonzero(ledger.channel == CRYPTO).astype(np.int64)
    crypto_rows = crypto_rows[np.argsort(ledger.ts[crypto_rows], kind="stable")]
    subj, t0, t1, vals, ev = [], [], [], [], []
    for forward in (True, False):
        hop, via = _exposure(crypto_rows, ledger.ts, ledger.usd, ledger.src, ledger.dst, ledger.acct_tags, target,
                             SERVICE, int(cfg.exposure_max_hops), float(cfg.min_amount_usd), forward)
        for b in np.flatnonzero((hop <= cfg.exposure_max_hops) & ledger.owned_accounts):
            path, cur = [], int(b)
            for _ in range(int(hop[b])):  # follow the via-transfers back to the tagged wallet
                r = int(via[cur])
                path.append(r)
                cur = int(ledger.src[r] if forward else ledger.dst[r])
            path = path[::-1] if forward else path
            rows = np.array(path, dtype=np.int64)
            subj.append(int(b))
            t0.append(int(ledger.ts[rows].min()))
            t1.append(int(ledger.ts[rows].max()))
            last = rows[-1] if forward else rows[0]
            vals.append((int(hop[b]), float(ledger.usd[last]), 1.0 if forward else -1.0, (t1[-1] - t0[-1]) / HOUR_US))
            ev.append(rows)
    if not subj:
        return Hits.empty(rule, SUBJECT_ACCOUNT, EXPOSURE_VALUES)
    return _hits(rule, SUBJECT_ACCOUNT, subj, t0, t1, vals, EXPOSURE_VALUES, ev, [len(e) for e in ev])


# -- chain hopping through bridges -------------------------------------------------------------------
def chain_hops(ledger: Ledger, cfg: CryptoConfig) -> Hits:
    rule = "crypto.chain_hop"
    bridge = (ledger.acct_tags & TAG_BRIDGE) != 0
    is_c = ledger.channel == CRYPTO
    src_ok, dst_ok = ledger.src >= 0, ledger.dst >= 0
    into = np.flatnonzero(is_c & src_ok & dst_ok & bridge[np.maximum(ledger.dst, 0)] & ~bridge[np.maximum(ledger.src, 0)])
    outof = np.flatnonzero(is_c & src_ok & dst_ok & bridge[np.maximum(ledger.src, 0)] & ~bridge[np.maximum(ledger.dst, 0)])
    if not len(into) or not len(outof):
        return Hits.empty(rule, SUBJECT_PERSON, HOP_VALUES)
    owner = ledger.acct_owner
    win = int(cfg.chain_hop_hours * HOUR_US)
    # candidates per owner: bridge-ins by the owner's wallets, bridge-outs to the owner's wallets
    outs_by_owner: dict[int, list[int]] = {}
    for r in outof[np.argsort(ledger.ts[outof], kind="stable")]:
        outs_by_owner.setdefault(int(owner[ledger.dst[r]]), []).append(int(r))
    hops_by_owner: dict[int, list[tuple[int, int]]] = {}
    used: set[int] = set()
    for r in into[np.argsort(ledger.ts[into], kind="stable")]:
        p = int(owner[ledger.src[r]])
        if not ledger.owned_parties[p]:
            continue
        c_in = ledger.acct_chain[ledger.src[r]]
        for o in outs_by_owner.get(p, ()):
            if o in used or ledger.ts[o] < ledger.ts[r]:
                continue
            if ledger.ts[o] > ledger.ts[r] + win:
                break
            ratio = ledger.usd[o] / ledger.usd[r]
            if ledger.acct_chain[ledger.dst[o]] != c_in and cfg.chain_hop_min_ratio <= ratio <= 1.0001 \
                    and ledger.usd[r] >= cfg.min_amount_usd:
                used.add(o)
                hops_by_owner.setdefault(p, []).append((int(r), o))
                break
    subj, t0, t1, vals, ev = [], [], [], [], []
    for p, hops in hops_by_owner.items():
        seqs, cur = [], [hops[0]]
        for h in hops[1:]:  # the next hop leaves from the wallet the previous one landed in
            prev_out = cur[-1][1]
            if ledger.src[h[0]] == ledger.dst[prev_out] and 0 <= ledger.ts[h[0]] - ledger.ts[prev_out] <= win:
                cur.append(h)
            else:
                seqs.append(cur)
                cur = [h]
        seqs.append(cur)
        for seq in seqs:
            if len(seq) < cfg.chain_hop_min_hops:
                continue
            rows = np.array([x for h in seq for x in h], dtype=np.int64)
            chains = {int(ledger.acct_chain[ledger.src[seq[0][0]]])} | {int(ledger.acct_chain[ledger.dst[o]]) for _, o in seq}
            subj.append(p)
            t0.append(int(ledger.ts[rows[0]]))
            t1.append(int(ledger.ts[rows[-1]]))
            vals.append((len(seq), ledger.usd[rows[0]], ledger.usd[rows[-1]], len(chains), (t1[-1] - t0[-1]) / HOUR_US))
            ev.append(rows)
    if not subj:
        return Hits.empty(rule, SUBJECT_PERSON, HOP_VALUES)
    return _hits(rule, SUBJECT_PERSON, subj, t0, t1, vals, HOP_VALUES, ev, [len(e) for e in ev])


# -- fiat on-ramp and cash-out -----------------------------------------------------------------------
@njit
def _ramp_scan(a, mode, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, ttype, dst, row_ok, win_us, ratio,
               min_usd, crypto, cash, deposit, sell, buy, write, out, hpos, epos):
    """mode 0: cash-out after an exchange sale; mode 1: exchange purchase covered by prior cash."""
    o_subj, o_t0, o_t1, o_val, o_lo, o_hi, o_ev = out
    nh, ne = 0, 0
    if mode == 0:
        after = -1  # outs already reported are not reused
        for k in range(in_ptr[a], in_ptr[a + 1]):
            s = in_idx[k]
            if ttype[s] != sell or channel[s] == crypto or usd[s] < min_usd or ts[s] <= after:
                continue
            tot, n, t_last = 0.0, 0, ts[s]
            for j in range(out_ptr[a], out_ptr[a + 1]):
                o = out_idx[j]
                if ts[o] < ts[s] or o == s:
                    continue
                if ts[o] > ts[s] + win_us:
                    break
                if channel[o] == crypto or (channel[o] != cash and dst[o] < 0) or not row_ok[o] or ttype[o] == buy:
                    continue
                tot += usd[o]
                n += 1
                t_last = ts[o]
            if n and tot >= ratio * usd[s]:
                if write:
                    h = hpos + nh
                    p = epos + ne
                    o_lo[h] = p
                    o_ev[p] = s
                    p += 1
                    for j in range(out_ptr[a], out_ptr[a + 1]):
                        o = out_idx[j]
                        if ts[o] < ts[s] or o == s:
                            continue
                        if ts[o] > ts[s] + win_us:
                            break
                        if channel[o] == crypto or (channel[o] != cash and dst[o] < 0) or not row_ok[o] or ttype[o] == buy:
                            continue
                        o_ev[p] = o
                        p += 1
                    o_hi[h] = p
                    o_subj[h], o_t0[h], o_t1[h] = a, ts[s], t_last
                    o_val[h, 0], o_val[h, 1], o_val[h, 2] = usd[s], tot, tot / usd[s]
                    o_val[h, 3], o_val[h, 4] = (t_last - ts[s]) / HOUR_US, n
                nh += 1
                ne += 1 + n
                after = t_last
    else:
        before = -(2**62)  # cash already reported is not reused
        for j in range(out_ptr[a], out_ptr[a + 1]):
            b = out_idx[j]
            if ttype[b] != buy or channel[b] == crypto or usd[b] < min_usd:
                continue
            tot, n, t_first = 0.0, 0, ts[b]
            for k in range(in_ptr[a], in_ptr[a + 1]):
                c = in_idx[k]
                if ts[c] > ts[b]:
                    break
                if ts[c] < ts[b] - win_us or ts[c] <= before or channel[c] != cash or ttype[c] != deposit:
                    continue
                tot += usd[c]
                n += 1
                t_first = min(t_first, ts[c])
            if n and tot >= ratio * usd[b]:
                if write:
                    h = hpos + nh
                    p = epos + ne
                    o_lo[h] = p
                    for k in range(in_ptr[a], in_ptr[a + 1]):
                        c = in_idx[k]
                        if ts[c] > ts[b]:
                            break
                        if ts[c] < ts[b] - win_us or ts[c] <= before or channel[c] != cash or ttype[c] != deposit:
                            continue
                        o_ev[p] = c
                        p += 1
                    o_ev[p] = b
                    p += 1
                    o_hi[h] = p
                    o_subj[h], o_t0[h], o_t1[h] = a, t_first, ts[b]
                    o_val[h, 0], o_val[h, 1], o_val[h, 2] = n, tot, usd[b]
                    o_val[h, 3], o_val[h, 4] = tot / usd[b], (ts[b] - t_first) / HOUR_US
                nh += 1
                ne += 1 + n
                before = ts[b]
    return nh, ne


@pnjit
def _ramp_kernel(mode, eligible, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, ttype, dst, row_ok, win_us,
                 ratio, min_usd, crypto, cash, deposit, sell, buy):
    n_a = len(eligible)
    nh = np.zeros(n_a, dtype=np.int64)
    ne = np.zeros(n_a, dtype=np.int64)
    dummy = alloc_outputs(0, 0)
    for a in prange(n_a):
        if eligible[a] and in_ptr[a + 1] > in_ptr[a] and out_ptr[a + 1] > out_ptr[a]:
            nh[a], ne[a] = _ramp_scan(a, mode, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, ttype, dst, row_ok,
                                      win_us, ratio, min_usd, crypto, cash, deposit, sell, buy, False, dummy, 0, 0)
    ho, eo = offsets(nh), offsets(ne)
    out = alloc_outputs(ho[-1], eo[-1])
    for a in prange(n_a):
        if nh[a]:
            _ramp_scan(a, mode, in_ptr, in_idx, out_ptr, out_idx, ts, usd, channel, ttype, dst, row_ok, win_us, ratio,
                       min_usd, crypto, cash, deposit, sell, buy, True, out, ho[a], eo[a])
    return out


def _ramp(ledger: Ledger, cfg: CryptoConfig, mode: int) -> Hits:
    el = ledger.owned_accounts & (ledger.acct_chain < 0) & ((ledger.acct_tags & TAG_EXCHANGE) == 0)
    win = cfg.cash_out_hours * HOUR_US if mode == 0 else cfg.on_ramp_days * 24 * HOUR_US
    ratio = cfg.cash_out_ratio if mode == 0 else cfg.on_ramp_ratio
    out = _ramp_kernel(mode, el, ledger.in_ptr, ledger.in_idx, ledger.out_ptr, ledger.out_idx, ledger.ts, ledger.usd,
                       ledger.channel, ledger.ttype, ledger.dst,
                       ~np.isin(ledger.ttype, [TXN_TYPES.index(t) for t in cfg.excluded_txn_types]), int(win),
                       float(ratio), float(cfg.min_amount_usd),
                       CRYPTO, CASH, DEPOSIT, SELL, BUY)
    if mode == 0:
        return Hits.from_arrays("crypto.cash_out", SUBJECT_ACCOUNT, out, CASH_OUT_VALUES)
    return Hits.from_arrays("crypto.on_ramp", SUBJECT_ACCOUNT, out, ON_RAMP_VALUES)


GRAPH_RULES = ("crypto.peel_chain", "crypto.mixer_exposure", "crypto.bridge_exposure")


def account_rules(ledger: Ledger, cfg: CryptoConfig) -> list[Hits]:
    """Rules a partition answers alone: chain hopping (per person), on-ramp and cash-out (per account)."""
    return [chain_hops(ledger, cfg), _ramp(ledger, cfg, 0), _ramp(ledger, cfg, 1)]


def graph_rules(ledger: Ledger, cfg: CryptoConfig, peel=None) -> list[Hits]:
    """Rules that follow money across wallets: peel chains and mixer/bridge exposure."""
    return [
        peel_chains(ledger, cfg, peel),
        _exposure_hits(ledger, cfg, TAG_MIXER, "crypto.mixer_exposure"),
        _exposure_hits(ledger, cfg, TAG_BRIDGE, "crypto.bridge_exposure"),
    ]


def detect_crypto(ledger: Ledger, cfg: CryptoConfig) -> list[Hits]:
    return graph_rules(ledger, cfg) + account_rules(ledger, cfg)
