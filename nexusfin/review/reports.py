"""Report drafts for an alert an analyst escalated to a SAR: goAML XML and a FinCEN-style narrative.

Both are written from the alert's :class:`~nexusfin.review.evidence.AlertEvidence` only, so every
figure in them is one an analyst can find in the evidence (amounts are ``amount_usd`` with two
decimals, times are UTC). The XML follows nexusfin's strict subset of the UNODC goAML schema,
``schemas/goaml_report.xsd`` (its header comment maps every element to its source), and is
validated before it is returned; the narrative states who, what, when, where, why and how.

Codes (ours; each FIU publishes its own lookups, map them before filing):

* funds codes (``from_funds_code`` / ``to_funds_code``, :data:`FUNDS_CODES`): a cash deposit is
  ``K`` (cash) from the depositor and ``A`` (deposit) into the account; a cash withdrawal is ``B``
  (withdrawal) from the account and ``K`` to the person taking the cash; otherwise both sides carry
  the channel's code: wire ``W``, ACH ``E``, internal ``I``, cheque ``Q``, card ``D`` and crypto
  ``V`` (virtual asset);
* conduction type (``transmode_code``, :data:`TRANSMODE_BY_CHANNEL`): CASH, WIRE, ACH, INTERNAL,
  CHEQUE, CARD, VIRTUAL_ASSET, one per channel;
* indicators (:data:`INDICATORS`): STRUCT, RAPID, VASP, TF-NEXUS, SANCTIONS-LINK, MODEL-SCORE.

A side is "my client" (``t_from_my_client`` / ``t_to_my_client``) when its account is the alerted
account or is held at the same bank (self-hosted wallets excepted). Crypto transfers carry no
country, so their sides take the wallet owner's country. The cash side of a deposit names the
depositor: the account owner, or the third party in ``conducted_by`` (known by party id only, so
written with ``name_unknown``).
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from nexusfin.contracts import schemas_dir
from nexusfin.review.config import ReviewConfig
from nexusfin.review.evidence import AlertEvidence

__all__ = [
    "FUNDS_CODES",
    "INDICATORS",
    "TRANSMODE_BY_CHANNEL",
    "ReportInvalid",
    "goaml_schema_path",
    "goaml_xml",
    "report_indicators",
    "sar_narrative",
    "validate_goaml",
]

XSD_NAME = "goaml_report.xsd"

INDICATORS: dict[str, str] = {
    "STRUCT": "structuring: cash kept below the CTR threshold (structuring.* rules)",
    "RAPID": "rapid movement of funds or a funnel account (movement.*, funnel.* rules)",
    "VASP": "virtual assets: crypto.* rules, or crypto transfers among the evidence",
    "TF-NEXUS": "crime-terror convergence: criminal typology on money reaching a terror-designated "
                "facilitator",
    "SANCTIONS-LINK": "a money path to or from a watchlist-matched facilitator account",
    "MODEL-SCORE": "none of the above: the model score alone",
}
"""goAML indicator codes nexusfin writes (the XSD enumerates the same list)."""

# detector family (or rule prefix) -> indicator
_FAMILY_INDICATOR = {"structuring": "STRUCT", "movement": "RAPID", "rapid_movement": "RAPID",
                     "funnel": "RAPID", "crypto": "VASP"}

FUNDS_CODES: dict[str, str] = {
    "K": "cash (banknotes): the cash side of a cash deposit or withdrawal",
    "A": "deposit: the account credited by a cash deposit",
    "B": "withdrawal: the account debited by a cash withdrawal",
    "W": "wire transfer",
    "E": "ACH / electronic funds transfer",
    "I": "internal book transfer",
    "Q": "cheque",
    "D": "card",
    "V": "virtual asset (crypto) transfer",
}
"""goAML funds codes nexusfin writes (the XSD enumerates the same list)."""

_CHANNEL_FUNDS = {"wire": "W", "ach": "E", "internal": "I", "check": "Q", "card": "D",
                  "crypto": "V"}

TRANSMODE_BY_CHANNEL: dict[str, str] = {
    "cash": "CASH", "wire": "WIRE", "ach": "ACH", "internal": "INTERNAL", "check": "CHEQUE",
    "card": "CARD", "crypto": "VIRTUAL_ASSET",
}
"""transactions.channel -> goAML transmode_code (the XSD enumerates the values)."""

_CHANNEL_WORD = {"cash": "cash", "wire": "wire", "ach": "ACH", "internal": "internal",
                 "check": "cheque", "card": "card", "crypto": "crypto"}

# rule -> (what it means, in words; the parameters that matter for it). docs/detectors.md
RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "structuring.daily": (
        "on one business day several cash deposits, each at or below the CTR threshold, together "
        "exceeded it: cash split so that no single deposit is reported",
        ("ctr_threshold_usd", "min_daily_deposits")),
    "structuring.window": (
        "over several days cash deposits just below the CTR threshold (in the structuring band) "
        "together exceeded it, made up most of the person's cash deposits, and none landed just "
        "above the threshold: the threshold is being avoided",
        ("window_days", "band_low_usd", "ctr_threshold_usd", "min_band_deposits",
         "min_band_share", "max_above_share")),
    "structuring.targeting_order": (
        "the daily structuring rule at a Geographic Targeting Order's lower threshold, on cash "
        "deposits made in the order's areas",
        ("targeting_orders", "min_daily_deposits")),
    "structuring.smurfing": (
        "several different third parties deposited sub-threshold cash into one account within a "
        "few days: smurfing (cash placed through others)",
        ("smurfing_window_days", "smurfing_min_conductors", "smurfing_min_total_usd",
         "ctr_threshold_usd")),
    "funnel.multi_location": (
        "cash was deposited in several different areas and soon after most of it left as cash in "
        "an area with none of the deposits or as transfers abroad: a funnel account",
        ("window_days", "min_areas", "min_cash_in_usd", "out_window_hours", "min_out_ratio")),
    "movement.pass_through": (
        "money received was sent on almost in full within hours: the account passes funds "
        "through instead of using them",
        ("min_amount_usd", "pass_through_hours", "ratio_low", "ratio_high")),
    "movement.chain": (
        "money passed through several accounts in a row, each forwarding it within hours: a "
        "layering chain",
        ("min_amount_usd", "chain_link_hours", "chain_min_links", "chain_max_links")),
    "movement.cycle": (
        "money left the account and came back to it through other accounts: round-tripping",
        ("min_amount_usd", "chain_link_hours", "cycle_min_length")),
    "movement.fan_in": (
        "many different senders paid in within a few days and most of it was sent on at once: "
        "a collection hub",
        ("fan_min_degree", "fan_min_amount_usd", "fan_window_hours", "fan_forward_hours",
         "fan_forward_ratio", "fan_forward_ratio_max")),
    "movement.fan_out": (
        "many different recipients were paid within a few days right after money came in: a "
        "distribution hub",
        ("fan_min_degree", "fan_min_amount_usd", "fan_window_hours", "fan_out_funding_hours",
         "fan_out_funding_ratio")),
    "movement.gather_scatter": (
        "money gathered from several senders was soon scattered to several recipients",
        ("gather_scatter_min_in", "gather_scatter_min_out", "gather_scatter_window_hours",
         "gather_scatter_forward_hours", "fan_forward_ratio", "fan_forward_ratio_max")),
    "movement.scatter_gather": (
        "one origin split money across several intermediaries that each passed it on to one same "
        "collector",
        ("scatter_gather_min_intermediaries", "chain_link_hours", "min_amount_usd")),
    "crypto.peel_chain": (
        "crypto moved along a chain of wallets, each peeling off a small amount and forwarding "
        "the rest: a peel chain",
        ("peel_link_hours", "peel_max_fraction", "peel_min_remainder", "peel_min_hops")),
    "crypto.mixer_exposure": (
        "the wallet received from or sent to a mixer within a few hops: funds of obscured origin",
        ("exposure_max_hops", "min_amount_usd")),
    "crypto.bridge_exposure": (
        "the wallet received from or sent to a cross-chain bridge within a few hops",
        ("exposure_max_hops", "min_amount_usd")),
    "crypto.chain_hop": (
        "funds hopped across blockchains through bridges between wallets of the same owner: "
        "chain-hopping to break the trail",
        ("chain_hop_hours", "chain_hop_min_ratio", "chain_hop_min_hops")),
    "crypto.cash_out": (
        "a crypto sale paid fiat into the account and most of it left as cash or transfers soon "
        "after: a cash-out",
        ("cash_out_hours", "cash_out_ratio")),
    "crypto.on_ramp": (
        "a crypto purchase was paid for mostly with cash deposited in the days before: cash "
        "placed into virtual assets",
        ("on_ramp_days", "on_ramp_ratio")),
}
"""Detector rules in words and the parameters each one is judged by (docs/detectors.md)."""

# characters XML 1.0 cannot carry (they would make lxml refuse the text)
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CENT = Decimal("0.01")


class ReportInvalid(ValueError):
    """The evidence cannot make a valid goAML report; ``errors`` says why."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("goAML report invalid: " + "; ".join(self.errors[:5])
                         + (f" (+{len(self.errors) - 5} more)" if len(self.errors) > 5 else ""))


# --- schema ------------------------------------------------------------------------------------

def goaml_schema_path() -> Path:
    """``goaml_report.xsd``: the copy force-included into an installed wheel
    (``nexusfin/_schemas``), else the project's schema folder
    (:func:`nexusfin.contracts.schemas_dir`), else the repository's ``schemas/``."""
    here = Path(__file__).resolve()
    candidates = [here.parents[1] / "_schemas" / XSD_NAME]
    with contextlib.suppress(FileNotFoundError):
        candidates.append(schemas_dir() / XSD_NAME)
    candidates.append(here.parents[2] / "schemas" / XSD_NAME)
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"nexusfin cannot find {XSD_NAME}; looked in "
                            + ", ".join(str(p.parent) for p in candidates))


def _safe_parser() -> etree.XMLParser:
    # no entity expansion, no DTD loading, no network: XXE and entity bombs stay inert
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False)


@cache
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path, _safe_parser()))


def validate_goaml(xml: bytes) -> list[str]:
    """Errors of ``xml`` against ``schemas/goaml_report.xsd``; an empty list means valid.

    Malformed XML gives its parse error, and a document declaring a DOCTYPE (the carrier of
    external-entity and entity-expansion attacks) is refused without expanding anything."""
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    try:
        root = etree.fromstring(xml, _safe_parser())
    except etree.XMLSyntaxError as exc:
        return [f"malformed XML: {exc}"]
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        return ["DOCTYPE declarations are not allowed in a goAML report (entities are never "
                "expanded)"]
    schema = _schema(str(goaml_schema_path()))
    if schema.validate(tree):
        return []
    return [f"{e.path}: {e.message} (line {e.line})" for e in schema.error_log]


# --- shared formatting -------------------------------------------------------------------------

def _usd(value: float | Decimal) -> Decimal:
    """An amount rounded to cents the same way in the XML and in the narrative."""
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def _money(value: float | Decimal, currency: str = "USD") -> str:
    return f"{_usd(value):,.2f} {currency}"


def _plain(value: float) -> str:
    """A quantity as an exact decimal string (crypto amounts keep every digit)."""
    return format(Decimal(str(value)).normalize(), "f")


def _num(key: str, value: Any) -> str:
    """A detector parameter or observed value, formatted without changing it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and key.endswith("_usd"):
        return _money(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_num("", v) for v in value) + "]"
    return "null" if value is None else str(value)


def _utc(ts: datetime) -> datetime:
    return (ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)).replace(tzinfo=None)


def _xml_time(ts: datetime) -> str:
    return _utc(ts).isoformat(timespec="seconds")


def _when(ts: datetime) -> str:
    return _utc(ts).strftime("%Y-%m-%d %H:%M:%S UTC")


def _day(ts: datetime | date) -> str:
    return (_utc(ts).date() if isinstance(ts, datetime) else ts).isoformat()


def _describe(row: Mapping[str, Any]) -> str:
    """"cash deposit", "wire transfer", "ACH exchange buy", ..."""
    channel = row.get("channel") or "unknown channel"
    kind = (row.get("txn_type") or "transaction").replace("_", " ")
    return f"{_CHANNEL_WORD.get(channel, channel)} {kind}"


def _rows(evidence: AlertEvidence) -> list[dict[str, Any]]:
    txns = evidence.transactions
    if txns is None or txns.is_empty():
        return []
    return sorted(txns.to_dicts(), key=lambda r: (r["ts"], r["txn_id"]))


def _side(row: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {"account": row.get(f"{prefix}_account"), "party_id": row.get(f"{prefix}_party_id"),
            "name": row.get(f"{prefix}_party_name"), "kind": row.get(f"{prefix}_party_kind"),
            "country": row.get(f"{prefix}_party_country"), "bank_id": row.get(f"{prefix}_bank_id"),
            "account_type": row.get(f"{prefix}_account_type")}


def _accounts(evidence: AlertEvidence, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """account id -> owner and bank, from both sides of the evidence transactions and the
    subject's records."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        for prefix in ("src", "dst"):
            side = _side(row, prefix)
            if side["account"] is not None:
                out.setdefault(side["account"], side)
    acct, party = evidence.account, evidence.party
    account_id = evidence.alert.get("account_id")
    if account_id:
        known = out.setdefault(account_id, {"account": account_id})
        subject = {"party_id": acct.get("owner_party_id") or evidence.alert.get("party_id"),
                   "name": party.get("name"), "kind": party.get("kind"),
                   "country": party.get("country") or acct.get("country"),
                   "bank_id": acct.get("bank_id"), "account_type": acct.get("account_type")}
        for key, value in subject.items():
            if known.get(key) is None:
                known[key] = value
    return out


def _label(account: str | None, accounts: Mapping[str, Mapping[str, Any]]) -> str:
    if account is None:
        return "cash"
    name = (accounts.get(account) or {}).get("name")
    return f"{account} [{name}]" if name else account


def _facilitator(evidence: AlertEvidence) -> dict[str, Any] | None:
    """The facilitator at the end of the alert's money path (None without one)."""
    alert, row = evidence.alert, evidence.facilitator_path or {}
    accounts = list(row.get("path_accounts") or alert.get("facilitator_path_accounts") or [])
    if not accounts:
        return None
    direction = row.get("direction") or "to"
    account = row.get("facilitator_account_id") or (
        accounts[0] if direction == "from" else accounts[-1])
    return {
        "direction": direction,
        "account": account,
        "entity_id": row.get("entity_id") or alert.get("facilitator_entity_id"),
        "entity_name": row.get("entity_name"),
        "programs": list(row.get("programs") or alert.get("facilitator_programs") or []),
        "accounts": accounts,
        "txn_ids": list(row.get("path_txn_ids") or alert.get("facilitator_path_txn_ids") or []),
        "usd": list(row.get("path_usd") or []),
        "bottleneck_usd": row.get("bottleneck_usd"),
    }


def _rules(evidence: AlertEvidence) -> list[str]:
    seen = [str(r) for r in evidence.alert.get("detector_rules") or []]
    seen += [str(d["rule"]) for d in evidence.detector_alerts if d.get("rule")]
    return list(dict.fromkeys(seen))


def report_indicators(evidence: AlertEvidence) -> list[str]:
    """goAML indicator codes of the alert, in :data:`INDICATORS` order: the detector rule families
    (structuring.* -> STRUCT; movement.*, rapid_movement, funnel.* -> RAPID; crypto.* -> VASP),
    crypto transfers among the evidence (VASP), convergence (TF-NEXUS) and a facilitator path
    (SANCTIONS-LINK); MODEL-SCORE when none of these applies."""
    found: set[str] = set()
    families = [r.split(".", 1)[0] for r in _rules(evidence)]
    families += [str(d["detector"]) for d in evidence.detector_alerts if d.get("detector")]
    found.update(_FAMILY_INDICATOR[f] for f in families if f in _FAMILY_INDICATOR)
    txns = evidence.transactions
    if txns is not None and not txns.is_empty() and "crypto" in txns["channel"].to_list():
        found.add("VASP")
    if evidence.alert.get("convergent"):
        found.add("TF-NEXUS")
    if _facilitator(evidence) is not None:
        found.add("SANCTIONS-LINK")
    return [code for code in INDICATORS if code in found] or ["MODEL-SCORE"]


# --- goAML XML ---------------------------------------------------------------------------------

class _Builder:
    """Writes one <report>; every text goes through lxml (escaped), never through string joins."""

    def __init__(self, evidence: AlertEvidence, config: ReviewConfig):
        self.evidence = evidence
        self.config = config
        self.rows = _rows(evidence)
        self.accounts = _accounts(evidence, self.rows)
        self.subject_account = evidence.alert.get("account_id")
        self.subject_party = evidence.party.get("party_id") or evidence.alert.get("party_id")
        self.home_bank = evidence.account.get("bank_id") or self.accounts.get(
            self.subject_account or "", {}).get("bank_id")
        self.errors: list[str] = []

    @staticmethod
    def sub(parent: etree._Element, tag: str, text: Any = None) -> etree._Element:
        el = etree.SubElement(parent, tag)
        if text is not None:
            el.text = _XML_INVALID.sub("\ufffd", str(text))
        return el

    def opt(self, parent: etree._Element, tag: str, text: Any) -> None:
        if text is not None and str(text).strip():
            self.sub(parent, tag, text)

    # parties
    def party(self, side: Mapping[str, Any]) -> dict[str, Any]:
        """What the evidence knows of a side's owner; the full parties row for the subject."""
        info = {k: side.get(k) for k in ("party_id", "name", "kind", "country")}
        if info["party_id"] is not None and info["party_id"] == self.subject_party:
            full = self.evidence.party
            info.update({k: v for k, v in full.items() if v is not None})
            info["country"] = full.get("country") or info["country"]
        return info

    def addresses(self, parent: etree._Element, info: Mapping[str, Any], kind: str) -> None:
        if info.get("address") and info.get("country"):
            address = self.sub(self.sub(parent, "addresses"), "address")
            self.sub(address, "address_type", kind)
            self.sub(address, "address", info["address"])
            self.sub(address, "country_code", info["country"])

    def identification(self, parent: etree._Element, info: Mapping[str, Any]) -> None:
        if info.get("id_type") and info.get("id_number"):
            ident = self.sub(parent, "identification")
            self.sub(ident, "type", info["id_type"])
            self.sub(ident, "number", info["id_number"])

    def person(self, el: etree._Element, info: Mapping[str, Any]) -> etree._Element:
        self.opt(el, "party_ref", info.get("party_id"))
        name = " ".join(str(info.get("name") or "").split())
        if name:
            first, _, last = name.rpartition(" ")
            self.opt(el, "first_name", first)
            self.sub(el, "last_name", last)
        else:
            self.sub(el, "name_unknown", "true")
        if isinstance(info.get("birth_date"), date):
            self.sub(el, "birthdate", info["birth_date"].isoformat())
        self.opt(el, "residence", info.get("country"))
        self.addresses(el, info, "PRIVATE")
        self.identification(el, info)
        return el

    def entity(self, el: etree._Element, info: Mapping[str, Any]) -> etree._Element:
        self.opt(el, "party_ref", info.get("party_id"))
        self.sub(el, "name", info.get("name"))
        self.opt(el, "business", info.get("business_type"))
        self.addresses(el, info, "BUSINESS")
        self.opt(el, "incorporation_country_code", info.get("country"))
        if isinstance(info.get("incorporation_date"), date):
            self.sub(el, "incorporation_date", info["incorporation_date"].isoformat())
        self.identification(el, info)
        return el

    def holder(self, parent: etree._Element, person_tag: str, entity_tag: str,
               info: Mapping[str, Any]) -> None:
        if info.get("kind") == "organization" and info.get("name"):
            self.entity(self.sub(parent, entity_tag), info)
        else:
            self.person(self.sub(parent, person_tag), info)

    # accounts
    def account(self, parent: etree._Element, tag: str, side: Mapping[str, Any]) -> None:
        el = self.sub(parent, tag)
        account_id = side["account"]
        subject = account_id == self.subject_account
        acct = self.evidence.account if subject else {}
        known = self.accounts.get(account_id, {})
        self.sub(el, "institution_code", side.get("bank_id") or known.get("bank_id"))
        if subject:
            self.opt(el, "branch", acct.get("home_location"))
        self.sub(el, "account", account_id)
        account_type = side.get("account_type") or known.get("account_type")
        if acct.get("currency"):
            # the evidence knows the alerted account's currency only; others' are not guessed
            self.sub(el, "virtual_asset_code" if account_type == "wallet" else "currency_code",
                     acct["currency"])
        self.sub(el, "personal_account_type", account_type)
        info = self.party({**known, **{k: v for k, v in side.items() if v is not None}})
        if info.get("kind") == "organization" and info.get("name"):
            self.entity(self.sub(el, "t_entity"), info)
        elif info.get("name") or info.get("party_id"):
            signatory = self.sub(el, "signatory")
            self.sub(signatory, "is_primary", "true")
            self.person(self.sub(signatory, "t_person"), info)

    def my_client(self, side: Mapping[str, Any]) -> bool:
        """The alerted account, or another account at its bank (self-hosted wallets share none)."""
        return side["account"] == self.subject_account or (
            self.home_bank not in (None, "SELF") and side.get("bank_id") == self.home_bank)

    def country(self, side: etree._Element, tag: str, row: Mapping[str, Any], prefix: str) -> None:
        """The side's country as booked; crypto transfers carry none, so the wallet owner's."""
        value = row.get(f"{prefix}_country") or (
            row.get(f"{prefix}_party_country") if row.get("channel") == "crypto" else None)
        if not value:
            self.errors.append(f"transaction {row['txn_id']}: no {prefix}_country for {tag}")
        self.sub(side, tag, value)

    # transactions
    def transaction(self, parent: etree._Element, row: Mapping[str, Any]) -> None:
        txn = self.sub(parent, "transaction")
        txn_id, channel = row["txn_id"], row.get("channel")
        self.sub(txn, "transactionnumber", txn_id)
        self.opt(txn, "transaction_location", row.get("location"))
        description = _describe(row)
        if row.get("memo"):
            description += f"; memo: {row['memo']}"
        self.sub(txn, "transaction_description", description)
        self.sub(txn, "date_transaction", _xml_time(row["ts"]))
        transmode = TRANSMODE_BY_CHANNEL.get(channel or "")
        if transmode is None:
            self.errors.append(f"transaction {txn_id}: channel {channel!r} has no transmode code")
        self.sub(txn, "transmode_code", transmode)
        amount = row.get("amount_usd")
        if amount is None:
            self.errors.append(f"transaction {txn_id}: no amount_usd")
        self.sub(txn, "amount_local", None if amount is None else f"{_usd(amount):.2f}")
        src, dst = _side(row, "src"), _side(row, "dst")
        conductor = row.get("conducted_by")
        local = self.config.currency_code_local
        foreign = (channel != "crypto" and row.get("currency") and row["currency"] != local
                   and row.get("amount") is not None)

        # debited side
        if src["account"] is None:
            side = self.sub(txn, "t_from")
            self.sub(side, "from_funds_code", "K")
            self.cash_party(side, "from", conductor, dst)
        else:
            side = self.sub(txn, "t_from_my_client" if self.my_client(src) else "t_from")
            code = "B" if channel == "cash" else self.funds(txn_id, channel)
            self.sub(side, "from_funds_code", code)
            if foreign:
                fx = self.sub(side, "from_foreign_currency")
                self.sub(fx, "foreign_currency_code", row["currency"])
                self.sub(fx, "foreign_amount", _plain(row["amount"]))
            self.account(side, "from_account", src)
        self.country(side, "from_country", row, "src")

        # credited side
        if dst["account"] is None:
            side = self.sub(txn, "t_to")
            self.sub(side, "to_funds_code", "K")
            self.cash_party(side, "to", conductor, src)
        else:
            side = self.sub(txn, "t_to_my_client" if self.my_client(dst) else "t_to")
            code = "A" if channel == "cash" else self.funds(txn_id, channel)
            self.sub(side, "to_funds_code", code)
            self.account(side, "to_account", dst)
        self.country(side, "to_country", row, "dst")

        if channel == "crypto":
            asset = self.sub(txn, "virtual_asset")
            self.sub(asset, "asset_code", row.get("currency"))
            amount = row.get("amount")
            self.sub(asset, "asset_amount", None if amount is None else _plain(amount))
            self.opt(asset, "chain", row.get("chain"))
            self.opt(asset, "tx_hash", row.get("tx_hash"))
        why = ["the facilitator money path" if e == "path" else e
               for e in row.get("evidence_of") or []]
        if why:
            self.sub(txn, "comments", "evidence of: " + ", ".join(why))

    def funds(self, txn_id: str, channel: str | None) -> str | None:
        code = _CHANNEL_FUNDS.get(channel or "")
        if code is None:
            self.errors.append(f"transaction {txn_id}: channel {channel!r} has no funds code")
        return code

    def cash_party(self, side: etree._Element, prefix: str, conductor: str | None,
                   owner_side: Mapping[str, Any]) -> None:
        """The person handing in (from) or taking (to) the cash: the conductor, else the owner."""
        owner = self.party({**self.accounts.get(owner_side["account"] or "", {}),
                            **{k: v for k, v in owner_side.items() if v is not None}})
        if conductor is not None and conductor != owner.get("party_id"):
            verb = "handed in" if prefix == "from" else "taken"
            self.sub(side, f"{prefix}_funds_comment",
                     f"cash {verb} by third party {conductor} (conducted_by); the evidence names "
                     "them by party id only")
            el = self.sub(side, f"{prefix}_person")
            self.sub(el, "party_ref", conductor)
            self.sub(el, "name_unknown", "true")
            return
        self.holder(side, f"{prefix}_person", f"{prefix}_entity", owner)

    def report(self, *, analyst: str, note: str, decided_at: datetime,
               narrative: str) -> etree._Element:
        ev, entity = self.evidence, self.config.reporting_entity
        root = etree.Element("report")
        self.sub(root, "rentity_id", entity.rentity_id)
        self.opt(root, "rentity_branch", entity.rentity_branch)
        self.sub(root, "submission_code", "E")
        self.sub(root, "report_code", "SAR")
        self.sub(root, "entity_reference", ev.alert_id)
        self.sub(root, "submission_date", _xml_time(decided_at))
        self.sub(root, "currency_code_local", self.config.currency_code_local)
        person = self.sub(root, "reporting_person")
        self.sub(person, "last_name", analyst)
        self.sub(root, "reason", narrative)
        self.sub(root, "action", f"Alert {ev.alert_id} escalated to a SAR by {analyst} on "
                                 f"{_day(decided_at)}. Analyst note: {note.strip() or '(none)'}")
        for row in self.rows:
            self.transaction(root, row)
        indicators = self.sub(root, "report_indicators")
        for code in report_indicators(ev):
            self.sub(indicators, "indicator", code)
        return root


def goaml_xml(evidence: AlertEvidence, *, analyst: str, note: str, decided_at: datetime,
              config: ReviewConfig) -> bytes:
    """The goAML report of the escalated alert: UTF-8, pretty printed, with an XML declaration,
    validated against ``schemas/goaml_report.xsd``.

    Raises :class:`ReportInvalid` when the evidence cannot make a valid report (no evidence
    transaction, a local currency other than USD, missing countries or codes, ...)."""
    pre: list[str] = []
    if evidence.transactions is None or evidence.transactions.is_empty():
        pre.append(f"alert {evidence.alert_id} has no evidence transactions; a goAML report needs "
                   "at least one transaction")
    if config.currency_code_local != "USD":
        pre.append(f"currency_code_local is {config.currency_code_local!r}, but the evidence "
                   "amounts are in USD (amount_usd); set currency_code_local: USD")
    if not analyst.strip():
        pre.append("the analyst's name is empty")
    if pre:
        raise ReportInvalid(pre)
    builder = _Builder(evidence, config)
    narrative = sar_narrative(evidence, analyst=analyst, note=note, decided_at=decided_at,
                              config=config)
    root = builder.report(analyst=analyst, note=note, decided_at=decided_at, narrative=narrative)
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    errors = builder.errors + validate_goaml(xml)
    if errors:
        raise ReportInvalid(_name_transactions(errors, [r["txn_id"] for r in builder.rows]))
    return xml


def _name_transactions(errors: Iterable[str], txn_ids: list[str]) -> list[str]:
    """Prefix schema errors inside /report/transaction[i] with that transaction's id."""
    out = []
    for error in errors:
        m = re.match(r"/report/transaction(?:\[(\d+)\])?", error)
        if m and txn_ids:
            i = int(m.group(1) or 1) - 1
            if 0 <= i < len(txn_ids):
                error = f"transaction {txn_ids[i]}: {error}"
        out.append(error)
    return out


# --- SAR narrative -----------------------------------------------------------------------------

def _join(items: Iterable[str], empty: str = "none") -> str:
    items = list(items)
    return "; ".join(items) if items else empty


def _path_text(accounts: list[str], txn_ids: list[str], usd: list[float],
               by_id: Mapping[str, Mapping[str, Any]],
               names: Mapping[str, Mapping[str, Any]]) -> str:
    """"A [name] -> B [name] (12,000.00 USD on 2026-01-16, T1) -> C [name] (...)": each amount
    is the transfer into the account it follows."""
    parts = [_label(accounts[0], names)] if accounts else []
    positional = len(txn_ids) == len(accounts) - 1
    for i, account in enumerate(accounts[1:]):
        part = _label(account, names)
        if positional:
            txn_id: str | None = txn_ids[i]
        else:  # e.g. a peel chain names its peels too: the hop is the transfer between the two
            hop = (accounts[i], account)
            txn_id = next((t for t in txn_ids if t in by_id and (
                by_id[t].get("src_account"), by_id[t].get("dst_account")) == hop), None)
        if txn_id is not None:
            txn = by_id.get(txn_id)
            amount = usd[i] if positional and i < len(usd) and usd[i] is not None else (
                (txn or {}).get("amount_usd"))
            when = _day(txn["ts"]) if txn else "date not in the evidence"
            shown = _money(amount) if amount is not None else "amount not in the evidence"
            part += f" ({shown} on {when}, {txn_id})"
        parts.append(part)
    return " -> ".join(parts)


def _party_text(info: Mapping[str, Any]) -> str:
    bits = [f"party {info['party_id']}" if info.get("party_id") else "party unknown"]
    bits += [str(info[k]) for k in ("kind", "country") if info.get(k)]
    return f"{info.get('name') or 'name not in the evidence'} ({', '.join(bits)})"


def _owner(row: Mapping[str, Any]) -> str | None:
    """The owner of the account a cash transaction books to (or any transaction's debited side)."""
    return row.get("dst_party_id") if row.get("src_account") is None else row.get("src_party_id")


def _who(ev: AlertEvidence, rows: list[dict[str, Any]], accounts: Mapping[str, Mapping[str, Any]],
         fac: dict[str, Any] | None) -> str:
    alert, party, acct = ev.alert, ev.party, ev.account
    subject_account, subject_party = alert.get("account_id"), alert.get("party_id")
    if party:
        kind = party.get("kind") or "party"
        text = (f"WHO: The subject is {party.get('name')} (party {party.get('party_id')}), "
                f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}")
        if party.get("business_type"):
            text += f" (business type {party['business_type']})"
        if party.get("country"):
            text += f" of {party['country']}"
        details = []
        if party.get("birth_date"):
            details.append(f"born {_day(party['birth_date'])}")
        if party.get("incorporation_date"):
            details.append(f"incorporated {_day(party['incorporation_date'])}")
        if party.get("id_type") and party.get("id_number"):
            details.append(f"{party['id_type'].upper()} {party['id_number']}")
        if party.get("address"):
            details.append(f"address {party['address']}")
        if party.get("phone"):
            details.append(f"phone {party['phone']}")
        text += (", " + ", ".join(details) if details else "") + "."
    else:
        text = f"WHO: The subject party {subject_party} is not in the reference data."
    if acct:
        text += (f" The alerted account is {subject_account}, a {acct.get('account_type')} "
                 f"account in {acct.get('currency')} at bank {acct.get('bank_id')}")
        if acct.get("home_location"):
            text += f" (home branch {acct['home_location']})"
        if acct.get("country"):
            text += f", {acct['country']}"
        if acct.get("opened_date"):
            text += f", opened {_day(acct['opened_date'])}"
        text += "."
    else:
        text += f" The alerted account {subject_account} is not in the reference data."

    fac_account = fac["account"] if fac else None
    counterparties: dict[str, list[str]] = {}
    infos: dict[str, Mapping[str, Any]] = {}
    for account_id, info in accounts.items():
        if account_id in (subject_account, fac_account):
            continue
        key = info.get("party_id") or f"account {account_id}"
        infos.setdefault(key, info)
        own = " (the subject's own account)" if info.get("party_id") == subject_party else ""
        counterparties.setdefault(key, []).append(
            f"account {account_id}{own} at bank {info.get('bank_id') or 'unknown'}"
            + (f", {info['account_type']}" if info.get("account_type") else ""))
    text += " Counterparties in the evidence transactions: " + _join(
        (f"{_party_text(infos[k])}: {', '.join(v)}" for k, v in counterparties.items()),
        "none") + "."
    conductors: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        who = row.get("conducted_by")
        if who and who != _owner(row):
            conductors.setdefault(who, []).append(row)
    if conductors:
        text += " Third parties who conducted cash transactions (known by party id only): " + _join(
            f"{who} ({len(rs)} transaction{'s' if len(rs) > 1 else ''}, "
            f"{_money(sum(_usd(r['amount_usd']) for r in rs))}, into or from "
            f"{', '.join(sorted({r['dst_account'] or r['src_account'] for r in rs}))})"
            for who, rs in conductors.items()) + "."
    if fac:
        holder = accounts.get(fac["account"], {})
        reaches = "receives money from" if fac["direction"] == "from" else "reaches"
        text += (f" The money path {reaches} facilitator account {fac['account']}"
                 f" held by {_party_text(holder)}")
        if fac.get("entity_id"):
            text += f", matched to watchlist entity {fac['entity_id']}"
            if fac.get("entity_name"):
                text += f" ({fac['entity_name']})"
        if fac["programs"]:
            text += f", designated under {', '.join(fac['programs'])}"
        text += "."
    return text


def _what(ev: AlertEvidence, rows: list[dict[str, Any]]) -> str:
    alert = ev.alert
    total = sum((_usd(r["amount_usd"]) for r in rows if r.get("amount_usd") is not None),
                Decimal(0))
    kinds: dict[str, list[Decimal]] = {}
    for row in rows:
        kinds.setdefault(_describe(row), []).append(_usd(row.get("amount_usd") or 0))
    text = (f"WHAT: The evidence comprises {len(rows)} transaction{'s' if len(rows) != 1 else ''} "
            f"totalling {_money(total)}: "
            + _join((f"{kind} x{len(v)} ({_money(sum(v))})" for kind, v in kinds.items()), "none")
            + ".")
    if ev.truncated.get("transactions"):
        text += (f" The bundle was cut to the first {len(rows)} of {ev.truncated['transactions']} "
                 "evidence transactions (configured maximum).")
    if ev.detector_alerts:
        for da in ev.detector_alerts:
            params = da.get("params") or {}
            wanted = RULES.get(da.get("rule") or "", ("", ()))[1]
            keys = [k for k in wanted if k in params] or sorted(params)
            observed = da.get("observed") or {}
            text += (f" Detector rule {da.get('rule')} ({da.get('alert_id')}, {da.get('detector')} "
                     f"configuration {da.get('config_version')}, strength "
                     f"{da.get('strength') or 0:.2f}) fired on evidence from "
                     f"{_when(da['start_ts'])} to {_when(da['end_ts'])}: "
                     f"{da.get('explanation') or ''} Parameters: "
                     + _join((f"{k} = {_num(k, params[k])}" for k in keys), "none")
                     + "; observed: "
                     + _join((f"{k} = {_num(k, v)}" for k, v in observed.items()), "none")
                     + f"; {da.get('n_evidence')} evidence transactions, "
                     f"{_money(da.get('total_usd') or 0)}.")
    else:
        text += " No detector rule fired in the window."
    contributions = alert.get("contributions") or []
    text += (f" Model {alert.get('model_version')} scored the account "
             f"{alert.get('score') or 0:.3f} against its threshold "
             f"{alert.get('threshold') or 0:.3f} (queue rank "
             f"{alert.get('queue_rank')} on {_day(alert['as_of'])}). Top contributing features: "
             + _join(_contribution(c) for c in contributions) + ".")
    return text


def _figure(value: float) -> str:
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:g}"


def _contribution(c: Mapping[str, Any]) -> str:
    value, ref = c.get("value"), c.get("reference")
    shown = "missing" if value is None else _figure(value)
    typical = "none" if ref is None else _figure(ref)
    contribution = float(c.get("contribution") or 0.0)
    return (f"{c.get('feature')} = {shown} (typical {typical}; "
            f"{'+' if contribution > 0 else ''}{contribution:.2f} log-odds)")


def _when_text(ev: AlertEvidence, rows: list[dict[str, Any]]) -> str:
    alert = ev.alert
    if rows:
        text = (f"WHEN: The evidence transactions run from {_when(rows[0]['ts'])} to "
                f"{_when(rows[-1]['ts'])} (first on {_day(rows[0]['ts'])}, last on "
                f"{_day(rows[-1]['ts'])}).")
    else:
        text = "WHEN: The bundle holds no evidence transactions."
    text += f" The alert was raised on {_day(alert['as_of'])}"
    if ev.window:
        text += f"; the reviewed timeline covers {_day(ev.window[0])} to {_day(ev.window[1])}"
    return text + "."


def _where(ev: AlertEvidence, rows: list[dict[str, Any]],
           accounts: Mapping[str, Mapping[str, Any]]) -> str:
    countries = Counter(c for r in rows for c in (r.get("src_country"), r.get("dst_country")) if c)
    parties = sorted({str(i["country"]) for i in accounts.values() if i.get("country")}
                     - set(countries))
    text = ("WHERE: Countries of the evidence transactions: "
            + _join((f"{c} ({n} transaction side{'s' if n > 1 else ''})"
                     for c, n in countries.most_common()),
                    "none recorded (crypto transfers carry no country)")
            + ".")
    if parties:
        text += " Countries of the parties besides: " + ", ".join(parties) + "."
    locations = Counter(r["location"] for r in rows if r.get("location"))
    text += " Locations and branches: " + _join(
        (f"{loc} ({n} transaction{'s' if n > 1 else ''})" for loc, n in locations.most_common()),
        "none recorded") + "."
    banks = sorted({str(i["bank_id"]) for i in accounts.values() if i.get("bank_id")})
    if banks:
        text += " Banks: " + ", ".join(banks) + "."
    legs = [r for r in rows if r.get("src_country") and r.get("dst_country")
            and r["src_country"] != r["dst_country"]]
    text += " Cross-border legs: " + _join(
        (f"{r['txn_id']} {r['src_country']} -> {r['dst_country']}, {_money(r['amount_usd'])} on "
         f"{_day(r['ts'])} ({_describe(r)} {_label(r.get('src_account'), accounts)} -> "
         f"{_label(r.get('dst_account'), accounts)})" for r in legs), "none") + "."
    return text


def _why(ev: AlertEvidence, rows: list[dict[str, Any]], fac: dict[str, Any] | None) -> str:
    alert, th = ev.alert, ev.thresholds
    rules = _rules(ev)
    parts = []
    for rule in rules:
        meaning = RULES.get(rule, (None, ()))[0]
        parts.append(f"{rule}: {meaning or 'see the detector explanation under WHAT'}.")
    if any(r.startswith("structuring.") for r in rules):
        ctr = th.get("ctr_threshold_usd")
        band = th.get("structuring_band_low_usd")
        deposits = [r for r in rows if r.get("channel") == "cash" and r.get("src_account") is None
                    and r.get("dst_account") is not None]
        below = [r for r in deposits if ctr is not None and r["amount_usd"] <= ctr]
        text = (f"Structuring: the configured Currency Transaction Report threshold "
                f"(ctr_threshold_usd) is {_money(ctr) if ctr is not None else 'not configured'}: "
                "cash above it is reported to FinCEN, so keeping each deposit at or below it "
                f"avoids the report. {len(below)} of the {len(deposits)} cash deposits in the "
                "evidence were at or below the threshold")
        if band is not None and ctr is not None:
            in_band = [r for r in below if r["amount_usd"] >= band]
            text += f", {len(in_band)} of them in the band from {_money(band)} up to it"
        if below:
            together = sum(_usd(r["amount_usd"]) for r in below)
            text += (f"; together they total {_money(together)} (largest "
                     f"{_money(max(_usd(r['amount_usd']) for r in below))})")
            if ctr is not None and together > _usd(ctr):
                text += ", more than the threshold that no single deposit crossed"
        parts.append(text + ".")
    if fac:
        reaches = "comes from" if fac["direction"] == "from" else "reaches"
        text = f"Sanctions link: the money {reaches} account {fac['account']}"
        if fac.get("entity_id"):
            text += f", matched to watchlist entity {fac['entity_id']}"
            if fac.get("entity_name"):
                text += f" ({fac['entity_name']})"
        if fac["programs"]:
            text += f", designated under {', '.join(fac['programs'])}"
        hops = len(fac["txn_ids"])
        text += f", in {hops} transfer{'s' if hops != 1 else ''}"
        if fac.get("bottleneck_usd") is not None:
            text += f" (smallest {_money(fac['bottleneck_usd'])})"
        parts.append(text + ".")
    if alert.get("convergent"):
        typology = [r for r in rules if not r.startswith("crypto.")] or rules
        parts.append("Crime-terror convergence: criminal-typology activity ("
                     + (", ".join(typology) or "the model's reasons")
                     + ") is on money that reaches a terror-designated facilitator"
                     + (f" ({', '.join(fac['programs'])})" if fac and fac["programs"] else "")
                     + ".")
    if not rules and not fac:
        parts.append("No detector rule fired and no facilitator path was found: the alert rests "
                     f"on the model score {alert.get('score') or 0:.3f} above the threshold "
                     f"{alert.get('threshold') or 0:.3f}; the contributing features under WHAT "
                     "are the reasons.")
    if ev.prior_alerts:
        parts.append("Earlier alerts on the account or party: " + _join(
            f"{p.get('alert_id')} on {_day(p['as_of'])} (account {p.get('account_id')}, score "
            f"{p.get('score') or 0:.3f}"
            + (f", rules {', '.join(p['detector_rules'])}" if p.get("detector_rules") else "") + ")"
            for p in ev.prior_alerts) + ".")
    else:
        parts.append("No earlier alert on the account or party.")
    if ev.sar_filings:
        parts.append("SARs already filed on the account or party: " + _join(
            f"{s.get('sar_id')} filed {_day(s['filing_date'])} ({s.get('category')}"
            + (f", {s['subcategory']}" if s.get("subcategory") else "")
            + f", {_money(s.get('amount_usd') or 0)}, activity {_day(s['activity_start'])} to "
            f"{_day(s['activity_end'])}, account {s.get('account_id')})"
            for s in ev.sar_filings) + ".")
    else:
        parts.append("No SAR was filed earlier on the account or party.")
    return "WHY: " + " ".join(parts)


def _how(ev: AlertEvidence, rows: list[dict[str, Any]], accounts: Mapping[str, Mapping[str, Any]],
         fac: dict[str, Any] | None) -> str:
    by_id = {r["txn_id"]: r for r in rows}
    lines = []
    if fac:
        hops = len(fac["txn_ids"])
        direction = "from the facilitator" if fac["direction"] == "from" else "to the facilitator"
        lines.append(f"Money path {direction} ({hops} transfer{'s' if hops != 1 else ''}; each "
                     "amount is the transfer into the account it follows): "
                     + _path_text(fac["accounts"], fac["txn_ids"], fac["usd"], by_id, accounts)
                     + ".")
    for da in ev.detector_alerts:
        if da.get("path_accounts"):
            lines.append(f"{da.get('rule')} path ({da.get('alert_id')}): "
                         + _path_text(list(da["path_accounts"]),
                                      list(da.get("evidence_txn_ids") or []), [], by_id, accounts)
                         + ".")
    text = "HOW: " + (" ".join(lines) if lines
                      else "No money path: the mechanism is the sequence below.")
    listing = []
    for r in rows:
        line = (f"  - {_when(r['ts'])} {r['txn_id']} {_describe(r)} {_money(r['amount_usd'])}"
                f" {_label(r.get('src_account'), accounts)} ->"
                f" {_label(r.get('dst_account'), accounts)}")
        if r.get("currency") and r["currency"] != "USD" and r.get("amount") is not None:
            line += f" (as booked {_plain(r['amount'])} {r['currency']})"
        if r.get("location"):
            line += f" at {r['location']}"
        if r.get("conducted_by") and r["conducted_by"] != _owner(r):
            line += f", conducted by {r['conducted_by']}"
        listing.append(line)
    if listing:
        text += "\nEvidence transactions in time order:\n" + "\n".join(listing)
    return text


def sar_narrative(evidence: AlertEvidence, *, analyst: str, note: str, decided_at: datetime,
                  config: ReviewConfig) -> str:
    """FinCEN-style SAR narrative of the escalated alert: labelled WHO, WHAT, WHEN, WHERE, WHY and
    HOW paragraphs, the analyst's note and the preparer line. Every figure is read from the
    evidence (amounts are amount_usd, times UTC); the CTR threshold is the configured one."""
    rows = _rows(evidence)
    accounts = _accounts(evidence, rows)
    fac = _facilitator(evidence)
    entity = config.reporting_entity
    header = (f"SAR narrative draft: alert {evidence.alert_id} on account "
              f"{evidence.alert.get('account_id')}; filer {entity.name} (goAML rentity "
              f"{entity.rentity_id}, {entity.rentity_branch}) for {entity.fiu}. Amounts are in USD "
              "at the reference rate of the day; times are UTC.")
    paragraphs = [
        header,
        _who(evidence, rows, accounts, fac),
        _what(evidence, rows),
        _when_text(evidence, rows),
        _where(evidence, rows, accounts),
        _why(evidence, rows, fac),
        _how(evidence, rows, accounts, fac),
        f"Analyst note: {note.strip() or '(none)'}",
        f"Prepared by {analyst} on {_day(decided_at)}; alert {evidence.alert_id}, model "
        f"{evidence.alert.get('model_version')}.",
    ]
    return "\n\n".join(paragraphs) + "\n"
