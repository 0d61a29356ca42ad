"""Ground-truth builder shared by the importers of labeled data sets."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import polars as pl

from ._output import frame


def account_roles(typology: str, edges: list[tuple[str | None, str | None]]) -> dict[str, str]:
    """Role of each account in a scenario, from the direction of its money flows.

    fan_in: the account receiving most is the ``hub``, the others ``spoke``; fan_out the
    reverse; otherwise accounts that only send are ``origin``, only receive ``beneficiary``,
    both ``pass_through`` (``hub`` for the middle of gather/scatter shapes).
    """
    out_deg: dict[str, int] = defaultdict(int)
    in_deg: dict[str, int] = defaultdict(int)
    for s, d in edges:
        if s is not None:
            out_deg[s] += 1
        if d is not None:
            in_deg[d] += 1
    nodes = sorted(set(out_deg) | set(in_deg))
    roles: dict[str, str] = {}
    if typology in ("fan_in", "fan_out") and nodes:
        deg = in_deg if typology == "fan_in" else out_deg
        hub = max(nodes, key=lambda n: (deg.get(n, 0), n))
        return {n: ("hub" if n == hub else "spoke") for n in nodes}
    for n in nodes:
        o, i = out_deg.get(n, 0), in_deg.get(n, 0)
        if o and i:
            roles[n] = "hub" if typology in ("gather_scatter", "scatter_gather") else "pass_through"
        elif o:
            roles[n] = "origin"
        else:
            roles[n] = "beneficiary"
    return roles


class TruthBuilder:
    def __init__(self) -> None:
        self.scenarios: dict[str, dict[str, Any]] = {}
        self.txn_rows: list[tuple[str, str, str, str, int | None, str]] = []
        self.acct_rows: dict[tuple[str, str], tuple[str, str, str]] = {}

    def scenario(
        self,
        sid: str,
        typology: str,
        *,
        label: str = "suspicious",
        params: dict[str, Any] | None = None,
        hard_negative_kind: str | None = None,
    ) -> None:
        self.scenarios.setdefault(
            sid,
            {
                "typology": typology,
                "label": label,
                "params": params or {},
                "hard_negative_kind": hard_negative_kind,
            },
        )

    def txn(self, txn_id: str, sid: str, role: str, hop: int | None = None) -> None:
        s = self.scenarios[sid]
        self.txn_rows.append((txn_id, sid, s["typology"], role, hop, s["label"]))

    def account(self, account_id: str, sid: str, role: str) -> None:
        s = self.scenarios[sid]
        label = s["label"]
        if label == "hard_negative":
            role = "hard_negative"
        self.acct_rows.setdefault((account_id, sid), (s["typology"], role, label))

    def accounts_from_edges(self, sid: str, edges: list[tuple[str | None, str | None]]) -> None:
        for acct, role in account_roles(self.scenarios[sid]["typology"], edges).items():
            self.account(acct, sid, role)

    @property
    def empty(self) -> bool:
        return not self.txn_rows and not self.acct_rows

    def frames(self, txns: pl.DataFrame) -> dict[str, pl.DataFrame]:
        """truth_scenarios, truth_transaction_labels and truth_account_labels; scenario
        statistics come from the imported transactions (``txns``: txn_id, ts, amount_usd)."""
        # keep the first label of a (txn, scenario) pair
        seen: set[tuple[str, str]] = set()
        rows = []
        for r in self.txn_rows:
            if (r[0], r[1]) not in seen:
                seen.add((r[0], r[1]))
                rows.append(r)
        tl = frame(
            "truth_transaction_labels",
            {
                "txn_id": [r[0] for r in rows],
                "scenario_id": [r[1] for r in rows],
                "typology": [r[2] for r in rows],
                "role": [r[3] for r in rows],
                "hop": [r[4] for r in rows],
                "label": [r[5] for r in rows],
            },
        )
        al = frame(
            "truth_account_labels",
            {
                "account_id": [k[0] for k in self.acct_rows],
                "scenario_id": [k[1] for k in self.acct_rows],
                "typology": [v[0] for v in self.acct_rows.values()],
                "role": [v[1] for v in self.acct_rows.values()],
                "label": [v[2] for v in self.acct_rows.values()],
            },
        )
        stats = (
            tl.select("txn_id", "scenario_id")
            .join(txns.select("txn_id", "ts", "amount_usd"), on="txn_id", how="inner")
            .group_by("scenario_id")
            .agg(
                pl.col("ts").min().alias("start_ts"),
                pl.col("ts").max().alias("end_ts"),
                pl.len().cast(pl.Int64).alias("n_transactions"),
                pl.col("amount_usd").sum().alias("total_usd"),
            )
        )
        n_acc = al.group_by("scenario_id").agg(pl.len().cast(pl.Int64).alias("n_accounts"))
        sids = [s for s in self.scenarios if s in set(stats.get_column("scenario_id").to_list())]
        base = pl.DataFrame(
            {
                "scenario_id": sids,
                "typology": [self.scenarios[s]["typology"] for s in sids],
                "label": [self.scenarios[s]["label"] for s in sids],
                "hard_negative_kind": [self.scenarios[s]["hard_negative_kind"] for s in sids],
                "params": [json.dumps(self.scenarios[s]["params"], sort_keys=True) for s in sids],
            },
            schema={
                "scenario_id": pl.String,
                "typology": pl.String,
                "label": pl.String,
                "hard_negative_kind": pl.String,
                "params": pl.String,
            },
        )
        sc = (
            base.join(stats, on="scenario_id", how="left")
            .join(n_acc, on="scenario_id", how="left")
            .with_columns(pl.col("n_accounts").fill_null(0))
        )
        scenarios = frame("truth_scenarios", {c: sc.get_column(c) for c in sc.columns})
        keep = set(sids)
        al = al.filter(pl.col("scenario_id").is_in(sorted(keep)))
        tl = tl.filter(pl.col("scenario_id").is_in(sorted(keep)))
        return {
            "truth_scenarios": scenarios,
            "truth_transaction_labels": tl,
            "truth_account_labels": al,
        }
