"""OpenSanctions FollowTheMoney entities, JSON lines: ``{"id", "schema", "properties": {...}}``
with every property a list of strings.

Mapping decisions
- Person → kind person; Organization, Company, LegalEntity, PublicBody → organization;
  Vessel → vessel; Airplane → aircraft. One watchlist row each, entity_id ``OS-<id>``. When a
  record carries ``target``, only targets are listed (related non-designated entities are
  skipped and counted).
- name = first ``name`` (else ``caption``, else the id); aliases = the other names, ``alias``,
  ``weakAlias``, ``previousName``. id_numbers from idNumber, taxNumber, registrationNumber,
  passportNumber, innCode, imoNumber. country = first of country / nationality / jurisdiction
  that is an ISO code. birth_date only when a full date (partial ``1970`` / ``1970-05`` → null).
- programs = ``program`` and ``programId`` of the Sanction records pointing at the entity, then
  one ``topic:<topic>`` mark per topic (e.g. ``topic:crime.terror``, ``topic:sanction``);
  designation_date = the earliest full Sanction ``startDate``.
- CryptoWallet: publicKey goes to the holder's crypto_wallets and becomes an address tag
  (category sanctioned, label the holder's name, entity_id ``OS-<holder>``, source
  ``opensanctions``) on the chain of its currency (XBT/BTC→bitcoin, ETH/USDT/USDC→ethereum,
  TRX→tron, LTC→litecoin, XMR→monero, ...; other currencies: no tag, counted).
- Other schemata (Address, Ownership, Identification, ...) are skipped and counted.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from ._common import PublicFormatError, Rejects, country_code, decoded_lines
from ._output import ImportReport, Output, frame
from .ethereum import normalize_address, tags_frame

KINDS = {
    "Person": "person",
    "Organization": "organization",
    "Company": "organization",
    "LegalEntity": "organization",
    "PublicBody": "organization",
    "Vessel": "vessel",
    "Airplane": "aircraft",
}
WALLET_CHAINS = {
    "XBT": "bitcoin",
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "USDT": "ethereum",
    "USDC": "ethereum",
    "TRX": "tron",
    "LTC": "litecoin",
    "XMR": "monero",
    "BSC": "bsc",
    "BNB": "bsc",
    "SOL": "solana",
    "MATIC": "polygon",
}
ID_PROPS = ("idNumber", "taxNumber", "registrationNumber", "passportNumber", "innCode", "imoNumber")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _date(values: list[str]) -> date | None:
    for v in values:
        if _FULL_DATE.match(v):
            try:
                return date.fromisoformat(v[:10])
            except ValueError:
                continue
    return None


def _dedupe(values: list[str], exclude: str | None = None) -> list[str]:
    out, seen = [], {exclude} if exclude else set()
    for v in values:
        v = v.strip()
        if v and v not in seen:
            seen.add(v)
            out.append(v)
    return out


def read_entities(path: Path) -> list[tuple[int, dict[str, Any]]]:
    records = []
    for i, raw in enumerate(decoded_lines(path), 1):
        text = raw.strip()
        if not text:
            continue
        try:
            rec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PublicFormatError(
                path, i, f"malformed JSON: {exc.msg} (column {exc.colno})"
            ) from None
        if not isinstance(rec, dict):
            raise PublicFormatError(path, i, "a FollowTheMoney line is a JSON object")
        for key in ("id", "schema"):
            if not isinstance(rec.get(key), str) or not rec[key]:
                raise PublicFormatError(path, i, f"entity has no {key!r} string")
        props = rec.get("properties", {})
        if not isinstance(props, dict):
            raise PublicFormatError(path, i, "'properties' is not an object")
        for k, v in props.items():
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise PublicFormatError(
                    path, i, f"property {k!r} of {rec['id']} is not a list of strings"
                )
        records.append((i, rec))
    if not records:
        raise PublicFormatError(path, 1, "file is empty, expected FollowTheMoney JSON lines")
    return records


def _find(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in (".json", ".jsonl", ".ndjson", ".ftm")
    )
    if not files:
        raise PublicFormatError(path, None, "folder holds no FollowTheMoney .json/.jsonl file")
    return files


def run(path: Path, out: Path, report: ImportReport, rejects: Rejects, progress) -> Output:
    files = _find(path)
    report.inputs = [str(p) for p in files]
    entities: dict[str, dict[str, Any]] = {}
    sanctions: list[dict[str, Any]] = []
    wallets: list[tuple[Path, int, dict[str, Any]]] = []
    skipped: dict[str, int] = defaultdict(int)
    for file in files:
        recs = read_entities(file)
        report.rows_read[file.name] = len(recs)
        for line, rec in recs:
            schema = rec["schema"]
            if schema in KINDS:
                if rec.get("target") is False:
                    skipped["entities that are not targets"] += 1
                    continue
                if rec["id"] in entities:
                    raise PublicFormatError(file, line, f"entity id {rec['id']!r} appears twice")
                entities[rec["id"]] = rec
            elif schema == "Sanction":
                sanctions.append(rec)
            elif schema == "CryptoWallet":
                wallets.append((file, line, rec))
            else:
                skipped[f"{schema} records"] += 1

    programs: dict[str, list[str]] = defaultdict(list)
    starts: dict[str, list[str]] = defaultdict(list)
    orphan_sanctions = 0
    for s in sanctions:
        p = s.get("properties", {})
        for ent in p.get("entity", []):
            if ent not in entities:
                orphan_sanctions += 1
                continue
            programs[ent] += [*p.get("program", []), *p.get("programId", [])]
            starts[ent] += p.get("startDate", [])
    if orphan_sanctions:
        report.notes.append(f"{orphan_sanctions} Sanction records point at no listed entity")

    held: dict[str, list[str]] = defaultdict(list)
    tags: list[dict[str, Any]] = []
    tag_entities: list[str | None] = []
    no_chain = 0
    for file, line, w in wallets:
        p = w.get("properties", {})
        keys = p.get("publicKey", [])
        if not keys:
            raise PublicFormatError(file, line, f"CryptoWallet {w['id']} has no publicKey")
        currency = (p.get("currency") or [""])[0].strip().upper()
        chain = WALLET_CHAINS.get(currency)
        holders = [h for h in p.get("holder", []) if h in entities]
        for key in keys:
            for h in holders:
                held[h].append(key.strip())
            if chain is None:
                no_chain += 1
                continue
            holder = holders[0] if holders else None
            name = (
                (entities[holder].get("properties", {}).get("name") or [holder])[0]
                if holder
                else f"wallet {w['id']}"
            )
            tags.append(
                {
                    "address": normalize_address(key, chain),
                    "chain": chain,
                    "label": name,
                    "category": "sanctioned",
                    "source": "opensanctions",
                }
            )
            tag_entities.append(f"OS-{holder}" if holder else None)
    if no_chain:
        report.rows_skipped["wallets of currencies without a supported chain (no address tag)"] = (
            no_chain
        )

    ids = sorted(entities)
    rows: dict[str, list] = defaultdict(list)
    for eid in ids:
        rec = entities[eid]
        p = rec.get("properties", {})
        names = _dedupe(p.get("name", []))
        name = names[0] if names else (rec.get("caption") or eid)
        topics = _dedupe(p.get("topics", []))
        country = None
        for c in (*p.get("country", []), *p.get("nationality", []), *p.get("jurisdiction", [])):
            country = country_code(c)
            if country:
                break
        rows["entity_id"].append(f"OS-{eid}")
        rows["name"].append(name)
        rows["aliases"].append(
            _dedupe(
                [
                    *names[1:],
                    *p.get("alias", []),
                    *p.get("weakAlias", []),
                    *p.get("previousName", []),
                ],
                exclude=name,
            )
        )
        rows["kind"].append(KINDS[rec["schema"]])
        rows["programs"].append(_dedupe([*programs.get(eid, []), *(f"topic:{t}" for t in topics)]))
        rows["country"].append(country)
        rows["id_numbers"].append(_dedupe([v for k in ID_PROPS for v in p.get(k, [])]))
        rows["phones"].append(_dedupe(p.get("phone", [])))
        rows["addresses"].append(_dedupe(p.get("address", [])))
        rows["crypto_wallets"].append(_dedupe(held.get(eid, [])))
        rows["birth_date"].append(
            _date(p.get("birthDate", [])) if rec["schema"] == "Person" else None
        )
        rows["designation_date"].append(
            min((d for d in (_date([s]) for s in starts.get(eid, [])) if d), default=None)
        )
        rows["source"].append("opensanctions")
        notes = _dedupe(p.get("notes", []))
        rows["remarks"].append(" | ".join(notes) if notes else None)
    for k, v in skipped.items():
        report.rows_skipped[k] = v
    if not ids:
        raise PublicFormatError(
            files[0], None, "no Person/Organization/Company/LegalEntity entity found"
        )
    o = Output(out, report)
    o.table("watchlist", frame("watchlist", dict(rows)))
    if tags:
        o.table("address_tags", tags_frame(tags, report, tag_entities))
    return o
