"""Per-transaction features: the row itself plus graph features of its two accounts.

No feature reads a label, the patterns file, the txn id or the order of rows that share a
timestamp. Graph features of row i see only rows ``j < limit[i]`` (``split.visibility``).

* **row**: log amount (USD and paid currency), paid and received currency, cross-currency,
  payment format (channel) and booking type, self transfer, same owner (entity), same bank.
  No clock features (hour, weekday): AMLworld-style generators schedule laundering legs with
  their own clock, and a model would learn that artefact.
* **windows** (``kernels.window_stats``) for both accounts and both directions (src sends /
  src receives / dst receives / dst sends) in symmetric windows of ``window_hours`` and over the
  whole visible graph, plus "before" windows for the sender and "after" windows for the
  receiver (``pass_hours``): rows, distinct counterparties (fan-in / fan-out), mean and standard
  deviation of log amounts, log volume; the symmetric windows also restricted to the row's
  payment format and to first-time edges (no earlier row on the same sender -> receiver pair).
  Whole-graph counts are per visible day (the visible graph grows from train to test); bursts
  compare an account's rate in a window with its whole-graph rate. Also this amount against the
  sender's and receiver's mean, against what the sender received just before, and what the
  receiver sends on just after.
* **repeated edges** (``kernels.pair_stats``): earlier rows on the same edge, visible rows on it,
  rows on the reverse edge before and around it.
* **gaps** (``kernels.gaps``): time since the sender last sent and last received (and that
  amount), since the receiver last received, until the receiver next sends (and that amount).
* **cycles** (``kernels.cycle_length``): length of the shortest directed cycle (2 to 10 hops)
  through the row within ``cycle_hours`` either side, avoiding hubs.
* **motifs** (``kernels.motifs``): the row as a gather leg of a scatter-gather, as a scatter leg,
  and how many other senders of the receiver share a receiver with the sender (bipartite /
  stack layers), within ``motif_hours``.
* **involvement** (a second hop, ``kernels.window_stats`` over the flags above): how many of the
  sender's and the receiver's rows (sent and received) within ``involvement_hours`` and in the
  whole visible graph lie on a cycle, are scatter-gather legs or bipartite legs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import kernels as K
from .data import TxnTable

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


@dataclass(frozen=True)
class FeatureConfig:
    window_hours: tuple[float, ...] = (24.0, 72.0)
    pass_hours: float = 24.0
    pair_hours: float = 72.0
    cycle_hours: float = 72.0
    cycle_fwd_depth: int = 5  # with back depth 4: cycles of up to 10 hops (AMLworld CYCLE: "Max 10 hops")
    cycle_back_depth: int = 4
    motif_hours: float = 72.0
    involvement_hours: float = 72.0
    hub_cap: int = 60  # accounts with more rows than this in a cycle/motif window are not walked through
    chunks_per_thread: int = 8


@dataclass
class Features:
    X: np.ndarray  # float32 (rows, features); NaN = missing
    names: list[str]
    categorical: list[bool]
    seconds: dict[str, float] = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        return self.X[:, self.names.index(name)]


class _Builder:
    """Columns written straight into one column-ordered float32 matrix (no second copy: the
    5M x 220 matrix is 4.4 GB). Unused capacity is never touched, so it costs no memory."""

    def __init__(self, n: int, capacity: int = 256) -> None:
        self.n = n
        self.X = np.empty((n, capacity), dtype=np.float32, order="F")
        self.names: list[str] = []
        self.cat: list[bool] = []

    def add(self, name: str, values, categorical: bool = False) -> None:
        k = len(self.names)
        if k == self.X.shape[1]:
            grown = np.empty((self.n, 2 * k), dtype=np.float32, order="F")
            grown[:, :k] = self.X
            self.X = grown
        v = np.asarray(values)
        assert v.shape == (self.n,), name
        self.X[:, k] = v
        self.names.append(name)
        self.cat.append(categorical)

    def build(self) -> np.ndarray:
        return self.X[:, : len(self.names)]


def _threads() -> int:
    import numba

    return numba.get_num_threads()


def pair_index(src: np.ndarray, dst: np.ndarray, n_accounts: int):
    """(ptr, rows, group, rev_group): rows grouped by (src, dst) in ascending row order; the group
    of each row and of its reverse edge (dst, src) (-1 when absent or a self transfer)."""
    key = src.astype(np.int64) * np.int64(n_accounts) + dst.astype(np.int64)
    uniq, group = np.unique(key, return_inverse=True)
    group = group.astype(np.int64)
    ptr, rows = K.csr(group, len(uniq))
    rkey = dst.astype(np.int64) * np.int64(n_accounts) + src.astype(np.int64)
    pos = np.searchsorted(uniq, rkey)
    pos_c = np.minimum(pos, len(uniq) - 1)
    rev = np.where((uniq[pos_c] == rkey) & (src != dst), pos_c, -1).astype(np.int64)
    return ptr, rows, group, rev


def window_days(ts: np.ndarray, limit: np.ndarray, half_width: int) -> np.ndarray:
    """Length in days (at least one hour) of the part of [t - w, t + w] each row can see: from
    the table's first row to the last row it may see (``half_width >= INF``: that whole span)."""
    t_first, t_last = ts[0], ts[limit - 1]
    if half_width >= K.INF:
        lo, hi = np.full(len(ts), t_first), t_last
    else:
        lo, hi = np.maximum(ts - half_width, t_first), np.minimum(ts + half_width, t_last)
    return np.maximum((hi - lo) / DAY_US, 1.0 / 24.0)


SIDES = {  # name: (query by, edges of, counterparty column)
    "src_out": ("out", "out", "dst"),
    "src_in": ("out", "in", "src"),
    "dst_in": ("in", "in", "src"),
    "dst_out": ("in", "out", "dst"),
}


class _Space:
    """Query and edge lists of one key space (account, account x format, first-time edges)."""

    def __init__(self, t: TxnTable, key_src: np.ndarray, key_dst: np.ndarray, n_keys: int,
                 edge_mask: np.ndarray | None, log_usd: np.ndarray, n_chunks: int) -> None:
        self.q = {"out": K.csr(key_src, n_keys), "in": K.csr(key_dst, n_keys)}
        self.e = {}
        for side, key, other in (("out", key_src, t.dst), ("in", key_dst, t.src)):
            if edge_mask is None:
                ptr, rows = self.q[side]
            else:
                ptr, rows = K.csr(np.where(edge_mask, key, n_keys), n_keys + 1)
                ptr = ptr[:-1]
            self.e[side] = (ptr, rows, t.ts[rows], other[rows], log_usd[rows], t.amount_usd[rows])
        self.chunks = {k: K.balanced_chunks(v[0], n_chunks) for k, v in self.q.items()}


def build_features(t: TxnTable, limit: np.ndarray, cfg: FeatureConfig | None = None) -> Features:
    """The feature matrix of every row of ``t`` (see the module doc) under visibility ``limit``."""
    cfg = cfg or FeatureConfig()
    n = len(t)
    limit = np.ascontiguousarray(limit, dtype=np.int64)
    if len(limit) != n:
        raise ValueError("limit must have one entry per row")
    sec: dict[str, float] = {}
    b = _Builder(n)
    log_usd = np.log1p(t.amount_usd)
    n_chunks = max(1, _threads() * cfg.chunks_per_thread)
    H = HOUR_US

    t0 = time.perf_counter()
    g = K.adjacency(t.ts, t.src, t.dst, t.n_accounts)
    adj = (g["out_ptr"], g["out_rows"], g["out_ts"], g["out_nbr"], g["in_ptr"], g["in_rows"], g["in_ts"], g["in_nbr"])
    row_chunks = np.linspace(0, n, n_chunks + 1).astype(np.int64)
    pptr, prows, group, rev = pair_index(t.src, t.dst, t.n_accounts)
    sec["index"] = time.perf_counter() - t0

    # row
    b.add("log_amount_usd", log_usd)
    b.add("log_amount", np.log1p(t.amount))
    b.add("pay_currency", t.pay_ccy, True)
    b.add("recv_currency", t.recv_ccy, True)
    b.add("cross_currency", t.pay_ccy != t.recv_ccy)
    b.add("channel", t.channel, True)
    b.add("txn_type", t.txn_type, True)
    b.add("self_transfer", t.src == t.dst)
    b.add("same_owner", np.where(t.same_owner < 0, np.nan, t.same_owner))
    b.add("same_bank", np.where(t.same_bank < 0, np.nan, t.same_bank))

    # repeated edges
    t0 = time.perf_counter()
    prior, total, rev_prior, rev_win = K.pair_stats(t.ts, limit, pptr, prows, t.ts[prows], group, rev,
                                                    np.int64(cfg.pair_hours * H))
    b.add("edge_prior_rows", prior)
    b.add("edge_visible_rows", total)
    b.add("reverse_edge_prior_rows", rev_prior)
    b.add("reverse_edge_window_rows", rev_win)
    sec["pairs"] = time.perf_counter() - t0

    # windows: plain (account), same payment format (account x format), first-time edges only
    t0 = time.perf_counter()
    span_days = window_days(t.ts, limit, int(K.INF))
    sides = tuple(SIDES)
    specs: list[tuple[str, str, int, int, tuple[str, ...]]] = [
        (f"{w:g}h", "plain", int(w * H), int(w * H), sides) for w in cfg.window_hours
    ]
    specs.append(("all", "plain", int(K.INF), int(K.INF), sides))
    p = int(cfg.pass_hours * H)
    specs.append((f"pre{cfg.pass_hours:g}h", "plain", p, 0, ("src_in", "src_out")))
    specs.append((f"post{cfg.pass_hours:g}h", "plain", 0, p, ("dst_out", "dst_in")))
    for w in cfg.window_hours:
        specs.append((f"{w:g}h_same_format", "format", int(w * H), int(w * H), sides))
        specs.append((f"{w:g}h_new_edges", "new", int(w * H), int(w * H), sides))
    n_ch = int(t.channel.max()) + 1
    spaces: dict[str, _Space] = {}
    stats: dict[str, tuple[np.ndarray, ...]] = {}
    for wname, space, back, fwd, which in specs:
        if space not in spaces:
            if space == "plain":
                spaces[space] = _Space(t, t.src, t.dst, t.n_accounts, None, log_usd, n_chunks)
            elif space == "format":
                spaces[space] = _Space(t, t.src * n_ch + t.channel, t.dst * n_ch + t.channel, t.n_accounts * n_ch,
                                       None, log_usd, n_chunks)
            else:  # edges: the rows first on their (src, dst) pair (no earlier row on it)
                spaces[space] = _Space(t, t.src, t.dst, t.n_accounts, prior == 0, log_usd, n_chunks)
        sp = spaces[space]
        for side in which:
            qby, eof, _ = SIDES[side]
            q_ptr, q_rows = sp.q[qby]
            e_ptr, e_rows, e_ts, e_other, e_val, e_vol = sp.e[eof]
            cnt, dist, s1, s2, vol = K.window_stats(
                q_ptr, q_rows, e_ptr, e_rows, e_ts, e_other, e_val, e_vol, t.ts, limit, np.int64(back),
                np.int64(fwd), t.n_accounts, sp.chunks[qby])
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(cnt > 0, s1 / np.maximum(cnt, 1), np.nan)
                var = np.where(cnt > 1, s2 / np.maximum(cnt, 1) - mean * mean, np.nan)
            key = f"{side}_{wname}"
            stats[key] = (cnt, dist, mean, vol)
            if wname == "all":  # per visible day: the visible graph grows from split to split
                b.add(f"{key}_rows_per_day", cnt / span_days)
                b.add(f"{key}_distinct_per_day", dist / span_days)
            else:
                b.add(f"{key}_rows", cnt)
                b.add(f"{key}_distinct", dist)
            b.add(f"{key}_mean_log_amount", mean)
            b.add(f"{key}_std_log_amount", np.sqrt(np.maximum(var, 0.0)))
            if wname == "all":
                b.add(f"{key}_log_volume_per_day", np.log1p(np.maximum(vol, 0.0) / span_days))
            else:
                b.add(f"{key}_log_volume", np.log1p(np.maximum(vol, 0.0)))
    del spaces
    # bursts: an account's rate of rows in the window against its rate over the visible graph
    for w in cfg.window_hours:
        w_days = window_days(t.ts, limit, int(w * H))
        for side in SIDES:
            cnt_w, cnt_all = stats[f"{side}_{w:g}h"][0], stats[f"{side}_all"][0]
            b.add(f"{side}_{w:g}h_burst", np.log((cnt_w + 1) / w_days) - np.log((cnt_all + 1) / span_days))
    w_mid = f"{cfg.window_hours[-1]:g}h"
    b.add("amount_vs_src_out_mean", log_usd - stats[f"src_out_{w_mid}"][2])
    b.add("amount_vs_dst_in_mean", log_usd - stats[f"dst_in_{w_mid}"][2])
    pre, post = f"pre{cfg.pass_hours:g}h", f"post{cfg.pass_hours:g}h"
    b.add("amount_vs_src_received_before", log_usd - np.log1p(np.maximum(stats[f"src_in_{pre}"][3], 0.0)))
    b.add("dst_sent_after_vs_amount", np.log1p(np.maximum(stats[f"dst_out_{post}"][3], 0.0)) - log_usd)
    sec["windows"] = time.perf_counter() - t0

    # gaps
    t0 = time.perf_counter()
    gp = K.gaps(t.ts, t.src, t.dst, t.amount_usd, limit, g["out_ptr"], g["out_rows"], g["out_ts"], g["in_ptr"],
                g["in_rows"], g["in_ts"])
    gp = np.where(gp < 0, np.nan, gp)
    minutes = 60_000_000.0
    b.add("src_prev_out_gap_log_min", np.log1p(gp[:, 0] / minutes))
    b.add("src_prev_in_gap_log_min", np.log1p(gp[:, 1] / minutes))
    b.add("src_prev_in_amount_vs_amount", np.log1p(gp[:, 2]) - log_usd)
    b.add("dst_prev_in_gap_log_min", np.log1p(gp[:, 3] / minutes))
    b.add("dst_next_out_gap_log_min", np.log1p(gp[:, 4] / minutes))
    b.add("dst_next_out_amount_vs_amount", np.log1p(gp[:, 5]) - log_usd)
    sec["gaps"] = time.perf_counter() - t0

    # cycles
    t0 = time.perf_counter()
    cyc = K.cycle_length(t.ts, t.src, t.dst, limit, *adj, np.int64(cfg.cycle_hours * H), cfg.cycle_fwd_depth,
                         cfg.cycle_back_depth, cfg.hub_cap, t.n_accounts, row_chunks)
    b.add("cycle_length", np.where(cyc < 0, np.nan, cyc))
    sec["cycles"] = time.perf_counter() - t0

    # motifs
    t0 = time.perf_counter()
    mo = K.motifs(t.ts, t.src, t.dst, limit, *adj, np.int64(cfg.motif_hours * H), cfg.hub_cap, t.n_accounts,
                  row_chunks)
    mo = np.where(mo < 0, np.nan, mo)
    b.add("scatter_gather_gather_leg", mo[:, 0])
    b.add("scatter_gather_scatter_leg", mo[:, 1])
    b.add("bipartite_co_senders", mo[:, 2])
    sec["motifs"] = time.perf_counter() - t0

    # involvement: how many rows of each account, around this one, lie on a cycle, are a leg of a
    # scatter-gather or bipartite shape (a second hop: the pattern shapes of the accounts' other rows)
    t0 = time.perf_counter()
    flags = {
        "cycle": ((cyc >= 2) & (cyc <= cfg.cycle_fwd_depth + cfg.cycle_back_depth + 1)).astype(np.float64),
        "scatter_gather": (np.nan_to_num(np.maximum(mo[:, 0], mo[:, 1])) >= 2).astype(np.float64),
        "bipartite": (np.nan_to_num(mo[:, 2]) >= 1).astype(np.float64),
    }
    sp = _Space(t, t.src, t.dst, t.n_accounts, None, log_usd, n_chunks)
    for wname, span in ((f"{cfg.involvement_hours:g}h", int(cfg.involvement_hours * H)), ("all", int(K.INF))):
        for side in SIDES:
            qby, eof, _ = SIDES[side]
            q_ptr, q_rows = sp.q[qby]
            e_ptr, e_rows, e_ts, e_other, _, _ = sp.e[eof]
            for fname, flag in flags.items():
                e_flag = flag[e_rows]
                _, _, _, _, hits = K.window_stats(q_ptr, q_rows, e_ptr, e_rows, e_ts, e_other, e_flag, e_flag, t.ts,
                                                  limit, np.int64(span), np.int64(span), t.n_accounts, sp.chunks[qby])
                hits = np.rint(hits)
                if wname == "all":
                    b.add(f"{side}_{wname}_{fname}_rows_per_day", hits / span_days)
                else:
                    b.add(f"{side}_{wname}_{fname}_rows", hits)
    del sp
    sec["involvement"] = time.perf_counter() - t0

    return Features(b.build(), b.names, b.cat, sec)
