"""Slow, obviously-correct reference implementations of the detector rules.

Written from the rule text in the docstrings of ``nexusfin/detect/{structuring,funnel,movement}.py``,
not from the kernels: plain Python loops over a list of transactions, exact arithmetic (amounts as
:class:`~fractions.Fraction` of whole cents, ratios as exact decimals), no indexes, no CSR, no
sliding counters. Every window is a closed time interval ``[t - W, t]``: transactions at the same
instant are never split between two windows, so the result does not depend on the row order of
the input.

Where a rule reports "maximal non-overlapping windows" the kernels scan windows greedily in time
order; the references implement the same greedy choice in the simplest way (:func:`greedy_windows`):

* candidate windows end at each distinct time ``t`` (of the rows that may end a window), in order;
* a window holds the rows not used by an earlier alert with ``t - W <= ts <= t``;
* the first window that qualifies is reported (for some rules after extending it to the longest
  window from the same start, see each rule), and every row up to its last time is used up.

Where a kernel's choice genuinely depends on row order (the *first* qualifying out-row of an
in-row for layering links, when two out-rows have the same time) the reference breaks the tie by
input position, as the ledger does, and says so.

Only the test-suite imports this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

import polars as pl

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000


def exact(x: float | str) -> Fraction:
    """A configured decimal (0.8, 10000.0) as the exact number it was written as."""
    return Fraction(str(x))


def cents(usd: float) -> Fraction:
    """An amount as an exact number of cents (the ledger stores float dollars of whole cents)."""
    return Fraction(round(usd * 100), 100)


@dataclass(frozen=True)
class Txn:
    pos: int  # input position: only breaks ties the rule text leaves open (documented where used)
    txn_id: str
    ts: int  # microseconds since the epoch, UTC
    src: str | None
    dst: str | None
    usd: Fraction
    channel: str
    ttype: str
    src_cc: str | None
    dst_cc: str | None
    area: str | None  # location before ':'
    cond: str | None  # conducted_by

    @property
    def day(self) -> int:
        return self.ts // DAY_US

    def is_cash_deposit(self) -> bool:
        return self.channel == "cash" and self.ttype == "deposit" and self.dst is not None


@dataclass(frozen=True)
class Account:
    account_id: str
    owner: str
    kind: str  # account_type
    country: str | None
    home_area: str | None = None  # home_location before ':'


@dataclass
class World:
    """The transactions (in input order) and accounts handed to ``build_ledger``."""

    rows: list[Txn]
    accounts: dict[str, Account]
    parties: list[str] = field(default_factory=list)

    @classmethod
    def from_frames(cls, transactions: pl.DataFrame, accounts: pl.DataFrame) -> World:
        accs = {}
        for a in accounts.iter_rows(named=True):
            home = a.get("home_location")
            accs[a["account_id"]] = Account(a["account_id"], a["owner_party_id"], a["account_type"], a.get("country"),
                                            None if home is None else home.split(":")[0])
        rows = []
        ts_us = transactions.get_column("ts").dt.cast_time_unit("us").to_physical().to_list()
        for pos, (r, t) in enumerate(zip(transactions.iter_rows(named=True), ts_us, strict=True)):
            loc = r["location"]
            rows.append(Txn(
                pos=pos, txn_id=r["txn_id"], ts=int(t), src=r["src_account"], dst=r["dst_account"],
                usd=cents(r["amount_usd"]), channel=r["channel"], ttype=r["txn_type"], src_cc=r["src_country"],
                dst_cc=r["dst_country"], area=None if loc is None else loc.split(":")[0], cond=r["conducted_by"],
            ))
        parties = sorted({a.owner for a in accs.values()} | {r.cond for r in rows if r.cond is not None})
        return cls(rows, accs, parties)

    def owner(self, account_id: str) -> str:
        return self.accounts[account_id].owner


@dataclass(frozen=True)
class RefHit:
    """One reference alert: subject (account or party id), evidence txn ids, observed values.

    ``evidence`` is sorted for set-like rules and in path order for chains and cycles."""

    rule: str
    subject: str
    evidence: tuple[str, ...]
    values: dict[str, float]

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return (self.subject, self.evidence)


def _ids(rows: Iterable[Txn]) -> tuple[str, ...]:
    return tuple(sorted(r.txn_id for r in rows))


def _usd(rows: Iterable[Txn]) -> Fraction:
    return sum((r.usd for r in rows), Fraction(0))


def _by_time(rows: Iterable[Txn]) -> list[Txn]:
    return sorted(rows, key=lambda r: (r.ts, r.pos))


# -- the greedy window scan shared by the windowed rules ------------------------------------------
def greedy_windows(
    rows: list[Txn],
    window_us: int,
    qualifies: Callable[[list[Txn]], object],
    *,
    may_end: Callable[[Txn], bool] = lambda r: True,
    extend: Callable[[list[Txn], list[Txn]], list[Txn]] | None = None,
) -> list[tuple[list[Txn], object]]:
    """Maximal non-overlapping windows, chosen greedily in time order (see the module docstring).

    ``qualifies(window)`` returns something truthy (kept with the window) when the window fires;
    ``extend(window, free_rows)`` may then grow it (rows after the window's end, same start)."""
    found = []
    used_until = None  # rows at or before this time belong to an earlier alert
    for t in sorted({r.ts for r in rows if may_end(r)}):
        if used_until is not None and t <= used_until:
            continue
        free = [r for r in rows if used_until is None or r.ts > used_until]
        window = [r for r in free if t - window_us <= r.ts <= t]
        result = qualifies(window)
        if not result:
            continue
        if extend is not None:
            window = extend(window, free)
            result = qualifies(window) or result
        found.append((_by_time(window), result))
        used_until = max(r.ts for r in window)
    return found


# -- structuring ------------------------------------------------------------------------------------
def persons(world: World) -> list[str]:
    return list(world.parties)


def person_cash_deposits(world: World, person: str, threshold: Fraction | None, excluded_types: Iterable[str] = (),
                         areas: Iterable[str] | None = None) -> list[Txn]:
    """A person's cash deposits (of at most ``threshold`` unless None): into their own accounts
    (whoever made them) and the ones they conducted into accounts of others; not into accounts of
    an excluded type; only in ``areas`` if given."""
    excluded = set(excluded_types)
    area_set = None if areas is None else set(areas)
    out = []
    for r in world.rows:
        if not r.is_cash_deposit() or (threshold is not None and r.usd > threshold):
            continue
        if world.accounts[r.dst].kind in excluded:
            continue
        if area_set is not None and r.area not in area_set:
            continue
        if world.owner(r.dst) == person or r.cond == person:
            out.append(r)
    return _by_time(out)


def _daily_days(rows: list[Txn], threshold: Fraction, min_n: int) -> dict[int, list[Txn]]:
    days: dict[int, list[Txn]] = defaultdict(list)
    for r in rows:
        days[r.day].append(r)
    return {d: g for d, g in days.items() if len(g) >= min_n and _usd(g) > threshold}


def structuring_daily(world: World, cfg, *, threshold: float | None = None, areas: Iterable[str] | None = None,
                      rule: str = "structuring.daily") -> list[RefHit]:
    """On one UTC day, at least ``min_daily_deposits`` cash deposits of at most the threshold add
    up to MORE than it (per person, across all their accounts and the deposits they conducted)."""
    thr = exact(cfg.ctr_threshold_usd if threshold is None else threshold)
    hits = []
    for p in persons(world):
        rows = person_cash_deposits(world, p, thr, cfg.excluded_account_types, areas)
        for grp in _daily_days(rows, thr, cfg.min_daily_deposits).values():
            hits.append(RefHit(rule, p, _ids(grp), {
                "total_usd": float(_usd(grp)), "n_deposits": len(grp), "max_usd": float(max(r.usd for r in grp)),
                "n_accounts": len({r.dst for r in grp}),
                "n_locations": len({r.area for r in grp}),  # a deposit without a location counts as one place
                "threshold_usd": float(thr),
            }))
    return hits


def structuring_targeting_order(world: World, cfg, order: tuple[str, float, tuple[str, ...]]) -> list[RefHit]:
    """The daily rule with an order's lowered threshold, on deposits made in the order's areas."""
    _, thr, areas = order
    return structuring_daily(world, cfg, threshold=thr, areas=areas, rule="structuring.targeting_order")


def structuring_window(world: World, cfg) -> list[RefHit]:
    """Within ``window_days``, deposits in the band [band_low, threshold] add up to MORE than the
    threshold, there are at least ``min_band_deposits`` of them, they are at least
    ``min_band_share`` of ALL the person's cash deposits in the window (reportable ones included),
    deposits just ABOVE the threshold (up to as far above it as the band reaches below) number at
    most ``max_above_share`` times the band deposits, the band deposits fall on more than one day,
    and not all of them are on days the daily rule already reports.

    Greedy windows end at the times of band deposits; a window that fires is extended to later
    times (same start, still within ``window_days`` of it) for as long as it still qualifies (the
    band share and the share above the threshold are the conditions more rows can break).
    Evidence: the band deposits of the (extended) window."""
    thr = exact(cfg.ctr_threshold_usd)
    band_lo = exact(cfg.band_low_usd)
    w_us = int(cfg.window_days * DAY_US)

    def in_band(r: Txn) -> bool:
        return band_lo <= r.usd <= thr

    def above(r: Txn) -> bool:
        return thr < r.usd <= thr + (thr - band_lo)

    def avoids(window: list[Txn]) -> bool:
        n_band = sum(1 for r in window if in_band(r))
        return sum(1 for r in window if above(r)) <= exact(cfg.max_above_share) * n_band

    hits = []
    for p in persons(world):
        rows = person_cash_deposits(world, p, None, cfg.excluded_account_types)  # all: the share's denominator
        daily = _daily_days([r for r in rows if r.usd <= thr], thr, cfg.min_daily_deposits)

        def share(window: list[Txn]) -> Fraction:
            return Fraction(sum(1 for r in window if in_band(r)), len(window))

        def qualifies(window: list[Txn], daily=daily) -> bool:
            band = [r for r in window if in_band(r)]
            if not band:
                return False
            first_day = min(r.day for r in band)
            last_day = max(r.day for r in window)  # the day the window ends (at a band deposit)
            return (
                len(band) >= cfg.min_band_deposits
                and _usd(band) > thr
                and share(window) >= exact(cfg.min_band_share)
                and avoids(window)
                and first_day != last_day
                and any(r.day not in daily for r in band)
            )

        def extend(window: list[Txn], free: list[Txn]) -> list[Txn]:
            start = min(r.ts for r in window)
            end = max(r.ts for r in window)
            for t in sorted({r.ts for r in free if end < r.ts <= start + w_us}):
                bigger = [r for r in free if start <= r.ts <= t]
                if share(bigger) < exact(cfg.min_band_share) or not avoids(bigger):
                    break
                window = bigger
            return window

        for window, _ in greedy_windows(rows, w_us, qualifies, may_end=in_band, extend=extend):
            band = [r for r in window if in_band(r)]
            hits.append(RefHit("structuring.window", p, _ids(band), {
                "band_total_usd": float(_usd(band)), "n_band_deposits": len(band),
                "band_share": float(share(window)),
                "n_days": max(r.day for r in band) - min(r.day for r in band) + 1,
                "n_accounts": len({r.dst for r in band}), "threshold_usd": float(thr),
            }))
    return hits


def smurfing(world: World, cfg) -> list[RefHit]:
    """Per account: at least ``smurfing_min_conductors`` distinct third parties (not the owner)
    deposit cash of at most the threshold within ``smurfing_window_days``, adding up to at least
    ``smurfing_min_total_usd``. A window that fires is extended to every later deposit within
    ``smurfing_window_days`` of its first one."""
    thr = exact(cfg.ctr_threshold_usd)
    w_us = int(cfg.smurfing_window_days * DAY_US)
    hits = []
    for a, acc in world.accounts.items():
        rows = _by_time(
            r for r in world.rows
            if r.is_cash_deposit() and r.dst == a and r.usd <= thr and r.cond is not None and r.cond != acc.owner
        )

        def qualifies(window: list[Txn]) -> bool:
            return (len({r.cond for r in window}) >= cfg.smurfing_min_conductors
                    and _usd(window) >= exact(cfg.smurfing_min_total_usd))

        def extend(window: list[Txn], free: list[Txn]) -> list[Txn]:
            start = min(r.ts for r in window)
            return [r for r in free if start <= r.ts <= start + w_us]

        for window, _ in greedy_windows(rows, w_us, qualifies, extend=extend):
            hits.append(RefHit("structuring.smurfing", a, _ids(window), {
                "total_usd": float(_usd(window)), "n_deposits": len(window),
                "n_conductors": len({r.cond for r in window}), "max_usd": float(max(r.usd for r in window)),
                "threshold_usd": float(thr),
            }))
    return hits


# -- funnel -------------------------------------------------------------------------------------------
def eligible(world: World, excluded_types: Iterable[str]) -> list[str]:
    ex = set(excluded_types)
    return [a for a, acc in world.accounts.items() if acc.kind not in ex]


def funnel(world: World, cfg) -> list[RefHit]:
    """Per account (not of an excluded type): within ``window_days``, cash deposits (with a known
    location) in at least ``min_areas`` distinct areas adding up to at least ``min_cash_in_usd``;
    from the first of them until ``out_window_hours`` after the last, at least ``min_out_ratio`` of
    that cash leaves as cash withdrawals in an area none of the deposits was made in, or as
    transfers to an account at home in another country (the row's countries differ) or with a
    known home area other than the funnel account's own (an unknown home area of the funnel
    account counts as "other"). Greedy windows, no extension."""
    w_us = int(cfg.window_days * 24 * HOUR_US)
    out_us = int(cfg.out_window_hours * HOUR_US)
    hits = []
    for a in eligible(world, cfg.excluded_account_types):
        deposits = _by_time(r for r in world.rows if r.is_cash_deposit() and r.dst == a and r.area is not None)
        outgoing = [r for r in world.rows if r.src == a]

        def outflows(window: list[Txn], outgoing=outgoing, a=a) -> list[Txn]:
            areas = {r.area for r in window}
            t_first, t_last = min(r.ts for r in window), max(r.ts for r in window)
            found = []
            for o in outgoing:
                if not t_first <= o.ts <= t_last + out_us:
                    continue
                if o.channel == "cash" and o.ttype == "withdrawal":
                    away = o.area is not None and o.area not in areas
                elif o.dst is None:
                    away = False
                elif None not in (o.src_cc, o.dst_cc) and o.src_cc != o.dst_cc:
                    away = True
                else:
                    home = world.accounts[o.dst].home_area
                    away = home is not None and home != world.accounts[a].home_area
                if away:
                    found.append(o)
            return found

        def qualifies(window: list[Txn], outflows=outflows):
            total = _usd(window)
            if len({r.area for r in window}) < cfg.min_areas or total < exact(cfg.min_cash_in_usd):
                return None
            outs = outflows(window)
            if outs and _usd(outs) >= exact(cfg.min_out_ratio) * total:
                return outs
            return None

        for window, outs in greedy_windows(deposits, w_us, qualifies):
            total, out_sum = _usd(window), _usd(outs)
            t_last = max(r.ts for r in window)
            hits.append(RefHit("funnel.multi_location", a, _ids(window + outs), {
                "cash_in_usd": float(total), "n_deposits": len(window), "n_areas": len({r.area for r in window}),
                "out_usd": float(out_sum), "out_ratio": float(out_sum / total),
                "hours_to_out": (max([t_last] + [o.ts for o in outs]) - t_last) / HOUR_US, "n_out": len(outs),
            }))
    return hits


# -- rapid movement -----------------------------------------------------------------------------------
def moved(r: Txn, fiat_only: bool, excluded_txn_types: Iterable[str]) -> bool:
    """Rows that count as moving funds: not crypto (when fiat_only), not of an excluded type."""
    return not (fiat_only and r.channel == "crypto") and r.ttype not in set(excluded_txn_types)


def pass_through_pairs(world: World, hours: float, ratio_low: float, ratio_high: float, min_amount_usd: float, *,
                       fiat_only: bool = True, excluded_txn_types: Iterable[str] = (),
                       accounts: Iterable[str] | None = None) -> set[tuple[str, str]]:
    """ALL pass-through pairs (in txn id, out txn id): at an account, an incoming transfer ``i``
    (from an account, at least ``min_amount_usd``) and an outgoing transaction ``o != i`` with
    ``ts_i <= ts_o <= ts_i + hours`` and ``ratio_low <= usd_o / usd_i <= ratio_high``."""
    excluded = tuple(excluded_txn_types)
    t_us = round(hours * HOUR_US)
    lo, hi = exact(ratio_low), exact(ratio_high)
    pairs = set()
    for a in (world.accounts if accounts is None else accounts):
        for i in world.rows:
            if i.dst != a or i.src is None or i.usd < exact(min_amount_usd) or not moved(i, fiat_only, excluded):
                continue
            for o in world.rows:
                if o.src != a or o is i or not moved(o, fiat_only, excluded):
                    continue
                if i.ts <= o.ts <= i.ts + t_us and lo <= o.usd / i.usd <= hi:
                    pairs.add((i.txn_id, o.txn_id))
    return pairs


def _movement_pairs(world: World, m, hours: float) -> list[tuple[Txn, Txn]]:
    by_id = {r.txn_id: r for r in world.rows}
    pairs = pass_through_pairs(world, hours, m.ratio_low, m.ratio_high, m.min_amount_usd, fiat_only=m.fiat_only,
                               excluded_txn_types=m.excluded_txn_types,
                               accounts=eligible(world, m.excluded_account_types))
    return [(by_id[i], by_id[o]) for i, o in pairs]


def pass_through(world: World, m) -> list[RefHit]:
    """Pairs within ``pass_through_hours``, per account; an in-row at most ``pass_through_hours``
    after the previous in-row that has a pair belongs to the same alert (so an episode grows for
    as long as pairs keep coming at most that far apart)."""
    t_us = int(m.pass_through_hours * HOUR_US)
    by_account: dict[str, list[tuple[Txn, Txn]]] = defaultdict(list)
    for i, o in _movement_pairs(world, m, m.pass_through_hours):
        by_account[i.dst].append((i, o))
    hits = []
    for a, pairs in by_account.items():
        in_times = sorted({i.ts for i, _ in pairs})
        episodes, cur = [], [in_times[0]]
        for t in in_times[1:]:
            if t - cur[-1] > t_us:
                episodes.append(cur)
                cur = []
            cur.append(t)
        episodes.append(cur)
        for times in episodes:
            ps = [(i, o) for i, o in pairs if times[0] <= i.ts <= times[-1]]
            ins = {i.txn_id: i for i, _ in ps}
            outs = {o.txn_id: o for _, o in ps}
            in_usd, out_usd = _usd(ins.values()), _usd(outs.values())
            hits.append(RefHit("movement.pass_through", a, _ids([*ins.values(), *outs.values()]), {
                "in_usd": float(in_usd), "out_usd": float(out_usd), "ratio": float(out_usd / in_usd),
                "hours": max(o.ts - i.ts for i, o in ps) / HOUR_US, "n_pairs": len(ps),
            }))
    return hits


def first_links(world: World, m) -> dict[str, Txn]:
    """For every in-row with a pair within ``chain_link_hours``: its earliest such out-row. Two
    out-rows at the same time: the earlier in the input (the kernels keep input order for ties)."""
    succ: dict[str, Txn] = {}
    for i, o in _movement_pairs(world, m, m.chain_link_hours):
        best = succ.get(i.txn_id)
        if best is None or (o.ts, o.pos) < (best.ts, best.pos):
            succ[i.txn_id] = o
    return succ


def chains_and_cycles(world: World, m) -> tuple[list[RefHit], list[RefHit]]:
    """Follow first links from every transfer that is no link's out-row. A walk stops when there
    is no next link, after ``chain_max_links`` links, or when a transfer pays into an account an
    earlier transfer of the walk left from: that closes a cycle (the walk from that transfer on;
    reported when it has at least ``cycle_min_length`` transfers and closes at an account monitored
    for movement, i.e. not of an excluded type; once, even when walks from several heads run into
    it). A walk that closes no cycle is a chain when it has at least ``chain_min_links`` links."""
    monitored = set(eligible(world, m.excluded_account_types))
    by_id = {r.txn_id: r for r in world.rows}
    succ = first_links(world, m)
    targets = {o.txn_id for o in succ.values()}
    chains, cycles = [], []
    for head in succ:
        if head in targets:
            continue
        path = [by_id[head]]
        closed = None
        while path[-1].txn_id in succ and len(path) - 1 < m.chain_max_links:
            nxt = succ[path[-1].txn_id]
            path.append(nxt)
            back = [q for q, r in enumerate(path[:-1]) if r.src == nxt.dst]
            if back:
                closed = back[0]
                break
        if closed is not None:
            cyc = path[closed:]
            if len(cyc) >= m.cycle_min_length and cyc[0].src in monitored \
                    and all(c.evidence != tuple(r.txn_id for r in cyc) for c in cycles):
                cycles.append(RefHit("movement.cycle", cyc[0].src, tuple(r.txn_id for r in cyc), {
                    "length": len(cyc), "start_usd": float(cyc[0].usd), "returned_usd": float(cyc[-1].usd),
                    "returned_ratio": float(cyc[-1].usd / cyc[0].usd), "hours": (cyc[-1].ts - cyc[0].ts) / HOUR_US,
                }))
        elif len(path) - 1 >= m.chain_min_links:
            chains.append(RefHit("movement.chain", path[0].dst, tuple(r.txn_id for r in path), {
                "links": len(path) - 1, "start_usd": float(path[0].usd), "end_usd": float(path[-1].usd),
                "kept_ratio": float(path[-1].usd / path[0].usd), "hours": (path[-1].ts - path[0].ts) / HOUR_US,
            }))
    return chains, cycles


def fan_in(world: World, m) -> list[RefHit]:
    """Within ``fan_window_hours`` at least ``fan_min_degree`` distinct senders pay the account
    (each transfer at least ``fan_min_amount_usd``), and what it sends on (any outgoing row) from
    the last of them to ``fan_forward_hours`` later is between ``fan_forward_ratio`` and
    ``fan_forward_ratio_max`` of what came in. Greedy windows, no extension."""
    return _fan(world, m, "in")


def fan_out(world: World, m) -> list[RefHit]:
    """Within ``fan_window_hours`` at least ``fan_min_degree`` distinct recipients are paid (each
    at least ``fan_min_amount_usd``), and what came in over the ``fan_out_funding_hours`` up to the
    first payment covers at least ``fan_out_funding_ratio`` of the payout."""
    return _fan(world, m, "out")


def gather_scatter(world: World, m) -> list[RefHit]:
    """Fan-in with ``gather_scatter_min_in`` senders within ``gather_scatter_window_hours`` and
    forwarding within ``gather_scatter_forward_hours``, whose forwarding rows also reach
    ``gather_scatter_min_out`` distinct recipients (cash withdrawals count as one recipient)."""
    return _fan(world, m, "gs")


def _fan(world: World, m, mode: str) -> list[RefHit]:
    ex = tuple(m.excluded_txn_types)
    k_min = m.gather_scatter_min_in if mode == "gs" else m.fan_min_degree
    w_us = int((m.gather_scatter_window_hours if mode == "gs" else m.fan_window_hours) * HOUR_US)
    fwd_us = int((m.gather_scatter_forward_hours if mode == "gs" else m.fan_forward_hours) * HOUR_US)
    fund_us = int(m.fan_out_funding_hours * HOUR_US)
    rule = {"in": "movement.fan_in", "out": "movement.fan_out", "gs": "movement.gather_scatter"}[mode]
    hits = []
    for a in eligible(world, m.excluded_account_types):
        if mode == "out":
            rows = [r for r in world.rows if r.src == a and r.dst is not None]

            def party(r: Txn) -> str:
                return r.dst
        else:
            rows = [r for r in world.rows if r.dst == a and r.src is not None]

            def party(r: Txn) -> str:
                return r.src
        rows = _by_time(r for r in rows if r.usd >= exact(m.fan_min_amount_usd) and moved(r, m.fiat_only, ex))
        ins = [r for r in world.rows if r.dst == a and moved(r, m.fiat_only, ex)]
        outs = [r for r in world.rows if r.src == a and moved(r, m.fiat_only, ex)]

        def qualifies(window: list[Txn], ins=ins, outs=outs, party=party):
            if len({party(r) for r in window}) < k_min:
                return None
            total = _usd(window)
            t_first, t_last = min(r.ts for r in window), max(r.ts for r in window)
            if mode == "out":
                funding = [r for r in ins if t_first - fund_us <= r.ts <= t_first]
                return funding if funding and _usd(funding) >= exact(m.fan_out_funding_ratio) * total else None
            fwd = [r for r in outs if t_last <= r.ts <= t_last + fwd_us]
            if not fwd or not exact(m.fan_forward_ratio) * total <= _usd(fwd) <= exact(m.fan_forward_ratio_max) * total:
                return None
            if mode == "gs" and len({r.dst for r in fwd}) < m.gather_scatter_min_out:
                return None
            return fwd

        for window, other in greedy_windows(rows, w_us, qualifies):
            total, o_sum = _usd(window), _usd(other)
            t_first, t_last = window[0].ts, window[-1].ts
            degree = len({party(r) for r in window})
            span = (t_last - t_first) / HOUR_US
            if mode == "in":
                values = {"degree": degree, "in_usd": float(total), "window_hours": span, "forward_usd": float(o_sum),
                          "forward_ratio": float(o_sum / total),
                          "forward_hours": (max(r.ts for r in other) - t_last) / HOUR_US}
            elif mode == "out":
                values = {"degree": degree, "out_usd": float(total), "window_hours": span,
                          "funding_usd": float(o_sum), "funding_ratio": float(o_sum / total)}
            else:
                values = {"in_degree": degree, "in_usd": float(total), "out_degree": len({r.dst for r in other}),
                          "out_usd": float(o_sum), "out_ratio": float(o_sum / total),
                          "hours": (max(r.ts for r in other) - t_first) / HOUR_US}
            hits.append(RefHit(rule, a, _ids(window + other), values))
    return hits


def scatter_gather(world: World, m) -> list[RefHit]:
    """One origin pays at least ``scatter_gather_min_intermediaries`` distinct accounts that each
    forward (their first link) to one same collector (not the intermediary; the origin is not the
    intermediary either). Subject: the collector; evidence: the in- and out-rows of those links."""
    by_id = {r.txn_id: r for r in world.rows}
    groups: dict[tuple[str, str], list[tuple[Txn, Txn]]] = defaultdict(list)
    for i_id, o in first_links(world, m).items():
        i = by_id[i_id]
        mid = i.dst
        if o.dst is None or o.dst == mid or i.src == mid:
            continue
        groups[(i.src, o.dst)].append((i, o))
    hits = []
    for (_, collector), links in groups.items():
        mids = {i.dst for i, _ in links}
        if len(mids) < m.scatter_gather_min_intermediaries:
            continue
        ins = {i.txn_id: i for i, _ in links}
        outs = {o.txn_id: o for _, o in links}
        rows = [*ins.values(), *outs.values()]
        hits.append(RefHit("movement.scatter_gather", collector, _ids(rows), {
            "intermediaries": len(mids), "scatter_usd": float(_usd(ins.values())),
            "gather_usd": float(_usd(outs.values())),
            "hours": (max(r.ts for r in rows) - min(r.ts for r in rows)) / HOUR_US,
        }))
    return hits


def movement(world: World, m) -> dict[str, list[RefHit]]:
    chains, cycles = chains_and_cycles(world, m)
    return {
        "movement.pass_through": pass_through(world, m),
        "movement.chain": chains,
        "movement.cycle": cycles,
        "movement.fan_in": fan_in(world, m),
        "movement.fan_out": fan_out(world, m),
        "movement.gather_scatter": gather_scatter(world, m),
        "movement.scatter_gather": scatter_gather(world, m),
    }


def structuring(world: World, s) -> dict[str, list[RefHit]]:
    return {
        "structuring.daily": structuring_daily(world, s),
        "structuring.window": structuring_window(world, s),
        "structuring.smurfing": smurfing(world, s),
    }
