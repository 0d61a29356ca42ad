"""Printing an AMLworld-protocol evaluation next to the published HI-Small anchors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .model import ANCHOR_DATASET, Result

# best GNNs of Egressy et al. (AAAI 2024) on HI-Small, recall per pattern (%), for orientation
PUBLISHED_PATTERN_RECALL = {
    "fan_in": "85-89", "fan_out": "93-95", "cycle": "58-62", "scatter_gather": "88-94",
    "gather_scatter": "93-95", "bipartite": "55-58", "unattributed": "~1",
}


def data_inputs(root: str | Path) -> list[str]:
    """File names the data root was imported from (manifest.json), when recorded."""
    path = Path(root) / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
        return [Path(i["path"]).name for imp in manifest.get("imports", []) for i in imp.get("inputs", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def caveat(root: str | Path) -> str:
    inputs = data_inputs(root)
    names = ", ".join(inputs) if inputs else str(root)
    return (f"Anchors are published figures on {ANCHOR_DATASET}. This run's data: {names}. Unless that is "
            "HI-Small itself, the comparison is indicative only; AMLworld-style synthetic data "
            "(python -m synthetic.amlworld) imitates the AMLworld layouts and pattern types, it is not HI-Small.")


def _ts(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M")


def print_result(r: Result, out: Console, root: str | Path) -> None:
    t = Table(title="minority-class F1 on the test split (temporal 60/20/20), vs published anchors")
    for col in ("model", "data", "F1 (%)"):
        t.add_column(col, justify="right" if col == "F1 (%)" else "left")
    t.add_row("nexusfin txnmodel: HistGradientBoosting + graph features",
              f"this data ({r.rows:,} rows, mode {r.mode})", f"{r.test['f1']:.2f}")
    for a in r.anchors:
        t.add_row(a["model"], "HI-Small (published)", f"{a['f1']:.2f}")
    out.print(t)
    m = Table(title="test split")
    for col in ("F1 (%)", "precision", "recall", "PR-AUC", "TP", "FP", "FN", "threshold", "validation F1 (%)"):
        m.add_column(col, justify="right")
    s = r.test
    m.add_row(f"{s['f1']:.2f}", f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['pr_auc']:.3f}",
              f"{s['tp']:,}", f"{s['fp']:,}", f"{s['fn']:,}", f"{r.threshold:.4g}", f"{r.validation_f1:.2f}")
    out.print(m)
    sp = Table(title="temporal split (by transaction time)")
    for col in ("split", "rows", "share", "laundering rows", "from", "to"):
        sp.add_column(col, justify="left" if col in ("split", "from", "to") else "right")
    for name, v in r.splits.items():
        sp.add_row(name, f"{v['rows']:,}", f"{v['share']:.1%}", f"{v['positives']:,}", _ts(v["first_ts"]),
                   _ts(v["last_ts"]))
    out.print(sp)
    pp = Table(title="recall per pattern on the test split")
    for col in ("pattern", "laundering rows", "detected", "recall", "HI-Small best GNNs (published, %)"):
        pp.add_column(col, justify="left" if col == "pattern" else "right")
    for p in r.patterns:
        pp.add_row(p["typology"], f"{p['test_rows']:,}", f"{p['detected']:,}", f"{p['recall']:.1%}",
                   PUBLISHED_PATTERN_RECALL.get(p["typology"], "-"))
    out.print(pp)
    sec = r.seconds
    out.print(f"{r.n_features} features for {r.rows:,} rows in {sec['features']:.1f} s "
              f"({r.feature_rows_per_second:,.0f} rows/s); fit {sec['fit']:.1f} s ({r.iterations} trees); "
              f"total {sec['total']:.1f} s. Threshold: highest F1 on the validation split's precision-recall curve.")
    for n in r.notes:
        out.print(f"note: {n}")
    out.print(caveat(root), style="yellow")
