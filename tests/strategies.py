"""Hypothesis strategies for small random ledgers (transactions + accounts frames).

Made to hit the edges of the detector rules often: few accounts and persons (so counterparties
repeat), timestamps on a coarse grid (6 h steps, every window length of the rules is a multiple of
it, so ties and exact window boundaries are common; sometimes one microsecond either side), amounts
drawn around the thresholds (exactly 10,000.00 and 10,000.01, the band edge 8,000.00, record-keeping
3,000.00, ratio edges) as well as arbitrary cents, conductors (owner, third party, none), rows in
random order (never sorted by time), and random detector parameters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import polars as pl
from hypothesis import strategies as st

from nexusfin.detect.config import MovementConfig

BASE = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, 00:00 UTC
GRID = timedelta(hours=6)
AREAS = ("US-TX-78040", "US-TX-78041", "US-CA-92173", "MX-BCN-22000")
COUNTRIES = ("US", "MX")

# amounts around every threshold the rules use (USD, whole cents)
EDGE_AMOUNTS = (
    10000.00, 10000.01, 9999.99, 9500.00, 8000.00, 7999.99, 5000.00, 5000.01, 4999.99, 4000.00, 3000.00,
    2999.99, 2500.00, 2000.00, 1000.00, 999.99, 200.00, 200.01, 150.00,
)
BAND_AMOUNTS = (10000.00, 10000.01, 9999.99, 9500.00, 9000.00, 8000.01, 8000.00, 7999.99, 4000.00, 10500.00,
                12000.00, 12000.01)
TRANSFER_AMOUNTS = (
    10000.00, 8000.00, 7000.00, 5000.00, 4800.00, 4000.00, 3500.00, 3000.00, 2999.99, 2400.00, 2000.00,
    1000.00, 999.99,
    3000.05, 4097.10,  # 0.8 * 3000.05 and 0.7 * 4097.10 in binary floating point overshoot the exact cents
)

TXN_TABLE_SCHEMA = {
    "txn_id": pl.String, "ts": pl.Datetime("us", "UTC"), "src_account": pl.String, "dst_account": pl.String,
    "amount_usd": pl.Float64, "channel": pl.String, "txn_type": pl.String, "src_country": pl.String,
    "dst_country": pl.String, "location": pl.String, "conducted_by": pl.String,
}
ACCOUNT_SCHEMA = {"account_id": pl.String, "owner_party_id": pl.String, "account_type": pl.String,
                  "country": pl.String, "home_location": pl.String}


def frames(rows: list[dict], accounts: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Transactions and accounts frames from row dicts (missing columns are null)."""
    tx = pl.DataFrame([{c: r.get(c) for c in TXN_TABLE_SCHEMA} for r in rows], schema=TXN_TABLE_SCHEMA, orient="row") \
        if rows else pl.DataFrame(schema=TXN_TABLE_SCHEMA)
    acc = pl.DataFrame([{c: a.get(c) for c in ACCOUNT_SCHEMA} for a in accounts], schema=ACCOUNT_SCHEMA, orient="row")
    return tx, acc


def describe(tx: pl.DataFrame, acc: pl.DataFrame) -> str:
    """A compact listing of a drawn world, for failure reports (hypothesis.note)."""
    lines = [f"{a['account_id']} owner={a['owner_party_id']} {a['account_type']} {a['country']} "
             f"home={a['home_location']}" for a in acc.iter_rows(named=True)]
    for r in tx.iter_rows(named=True):
        lines.append(
            f"{r['txn_id']} {r['ts']:%a %d %H:%M:%S.%f} {r['src_account']}->{r['dst_account']} {r['amount_usd']:.2f} "
            f"{r['channel']}/{r['txn_type']} {r['src_country']}->{r['dst_country']} loc={r['location']} "
            f"by={r['conducted_by']}")
    return "\n".join(lines)


def cents(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.integers(round(lo * 100), round(hi * 100)).map(lambda c: c / 100)


def amounts(edges: tuple[float, ...] = EDGE_AMOUNTS, lo: float = 100.0, hi: float = 12000.0):
    return st.one_of(st.sampled_from(edges), cents(lo, hi))


@st.composite
def timestamps(draw, days: int = 12) -> datetime:
    t = BASE + GRID * draw(st.integers(0, days * 4))
    jitter = draw(st.sampled_from((0, 0, 0, 0, 0, 0, 1, -1)))
    return t + timedelta(microseconds=jitter)


RATIOS = (0.5, 0.7, 0.75, 0.8, 0.9, 1.0, 1.2, 1.25)  # out / in of forwarded amounts (rule edges)


def _transfer(src: str, dst: str, ts: datetime, usd: float, country: dict, channel: str = "wire",
              ttype: str = "transfer") -> dict:
    return {"ts": ts, "amount_usd": usd, "src_account": src, "dst_account": dst, "channel": channel,
            "txn_type": ttype, "src_country": country[src], "dst_country": country[dst]}


@st.composite
def _motif(draw, ids: list[str], country: dict, days: int, kinds: tuple[str, ...],
           conductors: tuple[str | None, ...] = (None,)) -> list[dict]:
    """A typology-shaped group of rows (fan-in, fan-out, chain, cycle, scatter-gather, funnel) with
    random delays on the grid and forwarded amounts at the ratio edges, so the rules fire (or just
    fail to) often."""
    kind = draw(st.sampled_from(kinds))
    t0 = BASE + GRID * draw(st.integers(0, days * 4))

    def later(t: datetime) -> datetime:
        return t + GRID * draw(st.integers(0, 8)) + timedelta(microseconds=draw(st.sampled_from((0, 0, 0, 1, -1))))

    ratios = draw(st.sampled_from((RATIOS, (0.8, 0.9, 1.0))))  # edges, or a clean pass-through

    def fwd(usd: float) -> float:
        return round(usd * draw(st.sampled_from(ratios)), 2)

    amount = amounts(TRANSFER_AMOUNTS, 900.0, 11000.0)
    rows = []
    if kind in ("structuring", "smurfing"):  # cash deposits just below the threshold over a few days
        hub = draw(st.sampled_from(ids))
        t = t0
        for _ in range(draw(st.integers(2, 5))):
            t = t + timedelta(hours=draw(st.sampled_from((0, 6, 18, 24, 24, 48, 72))))
            rows.append({"ts": t, "amount_usd": draw(st.sampled_from(BAND_AMOUNTS) if kind == "structuring" else amounts()),
                         "src_account": None, "dst_account": hub, "channel": "cash", "txn_type": "deposit",
                         "dst_country": country[hub], "location": f"{draw(st.sampled_from(AREAS))}:B03-BR0042",
                         "conducted_by": draw(st.sampled_from(conductors))})
        return rows
    if kind == "funnel":  # cash in at several places, out elsewhere (cash or transfers)
        hub = draw(st.sampled_from(ids))
        t, total = t0, 0.0
        for _ in range(draw(st.integers(1, 5))):
            t = later(t) if draw(st.booleans()) else t
            usd = draw(amounts())
            total += usd
            rows.append({"ts": t, "amount_usd": usd, "src_account": None, "dst_account": hub, "channel": "cash",
                         "txn_type": "deposit", "dst_country": country[hub],
                         "location": f"{draw(st.sampled_from(AREAS))}:B03-BR0042"})
        for _ in range(draw(st.integers(0, 3))):
            usd = round(fwd(total) / draw(st.sampled_from((1, 2, 3))), 2)
            if draw(st.booleans()):
                rows.append({"ts": later(t), "amount_usd": usd, "src_account": hub, "dst_account": None,
                             "channel": "cash", "txn_type": "withdrawal", "src_country": country[hub],
                             "location": f"{draw(st.sampled_from(AREAS))}:B01-BR0007"})
            else:
                dst = draw(st.sampled_from([a for a in ids if a != hub] or ids))
                rows.append(_transfer(hub, dst, later(t), usd, country,
                                      channel=draw(st.sampled_from(("wire", "ach")))))
                rows[-1]["dst_country"] = draw(st.sampled_from((country[dst], "MX", "US")))
        return rows
    if kind in ("fan_in", "fan_out", "scatter_gather"):
        hub = draw(st.sampled_from(ids))
        others = [a for a in ids if a != hub]
        k = draw(st.integers(min(2, len(others)), len(others)))
        peers = draw(st.permutations(others))[:k]
        coll = draw(st.sampled_from(ids))
        t = t0
        total = 0.0
        for peer in peers:
            t = later(t) if draw(st.booleans()) else t
            usd = draw(amount)
            total += usd
            if kind == "fan_out":
                rows.append(_transfer(hub, peer, t, usd, country))
            elif kind == "fan_in":
                rows.append(_transfer(peer, hub, t, usd, country))
            else:  # hub is the origin, peers the intermediaries, each forwarding to one collector
                rows.append(_transfer(hub, peer, t, usd, country))
                if coll != peer:
                    rows.append(_transfer(peer, coll, later(t), fwd(usd), country))
        if kind == "fan_in":  # forward most of it, to one or several accounts, or as cash
            for _ in range(draw(st.integers(0, 3))):
                dst = draw(st.sampled_from([*others, None]))
                usd = round(fwd(total) / draw(st.sampled_from((1, 2, 3))), 2)
                if dst is None:
                    rows.append({"ts": later(t), "amount_usd": usd, "src_account": hub, "dst_account": None,
                                 "channel": "cash", "txn_type": "withdrawal", "src_country": country[hub],
                                 "location": f"{draw(st.sampled_from(AREAS))}:B01-BR0007"})
                else:
                    rows.append(_transfer(hub, dst, later(t), usd, country))
        if kind == "fan_out":  # funded just before
            for _ in range(draw(st.integers(0, 2))):
                usd = round(fwd(total), 2)
                rows.append(_transfer(draw(st.sampled_from(others)), hub, t0 - GRID * draw(st.integers(0, 9)), usd,
                                      country))
    else:
        n = draw(st.integers(2, min(5, len(ids))))
        path = draw(st.permutations(ids))[:n]
        if kind == "cycle":
            path = [*path, path[0]]
        t, usd = t0, draw(amount)
        for a, b in pairwise(path):
            rows.append(_transfer(a, b, t, usd, country, channel=draw(st.sampled_from(("wire", "ach", "internal")))))
            t, usd = later(t), fwd(usd)
    return rows


@st.composite
def ledgers(
    draw,
    *,
    kinds: tuple[str, ...] = ("deposit", "deposit", "withdrawal", "transfer"),
    max_rows: int = 24,
    n_accounts: tuple[int, int] = (2, 6),
    n_parties: tuple[int, int] = (2, 4),
    days: int = 12,
    amount: st.SearchStrategy[float] | None = None,
    account_types: tuple[str, ...] = ("checking", "checking", "business", "savings", "msb", "exchange"),
    motifs: tuple[int, int] = (0, 0),
    motif_kinds: tuple[str, ...] = ("fan_in", "fan_out", "chain", "cycle", "scatter_gather"),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A random small world: accounts (owned by a few persons; a few extra persons only conduct
    deposits) and transactions of the given kinds plus ``motifs`` (min, max) typology-shaped groups, in
    random order. One account (the first) takes a bigger share of the rows, so windows fill up."""
    amount = amount if amount is not None else amounts()
    n_p = draw(st.integers(*n_parties))
    owners = [f"P{i}" for i in range(n_p)]
    persons = [*owners, "Q0", "Q1"]  # Q*: own no account, only conduct deposits for others
    n_a = draw(st.integers(*n_accounts))
    accounts = []
    for i in range(n_a):
        accounts.append({
            "account_id": f"A{i}", "owner_party_id": owners[i % n_p] if i < n_p else draw(st.sampled_from(owners)),
            "account_type": draw(st.sampled_from(account_types)), "country": draw(st.sampled_from(("US", "US", "MX"))),
            "home_location": draw(st.sampled_from((None, *(f"{x}:B03-BR0042" for x in AREAS)))),
        })
    ids = [a["account_id"] for a in accounts]
    hub_biased = st.sampled_from([ids[0]] * len(ids) + ids)
    country = {a["account_id"]: a["country"] for a in accounts}
    owner = {a["account_id"]: a["owner_party_id"] for a in accounts}
    rows = []
    for _ in range(draw(st.integers(0, max_rows))):
        kind = draw(st.sampled_from(kinds))
        area = draw(st.sampled_from(AREAS))
        location = draw(st.sampled_from((f"{area}:B03-BR0042", f"{area}:B01-BR0007", area, None)))
        row = {"ts": draw(timestamps(days)), "amount_usd": draw(amount)}
        if kind == "deposit":
            dst = draw(hub_biased)
            cond = draw(st.sampled_from((None, owner[dst], owner[dst], *persons)))
            row.update(src_account=None, dst_account=dst, channel="cash", txn_type="deposit",
                       src_country=None, dst_country=country[dst], location=location, conducted_by=cond)
        elif kind == "withdrawal":
            src = draw(hub_biased)
            row.update(src_account=src, dst_account=None, channel="cash", txn_type="withdrawal",
                       src_country=country[src], dst_country=None, location=location, conducted_by=None)
        else:
            src = draw(hub_biased)
            dst = draw(st.sampled_from([a for a in ids if a != src]))
            channel = draw(st.sampled_from(("wire", "ach", "internal", "wire", "crypto")))
            ttype = draw(st.sampled_from(("transfer", "transfer", "transfer", "remittance", "payment", "payroll")))
            row.update(src_account=src, dst_account=dst, channel=channel, txn_type=ttype,
                       src_country=draw(st.sampled_from((country[src], country[src], None))),
                       dst_country=draw(st.sampled_from((country[dst], country[dst], "MX", None))),
                       location=None, conducted_by=None)
        rows.append(row)
    for _ in range(draw(st.integers(*motifs))):
        rows.extend(draw(_motif(ids, country, days, motif_kinds, (None, *persons))))
    rows = draw(st.permutations(rows))  # never in time order
    for k, row in enumerate(rows):
        row["txn_id"] = f"T{k:03d}"
    return frames(rows, accounts)


# ledgers shaped for each family
def cash_ledgers(**kw):
    kw.setdefault("motifs", (0, 2))
    return ledgers(kinds=("deposit",) * 6 + ("withdrawal",), motif_kinds=("structuring", "smurfing"), **kw)


def funnel_ledgers(**kw):
    kw.setdefault("motifs", (1, 2))
    return ledgers(kinds=("deposit", "deposit", "withdrawal", "transfer"), motif_kinds=("funnel",), **kw)


def movement_ledgers(**kw):
    kw.setdefault("amount", amounts(TRANSFER_AMOUNTS, 500.0, 11000.0))
    kw.setdefault("motifs", (1, 3))
    kw.setdefault("max_rows", 12)
    kw.setdefault("account_types", ("checking", "checking", "business", "savings", "exchange"))
    return ledgers(kinds=("transfer",) * 6 + ("deposit", "withdrawal"), **kw)


# random detector parameters (each a small set that includes the defaults), as overrides for
# ``DetectorConfig.replace(**overrides)`` (so a failing example prints short)


@st.composite
def structuring_configs(draw):
    return {"structuring": {
        "window_days": draw(st.sampled_from((7, 7, 2, 1))),
        "min_daily_deposits": draw(st.sampled_from((2, 2, 3))),
        "min_band_deposits": draw(st.sampled_from((3, 2, 2))),
        "max_above_share": draw(st.sampled_from((0.0, 0.0, 0.5))),
        "min_band_share": draw(st.sampled_from((0.5, 0.5, 0.75, 1.0, 0.25))),
        "smurfing_window_days": draw(st.sampled_from((7, 1, 0.5))),
        "smurfing_min_conductors": draw(st.sampled_from((3, 2, 2))),
        "smurfing_min_total_usd": draw(st.sampled_from((3000.0, 10000.0, 15000.0))),
    }}


@st.composite
def funnel_configs(draw):
    return {"funnel": {
        "window_days": draw(st.sampled_from((10, 1, 2))),
        "min_areas": draw(st.sampled_from((3, 2, 2))),
        "min_cash_in_usd": draw(st.sampled_from((10000.0, 5000.0, 15000.0))),
        "out_window_hours": draw(st.sampled_from((72, 24, 12))),
        "min_out_ratio": draw(st.sampled_from((0.5, 0.8, 0.25))),
    }}


@st.composite
def movement_configs(draw):
    return {"movement": {
        "fiat_only": draw(st.booleans()),
        "excluded_txn_types": draw(st.sampled_from((MovementConfig.excluded_txn_types, ()))),
        "min_amount_usd": draw(st.sampled_from((3000.0, 1000.0))),
        "pass_through_hours": draw(st.sampled_from((24, 12, 48))),
        "ratio_low": draw(st.sampled_from((0.8, 0.5))),
        "ratio_high": draw(st.sampled_from((1.0, 1.2))),
        "chain_link_hours": draw(st.sampled_from((48, 24))),
        "chain_min_links": draw(st.sampled_from((2, 1))),
        "chain_max_links": draw(st.sampled_from((12, 2))),
        "cycle_min_length": draw(st.sampled_from((2, 3))),
        "fan_window_hours": draw(st.sampled_from((96, 24))),
        "fan_min_degree": draw(st.sampled_from((5, 2, 3))),
        "fan_min_amount_usd": draw(st.sampled_from((1000.0, 2000.0))),
        "fan_forward_hours": draw(st.sampled_from((48, 24))),
        "fan_forward_ratio": draw(st.sampled_from((0.7, 0.5))),
        "fan_forward_ratio_max": draw(st.sampled_from((1.2, 1.0, 5.0))),
        "fan_out_funding_hours": draw(st.sampled_from((48, 24))),
        "fan_out_funding_ratio": draw(st.sampled_from((0.7, 0.5))),
        "gather_scatter_window_hours": draw(st.sampled_from((168, 48))),
        "gather_scatter_min_in": draw(st.sampled_from((3, 2))),
        "gather_scatter_min_out": draw(st.sampled_from((2, 1, 3))),
        "scatter_gather_min_intermediaries": draw(st.sampled_from((3, 2))),
    }}
