"""Watchlist screening: parties and wallets against designated entities.

A party is compared with every designated entity by name (the listed name and every alias) and by
identifiers (identity numbers, phones, addresses; normalised as in
:mod:`nexusfin.linkage.identifiers`); a wallet by its on-chain address. Each (party, entity) pair
with a name match or a shared identifier becomes one row of ``schemas/watchlist_matches.yaml``
with a score, the fields that matched and a level:

- ``strong``: the name (or an alias) matches AND something independent corroborates it (a shared
  identifier or the same birth date) AND the score reaches ``strong_min``; or a wallet whose
  address the entity is listed with (or that an address tag marks ``sanctioned``). A strong party
  is treated as the designated entity's own: its accounts seed the facilitator graph.
- ``possible``: everything else at or above ``possible_min``: a name alone (a namesake, above all
  when the birth date differs), an identifier alone (someone sharing the entity's phone, address
  or passport number under another name). For analyst review; never a facilitator seed.

Names
-----
Normalisation (:func:`name_key`): anyascii transliteration (only for non-ASCII values), casefold,
apostrophes dropped, other punctuation to spaces; for organisations a trailing run of legal forms
(LLC, LTD, INC, CO, CORP, SA DE CV, S DE RL, GMBH, ...) and the words the/of/and/for removed; for
persons honorifics (MR, DR, SHEIKH, HAJI, ...) and single-letter initials removed; ``abd al`` /
``abd el`` → ``abdul``; the article ``al``/``el`` joined to the next word (``AL-MASRI``,
``Al Masri`` and ``ALMASRI`` all become ``almasri``); words sorted, so word order never matters
(``GUZMAN LOERA, Joaquin`` = ``Joaquin Guzman Loera``).

Comparison works on words. Each word gets a canonical spelling for transliteration
(:func:`canonical_token`: ph→f, kh→h, q→k, z→s, c→k (ch kept), o→u, e→i, non-initial y→i,
ou/oo→u, doubled letters single, a final h after a vowel dropped), so Mohammed/Muhammad/Mohamed
become muhamid/muhamad, Qasim/Kassem/Qassem all kasim, Youssef/Yousef/Yusuf yusif/yusuf. Two words
are similar when the Jaro-Winkler similarity of their canonical spellings is at least
``token_min`` AND their consonant skeletons (canonical spelling without a/i/u/w/y) are at most
``max_skeleton_edits`` edits apart. Jaro-Winkler forgives the typos, swaps and doublings of
hand-keyed names and rewards the shared beginning transliteration variants keep; the skeleton
check removes what it forgives too easily (davis/darwish, carter/caro: two consonants apart). A
word written without vowels (Arabic script through anyascii: ``محمد`` → ``mhmd``) is compared by
skeleton (muhamad → mhmd). A similar pair counts (JW - ``word_floor``) / (1 - ``word_floor``):
1 for the same word, 0.6 at Jaro-Winkler 0.8.

The name score aligns the words one to one (greedily, the most similar remaining pair first) and
weighs them by length::

    name_score = sum over aligned (p, e) of count(p, e) * (|p| + |e|)  /  (sum |p| + sum |e|)

over the words p of the party's name and e of the listed name (canonical lengths). A word left
without a partner costs its length, so a name that is only part of another stays below
``name_match_min`` (``Ali`` vs ``Ali Khoury`` 0.60, ``Aureliano Caro`` vs ``Aureliano Caro
Carrillo`` 0.81), while a middle initial (dropped) or a transliterated first name costs little
(``Mohammed Haddad`` vs ``MUHAMMAD HADDAD`` 0.93, ``Youssef Mansuor`` vs ``YUSUF MANSOUR`` 0.92).
Why not whole-string scores: ``token_set_ratio`` gives 100 to every subset (``ali`` /
``ali khoury``); after sorting, ``token_sort_ratio`` and whole-string Jaro-Winkler are dominated by
what the words share: ``haddad mohammed`` / ``hassan mohammed`` score 80 and 0.89 (ours 0.58),
``jessica davis`` / ``darwish jessica`` 85.7 (ours 0.50).

A party that shares an identifier with the entity is also compared with a lower bar,
``corroborated_name_min``: the identifier already singles the pair out, and a typo that damages a
short name (``Ali Hdadad`` vs ``ALI HADDAD``, 0.78) should not hide the entity's own customer.

Scale
-----
Names are deduplicated first (a million customers carry far fewer distinct names). Blocking is on
words, never on (party, entity) pairs: the distinct canonical words of the parties meet the
distinct canonical words of the watchlist in ``rapidfuzz.process.cdist`` (all cores,
``score_cutoff``) only within blocks sharing the first letter or the last two letters; one
``process.cpdist`` checks the skeletons of the surviving pairs. The watchlist side becomes an
inverted index (similar word → listed names holding it); a numba kernel walks it for every
distinct party name over its own words only, bounds the score from above by the weight of its
words that found a partner, and aligns the words of the pairs the bound leaves (all threads).
Identifiers are polars equi-joins on normalised keys, normalising only the party values whose
digit signature a listed value has. No Python loop runs over parties or names.

Score
-----
``score = clip(name_weight * name_score + birth_date_agree [same birth date]
- birth_date_conflict [different birth date, name match only] + country_agree [same country, name
match only] + id_number_weight + phone_weight + address_weight [each identifier shared], 0, 1)``.
A birth-date conflict only weakens a name match: someone sharing the entity's phone under another
name and another birth date is exactly an identifier link, reported as ``possible``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

from nexusfin.contracts import contract
from nexusfin.detect import _numba
from nexusfin.detect._numba import njit, pnjit, prange

from .identifiers import _ascii_batch, identifier_keys, signature

__all__ = [
    "MATCHED_FIELDS",
    "ScreeningConfig",
    "canonical_token",
    "name_key",
    "name_score",
    "screen_parties",
    "screen_wallets",
    "wallet_key",
]

MATCHED_FIELDS = (
    "name",
    "alias",
    "id_number",
    "phone",
    "address",
    "birth_date",
    "country",
    "crypto_wallet",
)


@dataclass(frozen=True)
class ScreeningConfig:
    """Thresholds and weights of watchlist screening (YAML section ``linkage.screening``)."""

    name_match_min: float = 0.85  # name_score from which a name (or alias) counts as matched
    corroborated_name_min: float = 0.70  # ... for a party that shares an identifier with the entity
    token_min: float = 0.80  # Jaro-Winkler of canonical words from which two words are similar
    word_floor: float = 0.50  # a similar word pair counts (JW - word_floor) / (1 - word_floor)
    one_typo_similarity: float = 0.90  # at least this for words of 5+ letters one edit apart
    max_skeleton_edits: int = 1  # similar words: consonant skeletons at most this many edits apart
    strong_min: float = 0.80  # score a corroborated name match needs to be strong
    possible_min: float = 0.20  # score below which a candidate is not reported
    name_weight: float = 0.60  # score of a perfect name match on its own
    id_number_weight: float = 0.40
    phone_weight: float = 0.30
    address_weight: float = 0.20
    birth_date_agree: float = 0.25
    birth_date_conflict: float = 0.30  # subtracted from a name match when both birth dates differ
    country_agree: float = 0.05
    terror_programs: tuple[str, ...] = ("SDGT", "FTO", "SDT")
    crime_programs: tuple[str, ...] = ("SDNTK", "SDNT", "TCO", "ILLICIT-DRUGS-EO14059")

    def __post_init__(self) -> None:
        for f in (
            "name_match_min",
            "corroborated_name_min",
            "token_min",
            "strong_min",
            "possible_min",
        ):
            v = getattr(self, f)
            if not 0.0 < v <= 1.0:
                raise ValueError(f"screening {f} must be in (0, 1], got {v}")
        for f in (
            "one_typo_similarity",
            "name_weight",
            "id_number_weight",
            "phone_weight",
            "address_weight",
            "birth_date_agree",
            "birth_date_conflict",
            "country_agree",
        ):
            v = getattr(self, f)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"screening {f} must be in [0, 1], got {v}")
        if not 0.0 <= self.word_floor < self.token_min:
            raise ValueError(
                f"screening word_floor must be in [0, token_min), got {self.word_floor}"
            )
        if self.corroborated_name_min > self.name_match_min:
            raise ValueError("screening corroborated_name_min must not exceed name_match_min")
        if self.max_skeleton_edits < 0:
            raise ValueError(
                f"screening max_skeleton_edits must be >= 0, got {self.max_skeleton_edits}"
            )
        if self.possible_min > self.strong_min:
            raise ValueError("screening possible_min must not exceed strong_min")
        for f in ("terror_programs", "crime_programs"):
            object.__setattr__(self, f, tuple(str(p) for p in getattr(self, f)))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> ScreeningConfig:
        """Build from a mapping (the ``linkage.screening`` YAML section); missing keys keep their
        defaults, unknown keys are an error naming the known ones."""
        raw = dict(mapping or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown screening setting(s) {unknown}; known: {sorted(known)}")
        kw: dict[str, Any] = {}
        for k, v in raw.items():
            if k == "max_skeleton_edits":
                kw[k] = int(v)
            elif k in ("terror_programs", "crime_programs"):
                if isinstance(v, str):
                    raise ValueError(f"screening {k} must be a list of programme tags, got {v!r}")
                kw[k] = tuple(v)
            else:
                kw[k] = float(v)
        return cls(**kw)


# -- names ------------------------------------------------------------------------------------------

_LEGAL_FORMS = (
    r"(?:\s+(?:s\s?a\s+de\s+c\s?v|s\s+de\s+r\s?l(?:\s+de\s+c\s?v)?|s\s?a\s?p\s?i\s+de\s+c\s?v|de\s+c\s?v"
    r"|l\s?l\s?c|l\s?l\s?p|l\s?t\s?d|limited|inc|incorporated|corp|corporation|co|company|plc|gmbh|ag"
    r"|s\s?a\s?s|s\s?a\s?r\s?l|s\s?r\s?l|s\s?p\s?a|s\s?a|b\s?v|n\s?v|fzco|fze|fzc|pte|pty|l\s?p))+$"
)
_HONORIFICS = (
    "mr", "mrs", "ms", "miss", "mister", "dr", "doctor", "prof", "sir", "madam", "sheikh", "shaikh",
    "shaykh", "sheik", "haji", "hajji", "hadji", "mullah", "senor", "senora", "sr", "sra", "jr", "lic", "ing",
)  # fmt: skip
_ORG_STOPWORDS = ("the", "of", "and", "for")
_CANON_CONSONANTS = (["ph", "kh", "gh", "dh", "th", "ck", "ch", "q", "z", "c"],
                     ["f", "h", "g", "d", "t", "k", "ch", "k", "s", "k"])  # fmt: skip
_CANON_VOWELS = (["ou", "oo", "ee", "o", "e"], ["u", "u", "i", "u", "i"])
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _name_series(names: pl.Series, organization: pl.Series) -> pl.Series:
    if names.len() == 0:
        return pl.Series(names.name, [], dtype=pl.String)
    org = organization.fill_null(False)
    any_org, all_org = bool(org.any()), bool(org.all())
    t = (
        _ascii_batch(names)
        .str.to_lowercase()
        .str.replace_all(r"['`\u2019]", "")
        .str.replace_all("&", " and ", literal=True)
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )
    t = t.str.replace(_LEGAL_FORMS, "").zip_with(org, t) if any_org else t
    # each word between two spaces of its own, so " word " patterns never share a space
    s = "  " + t.str.replace_all(" ", "  ", literal=True) + "  "
    as_org = as_person = s
    if any_org:
        stop = [f" {w} " for w in _ORG_STOPWORDS]
        as_org = s.str.replace_many(stop, [" "] * len(stop), leftmost=True)
    if not all_org:
        hon = [f" {w} " for w in _HONORIFICS]
        as_person = s.str.replace_many(hon, [" "] * len(hon), leftmost=True)
        as_person = as_person.str.replace_all(r" [a-z] ", " ")  # initials
    s = as_org if all_org else as_person if not any_org else as_org.zip_with(org, as_person)
    s = s.str.replace_many(
        [" abd  al  ", " abd  el  ", " abd  ul  "], [" abdul  "] * 3, leftmost=True
    )
    s = s.str.replace_many([" al  ", " el  "], [" al", " al"], leftmost=True)
    s = s.str.replace_many(["  allah  ", "  ullah  "], ["allah  ", "ullah  "], leftmost=True)
    s = s.str.replace_all(r"\s+", " ").str.strip_chars()
    s = s.to_frame("s").select(pl.col("s").str.split(" ").list.sort().list.join(" ")).to_series()
    return s.zip_with(s.str.len_chars() > 0, pl.Series([None], dtype=pl.String)).alias(names.name)


def name_key(name: pl.Expr, organization: pl.Expr) -> pl.Expr:
    """Normalised name (words sorted, joined by one space) or null when nothing is left.

    ``organization`` is a boolean expression: organisation rules (legal forms, stop words) or
    person rules (honorifics, initials)."""
    return pl.struct(name.alias("n"), organization.alias("o")).map_batches(
        lambda st: _name_series(st.struct.field("n"), st.struct.field("o")), return_dtype=pl.String
    )


def _canon(tokens: pl.Expr) -> pl.Expr:
    t = tokens.str.replace_many(*_CANON_CONSONANTS, leftmost=True)
    t = t.str.replace_many(*_CANON_VOWELS, leftmost=True)
    t = t.str.replace_all(r"(.)y", "${1}i")
    for c in _LETTERS:
        t = t.str.replace_all(c + c + "+", c)
    return t.str.replace(r"([aiu])h$", "${1}")


def _skeleton(canon: pl.Expr) -> pl.Expr:
    return canon.str.replace_all(r"[aiuwy]", "")


def canonical_token(word: str) -> str:
    """The canonical spelling one normalised word is compared under (see module docstring)."""
    return pl.select(_canon(pl.lit(word))).item()


def name_score(
    a: str, b: str, *, organization: bool = False, config: ScreeningConfig | None = None
) -> float:
    """Name score of two raw names exactly as screening computes it (0.0 when no word of one is
    similar to a word of the other); for checks and for explaining a match."""
    cfg = config or ScreeningConfig()
    keys = (
        pl.DataFrame({"n": [a, b]}).select(name_key(pl.col("n"), pl.lit(organization))).to_series()
    )
    if keys[0] is None or keys[1] is None:
        return 0.0
    pn = pl.DataFrame({"nid": [0], "key": [keys[0]]}, schema={"nid": pl.UInt32, "key": pl.String})
    en = pl.DataFrame({"enid": [0], "key": [keys[1]]}, schema={"enid": pl.UInt32, "key": pl.String})
    got = _name_candidates(pn, en, cfg, min_score=0.0)
    return float(got.get_column("name_score").max() or 0.0) if got.height else 0.0


# -- word similarity --------------------------------------------------------------------------------
_CDIST_CELLS = 1 << 22


def _blocked_similar(
    left: pl.DataFrame, right: pl.DataFrame, col: str, cutoff: float
) -> pl.DataFrame:
    """(lid, rid, sim) of every pair of strings with Jaro-Winkler >= cutoff that share their first
    letter or their last two letters (``left``/``right``: columns id (u32) and ``col``).

    Two blocking keys so that one edit near either end of a word (a typo that moves a letter
    across a space: ``Cervantes Fuentes`` → ``CervantesF uentes``) still meets its partner."""
    out_l: list[np.ndarray] = []
    out_r: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    for block in (pl.col(col).str.slice(0, 1), pl.col(col).str.slice(-2)):
        lb = left.with_columns(block.alias("_b"))
        rgroups = {k[0]: g for k, g in right.with_columns(block.alias("_b")).group_by("_b")}
        for key, lg in lb.group_by("_b"):
            rg = rgroups.get(key[0])
            if rg is None:
                continue
            rstr = rg.get_column(col).to_list()
            rid = rg.get_column("id").to_numpy()
            lstr = lg.get_column(col).to_list()
            lid = lg.get_column("id").to_numpy()
            step = max(1, _CDIST_CELLS // max(1, len(rstr)))
            for i in range(0, len(lstr), step):
                m = process.cdist(
                    lstr[i : i + step],
                    rstr,
                    scorer=JaroWinkler.normalized_similarity,
                    score_cutoff=cutoff,
                    dtype=np.float32,
                    workers=-1,
                )
                r, c = np.nonzero(m)
                out_l.append(lid[i + r])
                out_r.append(rid[c])
                out_s.append(m[r, c])
    if not out_l:
        return pl.DataFrame(schema={"lid": pl.UInt32, "rid": pl.UInt32, "sim": pl.Float32})
    return pl.DataFrame(
        {
            "lid": np.concatenate(out_l).astype(np.uint32),
            "rid": np.concatenate(out_r).astype(np.uint32),
            "sim": np.concatenate(out_s).astype(np.float32),
        }
    ).unique(["lid", "rid"])


_MAX_WORDS = 32  # words of a name taken into account (a longer name is cut)


def _words(names: pl.DataFrame, id_col: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Explode normalised names into words: (id, pos, cid, wlen) rows and the table of distinct
    canonical words (cid, canon, skel, abjad)."""
    rows = (
        names.select(id_col, pl.col("key").str.split(" ").list.head(_MAX_WORDS).alias("word"))
        .with_columns(pl.int_ranges(0, pl.col("word").list.len(), dtype=pl.UInt8).alias("pos"))
        .explode("word", "pos")
    )
    distinct = rows.select(pl.col("word").unique()).with_columns(
        _canon(pl.col("word")).alias("canon"),
        (~pl.col("word").str.contains("[aeiou0-9]") & (pl.col("word").str.len_chars() >= 3)).alias(
            "abjad"
        ),
    )
    table = (
        distinct.group_by("canon")
        .agg(pl.col("abjad").any())
        .sort("canon")
        .with_row_index("cid")
        .with_columns(_skeleton(pl.col("canon")).alias("skel"))
    )
    rows = (
        rows.join(distinct.select("word", "canon"), on="word")
        .join(table.select("canon", "cid"), on="canon")
        .select(
            id_col, "pos", "cid", pl.col("canon").str.len_chars().cast(pl.Float32).alias("wlen")
        )
    )
    return rows, table


def _similar_words(pw: pl.DataFrame, ew: pl.DataFrame, cfg: ScreeningConfig) -> pl.DataFrame:
    """(pword, eword, sim) of similar party and watchlist canonical words: Jaro-Winkler at least
    ``token_min`` and consonant skeletons at most ``max_skeleton_edits`` edits apart."""
    cutoff = cfg.token_min
    parts = [_blocked_similar(pw.select(pl.col("cid").alias("id"), "canon"),
                              ew.select(pl.col("cid").alias("id"), "canon"), "canon", cutoff)]  # fmt: skip
    # words written without vowels (abjad transliteration) against the other side's skeletons
    pa = pw.filter("abjad").select(pl.col("cid").alias("id"), pl.col("skel"))
    if pa.height:
        eb = ew.filter(pl.col("skel").str.len_chars() >= 2).select(
            pl.col("cid").alias("id"), "skel"
        )
        parts.append(_blocked_similar(pa, eb, "skel", cutoff))
    ea = ew.filter("abjad").select(pl.col("cid").alias("id"), pl.col("skel"))
    if ea.height:
        pb = pw.filter(pl.col("skel").str.len_chars() >= 2).select(
            pl.col("cid").alias("id"), "skel"
        )
        back = _blocked_similar(ea, pb, "skel", cutoff)
        parts.append(back.select(pl.col("rid").alias("lid"), pl.col("lid").alias("rid"), "sim"))
    sim = (
        pl.concat(parts)
        .group_by("lid", "rid")
        .agg(pl.col("sim").max())
        .join(pw.select(pl.col("cid").alias("lid"), pl.col("skel").alias("ls"), pl.col("canon").alias("lc")),
              on="lid")
        .join(ew.select(pl.col("cid").alias("rid"), pl.col("skel").alias("rs"), pl.col("canon").alias("rc")),
              on="rid")
    )  # fmt: skip
    edits = process.cpdist(
        sim.get_column("ls").to_list(), sim.get_column("rs").to_list(), scorer=OSA.distance, workers=-1
    )  # fmt: skip
    # one typo (insertion, deletion, substitution or swap) in words of 5+ letters: a near-certain variant
    typo = process.cpdist(
        sim.get_column("lc").to_list(), sim.get_column("rc").to_list(), scorer=OSA.distance, workers=-1
    )  # fmt: skip
    long = pl.min_horizontal(pl.col("lc").str.len_chars(), pl.col("rc").str.len_chars()) >= 5
    floor = cfg.word_floor
    return (
        sim.with_columns(pl.Series("edits", edits), pl.Series("typo", typo))
        .filter(pl.col("edits") <= cfg.max_skeleton_edits)
        .select(
            pl.col("lid").alias("pword"),
            pl.col("rid").alias("eword"),
            pl.when(long & (pl.col("typo") <= 1))
            .then(pl.max_horizontal("sim", pl.lit(cfg.one_typo_similarity)))
            .otherwise(pl.col("sim"))
            .sub(floor)
            .truediv(1.0 - floor)
            .cast(pl.Float32)
            .alias("sim"),
        )
    )


@njit
def _align(i, j, p_ptr, p_cid, p_len, e_ptr, e_cid, e_len, s_ptr, s_eword, s_val):
    """Greedy one-to-one alignment of the words of party name i and listed name j: repeatedly the
    remaining word pair with the highest similarity (ties: the longer pair, then the earlier
    words); returns the sum of similarity x (|p| + |e|) over aligned pairs."""
    p0, np_ = p_ptr[i], p_ptr[i + 1] - p_ptr[i]
    e0, ne = e_ptr[j], e_ptr[j + 1] - e_ptr[j]
    sim = np.zeros((np_, ne), dtype=np.float32)
    for a in range(np_):
        w = p_cid[p0 + a]
        for q in range(s_ptr[w], s_ptr[w + 1]):
            ew = s_eword[q]
            for b in range(ne):
                if e_cid[e0 + b] == ew:
                    sim[a, b] = s_val[q]
    used_p = np.zeros(np_, dtype=np.bool_)
    used_e = np.zeros(ne, dtype=np.bool_)
    total = 0.0
    while True:
        ba, bb, bs, bw = -1, -1, 0.0, 0.0
        for a in range(np_):
            if used_p[a]:
                continue
            for b in range(ne):
                s = sim[a, b]
                if used_e[b] or s <= 0.0:
                    continue
                w = p_len[p0 + a] + e_len[e0 + b]
                if s > bs or (s == bs and w > bw):
                    ba, bb, bs, bw = a, b, s, w
        if ba < 0:
            return total
        used_p[ba] = True
        used_e[bb] = True
        total += bs * bw


@njit
def _pairs_of_name(i, emit, out_pos, out_nid, out_enid, out_score, stamp, reach, last, touched,
                   p_ptr, p_cid, p_len, tp, e_ptr, e_cid, e_len, te, s_ptr, s_eword, s_val,
                   inv_ptr, inv_enid, floor):  # fmt: skip
    """Listed names sharing a similar word with party name i whose name score reaches floor: the
    count, and when ``emit`` the rows written from out_pos. ``reach`` = weight of i's words with a
    partner in the listed name: (reach + te) / (tp + te) bounds the score from above."""
    n_t = 0
    for k in range(p_ptr[i], p_ptr[i + 1]):
        w = p_cid[k]
        for q in range(s_ptr[w], s_ptr[w + 1]):
            ew = s_eword[q]
            for r in range(inv_ptr[ew], inv_ptr[ew + 1]):
                j = inv_enid[r]
                if stamp[j] != i + 1:
                    stamp[j] = i + 1
                    reach[j] = 0.0
                    last[j] = -1
                    touched[n_t] = j
                    n_t += 1
                if last[j] != k:
                    last[j] = k
                    reach[j] += p_len[k]
    found = 0
    for t in range(n_t):
        j = touched[t]
        denom = tp[i] + te[j]
        if reach[j] + te[j] < floor * denom - 1e-6:
            continue
        score = (
            _align(i, j, p_ptr, p_cid, p_len, e_ptr, e_cid, e_len, s_ptr, s_eword, s_val) / denom
        )
        if score >= floor - 1e-9:
            if emit:
                out_nid[out_pos + found] = i
                out_enid[out_pos + found] = j
                out_score[out_pos + found] = min(score, 1.0)
            found += 1
    return found


@pnjit
def _score_names(p_ptr, p_cid, p_len, tp, e_ptr, e_cid, e_len, te, s_ptr, s_eword, s_val, inv_ptr, inv_enid,
                 floor, n_chunks):  # fmt: skip
    """(nid, enid, score) of every party name and listed name sharing a similar word with a name
    score >= floor. Two passes over the party names (count, then write), chunked over threads,
    each chunk with its own scratch arrays over the listed names."""
    n = p_ptr.shape[0] - 1
    n_e = e_ptr.shape[0] - 1
    size = (n + n_chunks - 1) // n_chunks
    counts = np.zeros(n + 1, dtype=np.int64)
    dummy_i = np.zeros(0, dtype=np.int32)
    dummy_f = np.zeros(0, dtype=np.float64)
    for c in prange(n_chunks):
        stamp = np.zeros(n_e, dtype=np.int64)
        reach = np.zeros(n_e, dtype=np.float32)
        last = np.zeros(n_e, dtype=np.int64)
        touched = np.zeros(n_e, dtype=np.int32)
        for i in range(c * size, min(n, (c + 1) * size)):
            counts[i + 1] = _pairs_of_name(i, False, 0, dummy_i, dummy_i, dummy_f, stamp, reach, last, touched,
                                           p_ptr, p_cid, p_len, tp, e_ptr, e_cid, e_len, te, s_ptr, s_eword,
                                           s_val, inv_ptr, inv_enid, floor)  # fmt: skip
    offsets = np.cumsum(counts)
    total = offsets[n]
    out_nid = np.empty(total, dtype=np.int32)
    out_enid = np.empty(total, dtype=np.int32)
    out_score = np.empty(total, dtype=np.float64)
    for c in prange(n_chunks):
        stamp = np.zeros(n_e, dtype=np.int64)
        reach = np.zeros(n_e, dtype=np.float32)
        last = np.zeros(n_e, dtype=np.int64)
        touched = np.zeros(n_e, dtype=np.int32)
        for i in range(c * size, min(n, (c + 1) * size)):
            if counts[i + 1] > 0:
                _pairs_of_name(i, True, offsets[i], out_nid, out_enid, out_score, stamp, reach, last, touched,
                               p_ptr, p_cid, p_len, tp, e_ptr, e_cid, e_len, te, s_ptr, s_eword, s_val,
                               inv_ptr, inv_enid, floor)  # fmt: skip
    return out_nid, out_enid, out_score


def _csr(rows: pl.DataFrame, id_col: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays (ptr, word id, word length) of names 0..n-1 from (id, pos, cid, wlen) rows."""
    rows = rows.sort(id_col, "pos")
    counts = np.bincount(rows.get_column(id_col).to_numpy(), minlength=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return (ptr, rows.get_column("cid").to_numpy().astype(np.int32),
            rows.get_column("wlen").to_numpy().astype(np.float32))  # fmt: skip


def _name_candidates(
    pn: pl.DataFrame, en: pl.DataFrame, cfg: ScreeningConfig, *, min_score: float | None = None
) -> pl.DataFrame:
    """(nid, enid, name_score) of party names ``pn`` (nid 0..n-1, key) and listed names ``en``
    (enid 0..m-1, key) sharing a similar word, whose name score reaches ``min_score`` (default
    ``name_match_min``).

    The listed side is indexed (similar word → listed names containing it); each party name walks
    the index through its own words only, bounds the score from above by the weight of its words
    that found a partner, and aligns the words of the pairs the bound does not rule out."""
    floor = cfg.name_match_min if min_score is None else min_score
    empty = pl.DataFrame(schema={"nid": pl.UInt32, "enid": pl.UInt32, "name_score": pl.Float64})
    if pn.height == 0 or en.height == 0:
        return empty
    prow, pw = _words(pn, "nid")
    erow, ew = _words(en, "enid")
    sim = _similar_words(pw, ew, cfg).sort("pword", "eword")
    if sim.height == 0:
        return empty
    n_p, n_e = pn.height, en.height
    p_ptr, p_cid, p_len = _csr(prow, "nid", n_p)
    e_ptr, e_cid, e_len = _csr(erow, "enid", n_e)
    tp = (
        np.add.reduceat(p_len, p_ptr[:-1]).astype(np.float32)
        if p_len.size
        else np.zeros(n_p, np.float32)
    )
    te = np.add.reduceat(e_len, e_ptr[:-1]).astype(np.float32)
    s_counts = np.bincount(sim.get_column("pword").to_numpy(), minlength=pw.height)
    s_ptr = np.zeros(pw.height + 1, dtype=np.int64)
    np.cumsum(s_counts, out=s_ptr[1:])
    s_eword = sim.get_column("eword").to_numpy().astype(np.int32)
    s_val = sim.get_column("sim").to_numpy().astype(np.float32)
    inv = erow.select("cid", "enid").unique().sort("cid", "enid")
    i_counts = np.bincount(inv.get_column("cid").to_numpy(), minlength=ew.height)
    inv_ptr = np.zeros(ew.height + 1, dtype=np.int64)
    np.cumsum(i_counts, out=inv_ptr[1:])
    inv_enid = inv.get_column("enid").to_numpy().astype(np.int32)
    chunks = max(1, min(n_p, 8 * _numba.numba.get_num_threads()))
    nid, enid, score = _score_names(p_ptr, p_cid, p_len, tp, e_ptr, e_cid, e_len, te, s_ptr, s_eword, s_val,
                                    inv_ptr, inv_enid, float(floor), chunks)  # fmt: skip
    return pl.DataFrame(
        {"nid": nid.astype(np.uint32), "enid": enid.astype(np.uint32), "name_score": score},
        schema={"nid": pl.UInt32, "enid": pl.UInt32, "name_score": pl.Float64},
    )


# -- screening --------------------------------------------------------------------------------------
_PARTY_COLUMNS = (
    "party_id",
    "name",
    "kind",
    "country",
    "address",
    "phone",
    "id_number",
    "birth_date",
)
_WATCHLIST_COLUMNS = ("entity_id", "name", "aliases", "kind", "programs", "country", "id_numbers", "phones",
                      "addresses", "crypto_wallets", "birth_date")  # fmt: skip
_PERSON, _ORG = "person", "organization"


def _require(df: pl.DataFrame, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} frame lacks columns {missing}")


def _listed_names(watchlist: pl.DataFrame) -> pl.DataFrame:
    """One row per entity, comparison class (person/organization) and distinct normalised name:
    (entity_id, klass, key, value, field), the primary name first."""
    names = (
        watchlist.select(
            "entity_id",
            "kind",
            pl.concat_list(pl.col("name"), pl.col("aliases").fill_null([])).alias("value"),
        )
        .with_columns(pl.int_ranges(0, pl.col("value").list.len()).alias("i"))
        .explode("value", "i")
    )
    names = names.filter(pl.col("value").is_not_null())
    klass = (
        pl.when(pl.col("kind") == "person").then(pl.lit([_PERSON]))
        .when(pl.col("kind") == "unknown").then(pl.lit([_PERSON, _ORG]))
        .otherwise(pl.lit([_ORG]))
    )  # fmt: skip
    names = names.with_columns(klass.alias("klass")).explode("klass")
    distinct = names.select("value", "klass").unique()
    distinct = distinct.with_columns(
        name_key(pl.col("value"), pl.col("klass") == _ORG).alias("key")
    )
    return (
        names.join(distinct, on=["value", "klass"])
        .filter(pl.col("key").is_not_null())
        .sort("entity_id", "klass", "i")
        .unique(["entity_id", "klass", "key"], keep="first", maintain_order=True)
        .select(
            "entity_id",
            "klass",
            "key",
            "value",
            pl.when(pl.col("i") == 0)
            .then(pl.lit("name"))
            .otherwise(pl.lit("alias"))
            .alias("field"),
        )
    )


def _name_matches(
    parties: pl.DataFrame, watchlist: pl.DataFrame, cfg: ScreeningConfig
) -> pl.DataFrame:
    """(party_id, entity_id, name_score, name_field, name_value): the best listed name per pair."""
    listed = _listed_names(watchlist)
    # one row per distinct (class, name as written) with its parties, then per distinct key
    groups = (
        parties.filter(pl.col("name").is_not_null())
        .group_by(pl.when(pl.col("kind") == "organization").then(pl.lit(_ORG)).otherwise(pl.lit(_PERSON))
                  .alias("klass"), "name")
        .agg(pl.col("party_id"))
    )  # fmt: skip
    groups = groups.with_columns(
        name_key(pl.col("name"), pl.col("klass") == _ORG).alias("key")
    ).filter(pl.col("key").is_not_null())
    out = []
    for klass in (_PERSON, _ORG):
        mine = groups.filter(pl.col("klass") == klass)
        pn = mine.select("key").unique().sort("key").with_row_index("nid")
        en = listed.filter(pl.col("klass") == klass).with_row_index("enid")
        cand = _name_candidates(pn.select("nid", "key"), en.select("enid", "key"), cfg)
        if cand.height == 0:
            continue
        hits = (
            cand.join(pn, on="nid")
            .join(en.select("enid", "entity_id", "value", "field"), on="enid")
            .join(mine.select("key", "party_id"), on="key")
            .explode("party_id")
            .select("party_id", "entity_id", "name_score", pl.col("field").alias("name_field"),
                    pl.col("value").alias("name_value"))
        )  # fmt: skip
        out.append(hits)
    if not out:
        return pl.DataFrame(schema={"party_id": pl.String, "entity_id": pl.String, "name_score": pl.Float64,
                                    "name_field": pl.String, "name_value": pl.String})  # fmt: skip
    return (
        pl.concat(out)
        .sort(
            ["party_id", "entity_id", "name_score", "name_field"],
            descending=[False, False, True, True],
        )
        .unique(["party_id", "entity_id"], keep="first", maintain_order=True)
    )


_ID_FIELDS = (("id_number", "id_numbers"), ("phone", "phones"), ("address", "addresses"))


def _identifier_matches(parties: pl.DataFrame, watchlist: pl.DataFrame) -> pl.DataFrame:
    """(party_id, entity_id, id_number, phone, address): the listed value each shared identifier
    matched (null when not shared). Only party values whose signature a listed value has are
    normalised."""
    frames = []
    for field, listed_col in _ID_FIELDS:
        listed = (
            watchlist.select("entity_id", pl.col(listed_col).alias(field))
            .explode(field)
            .filter(pl.col(field).is_not_null())
        )
        lkeys = identifier_keys(listed, "entity_id", field).unique(["entity_id", "value"], keep="first",
                                                                     maintain_order=True)  # fmt: skip
        if lkeys.height == 0:
            continue
        sigs = signature(field, lkeys.get_column("value")).unique()
        pkeys = identifier_keys(
            parties, "party_id", field, keep=lambda sig, sigs=sigs: sig.is_in(sigs.implode())
        )
        hit = (
            pkeys.select("party_id", "value")
            .join(lkeys.select("entity_id", pl.col("raw").alias("listed"), "value"), on="value")
            .select("party_id", "entity_id", pl.lit(field).alias("field"), "listed")
            .unique(["party_id", "entity_id", "field"], keep="first")
        )
        frames.append(hit)
    schema = {
        "party_id": pl.String,
        "entity_id": pl.String,
        **{f: pl.String for f, _ in _ID_FIELDS},
    }
    if not frames:
        return pl.DataFrame(schema=schema)
    long = pl.concat(frames)
    base = long.select("party_id", "entity_id").unique()
    for field, _ in _ID_FIELDS:
        base = base.join(
            long.filter(pl.col("field") == field).select(
                "party_id", "entity_id", pl.col("listed").alias(field)
            ),
            on=["party_id", "entity_id"],
            how="left",
        )
    return base.select(list(schema))


def _stable_ids(prefix: str, *cols: pl.Series) -> pl.Series:
    values = [
        prefix
        + hashlib.blake2b("\x1f".join(v or "" for v in row).encode(), digest_size=10).hexdigest()
        for row in zip(*(c.to_list() for c in cols), strict=True)
    ]
    return pl.Series("match_id", values, dtype=pl.String)


def _programme_flags(cfg: ScreeningConfig) -> list[pl.Expr]:
    def any_of(programs: tuple[str, ...]) -> pl.Expr:
        return (
            pl.col("programs")
            .list.eval(pl.element().is_in(list(programs)))
            .list.any()
            .fill_null(False)
        )

    return [any_of(cfg.terror_programs).alias("terror_designated"),
            any_of(cfg.crime_programs).alias("crime_designated")]  # fmt: skip


def screen_parties(
    parties: pl.DataFrame, watchlist: pl.DataFrame, config: ScreeningConfig | None = None
) -> pl.DataFrame:
    """Screen every party against every designated entity.

    ``parties`` needs the parties contract's party_id, name, kind, country, address, phone,
    id_number and birth_date; ``watchlist`` the watchlist contract. Returns one row per
    (party, entity) with a name match (name_score >= ``name_match_min``) or a shared identifier
    and a score >= ``possible_min``, conforming to ``schemas/watchlist_matches.yaml``
    (account_id null), ordered by score (highest first), party_id, entity_id.
    """
    cfg = config or ScreeningConfig()
    _require(parties, _PARTY_COLUMNS, "parties")
    _require(watchlist, _WATCHLIST_COLUMNS, "watchlist")
    c = contract("watchlist_matches")
    if parties.height == 0 or watchlist.height == 0:
        return c.empty()
    parties = parties.select(_PARTY_COLUMNS)
    ids = _identifier_matches(parties, watchlist)
    names = _name_matches(parties, watchlist, cfg)
    if ids.height:  # names of parties sharing an identifier with the entity: a lower bar
        pairs = ids.select("party_id", "entity_id")
        lenient = _name_matches(
            parties.join(pairs.select("party_id").unique(), on="party_id", how="semi"),
            watchlist.join(pairs.select("entity_id").unique(), on="entity_id", how="semi"),
            dataclasses.replace(cfg, name_match_min=cfg.corroborated_name_min),
        ).join(pairs, on=["party_id", "entity_id"], how="semi")
        names = (
            pl.concat([names, lenient])
            .sort(
                ["party_id", "entity_id", "name_score", "name_field"],
                descending=[False, False, True, True],
            )
            .unique(["party_id", "entity_id"], keep="first", maintain_order=True)
        )
    pairs = names.join(ids, on=["party_id", "entity_id"], how="full", coalesce=True)
    if pairs.height == 0:
        return c.empty()
    ent = watchlist.select(
        "entity_id",
        pl.col("name").alias("entity_name"),
        pl.col("kind").alias("entity_kind"),
        pl.col("programs").fill_null([]),
        pl.col("country").alias("entity_country"),
        pl.col("birth_date").alias("entity_birth_date"),
    )
    par = parties.select(
        "party_id", pl.col("name").alias("party_name"), pl.col("country").alias("party_country"),
        pl.col("birth_date").alias("party_birth_date"),
    )  # fmt: skip
    named = pl.col("name_score").is_not_null()
    both_bd = pl.col("party_birth_date").is_not_null() & pl.col("entity_birth_date").is_not_null()
    bd_agree = both_bd & (pl.col("party_birth_date") == pl.col("entity_birth_date"))
    bd_conflict = both_bd & (pl.col("party_birth_date") != pl.col("entity_birth_date"))
    country = named & (pl.col("party_country") == pl.col("entity_country")).fill_null(False)
    has = {f: pl.col(f).is_not_null() for f, _ in _ID_FIELDS}
    shared = has["id_number"] | has["phone"] | has["address"]
    score = (
        pl.when(named).then(cfg.name_weight * pl.col("name_score")).otherwise(0.0)
        + pl.when(bd_agree).then(cfg.birth_date_agree).otherwise(0.0)
        - pl.when(bd_conflict & named).then(cfg.birth_date_conflict).otherwise(0.0)
        + pl.when(country).then(cfg.country_agree).otherwise(0.0)
        + pl.when(has["id_number"]).then(cfg.id_number_weight).otherwise(0.0)
        + pl.when(has["phone"]).then(cfg.phone_weight).otherwise(0.0)
        + pl.when(has["address"]).then(cfg.address_weight).otherwise(0.0)
    ).clip(0.0, 1.0)
    fields = pl.concat_list(
        pl.when(named).then(pl.col("name_field")),
        *(pl.when(has[f]).then(pl.lit(f)) for f, _ in _ID_FIELDS),
        pl.when(bd_agree).then(pl.lit("birth_date")),
        pl.when(country).then(pl.lit("country")),
    ).list.drop_nulls()
    out = (
        pairs.join(ent, on="entity_id", how="inner")
        .join(par, on="party_id", how="inner")
        .with_columns(
            score.alias("score"),
            fields.alias("matched_fields"),
            pl.concat_list(pl.when(bd_conflict).then(pl.lit("birth_date"))).list.drop_nulls().alias("conflicts"),
            pl.coalesce(
                pl.when(named).then(pl.col("name_value")), pl.col("id_number"), pl.col("phone"), pl.col("address")
            ).alias("matched_value"),
            pl.when(named & (shared | bd_agree)).then(True).otherwise(False).alias("_corroborated"),
            pl.lit(None, dtype=pl.String).alias("account_id"),
            *_programme_flags(cfg),
        )
        .filter(pl.col("score") >= cfg.possible_min)
        .with_columns(
            pl.when(pl.col("_corroborated") & (pl.col("score") >= cfg.strong_min))
            .then(pl.lit("strong"))
            .otherwise(pl.lit("possible"))
            .alias("level")
        )
        .sort(["score", "party_id", "entity_id"], descending=[True, False, False])
    )  # fmt: skip
    out = out.with_columns(_stable_ids("WM-", out["party_id"], out["entity_id"]))
    return c.conform(out, allow_extra=True)


def wallet_key(expr: pl.Expr) -> pl.Expr:
    """Normalised on-chain address: EVM-style ``0x`` addresses lower-cased (they are
    case-insensitive; the mixed case is only a checksum), every other form kept as written
    (base58 and bech32 are case-sensitive or canonical)."""
    a = expr.str.strip_chars()
    return (
        pl.when(a.str.to_lowercase().str.starts_with("0x")).then(a.str.to_lowercase()).otherwise(a)
    )


def screen_wallets(
    accounts: pl.DataFrame,
    watchlist: pl.DataFrame,
    address_tags: pl.DataFrame | None = None,
    config: ScreeningConfig | None = None,
    *,
    parties: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Wallet accounts whose on-chain address is listed as a designated entity's crypto wallet, or
    tagged ``sanctioned`` in ``address_tags`` (on the wallet's chain).

    One row per (wallet account, entity) conforming to ``schemas/watchlist_matches.yaml``:
    party_id the wallet's owner, account_id the wallet, matched_fields [crypto_wallet],
    matched_value the address as the account carries it, score 1.0, level strong. A sanctioned
    tag that names no entity (no entity_id, or an address_tags frame without that column) gives
    entity_id null and the tag's label as entity_name. ``parties`` (optional) fills party_name.
    """
    cfg = config or ScreeningConfig()
    _require(accounts, ("account_id", "owner_party_id", "address"), "accounts")
    _require(watchlist, _WATCHLIST_COLUMNS, "watchlist")
    c = contract("watchlist_matches")
    chain = pl.col("chain") if "chain" in accounts.columns else pl.lit(None, dtype=pl.String)
    wallets = accounts.filter(pl.col("address").is_not_null()).select(
        "account_id", pl.col("owner_party_id").alias("party_id"), pl.col("address").alias("matched_value"),
        chain.alias("chain"), wallet_key(pl.col("address")).alias("k"),
    )  # fmt: skip
    listed = (
        watchlist.select("entity_id", pl.col("crypto_wallets").alias("w"))
        .explode("w")
        .filter(pl.col("w").is_not_null())
        .select("entity_id", wallet_key(pl.col("w")).alias("k"))
        .unique()
    )
    by_list = wallets.join(listed, on="k").select(
        "account_id",
        "party_id",
        "matched_value",
        "entity_id",
        pl.lit(None, dtype=pl.String).alias("label"),
    )
    frames = [by_list]
    if address_tags is not None and address_tags.height:
        _require(address_tags, ("address", "chain", "category"), "address_tags")
        tags = address_tags.filter(pl.col("category") == "sanctioned").select(
            wallet_key(pl.col("address")).alias("k"),
            pl.col("chain").alias("tag_chain"),
            (pl.col("entity_id") if "entity_id" in address_tags.columns else pl.lit(None, dtype=pl.String))
            .cast(pl.String).alias("entity_id"),
            (pl.col("label") if "label" in address_tags.columns else pl.lit(None, dtype=pl.String))
            .cast(pl.String).alias("label"),
        )  # fmt: skip
        by_tag = (
            wallets.join(tags, on="k")
            .filter(pl.col("chain").is_null() | (pl.col("chain") == pl.col("tag_chain")))
            .select("account_id", "party_id", "matched_value", "entity_id", "label")
        )
        frames.append(by_tag)
    hits = pl.concat(frames).unique(["account_id", "entity_id"], keep="first", maintain_order=True)
    # a tag without entity next to a listing of the same wallet adds nothing
    named = hits.filter(pl.col("entity_id").is_not_null()).get_column("account_id").unique()
    hits = hits.filter(
        pl.col("entity_id").is_not_null() | ~pl.col("account_id").is_in(named.implode())
    )
    if hits.height == 0:
        return c.empty()
    ent = watchlist.select(
        "entity_id", pl.col("name").alias("entity_name"), pl.col("kind").alias("entity_kind"), "programs",
    )  # fmt: skip
    pname = (
        parties.select("party_id", pl.col("name").alias("party_name"))
        if parties is not None
        else pl.DataFrame(schema={"party_id": pl.String, "party_name": pl.String})
    )
    out = (
        hits.join(ent, on="entity_id", how="left")
        .join(pname, on="party_id", how="left")
        .with_columns(
            pl.coalesce("entity_name", "label", "matched_value").alias("entity_name"),
            pl.col("entity_kind").fill_null("unknown"),
            pl.col("programs").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.lit(1.0).alias("score"),
            pl.lit(None, dtype=pl.Float64).alias("name_score"),
            pl.lit(["crypto_wallet"]).alias("matched_fields"),
            pl.lit([], dtype=pl.List(pl.String)).alias("conflicts"),
            pl.lit("strong").alias("level"),
        )
        .with_columns(*_programme_flags(cfg))
        .sort("party_id", "account_id", "entity_id", nulls_last=True)
    )
    out = out.with_columns(_stable_ids("WM-", out["party_id"], out["entity_id"], out["account_id"]))
    return c.conform(out, allow_extra=True)
