"""Turn kernel hits into detector alerts (``schemas/detector_alerts.yaml``): ids, parameters,
observed values, strength, evidence transaction ids, paths and a sentence an analyst can check."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

import numpy as np
import polars as pl

from nexusfin.contracts import contract
from nexusfin.detect.hits import SUBJECT_PERSON, Hits
from nexusfin.detect.ledger import DAY_US, Ledger

FAMILY_OF_RULE = {
    "structuring.daily": "structuring",
    "structuring.window": "structuring",
    "structuring.targeting_order": "structuring",
    "structuring.smurfing": "structuring",
    "funnel.multi_location": "funnel",
    "movement.pass_through": "rapid_movement",
    "movement.chain": "rapid_movement",
    "movement.cycle": "rapid_movement",
    "movement.fan_in": "rapid_movement",
    "movement.fan_out": "rapid_movement",
    "movement.gather_scatter": "rapid_movement",
    "movement.scatter_gather": "rapid_movement",
    "crypto.peel_chain": "crypto",
    "crypto.mixer_exposure": "crypto",
    "crypto.bridge_exposure": "crypto",
    "crypto.chain_hop": "crypto",
    "crypto.cash_out": "crypto",
    "crypto.on_ramp": "crypto",
}
PATH_RULES = {"movement.chain", "movement.cycle", "crypto.peel_chain", "crypto.chain_hop", "crypto.mixer_exposure",
              "crypto.bridge_exposure"}

ALERTS = contract("detector_alerts")


def _usd(x: float) -> str:
    return f"{x:,.2f} USD"


def _n(x: float) -> str:
    return f"{round(x):,}"


# how far past its thresholds each rule fired, squashed to 0..1 (a ranking aid, not a probability)
_STRENGTH: dict[str, Callable[[dict], float]] = {
    "structuring.daily": lambda v: 1 - math.exp(-(v["total_usd"] / v["threshold_usd"] - 1) - 0.15 * v["n_deposits"]),
    "structuring.targeting_order": lambda v: 1 - math.exp(-(v["total_usd"] / v["threshold_usd"] - 1)),
    "structuring.window": lambda v: 1 - math.exp(-(v["band_total_usd"] / v["threshold_usd"] - 1) - v["band_share"]),
    "structuring.smurfing": lambda v: 1 - math.exp(-0.25 * v["n_conductors"]),
    "funnel.multi_location": lambda v: 1 - math.exp(-0.3 * v["n_areas"] - v["out_ratio"]),
    "movement.pass_through": lambda v: 1 - math.exp(-3 * v["ratio"] - 24 / max(v["hours"], 0.5) / 8),
    "movement.chain": lambda v: 1 - math.exp(-0.5 * v["links"]),
    "movement.cycle": lambda v: 1 - math.exp(-0.5 * v["length"] - v["returned_ratio"]),
    "movement.fan_in": lambda v: 1 - math.exp(-0.15 * v["degree"] - v["forward_ratio"]),
    "movement.fan_out": lambda v: 1 - math.exp(-0.15 * v["degree"] - v["funding_ratio"]),
    "movement.gather_scatter": lambda v: 1 - math.exp(-0.15 * (v["in_degree"] + v["out_degree"]) - v["out_ratio"]),
    "movement.scatter_gather": lambda v: 1 - math.exp(-0.3 * v["intermediaries"]),
    "crypto.peel_chain": lambda v: 1 - math.exp(-0.3 * v["hops"]),
    "crypto.mixer_exposure": lambda v: math.exp(-0.5 * (v["hops"] - 1)) * (1 - math.exp(-v["usd"] / 10000)),
    "crypto.bridge_exposure": lambda v: math.exp(-0.5 * (v["hops"] - 1)) * (1 - math.exp(-v["usd"] / 10000)),
    "crypto.chain_hop": lambda v: 1 - math.exp(-0.5 * v["hops"]),
    "crypto.cash_out": lambda v: 1 - math.exp(-v["out_ratio"] - 24 / max(v["hours"], 1) / 4),
    "crypto.on_ramp": lambda v: 1 - math.exp(-v["cash_ratio"] - 0.2 * v["n_cash_deposits"]),
}

_EXPLAIN: dict[str, Callable[[dict], str]] = {
    "structuring.daily": lambda v: (
        f"{_n(v['n_deposits'])} cash deposits, none above the {_usd(v['threshold_usd'])} threshold, totalled "
        f"{_usd(v['total_usd'])} on one business day across {_n(v['n_accounts'])} account(s) and "
        f"{_n(v['n_locations'])} location(s); the largest was {_usd(v['max_usd'])}."),
    "structuring.targeting_order": lambda v: (
        f"{_n(v['n_deposits'])} cash deposits in targeting-order areas, none above the order's "
        f"{_usd(v['threshold_usd'])}, totalled {_usd(v['total_usd'])} on one day."),
    "structuring.window": lambda v: (
        f"{_n(v['n_band_deposits'])} cash deposits just below the {_usd(v['threshold_usd'])} threshold over "
        f"{_n(v['n_days'])} days totalled {_usd(v['band_total_usd'])} ({v['band_share']:.0%} of all the person's "
        f"cash deposits in the window, none just above the threshold) into {_n(v['n_accounts'])} account(s)."),
    "structuring.smurfing": lambda v: (
        f"{_n(v['n_conductors'])} different third parties made {_n(v['n_deposits'])} cash deposits "
        f"(largest {_usd(v['max_usd'])}) totalling {_usd(v['total_usd'])} into this account."),
    "funnel.multi_location": lambda v: (
        f"Cash deposits of {_usd(v['cash_in_usd'])} in {_n(v['n_areas'])} different areas were followed within "
        f"{v['hours_to_out']:.1f} h by {_usd(v['out_usd'])} withdrawn or wired from another area or country "
        f"({v['out_ratio']:.0%})."),
    "movement.pass_through": lambda v: (
        f"{_usd(v['in_usd'])} received and {_usd(v['out_usd'])} ({v['ratio']:.0%}) sent on {v['hours']:.1f} h later."),
    "movement.chain": lambda v: (
        f"{_usd(v['start_usd'])} passed through {_n(v['links'])} accounts in a row within {v['hours']:.1f} h, "
        f"{_usd(v['end_usd'])} arriving at the end ({v['kept_ratio']:.0%})."),
    "movement.cycle": lambda v: (
        f"Money left this account and came back after {_n(v['length'])} transfers in {v['hours']:.1f} h "
        f"({v['returned_ratio']:.0%} of it returned)."),
    "movement.fan_in": lambda v: (
        f"{_n(v['degree'])} different senders paid in {_usd(v['in_usd'])} within {v['window_hours']:.0f} h; "
        f"{_usd(v['forward_usd'])} ({v['forward_ratio']:.0%}) was sent on within {v['forward_hours']:.0f} h."),
    "movement.fan_out": lambda v: (
        f"{_usd(v['out_usd'])} was paid out to {_n(v['degree'])} different recipients within "
        f"{v['window_hours']:.0f} h, right after {_usd(v['funding_usd'])} came in ({v['funding_ratio']:.0%} covered)."),
    "movement.gather_scatter": lambda v: (
        f"{_n(v['in_degree'])} senders paid in {_usd(v['in_usd'])}, then {_n(v['out_degree'])} recipients were paid "
        f"{_usd(v['out_usd'])} ({v['out_ratio']:.0%})."),
    "movement.scatter_gather": lambda v: (
        f"{_usd(v['scatter_usd'])} was split across {_n(v['intermediaries'])} intermediaries and "
        f"{_usd(v['gather_usd'])} gathered again by one account within {v['hours']:.1f} h."),
    "crypto.peel_chain": lambda v: (
        f"{_usd(v['start_usd'])} moved along {_n(v['hops'])} fresh wallets, each peeling a small amount "
        f"({_usd(v['peeled_usd'])} in all) and forwarding the rest within {v['hours']:.1f} h."),
    "crypto.mixer_exposure": lambda v: (
        f"{_usd(v['usd'])} is {_n(v['hops'])} hop(s) from a mixer ({'received from' if v['direction'] > 0 else 'sent to'} it)."),
    "crypto.bridge_exposure": lambda v: (
        f"{_usd(v['usd'])} is {_n(v['hops'])} hop(s) from a bridge."),
    "crypto.chain_hop": lambda v: (
        f"{_usd(v['start_usd'])} hopped across {_n(v['n_chains'])} chains through bridges {_n(v['hops'])} times in "
        f"{v['hours']:.1f} h between wallets of the same owner."),
    "crypto.cash_out": lambda v: (
        f"An exchange sale paid in {_usd(v['in_usd'])}; {_usd(v['out_usd'])} ({v['out_ratio']:.0%}) left as cash or "
        f"wires within {v['hours']:.1f} h."),
    "crypto.on_ramp": lambda v: (
        f"{_n(v['n_cash_deposits'])} cash deposits of {_usd(v['cash_usd'])} were followed within {v['hours']:.1f} h "
        f"by a {_usd(v['buy_usd'])} crypto purchase ({v['cash_ratio']:.0%} covered by the cash)."),
}


def _path_nodes(ledger: Ledger, rows: np.ndarray) -> list[int]:
    """Accounts along a path of transfers (a node is repeated only if the money really returns)."""
    nodes: list[int] = []
    for r in rows:
        s, d = int(ledger.src[r]), int(ledger.dst[r])
        if s >= 0 and (not nodes or nodes[-1] != s):
            nodes.append(s)
        if d >= 0:
            nodes.append(d)
    return nodes


def _alert_id(rule: str, subject: str, txn_ids: list[str]) -> str:
    h = hashlib.sha256("|".join([rule, subject, *sorted(txn_ids)]).encode()).hexdigest()
    return f"DA-{h[:20]}"


def _evidence_positions(hits: Hits) -> tuple[np.ndarray, np.ndarray]:
    lengths = (hits.ev_hi - hits.ev_lo).astype(np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    pos = np.repeat(hits.ev_lo - offsets[:-1], lengths) + np.arange(offsets[-1])
    return offsets, hits.ev[pos] if len(pos) else np.zeros(0, dtype=np.int32)


def hits_to_alerts(ledger: Ledger, hits: Hits, params: dict, config_version: str,
                   day: date | None = None) -> pl.DataFrame:
    """One alert row per hit, following the detector_alerts contract; with ``day``, only the hits
    whose last evidence transaction falls on that UTC day (a partition's own alerts)."""
    if len(hits) == 0:
        return ALERTS.empty()
    rule = hits.rule
    offsets, rows = _evidence_positions(hits)
    txn_ids = ledger.txn_ids.gather(rows).to_list()
    usd = ledger.usd[rows]
    is_path = rule in PATH_RULES
    params_json = json.dumps({**params, **(hits.rule_params or {})}, sort_keys=True, default=str)
    out: dict[str, list] = {c: [] for c in ALERTS.names}
    keep = range(len(hits))
    if day is not None:
        day_no = (date(day.year, day.month, day.day) - date(1970, 1, 1)).days
        last = np.maximum.reduceat(ledger.ts[rows], offsets[:-1]) // DAY_US if len(rows) else np.zeros(0)
        keep = np.flatnonzero(last == day_no)
    for h in keep:
        lo, hi = int(offsets[h]), int(offsets[h + 1])
        ev_rows = rows[lo:hi]
        ids = txn_ids[lo:hi]
        if not is_path:  # time order (stable: kernels emit ties in ledger order)
            order = np.argsort(ledger.ts[ev_rows], kind="stable")
            ev_rows, ids = ev_rows[order], [ids[i] for i in order]
        values = {name: float(hits.values[h, i]) for i, name in enumerate(hits.value_names)}
        subj = int(hits.subject[h])
        if hits.subject_kind == SUBJECT_PERSON:
            touched = np.concatenate([ledger.dst[ev_rows], ledger.src[ev_rows]])
            touched = touched[touched >= 0]
            mine = touched[ledger.acct_owner[touched] == subj]
            acct = int(np.bincount(mine).argmax()) if len(mine) else int(touched[0])
            party = str(ledger.party_ids[subj])
        else:
            acct = subj
            party = str(ledger.party_ids[ledger.acct_owner[acct]])
        account_id = str(ledger.account_ids[acct])
        path = None
        if is_path and len(ev_rows):
            n_path = int(hits.path_n[h]) if hits.path_n is not None else len(ev_rows)
            path = [str(ledger.account_ids[a]) for a in _path_nodes(ledger, ev_rows[:n_path])]
        out["alert_id"].append(_alert_id(rule, f"{hits.subject_kind}:{party}:{account_id}", ids))
        out["detector"].append(FAMILY_OF_RULE[rule])
        out["rule"].append(rule)
        out["params"].append(params_json)
        out["config_version"].append(config_version)
        strength = _STRENGTH.get(rule, lambda v: 0.5)(values)
        out["strength"].append(float(min(1.0, max(0.0, strength))))
        out["subject_kind"].append("person" if hits.subject_kind == SUBJECT_PERSON else "account")
        out["account_id"].append(account_id)
        out["party_id"].append(party)
        t0, t1 = int(ledger.ts[ev_rows].min()), int(ledger.ts[ev_rows].max())
        out["start_ts"].append(datetime.fromtimestamp(t0 / 1e6, tz=UTC))
        out["end_ts"].append(datetime.fromtimestamp(t1 / 1e6, tz=UTC))
        out["detected_on"].append(datetime.fromtimestamp(t1 / 1e6, tz=UTC).date())
        out["observed"].append(json.dumps({k: round(v, 4) for k, v in values.items()}, sort_keys=True))
        out["total_usd"].append(float(usd[lo:hi].sum()))
        out["n_evidence"].append(hi - lo)
        out["evidence_txn_ids"].append(ids)
        out["path_accounts"].append(path)
        out["explanation"].append(_EXPLAIN[rule](values))
    return pl.DataFrame(out, schema=ALERTS.polars_schema())


def alerts_frame(ledger: Ledger, all_hits: Iterable[Hits], params_of: Callable[[str], dict],
                 config_version: str, day: date | None = None) -> pl.DataFrame:
    frames = [hits_to_alerts(ledger, h, params_of(h.rule), config_version, day) for h in all_hits]
    frames = [f for f in frames if len(f)]
    if not frames:
        return ALERTS.empty()
    return pl.concat(frames).unique("alert_id", keep="first", maintain_order=True)
