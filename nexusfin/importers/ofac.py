"""OFAC SDN list, CSV edition: ``sdn.csv`` (required), ``add.csv`` and ``alt.csv`` (optional), no
header row, ``-0-`` for null, joined on ent_num.

Mapping decisions
- entity_id ``SDN-<ent_num>``; SDN_Type individual → person, vessel, aircraft, empty → organization.
- programs from the Program field (``SDNTK] [SDGT``, ``[SDNTK] [SDGT]`` or ``SDGT``).
- aliases from alt.csv (a.k.a., f.k.a., n.k.a.), plus for individuals listed as
  ``SURNAME, Given`` the ``Given SURNAME`` word order.
- addresses from add.csv (address, city/state/postal code, country joined by ", ").
- Remarks, split on ``;``: ``Digital Currency Address - <CUR> <address>`` → crypto_wallets and an
  address tag (category sanctioned, entity_id, source ``ofac_sdn``; XBT→bitcoin, ETH→ethereum,
  USDT/USDC→ethereum (USDT also lives on tron and others; OFAC does not say which chain, the
  address form usually does: a ``T...`` USDT address goes to tron), TRX→tron, LTC→litecoin,
  XMR→monero, BSC→bsc; other currencies: wallet kept, no tag, counted); ``Passport``,
  ``National ID No.``, ``C.U.R.P.``, ``R.F.C.``, ``Cedula No.``, ``NIT #``, ``Tax ID No.``,
  ``SSN``, ``D.N.I.``, ``Identification Number`` → id_numbers; ``DOB dd Mon yyyy`` → birth_date
  (partial dates → null); ``nationality``/``citizen`` → country (else the first address
  country); ``Phone``/``Telephone`` → phones. The remarks are kept verbatim.
- The trailing ``\\x1a`` (end-of-file) line of OFAC downloads is ignored.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from ._common import CsvFile, PublicFormatError, Rejects, RowProblem, country_code, parse_int
from ._output import ImportReport, Output, frame
from .ethereum import normalize_address, tags_frame

NULL = "-0-"
SDN_COLS = 12
ADD_COLS = 6
ALT_COLS = 5
KINDS = {
    "individual": "person",
    "vessel": "vessel",
    "aircraft": "aircraft",
    "": "organization",
    "entity": "organization",
}
CHAINS = {
    "XBT": "bitcoin",
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "USDT": "ethereum",
    "USDC": "ethereum",
    "TRX": "tron",
    "LTC": "litecoin",
    "XMR": "monero",
    "BSC": "bsc",
    "SOL": "solana",
}
_WALLET = re.compile(r"Digital Currency Address - ([A-Za-z0-9]+)\s+([A-Za-z0-9]+)")
_ID = re.compile(
    r"\b(Passport|National ID No\.|C\.U\.R\.P\.|R\.F\.C\.|Cedula No\.|NIT #|Tax ID No\.|SSN|D\.N\.I\.|"
    r"Identification Number|Registration ID|RFC|CURP)\s+([A-Za-z0-9][A-Za-z0-9\-/.]*[A-Za-z0-9])"
)
_DOB = re.compile(r"\bDOB\s+(\d{1,2} [A-Z][a-z]{2} \d{4})\b")
_NATION = re.compile(r"\b(?:nationality|citizen)\s+([A-Za-z][A-Za-z .,'()\-]*)")
_PHONE = re.compile(r"\b(?:Phone|Telephone)(?: Number| No\.)?:?\s+(\+?[\d][\d \-()]{5,}\d)")


def _null(v: str) -> str | None:
    v = v.strip()
    return None if v in (NULL, "") else v


def _file(folder: Path, name: str, required: bool) -> Path | None:
    for p in folder.iterdir():
        if p.is_file() and p.name.lower() == name:
            return p
    if required:
        raise PublicFormatError(folder / name, None, f"OFAC folder {folder} has no {name}")
    return None


def parse_remarks(remarks: str) -> dict[str, Any]:
    out: dict[str, Any] = {"wallets": [], "ids": [], "birth": None, "country": None, "phones": []}
    for item in remarks.split(";"):
        item = item.strip().rstrip(".").strip()
        if item.startswith("alt. "):
            item = item[5:]
        m = _WALLET.search(item)
        if m:
            out["wallets"].append((m.group(1).upper(), m.group(2)))
            continue
        m = _DOB.search(item)
        if m and out["birth"] is None:
            with contextlib.suppress(ValueError):
                out["birth"] = datetime.strptime(m.group(1), "%d %b %Y").date()
        for m in _ID.finditer(item):
            out["ids"].append(m.group(2))
        m = _NATION.search(item)
        if m and out["country"] is None:
            out["country"] = country_code(m.group(1).strip())
        m = _PHONE.search(item)
        if m:
            out["phones"].append(m.group(1).strip())
    return out


def _programs(text: str | None) -> list[str]:
    if not text:
        return []
    return [p for p in re.split(r"[\[\]\s]+", text) if p]


def run(path: Path, out: Path, report: ImportReport, rejects: Rejects, progress) -> Output:
    folder = path if path.is_dir() else path.parent
    sdn_file = _file(folder, "sdn.csv", True)
    add_file = _file(folder, "add.csv", False)
    alt_file = _file(folder, "alt.csv", False)
    report.inputs = [str(p) for p in (sdn_file, add_file, alt_file) if p is not None]
    for name, p in (("add.csv", add_file), ("alt.csv", alt_file)):
        if p is None:
            report.notes.append(
                f"no {name}: {'addresses' if name == 'add.csv' else 'aliases'} not listed"
            )

    entries: dict[int, dict[str, Any]] = {}
    c = CsvFile(sdn_file, rejects, header=False, ncols=SDN_COLS, skip_trailer="\x1a")
    for line, f in c:
        try:
            ent = parse_int(f[0], "ent_num")
            if ent in entries:
                raise RowProblem(f"ent_num {ent} already listed on line {entries[ent]['line']}")
            name = _null(f[1])
            if name is None:
                raise RowProblem("SDN_Name is empty")
            typ = (_null(f[2]) or "").lower()
            if typ not in KINDS:
                raise RowProblem(f"SDN_Type {f[2]!r} is not individual, vessel, aircraft or -0-")
        except RowProblem as p:
            rejects(PublicFormatError(sdn_file, line, str(p)), ",".join(f))
            continue
        remarks = _null(f[11])
        entries[ent] = {
            "line": line,
            "name": name,
            "kind": KINDS[typ],
            "programs": _programs(_null(f[3])),
            "remarks": remarks,
            "parsed": parse_remarks(remarks or ""),
            "aliases": [],
            "addresses": [],
            "address_countries": [],
        }
    report.rows_read[sdn_file.name] = c.rows_read
    if not entries:
        raise PublicFormatError(sdn_file, None, "no SDN entry could be read")

    orphans: dict[str, int] = defaultdict(int)
    if add_file is not None:
        c = CsvFile(add_file, rejects, header=False, ncols=ADD_COLS, skip_trailer="\x1a")
        for line, f in c:
            try:
                ent = parse_int(f[0], "ent_num")
                parse_int(f[1], "Add_num")
            except RowProblem as p:
                rejects(PublicFormatError(add_file, line, str(p)), ",".join(f))
                continue
            if ent not in entries:
                orphans[add_file.name] += 1
                continue
            parts = [x for x in (_null(f[2]), _null(f[3]), _null(f[4])) if x]
            if parts:
                entries[ent]["addresses"].append(", ".join(parts))
            if _null(f[4]):
                entries[ent]["address_countries"].append(_null(f[4]))
        report.rows_read[add_file.name] = c.rows_read
    if alt_file is not None:
        c = CsvFile(alt_file, rejects, header=False, ncols=ALT_COLS, skip_trailer="\x1a")
        for line, f in c:
            try:
                ent = parse_int(f[0], "ent_num")
                parse_int(f[1], "alt_num")
                alias = _null(f[3])
                if alias is None:
                    raise RowProblem("alt_name is empty")
            except RowProblem as p:
                rejects(PublicFormatError(alt_file, line, str(p)), ",".join(f))
                continue
            if ent not in entries:
                orphans[alt_file.name] += 1
                continue
            entries[ent]["aliases"].append(alias)
        report.rows_read[alt_file.name] = c.rows_read
    for name, n in orphans.items():
        report.notes.append(f"{n} rows of {name} point at no ent_num of {sdn_file.name}")

    rows: dict[str, list] = defaultdict(list)
    tags: list[dict[str, Any]] = []
    tag_entities: list[str | None] = []
    no_chain = 0
    for ent in sorted(entries):
        e = entries[ent]
        p = e["parsed"]
        eid = f"SDN-{ent}"
        aliases = list(e["aliases"])
        if e["kind"] == "person" and e["name"].count(",") == 1:
            last, first = (x.strip() for x in e["name"].split(","))
            if first and last:
                aliases.append(f"{first} {last}")
        country = p["country"]
        if country is None:
            for c_name in e["address_countries"]:
                country = country_code(c_name)
                if country:
                    break
        wallets = []
        for cur, addr in p["wallets"]:
            chain = CHAINS.get(cur)
            if cur in ("USDT", "USDC") and addr.startswith("T"):
                chain = "tron"
            if chain is None:
                no_chain += 1
                wallets.append(addr)
                continue
            addr = normalize_address(addr, chain)
            wallets.append(addr)
            tags.append(
                {
                    "address": addr,
                    "chain": chain,
                    "label": e["name"],
                    "category": "sanctioned",
                    "source": "ofac_sdn",
                }
            )
            tag_entities.append(eid)
        rows["entity_id"].append(eid)
        rows["name"].append(e["name"])
        rows["aliases"].append(list(dict.fromkeys(a for a in aliases if a != e["name"])))
        rows["kind"].append(e["kind"])
        rows["programs"].append(list(dict.fromkeys(e["programs"])))
        rows["country"].append(country)
        rows["id_numbers"].append(list(dict.fromkeys(p["ids"])))
        rows["phones"].append(list(dict.fromkeys(p["phones"])))
        rows["addresses"].append(list(dict.fromkeys(e["addresses"])))
        rows["crypto_wallets"].append(list(dict.fromkeys(wallets)))
        rows["birth_date"].append(p["birth"] if e["kind"] == "person" else None)
        rows["source"].append("ofac_sdn")
        rows["remarks"].append(e["remarks"])
    if no_chain:
        report.rows_skipped["wallets of currencies without a supported chain (no address tag)"] = (
            no_chain
        )
    o = Output(out, report)
    o.table("watchlist", frame("watchlist", dict(rows)))
    if tags:
        o.table("address_tags", tags_frame(tags, report, tag_entities))
    return o
