"""ethereum-etl ``token_transfers`` CSV (same layout as BigQuery ``crypto_ethereum.token_transfers``)
plus optional GraphSense TagPack YAML files in the same folder.

Mapping decisions
- One transaction per transfer: txn_id ``<transaction_hash>:<log_index>``, channel crypto,
  txn_type transfer, chain ethereum, tx_hash the transaction hash, currency the token symbol,
  amount = value / 10**decimals. Tokens: USDT, USDC, DAI, WBTC mainnet contracts built in; a
  ``tokens`` CSV (``address,symbol,decimals``) adds more (symbols must be in the contract's
  crypto_assets vocabulary). Transfers of other tokens (NFTs, the long tail of ERC-20s) and
  zero-value transfers are skipped and counted in ``report.rows_skipped`` — they are outside
  the contract, not malformed.
- Addresses are lowercased (EVM addresses are case-insensitive; checksummed spellings would
  otherwise split a wallet). Every address becomes a wallet account (account_id = address,
  chain ethereum, country XX, currency its first token, opened_date its first transfer),
  custodied by ``SELF`` or, when a TagPack tags it as an exchange, by the exchange label. One
  party per wallet (the tag label when tagged, organization; else the address, person).
- block_timestamp: unix seconds or ``2021-01-01 00:00:00 UTC`` (ISO forms accepted too).
- TagPack tags → address_tags: header fields (label, category, currency, source) apply to tags
  that lack them; currency → chain (ETH→ethereum, BTC→bitcoin, LTC→litecoin, TRX→tron,
  BNB/BSC→bsc, MATIC→polygon, SOL→solana, XMR→monero; tags of other chains are skipped and
  counted); category exchange→exchange, mixing_service/coinjoin/mixer→mixer,
  bridge/defi_bridge/defi/bridge→bridge, defi/dex→defi, gambling, market/darknet→darknet_market,
  scam/phishing/ponzi→scam, ransomware, sanctioned/sanction→sanctioned, shop/merchant→merchant,
  anything else other. source = the tag's source, else the TagPack title.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from nexusfin.contracts import fx_usd_per_unit

from ._common import (
    UNKNOWN_COUNTRY,
    CsvFile,
    PublicFormatError,
    Rejects,
    RowProblem,
    TimestampParser,
    known_currencies,
    parse_int,
    read_text,
    unix_to_datetime,
)
from ._output import ImportReport, Output, frame

COLUMNS = [
    "token_address", "from_address", "to_address", "value", "transaction_hash", "log_index",
    "block_timestamp", "block_number", "block_hash",
]  # fmt: skip
BUILTIN_TOKENS: dict[str, tuple[str, int]] = {
    "0xdac17f958d2ee523a2206206994597c13d831ec7": ("USDT", 6),
    "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": ("USDC", 6),
    "0x6b175474e89094c44da98b954eedeac495271d0f": ("DAI", 18),
    "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599": ("WBTC", 8),
}
CHAINS = {
    "ETH": "ethereum",
    "BTC": "bitcoin",
    "XBT": "bitcoin",
    "LTC": "litecoin",
    "TRX": "tron",
    "BNB": "bsc",
    "BSC": "bsc",
    "MATIC": "polygon",
    "POL": "polygon",
    "SOL": "solana",
    "XMR": "monero",
}
EVM_CHAINS = {"ethereum", "bsc", "polygon", "tron_evm"}
CATEGORIES = {
    "exchange": "exchange",
    "mixing_service": "mixer",
    "mixer": "mixer",
    "coinjoin": "mixer",
    "bridge": "bridge",
    "defi_bridge": "bridge",
    "defi/bridge": "bridge",
    "defi": "defi",
    "dex": "defi",
    "defi_dex": "defi",
    "gambling": "gambling",
    "market": "darknet_market",
    "darknet": "darknet_market",
    "darknet_market": "darknet_market",
    "scam": "scam",
    "phishing": "scam",
    "ponzi": "scam",
    "ransomware": "ransomware",
    "sanctioned": "sanctioned",
    "sanction": "sanctioned",
    "shop": "merchant",
    "merchant": "merchant",
}
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


def normalize_address(address: str, chain: str) -> str:
    a = address.strip()
    return a.lower() if chain in EVM_CHAINS else a


# -- TagPacks --------------------------------------------------------------------------------


def _yaml_error(path: Path, exc: yaml.YAMLError) -> PublicFormatError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    return PublicFormatError(path, line, f"malformed YAML: {problem}")


def read_tagpack(path: Path) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    """Header and (line, tag) pairs of a TagPack; line = where the tag starts."""
    text = read_text(path)
    if not text.strip():
        raise PublicFormatError(path, 1, "file is empty, expected a TagPack (title, creator, tags)")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    if not isinstance(doc, dict):
        raise PublicFormatError(path, 1, "a TagPack is a mapping with title, creator and tags")
    tags_node = None
    for k, v in node.value:
        if k.value == "tags":
            tags_node = v
    tags = doc.get("tags")
    if not isinstance(tags, list) or tags_node is None:
        raise PublicFormatError(path, 1, "TagPack has no 'tags:' list")
    lines = [n.start_mark.line + 1 for n in tags_node.value]
    header = {k: v for k, v in doc.items() if k != "tags"}
    return header, list(zip(lines, tags, strict=True))


def tagpack_tags(path: Path, report: ImportReport) -> list[dict[str, Any]]:
    header, tags = read_tagpack(path)
    title = str(header.get("title") or path.stem)
    out = []
    skipped = 0
    for line, tag in tags:
        if not isinstance(tag, dict):
            raise PublicFormatError(
                path, line, "tag is not a mapping of address, currency, label, ..."
            )
        get = lambda k, tag=tag: tag.get(k, header.get(k))  # noqa: E731
        address = tag.get("address")
        if not isinstance(address, str) or not address.strip():
            raise PublicFormatError(path, line, "tag has no address")
        currency = str(get("currency") or "").strip().upper()
        if not currency:
            raise PublicFormatError(path, line, f"tag {address} has no currency")
        chain = CHAINS.get(currency)
        if chain is None:
            skipped += 1
            continue
        label = get("label")
        if label is None or not str(label).strip():
            raise PublicFormatError(path, line, f"tag {address} has no label")
        category = str(get("category") or "").strip().lower()
        address = normalize_address(address, chain)
        if chain == "ethereum" and not _ADDRESS.match(address):
            raise PublicFormatError(
                path, line, f"address {tag.get('address')!r} is not an Ethereum address"
            )
        out.append(
            {
                "address": address,
                "chain": chain,
                "label": str(label).strip(),
                "category": CATEGORIES.get(category, "other"),
                "source": str(get("source") or title).strip(),
                "raw_category": category,
            }
        )
    report.rows_read[path.name] = len(tags)
    if skipped:
        report.rows_skipped[f"{path.name}: tags of unsupported currencies"] = skipped
    return out


def tags_frame(
    tags: list[dict[str, Any]], report: ImportReport, entity_ids: list[str | None] | None = None
) -> pl.DataFrame:
    seen: set[tuple[str, str]] = set()
    keep = []
    for i, t in enumerate(tags):
        key = (t["chain"], t["address"])
        if key in seen:
            continue
        seen.add(key)
        keep.append((t, entity_ids[i] if entity_ids else None))
    dups = len(tags) - len(keep)
    if dups:
        report.notes.append(
            f"{dups} duplicate address tags (same chain and address) dropped; first kept"
        )
    return frame(
        "address_tags",
        {
            "address": [t["address"] for t, _ in keep],
            "chain": [t["chain"] for t, _ in keep],
            "label": [t["label"] for t, _ in keep],
            "category": [t["category"] for t, _ in keep],
            "entity_id": [e for _, e in keep],
            "source": [t["source"] for t, _ in keep],
        },
    )


# -- tokens ------------------------------------------------------------------------------------


def read_tokens(path: Path, rejects: Rejects) -> dict[str, tuple[str, int]]:
    c = CsvFile(path, Rejects("raise"), required=["address", "symbol", "decimals"])
    crypto = known_currencies()
    out = {}
    for line, f in c:
        addr = c.col(f, "address").lower()
        sym = c.col(f, "symbol").upper()
        if not _ADDRESS.match(addr):
            raise PublicFormatError(
                path, line, f"address {c.col(f, 'address')!r} is not an Ethereum address"
            )
        if sym not in crypto:
            raise PublicFormatError(
                path, line, f"symbol {sym!r} is not in the crypto_assets vocabulary"
            )
        try:
            dec = parse_int(c.col(f, "decimals"), "decimals")
        except Exception as exc:
            raise PublicFormatError(path, line, str(exc)) from None
        if not 0 <= dec <= 36:
            raise PublicFormatError(path, line, f"decimals {dec} out of range 0..36")
        out[addr] = (sym, dec)
    return out


# -- transfers ---------------------------------------------------------------------------------


def _find(path: Path) -> tuple[list[Path], list[Path]]:
    folder = path if path.is_dir() else path.parent
    yamls = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml")
    )
    if path.is_file():
        return [path], yamls
    csvs = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() == ".csv" and "token_transfers" in p.name.lower()
    )
    if not csvs:
        csvs = sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and p.suffix.lower() == ".csv" and p.name.lower() != "tokens.csv"
        )
    if not csvs:
        raise PublicFormatError(path, None, "folder holds no token_transfers CSV file")
    return csvs, yamls


def run(
    path: Path,
    out: Path,
    report: ImportReport,
    rejects: Rejects,
    progress,
    *,
    tokens: Path | None = None,
) -> Output:
    csvs, yamls = _find(path)
    report.inputs = [str(p) for p in (*csvs, *yamls, *([tokens] if tokens else []))]
    token_table = dict(BUILTIN_TOKENS)
    if tokens is not None:
        token_table.update(read_tokens(tokens, rejects))
    fx = fx_usd_per_unit()

    tags: list[dict[str, Any]] = []
    for y in yamls:
        tags += tagpack_tags(y, report)
    exchange_of = {
        t["address"]: t["label"]
        for t in tags
        if t["chain"] == "ethereum" and t["category"] == "exchange"
    }
    label_of = {t["address"]: t["label"] for t in tags if t["chain"] == "ethereum"}

    tsp = TimestampParser(
        [
            "%Y-%m-%d %H:%M:%S UTC",
            "%Y-%m-%d %H:%M:%S%z",
            "%Y-%m-%dT%H:%M:%SZ",
            "%Y-%m-%dT%H:%M:%S%z",
            "%Y-%m-%d %H:%M:%S",
        ],
        "block_timestamp",
        "2021-01-01 00:00:00 UTC",
    )
    rows: list[tuple] = []
    wallets: dict[str, list] = {}  # address -> [currency, first ts]
    seen_ids: dict[str, tuple[str, int]] = {}
    unknown: dict[str, int] = {}
    zero = 0
    for file in csvs:
        c = CsvFile(file, rejects, required=COLUMNS)
        for line, f in c:
            g = lambda col, f=f, c=c: c.col(f, col)  # noqa: E731
            try:
                token = g("token_address").lower()
                if not _ADDRESS.match(token):
                    raise RowProblem(
                        f"token_address {g('token_address')!r} is not an Ethereum address"
                    )
                frm, to = g("from_address").lower(), g("to_address").lower()
                for col, a in (("from_address", frm), ("to_address", to)):
                    if not _ADDRESS.match(a):
                        raise RowProblem(f"{col} {g(col)!r} is not an Ethereum address")
                value = parse_int(g("value"), "value")
                if value < 0:
                    raise RowProblem(f"value {g('value')!r} is negative")
                h = g("transaction_hash").lower()
                if not _HASH.match(h):
                    raise RowProblem(
                        f"transaction_hash {g('transaction_hash')!r} is not a 32-byte hex hash"
                    )
                log_index = parse_int(g("log_index"), "log_index")
                bt = g("block_timestamp")
                if re.fullmatch(r"\d{1,12}(\.0+)?", bt):
                    ts: datetime = unix_to_datetime(int(float(bt)))
                else:
                    ts = tsp(bt)
                parse_int(g("block_number"), "block_number")
                tid = f"{h}:{log_index}"
                if tid in seen_ids:
                    raise RowProblem(
                        f"transfer {tid} already read ({seen_ids[tid][0]} line {seen_ids[tid][1]})"
                    )
            except RowProblem as p:
                rejects(PublicFormatError(file, line, str(p)), ",".join(f))
                continue
            seen_ids[tid] = (file.name, line)
            tok = token_table.get(token)
            if tok is None:
                unknown[token] = unknown.get(token, 0) + 1
                continue
            if value == 0:
                zero += 1
                continue
            sym, dec = tok
            amount = value / 10**dec
            for a in (frm, to):
                w = wallets.get(a)
                if w is None:
                    wallets[a] = [sym, ts]
                elif ts < w[1]:
                    w[1] = ts
            rows.append((tid, ts, frm, to, amount, sym, amount * fx[sym], h))
            if progress and len(rows) % 200_000 == 0:
                progress(len(seen_ids), None)
        report.rows_read[file.name] = c.rows_read
    if unknown:
        report.rows_skipped["transfers of tokens not in the token table"] = sum(unknown.values())
        top = sorted(unknown.items(), key=lambda kv: -kv[1])[:5]
        report.notes.append(
            "unknown tokens (pass tokens= to add them): " + ", ".join(f"{a} ({n})" for a, n in top)
        )
    if zero:
        report.rows_skipped["zero-value transfers"] = zero
    if not rows:
        raise PublicFormatError(csvs[0], None, "no transfer of a known token could be read")

    n = len(rows)
    txns = frame(
        "transactions",
        {
            "txn_id": [r[0] for r in rows],
            "ts": [r[1] for r in rows],
            "src_account": [r[2] for r in rows],
            "dst_account": [r[3] for r in rows],
            "amount": [r[4] for r in rows],
            "currency": [r[5] for r in rows],
            "amount_usd": [r[6] for r in rows],
            "channel": ["crypto"] * n,
            "txn_type": ["transfer"] * n,
            "chain": ["ethereum"] * n,
            "tx_hash": [r[7] for r in rows],
        },
    )
    ids = sorted(wallets)
    acc = frame(
        "accounts",
        {
            "account_id": ids,
            "owner_party_id": [f"P-{a}" for a in ids],
            "bank_id": [exchange_of.get(a, "SELF") for a in ids],
            "account_type": ["wallet"] * len(ids),
            "country": [UNKNOWN_COUNTRY] * len(ids),
            "currency": [wallets[a][0] for a in ids],
            "opened_date": [wallets[a][1].date() for a in ids],
            "chain": ["ethereum"] * len(ids),
            "address": ids,
        },
    )
    par = frame(
        "parties",
        {
            "party_id": [f"P-{a}" for a in ids],
            "name": [label_of.get(a, a) for a in ids],
            "kind": ["organization" if a in label_of else "person" for a in ids],
            "country": [UNKNOWN_COUNTRY] * len(ids),
        },
    )
    o = Output(out, report)
    o.clear_dataset()
    o.transactions(txns, None)
    o.table("accounts", acc)
    o.table("parties", par)
    if tags:
        o.table("address_tags", tags_frame(tags, report))
    elif yamls:
        report.notes.append("TagPacks held no tag of a supported chain")
    return o
