"""IBM AMLSim output folder: ``transactions.csv``, ``accounts.csv``, ``alert_accounts.csv`` and,
optionally, ``alert_transactions.csv``.

Mapping decisions
- txn_id = tran_id, account_id = acct_id, one party ``P-<acct_id>`` per account (AMLSim has one
  customer per account: first/last name, address, SSN, birth date). type ``I`` is a person,
  anything else an organization. Currency = the originator account's acct_rptng_crncy.
- tx_type → channel/txn_type: TRANSFER→ach/transfer, WIRE→wire/transfer, CHECK→check/transfer,
  CREDIT/PAYMENT/CARD→card/payment, CASH-IN/DEPOSIT→cash deposit (src null, the orig_acct's
  party as conducted_by when it is another account), CASH-OUT/WITHDRAWAL→cash withdrawal.
  Cash rows get location ``<account country>-ZZ-UNKNOWN:<bank>-BR<branch>``.
- opened_date = open_dt (first transaction date when empty); closed_date = close_dt only when
  it falls inside the simulated period (AMLSim writes far-future close dates for open accounts).
- Truth: rows with alert_id >= 0 belong to scenario ``amlsim-alert-<alert_id>``. is_sar True →
  suspicious, typology = alert_type (fan_in, fan_out, cycle, scatter_gather, gather_scatter,
  bipartite, stack, random; anything else ``other``). is_sar False → a typology-shaped decoy:
  scenario typology ``hard_negative``, label hard_negative, the alert_type kept in params and
  roles. Alert members from alert_accounts.csv are labeled (role from the money flows, or
  counterparty); is_sar rows with alert_id -1 go to scenario ``amlsim-unattributed``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from nexusfin.contracts import fx_usd_per_unit, vocabulary

from ._common import (
    CsvFile,
    PublicFormatError,
    Rejects,
    RowProblem,
    TimestampParser,
    country_code,
    known_currencies,
    location_code,
    parse_date,
    parse_flag,
    parse_int,
    parse_number,
    safe_id,
)
from ._output import ImportReport, Output, frame
from ._truth import TruthBuilder, account_roles

TX_COLUMNS = [
    "tran_id",
    "orig_acct",
    "bene_acct",
    "tx_type",
    "base_amt",
    "tran_timestamp",
    "is_sar",
    "alert_id",
]
ACCOUNT_COLUMNS = [
    "acct_id", "dsply_nm", "type", "acct_stat", "acct_rptng_crncy", "prior_sar_count", "branch_id",
    "open_dt", "close_dt", "initial_deposit", "tx_behavior_id", "bank_id", "first_name", "last_name",
    "street_addr", "city", "state", "country", "zip", "gender", "birth_date", "ssn", "lon", "lat",
]  # fmt: skip
ALERT_ACCOUNT_COLUMNS = ["alert_id", "alert_type", "acct_id", "is_sar"]
ALERT_TX_COLUMNS = ["alert_id", "alert_type", "is_sar", "tran_id"]

TX_TYPES = {
    "TRANSFER": ("ach", "transfer"),
    "WIRE": ("wire", "transfer"),
    "CHECK": ("check", "transfer"),
    "CHEQUE": ("check", "transfer"),
    "CREDIT": ("card", "payment"),
    "PAYMENT": ("card", "payment"),
    "CARD": ("card", "payment"),
    "CASH-IN": ("cash", "deposit"),
    "CASH_IN": ("cash", "deposit"),
    "DEPOSIT": ("cash", "deposit"),
    "CASH-OUT": ("cash", "withdrawal"),
    "CASH_OUT": ("cash", "withdrawal"),
    "WITHDRAWAL": ("cash", "withdrawal"),
}
TYPOLOGIES = {
    "fan_in", "fan_out", "cycle", "scatter_gather", "gather_scatter", "bipartite", "stack", "random",
}  # fmt: skip


def _file(folder: Path, name: str, required: bool) -> Path | None:
    for p in folder.iterdir():
        if p.is_file() and p.name.lower() == name:
            return p
    if required:
        raise PublicFormatError(folder / name, None, f"AMLSim folder {folder} has no {name}")
    return None


def _timestamps() -> TimestampParser:
    return TimestampParser(
        [
            "%Y-%m-%dT%H:%M:%SZ",
            "%Y-%m-%dT%H:%M:%S%z",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d",
            "%Y%m%d",
        ],
        "tran_timestamp",
        "2017-01-01T00:00:00Z",
    )


def run(path: Path, out: Path, report: ImportReport, rejects: Rejects, progress) -> Output:
    folder = path if path.is_dir() else path.parent
    tx_file = _file(folder, "transactions.csv", True)
    acct_file = _file(folder, "accounts.csv", True)
    aa_file = _file(folder, "alert_accounts.csv", False)
    at_file = _file(folder, "alert_transactions.csv", False)
    inputs = [p for p in (tx_file, acct_file, aa_file, at_file) if p is not None]
    report.inputs = [str(p) for p in inputs]
    if aa_file is None:
        report.notes.append(
            "no alert_accounts.csv: alert typologies from alert_transactions.csv or 'other'"
        )
    currencies, countries = known_currencies(), vocabulary("iso3166_alpha2")

    # -- accounts ----------------------------------------------------------------------------
    acsv = CsvFile(acct_file, rejects, required=ACCOUNT_COLUMNS)
    accts: dict[str, dict] = {}
    for line, f in acsv:
        g = lambda c, f=f: acsv.col(f, c)  # noqa: E731
        try:
            aid = g("acct_id")
            if not aid:
                raise RowProblem("acct_id is empty")
            if aid in accts:
                raise RowProblem(f"acct_id {aid!r} already listed on line {accts[aid]['line']}")
            ccy = g("acct_rptng_crncy").upper() or "USD"
            if ccy not in currencies:
                raise RowProblem(
                    f"acct_rptng_crncy {g('acct_rptng_crncy')!r} is not an ISO 4217 currency"
                )
            cc = country_code(g("country")) if g("country") else None
            if cc is None:
                raise RowProblem(
                    f"country {g('country')!r} is not an ISO 3166 code or country name"
                )
            opened = parse_date(g("open_dt"), "open_dt") if g("open_dt") else None
            closed = parse_date(g("close_dt"), "close_dt") if g("close_dt") else None
            birth = parse_date(g("birth_date"), "birth_date") if g("birth_date") else None
        except RowProblem as p:
            rejects(PublicFormatError(acct_file, line, str(p)), ",".join(f))
            continue
        name = f"{g('first_name')} {g('last_name')}".strip() or g("dsply_nm") or aid
        addr = ", ".join(
            x for x in (g("street_addr"), g("city"), f"{g('state')} {g('zip')}".strip()) if x
        )
        accts[aid] = {
            "line": line,
            "currency": ccy,
            "country": cc,
            "opened": opened,
            "closed": closed,
            "bank": g("bank_id") or "AMLSIM",
            "branch": g("branch_id") or None,
            "name": name,
            "kind": "person" if g("type").upper() in ("I", "") else "organization",
            "address": addr or None,
            "ssn": g("ssn") or None,
            "birth": birth,
        }
    report.rows_read[acct_file.name] = acsv.rows_read
    if not accts:
        raise PublicFormatError(acct_file, None, "no account rows could be read")

    # -- alerts ------------------------------------------------------------------------------
    alert_type: dict[int, str] = {}
    members: dict[int, list[str]] = defaultdict(list)
    for file, cols, is_members in (
        (aa_file, ALERT_ACCOUNT_COLUMNS, True),
        (at_file, ALERT_TX_COLUMNS, False),
    ):
        if file is None:
            continue
        c = CsvFile(file, rejects, required=cols)
        for line, f in c:
            try:
                aid = parse_int(c.col(f, "alert_id"), "alert_id")
                typ = c.col(f, "alert_type").lower()
                if is_members:
                    acct = c.col(f, "acct_id")
                    if acct not in accts:
                        raise RowProblem(f"acct_id {acct!r} is not in {acct_file.name}")
            except RowProblem as p:
                rejects(PublicFormatError(file, line, str(p)), ",".join(f))
                continue
            alert_type.setdefault(aid, typ)
            if is_members and acct not in members[aid]:
                members[aid].append(acct)
        report.rows_read[file.name] = c.rows_read

    # -- transactions ------------------------------------------------------------------------
    tsp = _timestamps()
    fx = fx_usd_per_unit()
    tcsv = CsvFile(tx_file, rejects, required=TX_COLUMNS)
    rows: list[tuple] = []
    first_seen: dict[str, datetime] = {}
    seen_ids: dict[str, int] = {}
    alert_rows: dict[int, list[tuple[str, str | None, str | None, datetime, bool]]] = defaultdict(
        list
    )
    lone_sar: list[tuple[str, str | None, str | None]] = []
    for line, f in tcsv:
        g = lambda col, f=f: tcsv.col(f, col)  # noqa: E731
        try:
            tid = g("tran_id")
            if not tid:
                raise RowProblem("tran_id is empty")
            if tid in seen_ids:
                raise RowProblem(f"tran_id {tid!r} already used on line {seen_ids[tid]}")
            orig, bene = g("orig_acct"), g("bene_acct")
            for col, a in (("orig_acct", orig), ("bene_acct", bene)):
                if a not in accts:
                    raise RowProblem(f"{col} {a!r} is not in {acct_file.name}")
            kind = TX_TYPES.get(g("tx_type").upper())
            if kind is None:
                raise RowProblem(f"tx_type {g('tx_type')!r} is not one of {sorted(TX_TYPES)}")
            amount = parse_number(g("base_amt"), "base_amt", positive=True)
            ts = tsp(g("tran_timestamp"))
            is_sar = parse_flag(g("is_sar"), "is_sar")
            alert = parse_int(g("alert_id"), "alert_id") if g("alert_id") else -1
        except RowProblem as p:
            rejects(PublicFormatError(tx_file, line, str(p)), ",".join(f))
            continue
        seen_ids[tid] = line
        channel, ttype = kind
        o, b = accts[orig], accts[bene]
        ccy = o["currency"]
        src: str | None = orig
        dst: str | None = bene
        conducted = None
        location = None
        if ttype == "deposit":
            src = None
            conducted = f"P-{safe_id(orig)}" if orig != bene else None
            location = location_code(b["country"], b["bank"], b["branch"])
            ccy = b["currency"]
        elif ttype == "withdrawal":
            dst = None
            conducted = f"P-{safe_id(bene)}" if orig != bene else None
            location = location_code(o["country"], o["bank"], o["branch"])
        for a in (orig, bene):
            if a not in first_seen or ts < first_seen[a]:
                first_seen[a] = ts
        rows.append(
            (
                tid, ts, src, dst, amount, ccy, amount * fx[ccy], channel, ttype,
                o["country"] if src is not None or ttype == "deposit" else None,
                b["country"],
                location, conducted,
            )
        )  # fmt: skip
        if alert >= 0:
            alert_rows[alert].append((tid, orig, bene, ts, is_sar))
        elif is_sar:
            lone_sar.append((tid, orig, bene))
        if progress and len(rows) % 200_000 == 0:
            progress(tcsv.rows_read, None)
    report.rows_read[tx_file.name] = tcsv.rows_read
    if not rows:
        raise PublicFormatError(tx_file, None, "no transaction rows could be read")
    cols = ["txn_id", "ts", "src_account", "dst_account", "amount", "currency", "amount_usd", "channel",
            "txn_type", "src_country", "dst_country", "location", "conducted_by"]  # fmt: skip
    txns = frame("transactions", {c: [r[i] for r in rows] for i, c in enumerate(cols)})
    last_day: date = max(r[1] for r in rows).date()

    # -- accounts and parties (every listed account) ------------------------------------------
    ids = list(accts)
    unused = sum(1 for a in ids if a not in first_seen)
    if unused:
        report.notes.append(
            f"{unused} accounts without transactions written with opened_date from open_dt or the first day"
        )
    first_day = min(r[1] for r in rows).date()
    opened = [
        accts[a]["opened"] or (first_seen[a].date() if a in first_seen else first_day) for a in ids
    ]
    closed = [
        c if (c := accts[a]["closed"]) is not None and c <= last_day and c >= o else None
        for a, o in zip(ids, opened, strict=True)
    ]
    acc = frame(
        "accounts",
        {
            "account_id": ids,
            "owner_party_id": [f"P-{safe_id(a)}" for a in ids],
            "bank_id": [accts[a]["bank"] for a in ids],
            "account_type": [
                "checking" if accts[a]["kind"] == "person" else "business" for a in ids
            ],
            "country": [accts[a]["country"] for a in ids],
            "currency": [accts[a]["currency"] for a in ids],
            "home_location": [
                f"{accts[a]['bank']}-BR{accts[a]['branch']}" if accts[a]["branch"] else None
                for a in ids
            ],
            "opened_date": opened,
            "closed_date": closed,
        },
    )
    par = frame(
        "parties",
        {
            "party_id": [f"P-{safe_id(a)}" for a in ids],
            "name": [accts[a]["name"] for a in ids],
            "kind": [accts[a]["kind"] for a in ids],
            "country": [accts[a]["country"] for a in ids],
            "address": [accts[a]["address"] for a in ids],
            "id_type": ["ssn" if accts[a]["ssn"] else None for a in ids],
            "id_number": [accts[a]["ssn"] for a in ids],
            "birth_date": [
                accts[a]["birth"] if accts[a]["kind"] == "person" else None for a in ids
            ],
            "customer_since": opened,
        },
    )
    del countries

    # -- truth -------------------------------------------------------------------------------
    truth = TruthBuilder()
    for alert in sorted(alert_rows):
        arows = sorted(alert_rows[alert], key=lambda r: (r[3], r[0]))
        src_type = alert_type.get(alert, "other")
        typ = src_type if src_type in TYPOLOGIES else "other"
        sar = any(r[4] for r in arows)
        sid = f"amlsim-alert-{alert}"
        params = {"source": "AMLSim", "alert_id": alert, "alert_type": src_type, "is_sar": sar}
        if sar:
            truth.scenario(sid, typ, params=params)
        else:
            truth.scenario(sid, "hard_negative", label="hard_negative", params=params)
        for hop, (tid, _o, _b, _ts, _s) in enumerate(arows):
            if sar:
                truth.txn(
                    tid,
                    sid,
                    "cycle_hop" if typ == "cycle" else f"{src_type}_edge",
                    hop if typ == "cycle" else None,
                )
            else:
                truth.txn(tid, sid, f"{src_type}_decoy")
        roles = account_roles(typ, [(r[1], r[2]) for r in arows])
        for acct in members.get(alert, []):
            truth.account(acct, sid, roles.get(acct, "counterparty"))
        for acct, role in roles.items():
            truth.account(acct, sid, role)
    if lone_sar:
        sid = "amlsim-unattributed"
        truth.scenario(
            sid,
            "unattributed",
            params={"source": "AMLSim", "detail": "is_sar rows with alert_id -1"},
        )
        for tid, _o, _b in lone_sar:
            truth.txn(tid, sid, "laundering")
        truth.accounts_from_edges(sid, [(o, b) for _, o, b in lone_sar])
    no_tx = [a for a in members if a not in alert_rows]
    if no_tx:
        report.notes.append(
            f"{len(no_tx)} alerts of alert_accounts.csv have no transaction and are not labeled"
        )

    o = Output(out, report)
    o.labeled_dataset(txns, acc, par, truth)
    return o
