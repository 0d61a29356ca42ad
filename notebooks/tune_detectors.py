"""Re-tune detector parameters by backtesting them against labels, and save a new, versioned
detector configuration that the pipeline then uses.

Each candidate configuration runs over the same history; the table puts the analysts' load
(alerts per day) beside what each finds: recall of the institution's SAR-labelled accounts, and,
on a generated world, recall per typology against the full ground truth. The chosen candidate is
saved as ``detectors-v<version>-<fingerprint>.yaml``; point the pipeline at it with
NEXUSFIN_DETECTORS (or DetectorSettings.config_path).

Run with ``marimo edit notebooks/tune_detectors.py`` or headless ``python notebooks/tune_detectors.py``.
Environment: NEXUSFIN_DATA_ROOT (the history: landing days + reference), NEXUSFIN_DETECTOR_CONFIGS
(where to save; default var/demo/detector_configs), NEXUSFIN_ALERT_BUDGET (alerts per day the
analysts can take, default 40).
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os
    from pathlib import Path

    import marimo as mo
    import polars as pl

    from nexusfin.detect.config import load_detector_config

    data_root = Path(os.environ.get("NEXUSFIN_DATA_ROOT", "var/demo/world"))
    out_dir = Path(os.environ.get("NEXUSFIN_DETECTOR_CONFIGS", "var/demo/detector_configs"))
    budget = float(os.environ.get("NEXUSFIN_ALERT_BUDGET", "40"))
    base = load_detector_config()
    mo.md(f"History `{data_root}`; current detector configuration {base.source} (v{base.version}, "
          f"{base.fingerprint}); analyst budget **{budget:g} alerts/day**.")
    return base, budget, data_root, mo, out_dir, pl


@app.cell
def _(base):
    from nexusfin.detect.backtest import grid

    # thresholds, windows and ratios worth revisiting; the product of these values is backtested
    candidates = grid(
        base,
        structuring={"min_band_deposits": [2, 3, 4], "window_days": [5, 7]},
        movement={"ratio_low": [0.7, 0.8]},
    )
    return (candidates,)


@app.cell
def _(candidates, data_root, mo):
    from nexusfin.detect.backtest import backtest_detectors

    backtest = backtest_detectors(data_root, candidates)
    mo.vstack([mo.md(f"**{len(candidates)} candidates** over {backtest.days} days:"),
               backtest.summary.sort("alerts_per_day")])
    return (backtest,)


@app.cell
def _(backtest, mo, pl):
    per_typology = backtest.typologies.pivot(on="candidate", index="typology", values="recall") \
        if backtest.typologies.height else pl.DataFrame()
    mo.vstack([mo.md("**Recall per typology** (ground truth):"), per_typology])
    return


@app.cell
def _(backtest, budget, mo, pl):
    # the choice: within the budget, the best recall (ground truth when known, else SAR recall),
    # then the fewest alerts
    summary = backtest.summary
    recall = "truth_recall" if "truth_recall" in summary.columns else "sar_recall"
    within = summary.filter(pl.col("alerts_per_day") <= budget)
    pool = within if within.height else summary
    chosen = pool.sort([recall, "alerts_per_day"], descending=[True, False]).row(0, named=True)
    mo.md(f"Chosen: **{chosen['candidate']}** ({chosen['alerts_per_day']:.1f} alerts/day, {recall} "
          f"{chosen[recall]:.3f}){'' if within.height else ' (no candidate fits the budget: least bad shown)'}.")
    return chosen, recall


@app.cell
def _(candidates, chosen, mo, out_dir, recall):
    from nexusfin.detect.backtest import save_detector_config

    saved = save_detector_config(
        candidates[chosen["candidate"]], out_dir, note=f"chosen in notebooks/tune_detectors.py: {chosen['candidate']}",
        evidence={"alerts_per_day": round(chosen["alerts_per_day"], 2), recall: round(chosen[recall], 4),
                  "sar_recall": round(chosen["sar_recall"], 4)})
    mo.md(f"Saved **{saved}**. Use it: `NEXUSFIN_DETECTORS={saved} make dagster` (or DetectorSettings.config_path); "
          "every alert then records its config_version.")
    return (saved,)


if __name__ == "__main__":
    app.run()
