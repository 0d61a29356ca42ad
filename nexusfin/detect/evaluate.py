"""Compare detector alerts with the ground truth of a generated (or labeled, imported) world.

* A scenario is **detected** when an alert of a rule that targets its typology has evidence
  transactions labeled with that scenario.
* An alert is **true** when its evidence touches a transaction of any suspicious scenario, or it
  names an account that takes part in one (victims excepted).
* **Precision** of a typology is the share of true alerts among the alerts of its rules.
* The **hard-negative alert rate** is the share of each legitimate look-alike population
  (cash-intensive businesses, remittance senders, ...) with at least one alert of any rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from nexusfin.layout import DataRoot

# which rules answer for which planted typology
TARGETS: dict[str, tuple[str, ...]] = {
    "structuring": ("structuring.daily", "structuring.window"),
    "smurfing": ("structuring.smurfing",),
    "cuckoo_smurfing": ("structuring.smurfing",),
    "funnel_account": ("funnel.multi_location",),
    "rapid_movement": ("movement.pass_through",),
    "layering_chain": ("movement.chain",),
    "fan_in": ("movement.fan_in",),
    "fan_out": ("movement.fan_out",),
    "scatter_gather": ("movement.scatter_gather",),
    "gather_scatter": ("movement.gather_scatter",),
    "cycle": ("movement.cycle",),
    "trade_based": ("movement.gather_scatter", "movement.fan_in"),
    "ransom_collection": ("movement.fan_in",),
    "crypto_cash_to_wallet": ("crypto.on_ramp",),
    "crypto_peel_chain": ("crypto.peel_chain",),
    "crypto_mixer": ("crypto.mixer_exposure",),
    "crypto_chain_hop": ("crypto.chain_hop",),
    "crypto_cash_out": ("crypto.cash_out",),
}
# typologies no detector of this family targets (linkage and scoring answer for them)
UNTARGETED = ("facilitator_network", "convergence")
VICTIM_ROLES = ("victim", "cuckoo_victim")


@dataclass
class Evaluation:
    typologies: pl.DataFrame  # typology, scenarios, detected, recall, alerts, true_alerts, precision, recall_any_rule
    rules: pl.DataFrame  # rule, alerts, true_alerts, precision
    hard_negatives: pl.DataFrame  # kind, accounts, alerted, rate, rules
    n_alerts: int
    n_accounts: int
    days: int

    def meets(self, recall: float = 0.95, precision: float = 0.90) -> pl.DataFrame:
        """Typologies below a target (empty when every targeted typology meets it)."""
        return self.typologies.filter(
            pl.col("targeted") & ((pl.col("recall") < recall) | (pl.col("precision") < precision))
        )


def load_truth(truth: str | Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(scenarios, account labels, transaction labels) from a data root or its truth folder."""
    truth = Path(truth)
    root = DataRoot(truth.parent) if truth.name == "truth" else DataRoot(truth)
    scen = pl.read_parquet(root.truth_file("truth_scenarios"))
    acc = pl.read_parquet(root.truth_file("truth_account_labels"))
    files = sorted((root.truth / "transaction_labels").glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no transaction labels under {root.truth / 'transaction_labels'}")
    txn = pl.concat([pl.read_parquet(f) for f in files])
    return scen, acc, txn


def evaluate(alerts: pl.DataFrame, truth: str | Path, *, n_accounts: int | None = None) -> Evaluation:
    scen, acc_labels, txn_labels = load_truth(truth)
    suspicious_txn = txn_labels.filter(pl.col("label") == "suspicious").select("txn_id", "scenario_id", "typology")
    ev = alerts.select("alert_id", "rule", "account_id", pl.col("evidence_txn_ids").alias("txn_id")).explode("txn_id")
    hits = ev.join(suspicious_txn, on="txn_id", how="inner").select("alert_id", "rule", "scenario_id", "typology").unique()
    subject_accounts = acc_labels.filter(
        (pl.col("label") == "suspicious") & ~pl.col("role").is_in(VICTIM_ROLES)
    ).get_column("account_id").unique()
    true_ids = pl.concat([
        hits.get_column("alert_id"),
        alerts.filter(pl.col("account_id").is_in(subject_accounts.implode())).get_column("alert_id"),
    ]).unique()
    alerts = alerts.with_columns(pl.col("alert_id").is_in(true_ids.implode()).alias("is_true"))

    rows = []
    suspicious = scen.filter(pl.col("label") == "suspicious")
    for typ in sorted(suspicious.get_column("typology").unique().to_list()):
        ids = suspicious.filter(pl.col("typology") == typ).get_column("scenario_id")
        rules = TARGETS.get(typ, ())
        det = hits.filter(pl.col("scenario_id").is_in(ids.implode()))
        by_target = det.filter(pl.col("rule").is_in(rules)).get_column("scenario_id").n_unique()
        by_any = det.get_column("scenario_id").n_unique()
        own = alerts.filter(pl.col("rule").is_in(rules))
        n_al, n_true = len(own), int(own.get_column("is_true").sum())
        rows.append({
            "typology": typ,
            "targeted": bool(rules),
            "rules": ", ".join(rules) if rules else "(linkage, issue 5)",
            "scenarios": len(ids),
            "detected": by_target,
            "recall": by_target / len(ids) if len(ids) else None,
            "alerts": n_al,
            "true_alerts": n_true,
            "precision": n_true / n_al if n_al else None,
            "recall_any_rule": by_any / len(ids) if len(ids) else None,
        })
    typologies = pl.DataFrame(rows)

    rules_df = (
        alerts.group_by("rule")
        .agg(pl.len().alias("alerts"), pl.col("is_true").sum().alias("true_alerts"))
        .with_columns((pl.col("true_alerts") / pl.col("alerts")).alias("precision"))
        .sort("rule")
    )

    hn = acc_labels.filter(pl.col("label") == "hard_negative").join(
        scen.select("scenario_id", "hard_negative_kind", "params"), on="scenario_id", how="left"
    ).with_columns(
        pl.coalesce(pl.col("hard_negative_kind"), pl.col("params").str.json_path_match("$.kind")).alias("kind")
    ).select("account_id", "kind").unique()
    alerted = alerts.select("account_id", "rule").unique()
    hn_rows = []
    for kind in sorted(hn.get_column("kind").drop_nulls().unique().to_list()):
        accts = hn.filter(pl.col("kind") == kind).get_column("account_id")
        hit = alerted.filter(pl.col("account_id").is_in(accts.implode()))
        hn_rows.append({
            "kind": kind,
            "accounts": len(accts),
            "alerted": hit.get_column("account_id").n_unique(),
            "rate": hit.get_column("account_id").n_unique() / len(accts) if len(accts) else None,
            "rules": ", ".join(f"{r} {c}" for r, c in hit.group_by("rule").len().sort("rule").iter_rows()),
        })
    span = alerts.select(pl.col("detected_on").min().alias("a"), pl.col("detected_on").max().alias("b")).row(0)
    days = (span[1] - span[0]).days + 1 if span[0] is not None else 0
    return Evaluation(typologies, rules_df, pl.DataFrame(hn_rows), len(alerts), n_accounts or 0, days)


def detect_world(world: str | Path, config=None, families=None) -> tuple[pl.DataFrame, int]:
    """Run every detector over a generated world's landing files in one ledger (no pipeline);
    returns (alerts, number of accounts). For measuring detector quality on many worlds quickly."""
    from nexusfin.detect import FAMILIES, build_ledger, detect_alerts, load_detector_config

    root = DataRoot(world)
    files = [str(p) for p in sorted(root.landing_days().values())]
    if not files or not all(f.endswith(".parquet") for f in files):
        raise ValueError(f"{world}: detect_world reads parquet landing files (ingest other formats first)")
    tx = pl.scan_parquet(files)
    accounts = pl.read_parquet(root.reference_file("accounts"))
    tags = pl.read_parquet(root.reference_file("address_tags"))
    ledger = build_ledger(tx, accounts, tags)
    cfg = config or load_detector_config()
    frames = detect_alerts(ledger, cfg, families or FAMILIES)
    alerts = pl.concat([f for f in frames.values()])
    return alerts, ledger.n_accounts
