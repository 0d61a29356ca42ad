"""IBM AMLworld (Altman et al., NeurIPS 2023): ``*_Trans.csv`` plus, when present beside it,
``*_accounts.csv`` and ``*_Patterns.txt``.

Mapping decisions
- txn_id ``<file stem>:<line>`` (AMLworld has no transaction id; the physical line is stable
  for a given file). Amount and currency are the paid side (Amount Paid, Payment Currency);
  when the received side differs, memo reads ``received <amount> <currency>``.
- account_id ``<bank as integer>:<account>`` (bank ids are zero-padded in the transactions
  file, not in the accounts file). An account's currency is the first currency it pays or
  receives in; opened_date is the date of its first transaction; country ``XX`` (AMLworld has
  no geography).
- Payment Format → channel: Cash→cash, Wire→wire, ACH→ach, Cheque→check, Credit Card→card
  (txn_type purchase), Reinvestment→internal, Bitcoin→crypto (chain bitcoin). The contract
  wants both sides of a crypto row to be wallets, so accounts taking part in any Bitcoin
  payment become wallet accounts on chain bitcoin, custodied by their AMLworld bank, with the
  synthetic address = the account id.
- AMLworld cash payments have both accounts set (no cash side); they stay transfers between
  the two accounts and get the synthetic location ``XX-ZZ-UNKNOWN:<payer bank>-BR0`` because
  the contract requires a location on cash rows (the area is the same for all, so no
  geography-based rule can fire on it).
- Parties: from Entity ID/Name of the accounts file (names starting with Individual/Person
  are persons, the rest — Corporation, Partnership, Sole Proprietorship — organizations);
  without it, or for accounts missing from it, one person party per account.
- Truth: every Is Laundering=1 row is labeled suspicious. Rows that appear in a pattern block
  belong to that block's scenario (FAN-IN→fan_in, FAN-OUT→fan_out, CYCLE→cycle,
  GATHER-SCATTER→gather_scatter, SCATTER-GATHER→scatter_gather, BIPARTITE→bipartite,
  STACK→stack, RANDOM→random); the rest form one scenario of typology ``unattributed``.
  Account roles follow the flows (hub/spoke for fans, origin/beneficiary/pass_through).
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import polars as pl

from nexusfin.contracts import fx_usd_per_unit

from ._common import (
    UNKNOWN_COUNTRY,
    CsvFile,
    PublicFormatError,
    Rejects,
    RowProblem,
    TimestampParser,
    decoded_lines,
    ensure_file,
    location_code,
    parse_flag,
    parse_int,
    parse_number,
    safe_id,
)
from ._output import ImportReport, Output, frame
from ._truth import TruthBuilder

TRANS_HEADER = [
    "Timestamp",
    "From Bank",
    "Account",
    "To Bank",
    "Account",
    "Amount Received",
    "Receiving Currency",
    "Amount Paid",
    "Payment Currency",
    "Payment Format",
    "Is Laundering",
]
ACCOUNTS_HEADER = ["Bank Name", "Bank ID", "Account Number", "Entity ID", "Entity Name"]

CURRENCIES = {
    "us dollar": "USD",
    "euro": "EUR",
    "bitcoin": "BTC",
    "saudi riyal": "SAR",
    "yuan": "CNY",
    "yen": "JPY",
    "uk pound": "GBP",
    "rupee": "INR",
    "ruble": "RUB",
    "mexican peso": "MXN",
    "canadian dollar": "CAD",
    "australian dollar": "AUD",
    "swiss franc": "CHF",
    "shekel": "ILS",
    "brazil real": "BRL",
}
# Payment Format -> (channel, txn_type)
FORMATS = {
    "cash": ("cash", "transfer"),
    "wire": ("wire", "transfer"),
    "ach": ("ach", "transfer"),
    "cheque": ("check", "transfer"),
    "credit card": ("card", "purchase"),
    "reinvestment": ("internal", "transfer"),
    "bitcoin": ("crypto", "transfer"),
}
PATTERN_TYPES = {
    "FAN-IN": "fan_in",
    "FAN-OUT": "fan_out",
    "CYCLE": "cycle",
    "GATHER-SCATTER": "gather_scatter",
    "SCATTER-GATHER": "scatter_gather",
    "BIPARTITE": "bipartite",
    "STACK": "stack",
    "RANDOM": "random",
}
_BEGIN = re.compile(r"^BEGIN LAUNDERING ATTEMPT\s*-\s*([A-Za-z][A-Za-z\- ]*?)\s*(?::\s*(.*))?$")
_END = re.compile(r"^END LAUNDERING ATTEMPT\b(?:\s*-\s*([A-Za-z\- ]+?))?\s*$")
CHUNK = 500_000


def _currency(text: str, what: str) -> str:
    code = CURRENCIES.get(text.strip().lower())
    if code is None:
        raise RowProblem(f"{what} {text!r} is not a known AMLworld currency word")
    return code


class _Row:
    __slots__ = (
        "amount_paid",
        "amount_received",
        "channel",
        "from_acct",
        "from_bank",
        "key",
        "label",
        "pay_ccy",
        "recv_ccy",
        "to_acct",
        "to_bank",
        "ts",
        "txn_type",
    )


def _parse_row(f: list[str], tsp: TimestampParser) -> _Row:
    r = _Row()
    r.ts = tsp(f[0])
    r.from_bank = parse_int(f[1], "From Bank")
    r.from_acct = f[2].strip()
    r.to_bank = parse_int(f[3], "To Bank")
    r.to_acct = f[4].strip()
    if not r.from_acct or not r.to_acct:
        raise RowProblem("Account is empty")
    r.amount_received = parse_number(f[5], "Amount Received", positive=True)
    r.recv_ccy = _currency(f[6], "Receiving Currency")
    r.amount_paid = parse_number(f[7], "Amount Paid", positive=True)
    r.pay_ccy = _currency(f[8], "Payment Currency")
    fmt = FORMATS.get(f[9].strip().lower())
    if fmt is None:
        raise RowProblem(f"Payment Format {f[9]!r} is not one of {sorted(FORMATS)}")
    r.channel, r.txn_type = fmt
    lab = f[10].strip()
    if lab not in ("0", "1"):
        raise RowProblem(f"Is Laundering {f[10]!r} is not 0 or 1")
    r.label = parse_flag(lab, "Is Laundering")
    r.key = (
        r.ts,
        r.from_bank,
        r.from_acct,
        r.to_bank,
        r.to_acct,
        r.amount_received,
        r.recv_ccy,
        r.amount_paid,
        r.pay_ccy,
        r.channel,
    )
    return r


def _timestamps() -> TimestampParser:
    return TimestampParser(["%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S"], "Timestamp", "2022/09/01 00:20")


def find_inputs(path: Path) -> tuple[Path, Path | None, Path | None]:
    """The transactions file and, when present beside it, the accounts and patterns files."""
    if path.is_dir():
        trans = sorted(
            p for p in path.iterdir() if p.is_file() and p.name.lower().endswith("_trans.csv")
        )
        if not trans:
            raise PublicFormatError(path, None, "folder holds no AMLworld *_Trans.csv file")
        if len(trans) > 1:
            raise PublicFormatError(
                path,
                None,
                f"folder holds several *_Trans.csv files ({', '.join(p.name for p in trans)}); "
                "pass one of them",
            )
        trans_file = trans[0]
    else:
        ensure_file(path)
        trans_file = path
    folder = trans_file.parent
    stem = (
        trans_file.name[: -len("_Trans.csv")]
        if trans_file.name.lower().endswith("_trans.csv")
        else None
    )

    def companion(suffix: str) -> Path | None:
        if stem is not None:
            for p in folder.iterdir():
                if p.is_file() and p.name.lower() == f"{stem}{suffix}".lower():
                    return p
        cands = [
            p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(suffix.lower())
        ]
        return cands[0] if len(cands) == 1 else None

    return trans_file, companion("_accounts.csv"), companion("_Patterns.txt")


def _read_patterns(
    path: Path, tsp: TimestampParser
) -> list[tuple[str, str, str, int, list[tuple[int, _Row]]]]:
    """Blocks of the patterns file: (source type, typology, detail, begin line, rows)."""
    blocks = []
    current: tuple[str, str, str, int, list[tuple[int, _Row]]] | None = None
    any_line = False
    for i, raw in enumerate(decoded_lines(path), 1):
        line = raw.strip()
        if not line:
            continue
        any_line = True
        if line.startswith("BEGIN"):
            m = _BEGIN.match(line)
            if m is None:
                raise PublicFormatError(path, i, f"malformed block start {line!r}")
            if current is not None:
                raise PublicFormatError(
                    path, i, f"BEGIN inside the block opened on line {current[3]} (missing END)"
                )
            src = m.group(1).strip().upper()
            typ = PATTERN_TYPES.get(src)
            if typ is None:
                raise PublicFormatError(
                    path,
                    i,
                    f"unknown laundering pattern type {src!r} (known: {', '.join(PATTERN_TYPES)})",
                )
            current = (src, typ, (m.group(2) or "").strip(), i, [])
        elif line.startswith("END"):
            m = _END.match(line)
            if m is None:
                raise PublicFormatError(path, i, f"malformed block end {line!r}")
            if current is None:
                raise PublicFormatError(path, i, "END LAUNDERING ATTEMPT without a BEGIN")
            if m.group(1) and m.group(1).strip().upper() != current[0]:
                raise PublicFormatError(
                    path,
                    i,
                    f"END of {m.group(1).strip()!r} closes the {current[0]} block of line {current[3]}",
                )
            blocks.append(current)
            current = None
        else:
            if current is None:
                raise PublicFormatError(
                    path, i, "transaction row outside a BEGIN/END LAUNDERING ATTEMPT block"
                )
            try:
                fields = next(csv.reader([line], strict=True))
            except csv.Error as exc:
                raise PublicFormatError(path, i, f"malformed CSV: {exc}") from None
            if len(fields) != len(TRANS_HEADER):
                raise PublicFormatError(
                    path, i, f"has {len(fields)} fields, expected {len(TRANS_HEADER)}"
                )
            try:
                current[4].append((i, _parse_row(fields, tsp)))
            except RowProblem as p:
                raise PublicFormatError(path, i, str(p)) from None
    if current is not None:
        raise PublicFormatError(
            path, current[3], f"{current[0]} block is never closed (no END LAUNDERING ATTEMPT)"
        )
    if not any_line:
        raise PublicFormatError(path, 1, "file is empty, expected BEGIN LAUNDERING ATTEMPT blocks")
    return blocks


def _party_kind(entity_name: str) -> str:
    return (
        "person"
        if re.match(r"^(individual|person)\b", entity_name.strip(), re.I)
        else "organization"
    )


def run(path: Path, out: Path, report: ImportReport, rejects: Rejects, progress) -> Output:
    trans_file, accounts_file, patterns_file = find_inputs(path)
    inputs = [p for p in (trans_file, accounts_file, patterns_file) if p is not None]
    report.inputs = [str(p) for p in inputs]
    for name, p in (("accounts", accounts_file), ("patterns", patterns_file)):
        if p is None:
            report.notes.append(f"no AMLworld {name} file beside {trans_file.name}")
    tsp = _timestamps()
    fx = fx_usd_per_unit()
    stem = safe_id(trans_file.stem)

    # -- patterns first (small), so the transactions pass can match rows ---------------------
    blocks = _read_patterns(patterns_file, tsp) if patterns_file is not None else []
    if patterns_file is not None:
        report.rows_read[patterns_file.name] = sum(len(b[4]) for b in blocks)

    # -- transactions ----------------------------------------------------------------------
    accounts: dict[str, list] = {}  # id -> [bank, number, currency, first_ts, wallet]
    laundering: dict[tuple, list[str]] = defaultdict(list)
    laundering_edges: dict[str, tuple[str, str, datetime]] = {}
    chunks: list[pl.DataFrame] = []
    rows: list[tuple] = []
    src_csv = CsvFile(trans_file, rejects, exact=TRANS_HEADER)
    schema = {
        "txn_id": pl.String,
        "ts": pl.Datetime("us"),
        "src_account": pl.String,
        "dst_account": pl.String,
        "amount": pl.Float64,
        "currency": pl.String,
        "amount_usd": pl.Float64,
        "channel": pl.String,
        "txn_type": pl.String,
        "location": pl.String,
        "chain": pl.String,
        "memo": pl.String,
    }

    def account(bank: int, number: str, ccy: str, ts: datetime, wallet: bool) -> str:
        aid = f"{bank}:{number}"
        a = accounts.get(aid)
        if a is None:
            accounts[aid] = [bank, number, ccy, ts, wallet]
        else:
            if ts < a[3]:
                a[3] = ts
            if wallet:
                a[4] = True
        return aid

    for line, f in src_csv:
        try:
            r = _parse_row(f, tsp)
            if r.pay_ccy not in fx:
                raise RowProblem(f"no reference FX rate for {r.pay_ccy}")
        except RowProblem as p:
            rejects(PublicFormatError(trans_file, line, str(p)), ",".join(f))
            continue
        wallet = r.channel == "crypto"
        src = account(r.from_bank, r.from_acct, r.pay_ccy, r.ts, wallet)
        dst = account(r.to_bank, r.to_acct, r.recv_ccy, r.ts, wallet)
        txn_id = f"{stem}:{line}"
        memo = None
        if r.recv_ccy != r.pay_ccy or r.amount_received != r.amount_paid:
            memo = f"received {f[5].strip()} {r.recv_ccy}"
        rows.append(
            (
                txn_id,
                r.ts,
                src,
                dst,
                r.amount_paid,
                r.pay_ccy,
                r.amount_paid * fx[r.pay_ccy],
                r.channel,
                r.txn_type,
                location_code(None, str(r.from_bank)) if r.channel == "cash" else None,
                "bitcoin" if wallet else None,
                memo,
            )
        )
        if r.label:
            laundering[r.key].append(txn_id)
            laundering_edges[txn_id] = (src, dst, r.ts)
        if len(rows) >= CHUNK:
            chunks.append(pl.DataFrame(rows, schema=schema, orient="row"))
            rows = []
            if progress:
                progress(src_csv.rows_read, None)
    chunks.append(pl.DataFrame(rows, schema=schema, orient="row"))
    report.rows_read[trans_file.name] = src_csv.rows_read
    txns = pl.concat(chunks)
    if txns.height == 0:
        raise PublicFormatError(trans_file, None, "no transaction rows could be read")

    # -- accounts file -----------------------------------------------------------------------
    entities: dict[str, tuple[str, str]] = {}  # account id -> (entity id, entity name)
    if accounts_file is not None:
        acsv = CsvFile(accounts_file, rejects, exact=ACCOUNTS_HEADER)
        for line, f in acsv:
            try:
                bank = parse_int(f[1], "Bank ID")
                number, eid, ename = f[2].strip(), f[3].strip(), f[4].strip()
                if not number:
                    raise RowProblem("Account Number is empty")
                if not eid:
                    raise RowProblem("Entity ID is empty")
            except RowProblem as p:
                rejects(PublicFormatError(accounts_file, line, str(p)), ",".join(f))
                continue
            entities[f"{bank}:{number}"] = (eid, ename or eid)
        report.rows_read[accounts_file.name] = acsv.rows_read
        unused = sum(1 for a in entities if a not in accounts)
        if unused:
            report.notes.append(
                f"{unused} accounts of {accounts_file.name} have no transaction and were not written"
            )

    ids = sorted(accounts)
    parties: dict[str, tuple[str, str]] = {}
    owner = []
    orphans = 0
    for aid in ids:
        ent = entities.get(aid)
        if ent is not None:
            pid = f"E-{safe_id(ent[0])}"
            parties.setdefault(pid, (ent[1], _party_kind(ent[1])))
        else:
            orphans += accounts_file is not None
            pid = f"P-{aid}"
            parties[pid] = (
                f"AMLworld account {accounts[aid][1]} at bank {accounts[aid][0]}",
                "person",
            )
        owner.append(pid)
    if orphans:
        report.notes.append(
            f"{orphans} accounts are missing from {accounts_file.name}; one party each"
        )
    n = len(ids)
    wallet = [accounts[a][4] for a in ids]
    acc = frame(
        "accounts",
        {
            "account_id": ids,
            "owner_party_id": owner,
            "bank_id": [str(accounts[a][0]) for a in ids],
            "account_type": ["wallet" if w else "checking" for w in wallet],
            "country": [UNKNOWN_COUNTRY] * n,
            "currency": [accounts[a][2] for a in ids],
            "opened_date": [accounts[a][3].date() for a in ids],
            "chain": ["bitcoin" if w else None for w in wallet],
            "address": [a if w else None for a, w in zip(ids, wallet, strict=True)],
        },
    )
    pids = sorted(parties)
    par = frame(
        "parties",
        {
            "party_id": pids,
            "name": [parties[p][0] for p in pids],
            "kind": [parties[p][1] for p in pids],
            "country": [UNKNOWN_COUNTRY] * len(pids),
        },
    )

    # -- truth -------------------------------------------------------------------------------
    truth = TruthBuilder()
    consumed: dict[tuple, int] = defaultdict(int)
    attributed: set[str] = set()
    missing_rows = 0
    for k, (src_type, typ, detail, begin, brows) in enumerate(blocks, 1):
        sid = f"amlworld-{k:05d}-{typ}"
        truth.scenario(
            sid,
            typ,
            params={
                "source": "AMLworld",
                "pattern": src_type,
                "detail": detail,
                "patterns_line": begin,
            },
        )
        matched: list[tuple[datetime, str]] = []
        for _pline, r in brows:
            cands = laundering.get(r.key)
            if not cands:
                missing_rows += 1
                continue
            j = consumed[r.key]
            tid = cands[j] if j < len(cands) else cands[0]  # a row shared by two blocks
            consumed[r.key] = j + 1
            matched.append((laundering_edges[tid][2], tid))
        matched.sort()
        for hop, (_, tid) in enumerate(matched):
            if typ == "cycle":
                truth.txn(tid, sid, "cycle_hop", hop)
            elif typ in ("fan_in", "fan_out"):
                truth.txn(tid, sid, f"{typ}_leg")
            else:
                truth.txn(tid, sid, "pattern_edge")
            attributed.add(tid)
        truth.accounts_from_edges(sid, [laundering_edges[t][:2] for _, t in matched])
    if missing_rows:
        report.notes.append(
            f"{missing_rows} rows of {patterns_file.name} match no Is Laundering=1 row of {trans_file.name}"
        )
    lone = [t for t in laundering_edges if t not in attributed]
    if lone:
        sid = "amlworld-unattributed"
        truth.scenario(
            sid,
            "unattributed",
            params={
                "source": "AMLworld",
                "pattern": None,
                "detail": "laundering rows in no pattern block",
            },
        )
        for t in lone:
            truth.txn(t, sid, "laundering")
        truth.accounts_from_edges(sid, [laundering_edges[t][:2] for t in lone])

    o = Output(out, report)
    o.labeled_dataset(frame("transactions", {c: txns.get_column(c) for c in txns.columns}), acc, par, truth)
    return o
