"""Shared machinery of the public-format importers: the error type, strict line-numbered CSV
reading, value parsers, vocabulary look-ups and the rejected-row collector."""

from __future__ import annotations

import codecs
import csv
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from nexusfin.contracts import country_names, vocabulary

Progress = Callable[[str], None] | None


class PublicFormatError(ValueError):
    """A public data file that nexusfin cannot read as its published layout says.

    ``file`` is the offending file, ``line`` the 1-based physical line in it (None when the
    problem concerns the file or folder as a whole) and ``problem`` what is wrong.
    """

    def __init__(self, file: str | Path | None, line: int | None, problem: str) -> None:
        self.file = Path(file) if file is not None else None
        self.line = line
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        name = self.file.name if self.file is not None else "<input>"
        if self.line is not None:
            return f"{name} line {self.line}: {self.problem}"
        return f"{name}: {self.problem}"

    def __reduce__(self):  # keep pickling (multiprocessing, pytest-xdist) working
        return (type(self), (self.file, self.line, self.problem))


class RowProblem(Exception):
    """Raised by the value parsers; the caller adds file and line."""


# -- rejected rows -------------------------------------------------------------------------


@dataclass
class Rejects:
    """Bad rows: raised at once (mode "raise", the default) or collected (mode "skip") and
    later written to ``out/rejected/<source>.csv`` with line and reason."""

    mode: str = "raise"
    rows: dict[str, list[tuple[int | None, str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def __post_init__(self) -> None:
        if self.mode not in ("raise", "skip"):
            raise ValueError(f"errors must be 'raise' or 'skip', not {self.mode!r}")

    def __call__(self, err: PublicFormatError, raw: str = "") -> None:
        if self.mode == "raise":
            raise err
        name = err.file.name if err.file is not None else "input"
        self.rows[name].append((err.line, err.problem, raw))

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.rows.values())


# -- reading -------------------------------------------------------------------------------


def decoded_lines(path: Path) -> Iterator[str]:
    """Lines of a UTF-8 text file (a leading BOM dropped); bad bytes raise PublicFormatError
    naming the line."""
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, 1):
            if i == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PublicFormatError(
                    path,
                    i,
                    f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
                ) from None


def read_text(path: Path) -> str:
    return "".join(decoded_lines(path))


def ensure_file(path: Path) -> None:
    if not path.is_file():
        raise PublicFormatError(path, None, "file not found")


class CsvFile:
    """Strict CSV reader that yields ``(line, fields)`` with the 1-based physical line where
    each record starts. Blank lines are skipped; a record with the wrong number of fields is a
    row problem (raised or collected through ``rejects``).

    Header handling: ``exact`` is the header the published layout prescribes column by column
    (needed when two columns share a name); ``required`` names columns that must be present
    (any order, extra columns allowed) and fills ``index``; ``header=False`` for files without
    a header row, then ``ncols`` is the column count.
    """

    def __init__(
        self,
        path: Path,
        rejects: Rejects,
        *,
        exact: Sequence[str] | None = None,
        required: Sequence[str] | None = None,
        header: bool = True,
        ncols: int | None = None,
        skip_trailer: str | None = None,
    ) -> None:
        ensure_file(path)
        self.path = path
        self.rejects = rejects
        self.exact = list(exact) if exact else None
        self.required = list(required) if required else None
        self.has_header = header
        self.ncols = ncols
        self.skip_trailer = skip_trailer
        self.index: dict[str, int] = {}
        self.header: list[str] = []
        self.rows_read = 0

    def _check_header(self, fields: list[str]) -> None:
        fields = [f.strip() for f in fields]
        self.header = fields
        if self.exact is not None:
            want = self.exact
            if fields != want:
                for i, (got, exp) in enumerate(zip(fields, want, strict=False), 1):
                    if got != exp:
                        raise PublicFormatError(
                            self.path, 1, f"header column {i} is {got!r}, expected {exp!r}"
                        )
                if len(fields) < len(want):
                    raise PublicFormatError(
                        self.path,
                        1,
                        f"header has {len(fields)} columns, expected {len(want)}: "
                        f"missing {want[len(fields) :]}",
                    )
                raise PublicFormatError(
                    self.path,
                    1,
                    f"header has {len(fields)} columns, expected {len(want)}: "
                    f"unexpected {fields[len(want) :]}",
                )
            self.ncols = len(want)
            return
        if self.required is not None:
            seen: dict[str, int] = {}
            for i, name in enumerate(fields):
                seen.setdefault(name, i)
            missing = [n for n in self.required if n not in seen]
            if missing:
                raise PublicFormatError(
                    self.path,
                    1,
                    f"header lacks column{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(repr(m) for m in missing)} (header: {','.join(fields)})",
                )
            self.index = seen
        self.ncols = len(fields)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        lines = decoded_lines(self.path)
        reader = csv.reader(lines, strict=True)
        prev = 0
        started = False
        try:
            for fields in reader:
                line = prev + 1
                prev = reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                if self.skip_trailer is not None and fields == [self.skip_trailer]:
                    continue
                if not started and self.has_header:
                    started = True
                    self._check_header(fields)
                    continue
                started = True
                if self.ncols is not None and len(fields) != self.ncols:
                    self.rejects(
                        PublicFormatError(
                            self.path,
                            line,
                            f"has {len(fields)} fields, expected {self.ncols}",
                        ),
                        ",".join(fields),
                    )
                    continue
                self.rows_read += 1
                yield line, fields
        except csv.Error as exc:
            raise PublicFormatError(self.path, reader.line_num, f"malformed CSV: {exc}") from None
        if not started:
            what = f"expected header {','.join(self.exact or self.required or [])!r}"
            if not self.has_header:
                what = "expected data rows"
            raise PublicFormatError(self.path, 1, f"file is empty, {what}")

    def col(self, fields: list[str], name: str) -> str:
        return fields[self.index[name]].strip()


# -- value parsers -------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str, what: str, *, positive: bool = False) -> float:
    t = text.strip()
    if not _NUMBER.match(t):
        raise RowProblem(f"{what} {text!r} is not a number")
    value = float(t)
    if positive and not value > 0:
        raise RowProblem(f"{what} {text!r} is not a positive amount")
    return value


def parse_int(text: str, what: str) -> int:
    t = text.strip()
    if t.isascii() and t.isdigit():  # fast path: most ids and bank numbers
        return int(t)
    if not re.fullmatch(r"[+-]?\d+", t):
        raise RowProblem(f"{what} {text!r} is not an integer")
    return int(t)


def parse_flag(text: str, what: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "t", "yes", "y"):
        return True
    if t in ("0", "false", "f", "no", "n", ""):
        return False
    raise RowProblem(f"{what} {text!r} is not a 0/1 or true/false flag")


class TimestampParser:
    """Parse timestamps of given strptime formats to naive UTC datetimes, memoised (public
    data sets repeat timestamps a lot)."""

    def __init__(self, formats: Sequence[str], what: str, example: str) -> None:
        self.formats = list(formats)
        self.what = what
        self.example = example
        self.cache: dict[str, datetime] = {}

    def __call__(self, text: str) -> datetime:
        hit = self.cache.get(text)
        if hit is not None:
            return hit
        t = text.strip()
        for fmt in self.formats:
            try:
                value = datetime.strptime(t, fmt)
            except ValueError:
                continue
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            if len(self.cache) < 2_000_000:
                self.cache[text] = value
            return value
        raise RowProblem(f"{self.what} {text!r} is not a timestamp like {self.example!r}")


def parse_date(text: str, what: str) -> date:
    t = text.strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(t, fmt).date()
        except ValueError:
            pass
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(t, fmt).date()
        except ValueError:
            pass
    raise RowProblem(f"{what} {text!r} is not a date like '2017-01-01'")


def unix_to_datetime(seconds: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=seconds)


# -- vocabularies --------------------------------------------------------------------------


@cache
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes and crypto asset symbols: what a currency column may hold."""
    return vocabulary("iso4217") | vocabulary("crypto_assets")


@cache
def country_by_name() -> dict[str, str]:
    """Normalised English country name (and common aliases) to ISO 3166-1 alpha-2."""
    names: dict[str, str] = {}
    for code, name in country_names().items():
        names[_norm(name)] = code
        # "Iran, Islamic Republic of" -> also "Iran"
        if "," in name:
            names.setdefault(_norm(name.split(",")[0]), code)
    names.update({_norm(k): v for k, v in COUNTRY_ALIASES.items()})
    return names


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


# Common short names and spellings in public data sets that differ from the ISO short names.
COUNTRY_ALIASES = {
    "UK": "GB",
    "Great Britain": "GB",
    "England": "GB",
    "Britain": "GB",
    "USA": "US",
    "U.S.A.": "US",
    "United States of America": "US",
    "UAE": "AE",
    "Turkey": "TR",
    "Turkiye": "TR",
    "Russia": "RU",
    "Syria": "SY",
    "Iran": "IR",
    "Venezuela": "VE",
    "Bolivia": "BO",
    "Burma": "MM",
    "North Korea": "KP",
    "South Korea": "KR",
    "Korea, North": "KP",
    "Korea, South": "KR",
    "Laos": "LA",
    "Vietnam": "VN",
    "Moldova": "MD",
    "Tanzania": "TZ",
    "Palestine": "PS",
    "West Bank": "PS",
    "Gaza": "PS",
    "Taiwan": "TW",
    "Czech Republic": "CZ",
    "Ivory Coast": "CI",
    "Cote d'Ivoire": "CI",
    "Congo, Democratic Republic of the": "CD",
    "Democratic Republic of the Congo": "CD",
    "Congo, Republic of the": "CG",
    "Macedonia": "MK",
    "The Bahamas": "BS",
    "The Gambia": "GM",
    "Kosovo": "XK",  # not in ISO 3166-1; dropped by country_code() if not in the vocabulary
}


def country_code(name: str) -> str | None:
    """ISO alpha-2 code of a country name or code, or None when unknown."""
    t = name.strip()
    if len(t) == 2 and t.upper() in vocabulary("iso3166_alpha2"):
        return t.upper()
    code = country_by_name().get(_norm(t))
    if code is not None and code in vocabulary("iso3166_alpha2"):
        return code
    return None




_SAFE = re.compile(r"[^A-Za-z0-9_.:\-]")


def safe_id(text: str) -> str:
    """Make a string fit the id patterns of the contracts (letters, digits, _ . : -)."""
    return _SAFE.sub("_", text.strip())


def location_code(country: str | None, bank: str, branch: str | None = None) -> str:
    """Synthetic cash location for data sets that have none: area ``<CC>-ZZ-UNKNOWN`` (XX when
    the country is unknown) and the branch (0 unless a numeric branch id is known) of the bank,
    e.g. ``XX-ZZ-UNKNOWN:70-BR0``."""
    bank_part = re.sub(r"[^A-Z0-9]", "", bank.upper()) or "UNKNOWN"
    br = branch.strip() if branch and re.fullmatch(r"\d{1,6}", branch.strip()) else "0"
    return f"{country or 'XX'}-ZZ-UNKNOWN:{bank_part}-BR{br}"


UNKNOWN_COUNTRY = "XX"
