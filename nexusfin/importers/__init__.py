"""Importers of public AML data sets into nexusfin's data contracts.

    from nexusfin.importers import import_dataset, FORMATS, PublicFormatError
    report = import_dataset("amlworld", Path("HI-Small_Trans.csv"), Path("var/hi-small"))

Each format maps its files to the contracts in ``schemas/`` and writes them into a data root
laid out as ``nexusfin.layout.DataRoot`` says (transactions one parquet file per UTC day,
reference tables, ground truth from the labels the data set carries, ``manifest.json``).

A file that does not follow its published layout raises ``PublicFormatError`` naming the file,
the 1-based line and the problem. With ``errors="skip"``, bad *rows* (wrong field count,
unparsable number, timestamp or currency) are instead written to ``out/rejected/<file>.csv``
with line and reason and counted in ``report.rows_rejected``; problems of a whole file (missing
header, empty file, malformed YAML/JSON structure) always raise.

The mapping decisions of each format are documented in its module.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ._common import PublicFormatError, Rejects
from ._output import ImportReport, Output

__all__ = ["FORMATS", "ImportReport", "PublicFormatError", "import_dataset"]

FORMATS: dict[str, str] = {
    "amlworld": "IBM AMLworld *_Trans.csv (+ *_accounts.csv, *_Patterns.txt beside it)",
    "amlsim": "IBM AMLSim output folder (transactions.csv, accounts.csv, alert_accounts.csv, ...)",
    "samld": "SAML-D CSV (Oztas et al., 2023)",
    "ethereum-etl": "ethereum-etl token_transfers CSV (+ GraphSense TagPack YAML files beside it)",
    "opensanctions": "OpenSanctions FollowTheMoney entities, JSON lines",
    "ofac-sdn": "OFAC SDN CSV folder (sdn.csv, add.csv, alt.csv)",
}


def import_dataset(
    fmt: str,
    path: str | Path,
    out: str | Path,
    *,
    progress: Callable[[int, int | None], None] | None = None,
    errors: str = "raise",
    tokens: str | Path | None = None,
) -> ImportReport:
    """Import the public data set at ``path`` (a file or folder) in format ``fmt`` into the
    data root ``out`` and return what was read and written.

    ``progress(done, total)`` is called with rows read so far (total None while unknown).
    ``errors``: "raise" (default) stops at the first bad row; "skip" sets bad rows aside in
    ``out/rejected/``. ``tokens``: ethereum-etl only, a CSV ``address,symbol,decimals`` adding
    to the built-in table of token contracts.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    path, out = Path(path), Path(out)
    if not path.exists():
        raise PublicFormatError(path, None, "no such file or folder")
    if tokens is not None and fmt != "ethereum-etl":
        raise ValueError("tokens= applies to the ethereum-etl format only")
    rejects = Rejects(errors)
    report = ImportReport(format=fmt, out=str(out))
    if fmt == "amlworld":
        from . import amlworld as mod
    elif fmt == "amlsim":
        from . import amlsim as mod
    elif fmt == "samld":
        from . import samld as mod
    elif fmt == "ethereum-etl":
        from . import ethereum as mod
    elif fmt == "opensanctions":
        from . import opensanctions as mod
    else:
        from . import ofac as mod
    kwargs = (
        {"tokens": Path(tokens) if tokens is not None else None} if fmt == "ethereum-etl" else {}
    )
    output: Output = mod.run(path, out, report, rejects, progress, **kwargs)
    output.rejected(rejects)
    output.check_references()
    _count_labels(output, report)
    output.manifest(fmt, [Path(p) for p in report.inputs])
    if progress:
        total = sum(report.rows_read.values())
        progress(total, total)
    return report


def _count_labels(output: Output, report: ImportReport) -> None:
    w = output.written
    if "truth_scenarios" in w:
        report.labels["scenarios"] = w["truth_scenarios"].height
    for table, key in (
        ("truth_transaction_labels", "transaction_labels"),
        ("truth_account_labels", "account_labels"),
    ):
        if table in w:
            df = w[table]
            report.labels[key] = df.height
            for label, n in sorted(df.group_by("label").len().iter_rows()):
                report.labels[f"{key}_{label}"] = n
