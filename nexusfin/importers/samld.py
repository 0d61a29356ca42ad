"""SAML-D (Oztas et al., 2023): one CSV ``Time,Date,Sender_account,Receiver_account,Amount,
Payment_currency,Received_currency,Sender_bank_location,Receiver_bank_location,Payment_type,
Is_laundering,Laundering_type``.

Mapping decisions
- txn_id ``<file stem>:<line>``; ts = Date + Time, taken as UTC. Amount is in
  Payment_currency; when Received_currency differs, memo reads ``received in <code>``.
- Locations (country names such as UK, USA, UAE, Turkey) → ISO codes; they give src_country,
  dst_country and the accounts' country. Accounts are ``checking`` at bank ``SAMLD-<CC>``, one
  person party ``P-<account>`` each (SAML-D has no customer data); currency and opened_date
  from the first transaction an account appears in.
- Payment_type: Cash Deposit → channel cash, txn_type deposit, src_account null, dst_account =
  Receiver_account, and the Sender_account (SAML-D's depositing account) is kept as
  conducted_by = its owner party ``P-<Sender_account>``; Cash Withdrawal → cash withdrawal,
  dst_account null, src_account = Sender_account, conducted_by = the Receiver_account's party
  (who took the cash) when it differs. Cash rows get location ``<CC>-ZZ-UNKNOWN:SAMLD<CC>-BR0``
  (CC: where cash was handed in / paid out). Cross-border → wire, Cheque → check, ACH → ach,
  Credit card / Debit card → card (purchase).
- Truth: Is_laundering=1 rows are labeled suspicious; a scenario is a connected group of
  accounts linked by laundering rows of the same Laundering_type. Laundering_type →
  typology: Structuring→structuring, Smurfing→smurfing, Fan_In/Layered_Fan_In→fan_in,
  Fan_Out/Layered_Fan_Out→fan_out, Cycle→cycle, Scatter-Gather→scatter_gather,
  Gather-Scatter→gather_scatter, Bipartite→bipartite, Stacked Bipartite→stack,
  Deposit-Send→funnel_account (cash deposits moved on at once, FIN-2014-A005),
  Over-Invoicing→trade_based, others (Cash_Withdrawal, Behavioural_Change_1/2, Single_large)
  → other; the source type is kept in params and as the transaction role. Normal_* rows are
  not labeled.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from nexusfin.contracts import fx_usd_per_unit

from ._common import (
    CsvFile,
    PublicFormatError,
    Rejects,
    RowProblem,
    TimestampParser,
    country_code,
    location_code,
    parse_number,
    safe_id,
)
from ._output import ImportReport, Output, frame
from ._truth import TruthBuilder

COLUMNS = [
    "Time", "Date", "Sender_account", "Receiver_account", "Amount", "Payment_currency",
    "Received_currency", "Sender_bank_location", "Receiver_bank_location", "Payment_type",
    "Is_laundering", "Laundering_type",
]  # fmt: skip
CURRENCIES = {
    "uk pounds": "GBP",
    "uk pound": "GBP",
    "us dollar": "USD",
    "euro": "EUR",
    "mexican peso": "MXN",
    "indian rupee": "INR",
    "naira": "NGN",
    "dirham": "AED",
    "turkish lira": "TRY",
    "swiss franc": "CHF",
    "yen": "JPY",
    "pakistani rupee": "PKR",
    "albanian lek": "ALL",
    "moroccan dirham": "MAD",
}
PAYMENT_TYPES = {
    "cash deposit": ("cash", "deposit"),
    "cash withdrawal": ("cash", "withdrawal"),
    "cross-border": ("wire", "transfer"),
    "cheque": ("check", "transfer"),
    "ach": ("ach", "transfer"),
    "credit card": ("card", "purchase"),
    "debit card": ("card", "purchase"),
}
TYPOLOGIES = {
    "structuring": "structuring",
    "smurfing": "smurfing",
    "fan_in": "fan_in",
    "layered_fan_in": "fan_in",
    "fan_out": "fan_out",
    "layered_fan_out": "fan_out",
    "cycle": "cycle",
    "scatter-gather": "scatter_gather",
    "gather-scatter": "gather_scatter",
    "bipartite": "bipartite",
    "stacked bipartite": "stack",
    "deposit-send": "funnel_account",
    "over-invoicing": "trade_based",
}
# account roles by typology: (only sends, only receives, both)
ROLES = {
    "structuring": ("structurer", "collector", "collector"),
    "smurfing": ("smurf", "collector", "collector"),
    "funnel_account": ("origin", "beneficiary", "funnel"),
}


def _currency(text: str, what: str) -> str:
    code = CURRENCIES.get(text.strip().lower())
    if code is None:
        raise RowProblem(f"{what} {text!r} is not a known SAML-D currency word")
    return code


def _find(path: Path) -> Path:
    if path.is_file():
        return path
    csvs = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
    if len(csvs) != 1:
        raise PublicFormatError(
            path, None, f"expected one SAML-D .csv file in the folder, found {len(csvs)}"
        )
    return csvs[0]


class _DSU:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        p = self.parent.setdefault(x, x)
        while p != self.parent[p]:
            self.parent[p] = self.parent[self.parent[p]]
            p = self.parent[p]
        self.parent[x] = p
        return p

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def run(path: Path, out: Path, report: ImportReport, rejects: Rejects, progress) -> Output:
    file = _find(path)
    report.inputs = [str(file)]
    stem = safe_id(file.stem)
    fx = fx_usd_per_unit()
    tsp = TimestampParser(
        ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S"],
        "Date/Time",
        "2022-10-07 10:35:19",
    )
    c = CsvFile(file, rejects, required=COLUMNS)
    ix = None
    rows: list[tuple] = []
    accounts: dict[str, list] = {}  # id -> [country, currency, first ts]
    laundering: list[tuple[str, str, str, str, datetime]] = []  # txn, type, sender, receiver, ts
    not_labeled = 0

    def seen(a: str, cc: str, ccy: str, ts: datetime) -> None:
        v = accounts.get(a)
        if v is None:
            accounts[a] = [cc, ccy, ts]
        elif ts < v[2]:
            v[2] = ts

    for line, f in c:
        if ix is None:
            ix = [c.index[n] for n in COLUMNS]
        v = [f[i].strip() for i in ix]
        try:
            ts = tsp(f"{v[1]} {v[0]}")
            sender, receiver = v[2], v[3]
            if not sender or not receiver:
                raise RowProblem("Sender_account or Receiver_account is empty")
            if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,60}", sender + receiver):
                raise RowProblem(f"account ids {sender!r}/{receiver!r} have unexpected characters")
            amount = parse_number(v[4], "Amount", positive=True)
            pay = _currency(v[5], "Payment_currency")
            recv = _currency(v[6], "Received_currency")
            s_cc = country_code(v[7])
            if s_cc is None:
                raise RowProblem(f"Sender_bank_location {v[7]!r} is not a known country")
            r_cc = country_code(v[8])
            if r_cc is None:
                raise RowProblem(f"Receiver_bank_location {v[8]!r} is not a known country")
            kind = PAYMENT_TYPES.get(v[9].lower())
            if kind is None:
                raise RowProblem(f"Payment_type {v[9]!r} is not one of {sorted(PAYMENT_TYPES)}")
            if v[10] not in ("0", "1"):
                raise RowProblem(f"Is_laundering {v[10]!r} is not 0 or 1")
            if not v[11]:
                raise RowProblem("Laundering_type is empty")
        except RowProblem as p:
            rejects(PublicFormatError(file, line, str(p)), ",".join(f))
            continue
        channel, ttype = kind
        seen(sender, s_cc, pay, ts)
        seen(receiver, r_cc, recv, ts)
        src: str | None = sender
        dst: str | None = receiver
        conducted = location = None
        if ttype == "deposit":
            src = None
            conducted = f"P-{sender}" if sender != receiver else None
            location = location_code(s_cc, f"SAMLD{s_cc}")
        elif ttype == "withdrawal":
            dst = None
            conducted = f"P-{receiver}" if receiver != sender else None
            location = location_code(r_cc, f"SAMLD{r_cc}")
        tid = f"{stem}:{line}"
        rows.append(
            (
                tid, ts, src, dst, amount, pay, amount * fx[pay], channel, ttype, s_cc, r_cc,
                location, conducted, None if recv == pay else f"received in {recv}",
            )
        )  # fmt: skip
        if v[10] == "1":
            laundering.append((tid, v[11], sender, receiver, ts))
        elif not v[11].lower().startswith("normal"):
            not_labeled += 1
        if progress and len(rows) % 200_000 == 0:
            progress(c.rows_read, None)
    report.rows_read[file.name] = c.rows_read
    if not rows:
        raise PublicFormatError(file, None, "no transaction rows could be read")
    if not_labeled:
        report.notes.append(
            f"{not_labeled} rows with a suspicious Laundering_type but Is_laundering=0 are not labeled"
        )
    cols = ["txn_id", "ts", "src_account", "dst_account", "amount", "currency", "amount_usd", "channel",
            "txn_type", "src_country", "dst_country", "location", "conducted_by", "memo"]  # fmt: skip
    txns = frame("transactions", {col: [r[i] for r in rows] for i, col in enumerate(cols)})

    ids = sorted(accounts)
    acc = frame(
        "accounts",
        {
            "account_id": ids,
            "owner_party_id": [f"P-{a}" for a in ids],
            "bank_id": [f"SAMLD-{accounts[a][0]}" for a in ids],
            "account_type": ["checking"] * len(ids),
            "country": [accounts[a][0] for a in ids],
            "currency": [accounts[a][1] for a in ids],
            "opened_date": [accounts[a][2].date() for a in ids],
        },
    )
    par = frame(
        "parties",
        {
            "party_id": [f"P-{a}" for a in ids],
            "name": [f"SAML-D account {a}" for a in ids],
            "kind": ["person"] * len(ids),
            "country": [accounts[a][0] for a in ids],
        },
    )

    # -- truth: connected groups per laundering type -------------------------------------------
    truth = TruthBuilder()
    dsu: dict[str, _DSU] = defaultdict(_DSU)
    for _tid, typ, s, r, _ts in laundering:
        dsu[typ].union(s, r)
    groups: dict[tuple[str, str], list[tuple[str, str, str, datetime]]] = defaultdict(list)
    for tid, typ, s, r, ts in laundering:
        groups[(typ, dsu[typ].find(s))].append((tid, s, r, ts))
    ordered = sorted(groups.items(), key=lambda kv: (min(x[3] for x in kv[1]), kv[0]))
    counters: dict[str, int] = defaultdict(int)
    for (src_type, _root), members in ordered:
        typ = TYPOLOGIES.get(src_type.lower(), "other")
        counters[typ] += 1
        sid = f"samld-{typ}-{counters[typ]:05d}"
        truth.scenario(sid, typ, params={"source": "SAML-D", "laundering_type": src_type})
        role = re.sub(r"[^a-z0-9]+", "_", src_type.lower()).strip("_")
        members.sort(key=lambda x: (x[3], x[0]))
        for hop, (tid, _s, _r, _ts) in enumerate(members):
            truth.txn(tid, sid, role, hop if typ == "cycle" else None)
        if typ in ROLES:
            out_deg: dict[str, int] = defaultdict(int)
            in_deg: dict[str, int] = defaultdict(int)
            for _t, s, r, _ts in members:
                if s != r:
                    out_deg[s] += 1
                in_deg[r] += 1
            only_send, only_recv, both = ROLES[typ]
            for a in sorted(set(out_deg) | set(in_deg)):
                truth.account(
                    a,
                    sid,
                    both
                    if out_deg.get(a) and in_deg.get(a)
                    else (only_send if out_deg.get(a) else only_recv),
                )
        else:
            truth.accounts_from_edges(sid, [(s, r) for _t, s, r, _ts in members])

    o = Output(out, report)
    if not o.labeled_dataset(txns, acc, par, truth):
        report.notes.append("no Is_laundering=1 rows: no ground truth written")
    return o
