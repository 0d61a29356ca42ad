"""Everything an analyst needs to check one alert by hand, read from the warehouse opened read-only.

One :class:`AlertEvidence` per alert: the queued alert with its model reasons, the account and its
owner, the detector alerts behind it (rule, parameters, observed values), only the evidence
transactions (detector evidence and the money path to the facilitator) with both parties, the
account's activity for the timeline, the counterparty network with the facilitator path, and the
account's or party's earlier alerts and SARs. The same bundle feeds the web views and the drafts
(goAML XML, SAR narrative), so what is filed is what the analyst saw.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from nexusfin.review.config import ReviewConfig
from nexusfin.settings import Regulatory
from nexusfin.warehouse import connect

# transaction columns carried into the evidence (the transactions contract, minus lineage)
TXN_COLUMNS = ("txn_id", "ts", "src_account", "dst_account", "amount", "currency", "amount_usd",
               "channel", "txn_type", "src_country", "dst_country", "location", "conducted_by",
               "chain", "tx_hash", "memo")
# per side of a transaction: the account's owner and bank (from the reference tables)
SIDE_COLUMNS = ("party_id", "party_name", "party_kind", "party_country", "bank_id", "account_type")


class AlertNotFound(LookupError):
    pass


@dataclass
class AlertEvidence:
    alert: dict[str, Any]
    """alert_queue row; ``contributions`` parsed to a list of {feature, value, reference, contribution}."""
    account: dict[str, Any]
    """accounts row of the alerted account (empty if the reference does not know it)."""
    party: dict[str, Any]
    """parties row of its owner (empty if unknown)."""
    detector_alerts: list[dict[str, Any]]
    """detector_alerts rows named by the alert; ``params`` and ``observed`` parsed to dicts."""
    transactions: pl.DataFrame
    """Only the evidence transactions: TXN_COLUMNS, ``src_``/``dst_`` + SIDE_COLUMNS, and
    ``evidence_of`` (list of detector alert ids, and "path" for the facilitator path; for a
    model-only alert, every transaction of the scored feature window, marked "model window")."""
    activity: pl.DataFrame
    """The account's transactions over the timeline window: txn_id, ts, amount_usd, direction
    ("in"/"out"), counterparty, channel, txn_type, is_cash, is_evidence."""
    network_nodes: pl.DataFrame
    """account_id, party_id, party_name, country, role ("subject", "counterparty", "path",
    "facilitator")."""
    network_edges: pl.DataFrame
    """src_account, dst_account, n_txns, usd, on_path (edge of the facilitator path)."""
    facilitator_path: dict[str, Any] | None
    """facilitator_paths row behind the alert's path (None without one)."""
    prior_alerts: list[dict[str, Any]]
    """Earlier queued alerts of the same account or party (alert_id, as_of, account_id, score...)."""
    sar_filings: list[dict[str, Any]]
    """SARs already filed on the account or party before the alert day."""
    thresholds: dict[str, float]
    """ctr_threshold_usd, recordkeeping_threshold_usd, structuring_band_low_usd (regulatory.yaml)."""
    window: tuple[date, date]
    """First and last day of the timeline window (the alert day is the last)."""
    truncated: dict[str, int] = field(default_factory=dict)
    """Lists cut to the configured maximum: name -> full size (shown to the analyst)."""

    @property
    def alert_id(self) -> str:
        return str(self.alert["alert_id"])


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables and views present (a young warehouse may not have every stage's view yet)."""
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def _dicts(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts() if frame.height else []


def _sides(con: duckdb.DuckDBPyConnection, txns: pl.DataFrame) -> pl.DataFrame:
    """Add owner party and bank of both sides of each transaction."""
    ids = sorted({a for c in ("src_account", "dst_account") for a in txns[c].drop_nulls().to_list()})
    info = _rows(con, """
        SELECT a.account_id, a.owner_party_id AS party_id, p.name AS party_name, p.kind AS party_kind,
               coalesce(p.country, a.country) AS party_country, a.bank_id, a.account_type
        FROM accounts a LEFT JOIN parties p ON p.party_id = a.owner_party_id
        WHERE list_contains(?, a.account_id)""", [ids])
    if info.is_empty():
        info = pl.DataFrame(schema={"account_id": pl.String, **{c: pl.String for c in SIDE_COLUMNS}})
    for side in ("src", "dst"):
        renamed = info.rename({c: f"{side}_{c}" for c in SIDE_COLUMNS})
        txns = txns.join(renamed, left_on=f"{side}_account", right_on="account_id", how="left")
    return txns


def load_alert(warehouse: str | Path, alert_id: str, *, timeout_s: float = 10.0) -> dict[str, Any]:
    """Only the queued alert's row (what a disposition records), without its evidence."""
    con = connect(warehouse, read_only=True, timeout_s=timeout_s)
    try:
        return _alert_row(con, alert_id)
    finally:
        con.close()


def _alert_row(con: duckdb.DuckDBPyConnection, alert_id: str) -> dict[str, Any]:
    found = _rows(con, "SELECT * EXCLUDE (date) FROM alert_queue WHERE alert_id = ?", [alert_id])
    if found.is_empty():
        raise AlertNotFound(alert_id)
    alert = found.row(0, named=True)
    alert["contributions"] = json.loads(alert["contributions"] or "[]")
    return alert


def load_evidence(warehouse: str | Path, alert_id: str, config: ReviewConfig, regulatory: Regulatory,
                  *, timeout_s: float = 10.0) -> AlertEvidence:
    """Read one alert's evidence from the warehouse (read-only; parameterized SQL only)."""
    con = connect(warehouse, read_only=True, timeout_s=timeout_s)
    try:
        return _load(con, alert_id, config, regulatory)
    finally:
        con.close()


def _load(con: duckdb.DuckDBPyConnection, alert_id: str, config: ReviewConfig,
          regulatory: Regulatory) -> AlertEvidence:
    alert = _alert_row(con, alert_id)
    tables = _tables(con)
    account_id, party_id, as_of = alert["account_id"], alert["party_id"], alert["as_of"]
    first = as_of - timedelta(days=config.timeline_days - 1)
    truncated: dict[str, int] = {}

    acct = _rows(con, "SELECT * FROM accounts WHERE account_id = ?", [account_id])
    party = _rows(con, "SELECT * FROM parties WHERE party_id = ?", [party_id])

    det_ids = list(alert["detector_alert_ids"] or [])
    detector_alerts: list[dict[str, Any]] = []
    if det_ids and "detector_alerts" in tables:
        frame = _rows(con, "SELECT * FROM detector_alerts WHERE list_contains(?, alert_id) "
                           "ORDER BY start_ts, alert_id", [det_ids])
        for row in _dicts(frame):
            row["params"] = json.loads(row["params"] or "{}")
            row["observed"] = json.loads(row["observed"] or "{}")
            detector_alerts.append(row)

    # evidence transactions: what each detector alert names, plus the facilitator path
    evidence_of: dict[str, list[str]] = {}
    for da in detector_alerts:
        for t in da["evidence_txn_ids"] or []:
            evidence_of.setdefault(t, []).append(da["alert_id"])
    for t in alert["facilitator_path_txn_ids"] or []:
        evidence_of.setdefault(t, []).append("path")
    if not evidence_of and "account_features" in tables:
        # model-only alert: the evidence is the account's activity in the feature window the model scored
        win = _rows(con, "SELECT window_start FROM account_features WHERE account_id = ? AND as_of = ? LIMIT 1",
                    [account_id, as_of])
        if win.height:
            ids = _rows(con, "SELECT txn_id FROM transactions WHERE date BETWEEN ? AND ? "
                             "AND (src_account = ? OR dst_account = ?)",
                        [win.item(0, 0), as_of, account_id, account_id])
            for t in ids["txn_id"].to_list():
                evidence_of[t] = ["model window"]
    wanted = sorted(evidence_of)
    if len(wanted) > config.max_evidence_transactions:
        truncated["transactions"] = len(wanted)
        wanted = wanted[: config.max_evidence_transactions]
    cols = ", ".join(TXN_COLUMNS)
    if wanted:
        # evidence lies in the days the detectors and the model looked at: read those partitions
        # first (pruned by the lake's date folders) and scan the rest only for anything missing
        since = min([first, *(da["start_ts"].date() for da in detector_alerts if da["start_ts"] is not None)])
        txns = _rows(con, f"SELECT {cols} FROM transactions WHERE date BETWEEN ? AND ? "
                          "AND list_contains(?, txn_id)", [since, as_of, wanted])
        missing = sorted(set(wanted) - set(txns["txn_id"].to_list()))
        if missing:
            txns = pl.concat([txns, _rows(con, f"SELECT {cols} FROM transactions WHERE list_contains(?, txn_id)",
                                          [missing])])
        txns = txns.sort(["ts", "txn_id"])
    else:
        txns = _rows(con, f"SELECT {cols} FROM transactions WHERE false")
    txns = txns.with_columns(
        pl.col("txn_id").replace_strict(evidence_of, default=None, return_dtype=pl.List(pl.String))
        .alias("evidence_of"))
    txns = _sides(con, txns)

    # account activity for the timeline (partition pruning on the lake's date folders)
    activity = _rows(con, """
        SELECT txn_id, ts, amount_usd,
               CASE WHEN src_account = ? THEN 'out' ELSE 'in' END AS direction,
               CASE WHEN src_account = ? THEN dst_account ELSE src_account END AS counterparty,
               channel, txn_type, channel = 'cash' AS is_cash
        FROM transactions
        WHERE date BETWEEN ? AND ? AND (src_account = ? OR dst_account = ?)
        ORDER BY ts, txn_id""", [account_id, account_id, first, as_of, account_id, account_id])
    activity = activity.with_columns(pl.col("txn_id").is_in(list(evidence_of)).alias("is_evidence"))

    # facilitator path behind the alert (the features stage wrote it for the same day)
    path_row: dict[str, Any] | None = None
    path_accounts = list(alert["facilitator_path_accounts"] or [])
    if path_accounts and "facilitator_paths" in tables:
        p = _rows(con, "SELECT * EXCLUDE (date) FROM facilitator_paths WHERE account_id = ? AND as_of = ? "
                       "AND path_accounts = ? ORDER BY hops LIMIT 1", [account_id, as_of, path_accounts])
        path_row = p.row(0, named=True) if p.height else None

    nodes, edges = _network(con, activity, txns, account_id, alert, path_row, config)

    prior = _rows(con, """
        SELECT alert_id, as_of, account_id, party_id, score, model_version, detector_rules, convergent
        FROM alert_queue WHERE (account_id = ? OR party_id = ?) AND as_of < ? ORDER BY as_of DESC""",
                  [account_id, party_id, as_of])
    sars = _rows(con, "SELECT * FROM sar_filings WHERE (account_id = ? OR party_id = ?) AND filing_date <= ? "
                      "ORDER BY filing_date DESC", [account_id, party_id, as_of]) \
        if "sar_filings" in tables else pl.DataFrame()
    return AlertEvidence(
        alert=alert,
        account=acct.row(0, named=True) if acct.height else {},
        party=party.row(0, named=True) if party.height else {},
        detector_alerts=detector_alerts,
        transactions=txns,
        activity=activity,
        network_nodes=nodes,
        network_edges=edges,
        facilitator_path=path_row,
        prior_alerts=_dicts(prior),
        sar_filings=_dicts(sars),
        thresholds={"ctr_threshold_usd": regulatory.ctr_threshold_usd,
                    "recordkeeping_threshold_usd": regulatory.recordkeeping_threshold_usd,
                    "structuring_band_low_usd": regulatory.structuring_band_low_usd},
        window=(first, as_of),
        truncated=truncated,
    )


def _network(con: duckdb.DuckDBPyConnection, activity: pl.DataFrame, evidence: pl.DataFrame, account_id: str,
             alert: dict[str, Any], path_row: dict[str, Any] | None,
             config: ReviewConfig) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The account, its largest counterparties in the window, and every hop of the facilitator path."""
    flows = (activity.filter(pl.col("counterparty").is_not_null())
             .with_columns(
                 pl.when(pl.col("direction") == "out").then(pl.lit(account_id))
                 .otherwise(pl.col("counterparty")).alias("src_account"),
                 pl.when(pl.col("direction") == "out").then(pl.col("counterparty"))
                 .otherwise(pl.lit(account_id)).alias("dst_account"))
             .group_by("src_account", "dst_account")
             .agg(pl.len().alias("n_txns"), pl.col("amount_usd").sum().alias("usd")))
    by_cp = (flows.with_columns(
        pl.when(pl.col("src_account") == account_id).then(pl.col("dst_account"))
        .otherwise(pl.col("src_account")).alias("cp"))
        .group_by("cp").agg(pl.col("usd").sum()).sort(["usd", "cp"], descending=[True, False]))
    keep = set(by_cp["cp"].head(config.network_counterparties).to_list())
    path = list(alert["facilitator_path_accounts"] or [])
    path_txns = list(alert["facilitator_path_txn_ids"] or [])
    path_edges = pl.DataFrame(schema={"src_account": pl.String, "dst_account": pl.String,
                                      "n_txns": pl.UInt32, "usd": pl.Float64})
    if path_txns:  # the path's transfers are among the evidence already read
        path_edges = (evidence.filter(pl.col("txn_id").is_in(path_txns))
                      .group_by("src_account", "dst_account", maintain_order=True)
                      .agg(pl.len().cast(pl.UInt32).alias("n_txns"), pl.col("amount_usd").sum().alias("usd")))
    path_pairs = set(itertools.pairwise(path))
    edges = pl.concat([
        flows.filter(pl.col("src_account").is_in(list(keep)) | pl.col("dst_account").is_in(list(keep)))
        .select("src_account", "dst_account", pl.col("n_txns").cast(pl.UInt32), "usd"),
        path_edges.select("src_account", "dst_account", pl.col("n_txns").cast(pl.UInt32), "usd"),
    ]).unique(["src_account", "dst_account"], keep="first", maintain_order=True)
    pairs = pl.DataFrame({"src_account": [a for a, _ in path_pairs], "dst_account": [b for _, b in path_pairs],
                          "on_path": [True] * len(path_pairs)},
                         schema={"src_account": pl.String, "dst_account": pl.String, "on_path": pl.Boolean})
    edges = (edges.join(pairs, on=["src_account", "dst_account"], how="left")
             .with_columns(pl.col("on_path").fill_null(False))
             .sort(["on_path", "usd", "src_account", "dst_account"], descending=[True, True, False, False]))
    ids = sorted({account_id, *keep, *path})
    info = _rows(con, """
        SELECT a.account_id, a.owner_party_id AS party_id, p.name AS party_name,
               coalesce(p.country, a.country) AS country
        FROM accounts a LEFT JOIN parties p ON p.party_id = a.owner_party_id
        WHERE list_contains(?, a.account_id)""", [ids])
    # the path runs in money order: towards a facilitator it ends there, from one it starts there
    facilitator = path[-1] if path and alert.get("facilitator_entity_id") else None
    if path_row is not None:
        facilitator = path_row["facilitator_account_id"]
    role = {a: "counterparty" for a in keep}
    role.update({a: "path" for a in path})
    if facilitator:
        role[facilitator] = "facilitator"
    role[account_id] = "subject"
    nodes = (pl.DataFrame({"account_id": ids}, schema={"account_id": pl.String})
             .join(info, on="account_id", how="left")
             .with_columns(pl.col("account_id").replace_strict(role, return_dtype=pl.String).alias("role")))
    return nodes, edges
