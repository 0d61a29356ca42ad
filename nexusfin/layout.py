"""Where each kind of file lives under a data root. One place, so generator, importers,
pipeline and review app agree.

    ROOT/landing/transactions/transactions_YYYY-MM-DD.<parquet|csv|jsonl>   one file per UTC day
    ROOT/landing/reference/<accounts|parties|watchlist|address_tags|sar_filings>.parquet
    ROOT/truth/truth_<scenarios|account_labels|defects>.parquet              ground truth
    ROOT/truth/transaction_labels/truth_transaction_labels_YYYY-MM-DD.parquet
    ROOT/manifest.json                                                       what produced it
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REFERENCE_TABLES = ("accounts", "parties", "watchlist", "address_tags", "sar_filings")
TRUTH_TABLES = ("truth_scenarios", "truth_account_labels", "truth_defects")
LANDING_FORMATS = ("parquet", "csv", "jsonl")
_DAY_FILE = re.compile(r"^transactions_(\d{4}-\d{2}-\d{2})\.(parquet|csv|jsonl)$")


@dataclass(frozen=True)
class DataRoot:
    root: Path

    def __init__(self, root: str | Path) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def landing_transactions(self) -> Path:
        return self.landing / "transactions"

    @property
    def reference(self) -> Path:
        return self.landing / "reference"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    def transactions_file(self, day: date, fmt: str = "parquet") -> Path:
        if fmt not in LANDING_FORMATS:
            raise ValueError(f"unknown landing format {fmt!r}; choose from {LANDING_FORMATS}")
        return self.landing_transactions / f"transactions_{day.isoformat()}.{fmt}"

    def reference_file(self, table: str) -> Path:
        if table not in REFERENCE_TABLES:
            raise ValueError(f"{table!r} is not a reference table {REFERENCE_TABLES}")
        return self.reference / f"{table}.parquet"

    def truth_file(self, table: str) -> Path:
        if table not in TRUTH_TABLES:
            raise ValueError(f"{table!r} is not a truth table {TRUTH_TABLES}")
        return self.truth / f"{table}.parquet"

    def truth_transaction_labels_file(self, day: date) -> Path:
        return self.truth / "transaction_labels" / f"truth_transaction_labels_{day.isoformat()}.parquet"

    def landing_days(self) -> dict[date, Path]:
        """Landing transaction files by day (one per day; a second file for a day is an error)."""
        found: dict[date, Path] = {}
        if not self.landing_transactions.is_dir():
            return found
        for p in sorted(self.landing_transactions.iterdir()):
            m = _DAY_FILE.match(p.name)
            if not m:
                continue
            d = date.fromisoformat(m.group(1))
            if d in found:
                raise ValueError(f"two landing files for {d}: {found[d].name} and {p.name}")
            found[d] = p
        return found


def day_of_file(path: Path) -> date | None:
    m = _DAY_FILE.match(Path(path).name)
    return date.fromisoformat(m.group(1)) if m else None
