"""Identifier normalisation and shared-identifier links between parties.

The same normalisation serves watchlist screening (:mod:`nexusfin.linkage.screening`) and the
party-to-party links, so "shares a phone with a designated entity" and "shares a phone with
another customer" mean the same thing:

- phone: digits only, a leading international prefix ``00`` or ``011`` dropped, so
  ``+52 55 1234 5678``, ``0052-55-1234-5678`` and ``+525512345678`` are one key. A national
  number without its country code (``55 1234 5678``) stays a different key: nothing says which
  country it belongs to. At least 7 digits; a number made of one repeated digit is a placeholder.
- id_number: transliterated to ASCII, upper case, letters and digits only (``623-92-8220`` and
  ``623928220`` agree). At least 5 characters; one repeated character or a placeholder word
  (UNKNOWN, NONE, NA, ...) is no identifier. The id type is not part of the key (it is often
  wrong or missing on file).
- address: transliterated, upper case, punctuation removed, common street words abbreviated
  (STREET→ST, AVENUE→AVE, ...), spaces collapsed. Exact equality of the normalised text; at
  least 8 characters and two words.

``shared_identifiers`` links parties that share a normalised value. A value held by more than
``max_group`` parties (a call centre, a registered agent's address, a bank's branch phone) is not
turned into pairs (20 parties would already be 190 links); it is reported in
``oversized_groups`` with its size, so nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from anyascii import anyascii

from nexusfin.contracts import contract

__all__ = [
    "IDENTIFIER_KINDS",
    "MIN_ADDRESS_CHARS",
    "MIN_ID_CHARS",
    "MIN_PHONE_DIGITS",
    "SharedIdentifiers",
    "address_key",
    "id_key",
    "identifier_keys",
    "phone_key",
    "shared_identifiers",
    "signature",
    "to_ascii",
]

IDENTIFIER_KINDS = ("phone", "address", "id_number")
MIN_PHONE_DIGITS = 7
MIN_ID_CHARS = 5
MIN_ADDRESS_CHARS = 8

_PLACEHOLDER_IDS = [
    "UNKNOWN",
    "NONE",
    "NULL",
    "NA",
    "NAN",
    "NOTAVAILABLE",
    "PENDING",
    "APPLIEDFOR",
    "XXXXX",
]
_REPEATED_DIGIT = "^(" + "|".join(f"{d}+" for d in "0123456789") + ")$"
_REPEATED_ALNUM = "^(" + "|".join(f"{c}+" for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") + ")$"
_ADDRESS_WORDS = {
    "STREET": "ST",
    "STR": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "ROAD": "RD",
    "BOULEVARD": "BLVD",
    "DRIVE": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "HIGHWAY": "HWY",
    "SUITE": "STE",
    "APARTMENT": "APT",
    "BUILDING": "BLDG",
    "FLOOR": "FL",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NUMBER": "",
    "NO": "",
}


def _ascii_batch(s: pl.Series) -> pl.Series:
    """anyascii on the values that are not ASCII already (the rest untouched, no Python call)."""
    mask = (s.str.len_bytes() != s.str.len_chars()).fill_null(False)
    if not mask.any():
        return s
    idx = mask.arg_true()
    out = s.clone()
    out.scatter(idx, [anyascii(v) for v in s.gather(idx).to_list()])
    return out


def to_ascii(expr: pl.Expr) -> pl.Expr:
    """Transliterate non-ASCII strings to ASCII with anyascii (``Joaquín`` → ``Joaquin``,
    ``Мухаммад`` → ``Mukhammad``, ``محمد`` → ``mhmd``)."""
    return expr.map_batches(_ascii_batch, return_dtype=pl.String)


def _keep(values: pl.Series, ok: pl.Series) -> pl.Series:
    return values.zip_with(ok.fill_null(False), pl.Series(values.name, [None], dtype=pl.String))


def _phone_series(s: pl.Series) -> pl.Series:
    digits = s.str.replace_all(r"[^0-9]+", "").str.replace(r"^(?:00|011)", "")
    return _keep(
        digits, (digits.str.len_chars() >= MIN_PHONE_DIGITS) & ~digits.str.contains(_REPEATED_DIGIT)
    )


def _id_series(s: pl.Series) -> pl.Series:
    key = _ascii_batch(s).str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", "")
    ok = (
        (key.str.len_chars() >= MIN_ID_CHARS)
        & ~key.str.contains(_REPEATED_ALNUM)
        & ~key.is_in(_PLACEHOLDER_IDS)
    )
    return _keep(key, ok)


def _address_series(s: pl.Series) -> pl.Series:
    words = list(_ADDRESS_WORDS)
    text = _ascii_batch(s).str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", " ").str.strip_chars()
    # every word between two spaces of its own, so " STREET " patterns never share a space
    spaced = ("  " + text.str.replace_all(" ", "  ", literal=True) + "  ").alias(s.name)
    key = (
        spaced.str.replace_many(
            [f" {w} " for w in words], [f" {_ADDRESS_WORDS[w]} " for w in words], leftmost=True
        )
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return _keep(
        key, (key.str.len_chars() >= MIN_ADDRESS_CHARS) & key.str.contains(" ", literal=True)
    )


def phone_key(expr: pl.Expr) -> pl.Expr:
    """Normalised phone number (digits, international prefix dropped) or null."""
    return expr.map_batches(_phone_series, return_dtype=pl.String)


def id_key(expr: pl.Expr) -> pl.Expr:
    """Normalised identity number (ASCII upper-case letters and digits) or null."""
    return expr.map_batches(_id_series, return_dtype=pl.String)


def address_key(expr: pl.Expr) -> pl.Expr:
    """Normalised street address or null."""
    return expr.map_batches(_address_series, return_dtype=pl.String)


_KEY_SERIES = {"phone": _phone_series, "address": _address_series, "id_number": _id_series}


def signature(kind: str, raw: pl.Series) -> pl.Series:
    """A cheap necessary condition for two raw values of ASCII text to have the same key: their
    digits (phones: the last 7 digits, untouched by international prefixes). Normalisation never
    adds, drops or reorders digits of ASCII text, so equal keys imply equal signatures; filtering
    on signatures first means the full normalisation runs only on the few values that can match."""
    digits = raw.str.replace_all(r"[^0-9]+", "")
    return digits.str.slice(-MIN_PHONE_DIGITS) if kind == "phone" else digits


def identifier_keys(frame: pl.DataFrame, id_col: str, kind: str, keep=None) -> pl.DataFrame:
    """(id_col, raw, value) of the non-null normalised ``kind`` values of ``frame``.

    ``keep`` (optional) maps the signature Series to a boolean mask of rows worth normalising;
    non-ASCII values (whose transliteration may change digits) are always normalised."""
    raw = frame.select(id_col, pl.col(kind).alias("raw")).filter(pl.col("raw").is_not_null())
    if keep is not None and raw.height:
        col = raw.get_column("raw")
        mask = keep(signature(kind, col)) | (col.str.len_bytes() != col.str.len_chars())
        raw = raw.filter(mask)
    return raw.with_columns(_KEY_SERIES[kind](raw.get_column("raw")).alias("value")).filter(
        pl.col("value").is_not_null()
    )


def party_identifier_keys(
    parties: pl.DataFrame, kinds: tuple[str, ...] = IDENTIFIER_KINDS, *, shared_only: bool = False
) -> pl.DataFrame:
    """Long frame (party_id, kind, value) of the parties' normalised identifiers (nulls dropped).

    ``shared_only``: only values whose signature another party has too (all a pair search needs)."""
    keep = (lambda sig: sig.is_duplicated()) if shared_only else None
    frames = [
        identifier_keys(parties, "party_id", kind, keep).select(
            "party_id", pl.lit(kind).alias("kind"), "value"
        )
        for kind in kinds
    ]
    return pl.concat(frames).unique()


@dataclass(frozen=True)
class SharedIdentifiers:
    """Result of :func:`shared_identifiers`.

    ``links``: schemas/identifier_links.yaml, one row per pair of parties and shared value.
    ``oversized_groups``: (kind, value, n_parties) of values shared by more than ``max_group``
    parties, which were not expanded into pairs, largest first.
    """

    links: pl.DataFrame
    oversized_groups: pl.DataFrame


def shared_identifiers(
    parties: pl.DataFrame, *, max_group: int = 20, kinds: tuple[str, ...] = IDENTIFIER_KINDS
) -> SharedIdentifiers:
    """Pairs of parties sharing a normalised phone, address or identity number.

    ``parties`` needs party_id and the identifier columns (the parties contract). Pairs are
    ordered (party_a < party_b); a value shared by k <= ``max_group`` parties gives k(k-1)/2
    pairs, each carrying ``group_size`` = k. Larger groups go to ``oversized_groups`` instead.
    """
    if max_group < 2:
        raise ValueError(f"max_group must be at least 2, got {max_group}")
    unknown = set(kinds) - set(IDENTIFIER_KINDS)
    if unknown:
        raise ValueError(
            f"unknown identifier kinds {sorted(unknown)}; known: {list(IDENTIFIER_KINDS)}"
        )
    missing = [c for c in ("party_id", *kinds) if c not in parties.columns]
    if missing:
        raise ValueError(f"parties frame lacks columns {missing}")
    keys = party_identifier_keys(parties, kinds, shared_only=True)
    sizes = (
        keys.group_by("kind", "value")
        .agg(pl.len().cast(pl.Int64).alias("n_parties"))
        .filter(pl.col("n_parties") >= 2)
    )
    oversized = sizes.filter(pl.col("n_parties") > max_group).sort(
        ["n_parties", "kind", "value"], descending=[True, False, False]
    )
    small = sizes.filter(pl.col("n_parties") <= max_group)
    members = keys.join(small, on=["kind", "value"], how="inner")
    pairs = (
        members.join(
            members.select("kind", "value", pl.col("party_id").alias("party_b")),
            on=["kind", "value"],
        )
        .filter(pl.col("party_id") < pl.col("party_b"))
        .select(
            pl.col("party_id").alias("party_a"),
            "party_b",
            "kind",
            "value",
            pl.col("n_parties").alias("group_size"),
        )
        .sort("party_a", "party_b", "kind", "value")
    )
    return SharedIdentifiers(
        links=contract("identifier_links").conform(pairs), oversized_groups=oversized
    )
