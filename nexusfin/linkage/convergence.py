"""Crime-terror convergence: criminal-typology activity whose money reaches a terror-designated
facilitator.

Watchlist entries carry their programme: SDNTK (narcotics kingpins) vs SDGT / FTO (terrorism;
cartels designated FTO carry both). SARs on crime-terror nexus money are meant to surface the
accounts where a *criminal typology* (structuring, funnel accounts, rapid movement, crypto
cash-out: the detector alerts of the window) meets a *money path to a terror-designated
facilitator*. :func:`convergence` flags

* **crime** accounts: at least one alert of a crime family (and rule, if restricted);
* **convergent** accounts: crime accounts whose money reaches a terror seed (``hops_to >= 0`` in
  a :func:`~nexusfin.linkage.graph.proximity` computed from terror-designated seeds only);
* accounts **on a convergence path**: on the best path from a convergent account to its seed
  (the crime account itself, the intermediaries and the seed);
* **groups**: one per terror seed reached by at least one convergent account; every flagged
  account belongs to the group of the seed its path leads to.

Each group and each flagged account gets a plain-English ``reason`` built from the alerts and the
path evidence (accounts, transactions, amounts, dates), which an analyst can check by hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import polars as pl

from nexusfin.detect.ledger import DAY_US, HOUR_US, Ledger
from nexusfin.linkage.graph import Proximity, _check_ledger, _check_prox, _paths

__all__ = [
    "CRIME_FAMILIES",
    "TERROR_PROGRAMS",
    "Convergence",
    "convergence",
    "terror_seeds",
]

CRIME_FAMILIES: tuple[str, ...] = ("structuring", "funnel", "rapid_movement", "crypto")
TERROR_PROGRAMS: tuple[str, ...] = ("SDGT", "FTO", "SDT")
"""Designation programmes that make a facilitator terror-designated (SDNTK alone does not)."""

ROLE_SOURCE, ROLE_INTERMEDIARY, ROLE_FACILITATOR = "crime_source", "intermediary", "terror_facilitator"


@dataclass
class Convergence:
    """Per-account flags (index = account code) and the explained groups.

    ``groups``: one row per group (``group``, ``seed_account_id``, ``entity_id``, ``entity_name``,
    ``programs``, ``crime_account_ids``, ``crime_alert_ids``, ``crime_rules``,
    ``intermediary_account_ids``, ``path_account_ids``, ``path_txn_ids``, ``min_hops``,
    ``max_hops``, ``total_usd``, ``first_ts``, ``last_ts``, ``reason``).
    ``accounts``: one row per flagged account (``account_id``, ``group``, ``role``, ``crime``,
    ``convergent``, ``hops_to``, ``seed_account_id``, ``alert_ids``, ``rules``, ``reason``).
    """

    crime: np.ndarray  # bool
    convergent: np.ndarray  # bool
    on_convergence_path: np.ndarray  # bool
    group: np.ndarray  # int32, -1 when not flagged
    groups: pl.DataFrame
    accounts: pl.DataFrame

    @property
    def flagged(self) -> np.ndarray:
        """Convergent or on a convergence path."""
        return self.convergent | self.on_convergence_path

    def reason(self, account_id: str) -> str | None:
        """The reason of one flagged account (None if it is not flagged)."""
        hit = self.accounts.filter(pl.col("account_id") == account_id)
        return hit.item(0, "reason") if hit.height else None


def terror_seeds(seed_entities: dict[int, dict], programs: Iterable[str] = TERROR_PROGRAMS) -> np.ndarray:
    """Account codes (sorted) of the seeds whose entity carries a terrorism programme."""
    wanted = set(programs)
    return np.array(sorted(int(c) for c, e in seed_entities.items() if wanted & set(e.get("programs") or ())),
                    dtype=np.int32)


_ALERT_COLUMNS = ("alert_id", "detector", "rule", "account_id")


def convergence(
    ledger: Ledger,
    prox_terror: Proximity,
    alerts: pl.DataFrame,
    *,
    crime_families: Iterable[str] = CRIME_FAMILIES,
    crime_rules: Iterable[str] | None = None,
    seed_entities: dict[int, dict] | None = None,
    terror_programs: Iterable[str] = TERROR_PROGRAMS,
) -> Convergence:
    """Flag crime accounts whose money reaches a terror-designated facilitator, the accounts on
    those paths, and one group per facilitator reached (see the module docstring).

    ``alerts`` are detector alert rows (``schemas/detector_alerts.yaml``) of the window; an alert
    makes its ``account_id`` a crime account when its ``detector`` is in ``crime_families`` and,
    if ``crime_rules`` is given, its ``rule`` is one of them. Alerts on accounts the ledger does not
    know are ignored. ``prox_terror`` must come from :func:`~nexusfin.linkage.graph.proximity` on
    this ledger with terror-designated seeds only; with ``seed_entities`` (seed account code ->
    ``{"entity_id", "name", "programs"}``) the reasons name the entity, and a seed whose entity
    has none of ``terror_programs`` is an error.
    """
    _check_ledger(ledger)
    _check_prox(ledger, prox_terror)
    missing = [c for c in _ALERT_COLUMNS if c not in alerts.columns]
    if missing:
        raise ValueError(f"alerts lack column(s) {missing} (detector alert rows, schemas/detector_alerts.yaml)")
    families = tuple(crime_families)
    if isinstance(crime_families, str):
        raise ValueError("crime_families must be a collection of family names, not one string")
    entities = dict(seed_entities or {})
    terror = set(terror_programs)
    for code in prox_terror.seeds.tolist():
        e = entities.get(code)
        if e is not None and not terror & set(e.get("programs") or ()):
            raise ValueError(
                f"prox_terror must be computed from terror-designated seeds only; seed account "
                f"{ledger.account_ids[code]} ({e.get('entity_id')}, programs {list(e.get('programs') or [])}) is not")
    n = ledger.n_accounts
    ids = pl.Series("account_id", ledger.account_ids, dtype=pl.String)

    # crime accounts and their alerts
    sel = alerts.select(*_ALERT_COLUMNS).filter(pl.col("detector").is_in(list(families)))
    if crime_rules is not None:
        sel = sel.filter(pl.col("rule").is_in(list(crime_rules)))
    codes = pl.DataFrame({"account_id": ids, "code": np.arange(n, dtype=np.int64)})
    by_acc = (
        sel.join(codes, on="account_id", how="inner")
        .group_by("code")
        .agg(pl.col("alert_id").unique().sort(), pl.col("rule").unique().sort(), pl.col("detector").unique().sort())
        .sort("code")
    )
    crime = np.zeros(n, dtype=bool)
    crime[by_acc.get_column("code").to_numpy()] = True
    convergent = crime & (prox_terror.hops_to >= 0)

    # the best path of every convergent account, in money order (account -> ... -> seed)
    conv = np.flatnonzero(convergent).astype(np.int64)
    ptr, rows, aptr, path_acc = _paths(ledger, prox_terror, conv, "to")
    on_path = np.zeros(n, dtype=bool)
    on_path[path_acc] = True
    conv_seed = prox_terror.seed_to[conv].astype(np.int64)

    # groups: one per seed, biggest amount reaching it first
    n_rows = np.diff(ptr)
    final_rows = rows[ptr[1:][n_rows > 0] - 1]  # each path's transfer into the seed
    final_seed = conv_seed[n_rows > 0]
    seeds_hit = np.unique(conv_seed)
    total = {int(s): 0.0 for s in seeds_hit}
    for s, r in {(int(s), int(r)) for s, r in zip(final_seed.tolist(), final_rows.tolist(), strict=True)}:
        total[s] += float(ledger.usd[r])
    order = sorted(seeds_hit.tolist(), key=lambda s: (-total[s], str(ledger.account_ids[s])))
    group_of_seed = {s: g for g, s in enumerate(order)}
    group = np.full(n, -1, dtype=np.int32)
    owner = np.repeat(np.arange(len(conv)), np.diff(aptr))
    group[path_acc] = np.array([group_of_seed[int(s)] for s in conv_seed[owner]], dtype=np.int32)

    alerts_of = {int(c): (a, r, d) for c, a, r, d in by_acc.iter_rows()}
    groups, accounts = _explain(ledger, prox_terror, entities, conv, conv_seed, ptr, rows, aptr, path_acc,
                                alerts_of, group_of_seed, order, total, group)
    return Convergence(crime=crime, convergent=convergent, on_convergence_path=on_path, group=group, groups=groups,
                       accounts=accounts)


# -- reasons ---------------------------------------------------------------------------------------------
def _usd(x: float) -> str:
    return f"{x:,.0f} USD" if abs(x) >= 100 else f"{x:,.2f} USD"


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1e6, UTC).strftime("%Y-%m-%d")


def _span(us: int) -> str:
    if us < HOUR_US:
        return "within the hour"
    if us < 2 * DAY_US:
        h = math.ceil(us / HOUR_US)
        return f"within {h} hour{'s' if h != 1 else ''}"
    return f"within {math.ceil(us / DAY_US)} days"


def _some(items: list[str], k: int = 3) -> str:
    return ", ".join(items) if len(items) <= k else ", ".join(items[:k]) + f" and {len(items) - k} more"


def _hops(lo: int, hi: int) -> str:
    return f"{lo} hop{'s' if lo != 1 else ''}" if lo == hi else f"{lo}-{hi} hops"


def _families(dets: Iterable[str]) -> str:
    return "/".join(sorted({d.replace("_", " ") for d in dets}))


def _entity(entities: dict[int, dict], seed: int) -> str:
    e = entities.get(seed)
    if not e:
        return " (terror-designated facilitator)"
    progs = ", ".join(e.get("programs") or [])
    name = f" {e['name']}" if e.get("name") else ""
    return f" of {e.get('entity_id', '?')}{name} ({progs})"


def _explain(ledger, prox, entities, conv, conv_seed, ptr, rows, aptr, path_acc, alerts_of, group_of_seed, order,
             total, group):
    aid = ledger.account_ids
    ts, usd = ledger.ts, ledger.usd
    txn = ledger.txn_ids
    # per group: the convergent accounts, their paths and alerts
    members: dict[int, list[int]] = {s: [] for s in order}
    for i, s in enumerate(conv_seed.tolist()):
        members[s].append(i)
    # which convergent accounts route through each intermediary
    through: dict[int, list[int]] = {}
    for i in range(len(conv)):
        for a in path_acc[aptr[i] + 1 : aptr[i + 1] - 1].tolist():
            through.setdefault(a, []).append(i)

    group_rows = []
    reasons: dict[int, tuple[str, str]] = {}
    for s in order:
        g = group_of_seed[s]
        idx = members[s]
        sources = [i for i in idx if ptr[i + 1] > ptr[i]]  # convergent accounts other than the seed itself
        seed_is_crime = any(ptr[i + 1] == ptr[i] for i in idx)
        crime_codes = [int(conv[i]) for i in idx]
        alert_ids = sorted({a for c in crime_codes for a in alerts_of[c][0]})
        rules = sorted({r for c in crime_codes for r in alerts_of[c][1]})
        g_rows = sorted({int(r) for i in sources for r in rows[ptr[i]:ptr[i + 1]].tolist()})
        g_acc = {int(a) for i in idx for a in path_acc[aptr[i]:aptr[i + 1]].tolist()}
        inter = sorted(g_acc - set(crime_codes) - {s}, key=lambda a: (-int(prox.hops_to[a]), str(aid[a])))
        path_ids = sorted(g_acc, key=lambda a: (-int(prox.hops_to[a]), str(aid[a])))
        hops = [int(ptr[i + 1] - ptr[i]) for i in sources]
        first_ts = min((int(ts[rows[ptr[i]]]) for i in sources), default=None)
        last_ts = max((int(ts[rows[ptr[i + 1] - 1]]) for i in sources), default=None)
        ent = _entity(entities, s)
        parts = []
        if sources:
            src_ids = [str(aid[conv[i]]) for i in sources]
            src_alerts = sorted({a for i in sources for a in alerts_of[int(conv[i])][0]})
            src_dets = sorted({d for i in sources for d in alerts_of[int(conv[i])][2]})
            route = f"through {_some([str(aid[a]) for a in inter], 4)}" if inter else "directly"
            lead = (f"{len(sources)} accounts" if len(sources) > 1 else f"account {src_ids[0]}") + \
                f" with {_families(src_dets)} alerts ({_some(src_alerts)})"
            if len(sources) > 1:
                lead += f" ({_some(src_ids, 4)})"
            verb = "send" if len(sources) > 1 else "sends"
            parts.append(
                f"{lead} {verb} money in {_hops(min(hops), max(hops))} {route} to account {aid[s]}{ent}; "
                f"{_usd(total[s])} reached it {_span(max(last_ts - first_ts, 0))} ({_day(first_ts)} to {_day(last_ts)}).")
        if seed_is_crime:
            own = alerts_of[s]
            parts.append(f"{'The facilitator' if sources else 'Terror-designated'} account {aid[s]}"
                         f"{'' if sources else ent} itself has {_families(own[2])} alerts ({_some(list(own[0]))}).")
        reason = " ".join(parts)
        reason = reason[:1].upper() + reason[1:]
        group_rows.append({
            "group": g, "seed_account_id": str(aid[s]),
            "entity_id": (entities.get(s) or {}).get("entity_id"), "entity_name": (entities.get(s) or {}).get("name"),
            "programs": list((entities.get(s) or {}).get("programs") or []),
            "crime_account_ids": sorted(str(aid[c]) for c in crime_codes), "crime_alert_ids": alert_ids,
            "crime_rules": rules, "intermediary_account_ids": [str(aid[a]) for a in inter],
            "path_account_ids": [str(aid[a]) for a in path_ids],
            "path_txn_ids": txn.gather(g_rows).cast(pl.String).to_list() if g_rows else [],
            "min_hops": min(hops, default=0), "max_hops": max(hops, default=0), "total_usd": total[s],
            "first_ts": first_ts, "last_ts": last_ts, "reason": reason,
        })
        # per-account reasons of the group
        for i in sources:
            c = int(conv[i])
            k = int(ptr[i + 1] - ptr[i])
            mid = [str(aid[a]) for a in path_acc[aptr[i] + 1 : aptr[i + 1] - 1].tolist()]
            via = f" via {_some(mid, 4)}" if mid else ""
            a_ids, _, a_dets = alerts_of[c]
            reasons[c] = (ROLE_SOURCE, (
                f"{_families(a_dets).capitalize()} alerts ({_some(list(a_ids))}); sends money to terror-designated "
                f"account {aid[s]}{ent} in {_hops(k, k)}{via}: {_usd(float(prox.first_usd_to[c]))} left on "
                f"{_day(int(ts[rows[ptr[i]]]))}, the smallest transfer on the path was "
                f"{_usd(float(prox.path_usd_to[c]))}, the last reached it on {_day(int(ts[rows[ptr[i + 1] - 1]]))} "
                f"(group {g})."))
        for a in inter:
            srcs = [str(aid[conv[i]]) for i in through.get(a, [])]
            k = int(prox.hops_to[a])
            reasons[a] = (ROLE_INTERMEDIARY, (
                f"Intermediary on the money path from {len(srcs)} crime-alerted account{'s' if len(srcs) > 1 else ''} "
                f"({_some(srcs, 4)}) to terror-designated account {aid[s]}{ent}: forwards it in {_hops(k, k)}, "
                f"{_usd(float(usd[prox.next_row_to[a]]))} on {_day(int(ts[prox.next_row_to[a]]))} (group {g})."))
        if sources:
            src_ids = [str(aid[conv[i]]) for i in sources]
            extra = ""
            if seed_is_crime:
                extra = f" It has {_families(alerts_of[s][2])} alerts itself ({_some(list(alerts_of[s][0]))})."
            reasons[s] = (ROLE_FACILITATOR, (
                f"Terror-designated facilitator account{ent}: {len(sources)} crime-alerted "
                f"account{'s' if len(sources) > 1 else ''} ({_some(src_ids, 4)}) send money to it in "
                f"{_hops(min(hops), max(hops))}; {_usd(total[s])} reached it (group {g}).{extra}"))
        else:
            own = alerts_of[s]
            reasons[s] = (ROLE_FACILITATOR, (
                f"Terror-designated facilitator account{ent} with {_families(own[2])} alerts itself "
                f"({_some(list(own[0]))}) (group {g})."))

    groups = pl.DataFrame(group_rows, schema={
        "group": pl.Int32, "seed_account_id": pl.String, "entity_id": pl.String, "entity_name": pl.String,
        "programs": pl.List(pl.String), "crime_account_ids": pl.List(pl.String), "crime_alert_ids": pl.List(pl.String),
        "crime_rules": pl.List(pl.String), "intermediary_account_ids": pl.List(pl.String),
        "path_account_ids": pl.List(pl.String), "path_txn_ids": pl.List(pl.String), "min_hops": pl.Int32,
        "max_hops": pl.Int32, "total_usd": pl.Float64, "first_ts": pl.Int64, "last_ts": pl.Int64, "reason": pl.String,
    }).with_columns(pl.col("first_ts", "last_ts").cast(pl.Datetime("us", "UTC")))

    acc_rows = []
    for a in sorted(reasons, key=lambda a: (int(group[a]), -int(prox.hops_to[a]), str(aid[a]))):
        role, text = reasons[a]
        al = alerts_of.get(a, ([], [], []))
        acc_rows.append({
            "account_id": str(aid[a]), "group": int(group[a]), "role": role, "crime": a in alerts_of,
            "convergent": a in alerts_of, "hops_to": int(prox.hops_to[a]),
            "seed_account_id": str(aid[prox.seed_to[a]]), "alert_ids": list(al[0]), "rules": list(al[1]),
            "reason": text,
        })
    accounts = pl.DataFrame(acc_rows, schema={
        "account_id": pl.String, "group": pl.Int32, "role": pl.String, "crime": pl.Boolean, "convergent": pl.Boolean,
        "hops_to": pl.Int8, "seed_account_id": pl.String, "alert_ids": pl.List(pl.String), "rules": pl.List(pl.String),
        "reason": pl.String,
    })
    return groups, accounts
