"""Orchestration: world once, scenarios planned upfront, then one day at a time (background +
that day's planted events -> sorted, ids, defects, written, labels written, freed)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

from nexusfin.contracts import contract
from nexusfin.layout import DataRoot
from nexusfin.settings import load_regulatory

from . import defects as D
from .background import DAY_US, HN_ROLES, HardNegatives, background_day, prepare
from .config import HARD_NEGATIVE_KINDS, TYPOLOGIES, WorldConfig
from .events import FIELDS
from .scenarios import Planner, plan_all
from .world import (
    BRIDGE_CHAINS,
    CH,
    CHAINS,
    CHANNELS,
    EXCHANGE_CHAINS,
    EXCHANGES,
    MIXER_CHAINS,
    TXN_TYPES,
    World,
    tx_hashes,
)

STREAM_BACKGROUND = 1
STREAM_DEFECTS = 2
STREAM_HASH = 3


def convert(w: World, src: np.ndarray, dst: np.ndarray, usd: np.ndarray, channel: np.ndarray):
    """Currency of the debited side (credited for cash deposits), amount in it, amount_usd."""
    side = np.where(src >= 0, src, dst)
    cur = w.acc_cur_arr[side]
    fx = w.fx_arr[cur]
    crypto = channel == CH["crypto"]
    raw = usd / fx
    amount = np.where(crypto, np.round(raw, 8), np.round(raw, 2))
    amount = np.maximum(amount, np.where(crypto, 1e-8, 0.01))
    return cur, amount, amount * fx


def _nullable_idx(a: np.ndarray) -> pl.Series:
    s = pl.Series(a.astype(np.int64))
    return pl.select(pl.when(pl.lit(s) >= 0).then(pl.lit(s))).to_series()


def build_frame(
    w: World, ev: dict[str, np.ndarray], day_ord: str, rng: np.random.Generator
) -> tuple[pl.DataFrame, dict]:
    order = np.argsort(ev["ts"], kind="stable")
    ev = {k: v[order] for k, v in ev.items()}
    n = len(order)
    src, dst, ch, loc = ev["src"], ev["dst"], ev["channel"], ev["loc"]
    cur, amount, amount_usd = convert(w, src, dst, ev["usd"], ch)
    crypto = ch == CH["crypto"]
    sc = np.where(src >= 0, w.acc_cc_arr[src], w.loc_cc_arr[loc])
    dc = np.where(dst >= 0, w.acc_cc_arr[dst], w.loc_cc_arr[loc])
    sc = np.where(crypto, -1, sc)
    dc = np.where(crypto, -1, dc)
    chain = np.where(crypto, w.acc_chain_arr[np.where(src >= 0, src, 0)], -1)
    seq = pl.Series(np.arange(n, dtype=np.int64)).cast(pl.String).str.zfill(8)
    hashes = pl.Series("tx_hash", [None] * n, dtype=pl.String)
    ci = np.flatnonzero(crypto)
    if len(ci):
        hashes = hashes.scatter(ci, tx_hashes(chain[ci], rng))
    cond = ev["cond"]
    cond_s = pl.select(
        pl.lit("P") + pl.lit(_nullable_idx(cond)).cast(pl.String).str.zfill(9)
    ).to_series()
    df = pl.DataFrame(
        {
            "txn_id": pl.select(pl.lit(f"T{day_ord}") + pl.lit(seq)).to_series(),
            "ts": pl.Series(ev["ts"]).cast(pl.Datetime("us", "UTC")),
            "src_account": w.acct_ids.gather(_nullable_idx(src)),
            "dst_account": w.acct_ids.gather(_nullable_idx(dst)),
            "amount": amount,
            "currency": w.cur_series.gather(cur),
            "amount_usd": amount_usd,
            "channel": pl.Series(CHANNELS).gather(ch.astype(np.int64)),
            "txn_type": pl.Series(TXN_TYPES).gather(ev["ttype"].astype(np.int64)),
            "src_country": w.cc_series.gather(_nullable_idx(sc)),
            "dst_country": w.cc_series.gather(_nullable_idx(dc)),
            "location": w.loc_series.gather(_nullable_idx(loc)),
            "conducted_by": cond_s,
            "chain": pl.Series(CHAINS, dtype=pl.String).gather(_nullable_idx(chain)),
            "tx_hash": hashes,
            "memo": w.memo_series.gather(_nullable_idx(ev["memo"])),
        }
    )
    side = {
        "pid": ev["pid"],
        "hn": ev["hn"],
        "hnrole": ev["hnrole"],
        "ts": ev["ts"],
        "usd": amount_usd,
        "cash": ch == CH["cash"],
        "crypto": crypto,
    }
    return df, side


def _lap(msg: str, t0: float) -> None:
    if os.environ.get("NEXUSFIN_GEN_TIMING"):
        print(f"[generate] {time.perf_counter() - t0:7.2f}s {msg}", file=sys.stderr, flush=True)


def generate(
    cfg: WorldConfig, out_dir: str | Path, progress: Callable[[int, int], None] | None = None
) -> dict:
    t_start = time.perf_counter()
    root = DataRoot(out_dir)
    reg = cfg.regulatory or load_regulatory()
    w = World(cfg, reg, np.random.default_rng(np.random.SeedSequence([cfg.seed, 0, 900])))
    prepare(w)
    hn = HardNegatives(w)
    _lap("world", t_start)
    planner = plan_all(w, cfg)
    _lap("planned", t_start)
    w.finalize()
    _lap("finalized", t_start)
    P = _planted_arrays(w, planner)
    labels = _planted_labels(planner)

    # reference tables
    files: list[str] = []
    pool = ThreadPoolExecutor(
        max_workers=1, thread_name_prefix="nexusfin-writer"
    )  # writes overlap generation
    ref_jobs = [pool.submit(_write, root, "accounts", w.accounts_frame())]
    parties = _apply_overrides(w.parties_frame(), planner)
    w.n_parties_written = parties.height
    ref_jobs.append(pool.submit(_write, root, "parties", parties))
    del parties
    files.append(_write(root, "watchlist", _watchlist(planner)))
    files.append(_write(root, "address_tags", _address_tags(w, planner)))

    _lap("reference frames", t_start)
    day_of = (P["ts"] - planner.start_us) // DAY_US
    n_txn, defect_rows, prev_ids = 0, [], []
    tl_contract = contract("truth_transaction_labels")
    hn_ids = pl.Series(hn.ids, dtype=pl.String)
    pending = None
    for di in range(cfg.days):
        day = cfg.start + timedelta(days=di)
        day0 = planner.start_us + di * DAY_US
        rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, di, STREAM_BACKGROUND]))
        b = background_day(w, hn, day, day0, rng)
        m = day_of == di
        if m.any():
            b.parts.append({k: P[k][m] for k in FIELDS})
        ev = b.concat()
        del b
        df, side = build_frame(
            w,
            ev,
            day.strftime("%Y%m%d"),
            np.random.default_rng(np.random.SeedSequence([cfg.seed, di, STREAM_HASH])),
        )
        del ev
        hn.accumulate(side["hn"], side["ts"], side["usd"])
        path = root.transactions_file(day, cfg.fmt)
        eligible = (side["pid"] < 0) & (side["hn"] < 0) & ~side["crypto"]
        patches: dict = {}
        df_out = df
        if cfg.defect_rate > 0:
            drng = np.random.default_rng(np.random.SeedSequence([cfg.seed, di, STREAM_DEFECTS]))
            df_out, truth, patches = D.inject(
                df, eligible, side["cash"], cfg.defect_rate, cfg.fmt, drng, prev_ids, path.name
            )
            defect_rows += truth
            bad = np.array(sorted({t["row_number"] for t in truth}), dtype=np.int64)
            ok = np.flatnonzero(eligible)
            ok = ok[~np.isin(ok, bad)]
            prev_ids = df.get_column("txn_id").gather(ok[:: max(1, len(ok) // 200)]).to_list()
            if not truth:
                df_out = df
        files.append(str(path.relative_to(root.root)))
        n_txn += df.height
        # labels of the day
        ids = df.get_column("txn_id")
        parts = []
        pidx = np.flatnonzero(side["pid"] >= 0)
        if len(pidx):
            mp = pl.DataFrame({"pid": side["pid"][pidx], "txn_id": ids.gather(pidx)})
            parts.append(mp.join(labels, on="pid", how="inner").drop("pid"))
        hidx = np.flatnonzero(side["hn"] >= 0)
        if len(hidx):
            parts.append(
                pl.DataFrame(
                    {
                        "txn_id": ids.gather(hidx),
                        "scenario_id": hn_ids.gather(side["hn"][hidx].astype(np.int64)),
                        "typology": pl.Series(["hard_negative"] * len(hidx), dtype=pl.String),
                        "role": pl.Series(HN_ROLES, dtype=pl.String).gather(
                            side["hnrole"][hidx].astype(np.int64)
                        ),
                        "hop": pl.Series([None] * len(hidx), dtype=pl.Int64),
                        "label": pl.Series(["hard_negative"] * len(hidx), dtype=pl.String),
                    }
                )
            )
        lab = pl.concat(parts, how="vertical_relaxed") if parts else tl_contract.empty()
        lp = root.truth_transaction_labels_file(day)
        files.append(str(lp.relative_to(root.root)))
        if pending is not None:  # at most one day being written while the next is built
            pending.result()
            if progress:
                progress(di, cfg.days)
        pending = pool.submit(
            _write_day,
            df_out,
            path,
            cfg.fmt,
            bool(patches) or df_out is not df,
            patches,
            lab.select(tl_contract.names),
            lp,
        )
        del df, df_out, side, lab, parts
        _lap(f"day {di}", t_start)
    if pending is not None:
        pending.result()
        if progress:
            progress(cfg.days, cfg.days)
    files[:0] = [j.result() for j in ref_jobs]
    pool.shutdown()

    _lap("days written", t_start)
    # truth and SARs
    scen, acct_labels = _truth(w, planner, hn, P, labels)
    files.append(_write(root, "sar_filings", _sars(w, cfg, planner, scen, acct_labels, hn)))
    files.append(_write_truth(root, "truth_scenarios", scen))
    files.append(_write_truth(root, "truth_account_labels", acct_labels.drop("_acct")))
    dfx = (
        pl.DataFrame(defect_rows, schema=contract("truth_defects").polars_schema())
        if defect_rows
        else contract("truth_defects").empty()
    )
    files.append(_write_truth(root, "truth_defects", dfx))

    _lap("truth", t_start)
    report = _report(cfg, w, n_txn, scen, acct_labels, dfx, files, time.perf_counter() - t_start)
    root.manifest.parent.mkdir(parents=True, exist_ok=True)
    root.manifest.write_text(json.dumps(report, indent=2, sort_keys=False))
    return report


# ---------------------------------------------------------------------------------------------
def _write_day(
    df: pl.DataFrame,
    path: Path,
    fmt: str,
    defective: bool,
    patches: dict,
    labels: pl.DataFrame,
    lpath: Path,
) -> None:
    if defective:
        D.write_defective(df, path, fmt, patches)
    else:
        contract("transactions").write(df, path)
    contract("truth_transaction_labels").write(labels, lpath)


def _write(root: DataRoot, table: str, df: pl.DataFrame) -> str:
    p = root.reference_file(table)
    contract(table).write(df, p)
    return str(p.relative_to(root.root))


def _write_truth(root: DataRoot, table: str, df: pl.DataFrame) -> str:
    p = root.truth_file(table)
    contract(table).write(df, p)
    return str(p.relative_to(root.root))


def _planted_arrays(w: World, planner: Planner) -> dict[str, np.ndarray]:
    E = planner.E
    n = len(E["ts"])
    out = {
        k: np.asarray(E[k], dtype=dt) if k in E else np.full(n, -1, dtype=dt)
        for k, dt in FIELDS.items()
    }
    out["pid"] = np.arange(n, dtype=np.int64)
    _cur, _amount, usd = convert(w, out["src"], out["dst"], out["usd"], out["channel"])
    out["amount_usd"] = usd
    return out


def _planted_labels(planner: Planner) -> pl.DataFrame:
    cols = list(zip(*planner.L, strict=True)) if planner.L else [[]] * 6
    return pl.DataFrame(
        {
            "pid": pl.Series(cols[0], dtype=pl.Int64),
            "scenario_id": pl.Series(cols[1], dtype=pl.String),
            "typology": pl.Series(cols[2], dtype=pl.String),
            "role": pl.Series(cols[3], dtype=pl.String),
            "hop": pl.Series(cols[4], dtype=pl.Int64),
            "label": pl.Series(cols[5], dtype=pl.String),
        }
    )


def _apply_overrides(parties: pl.DataFrame, planner: Planner) -> pl.DataFrame:
    if not planner.party_override:
        return parties
    ov = pl.DataFrame(
        {
            "party_id": [f"P{k:09d}" for k in planner.party_override],
            "name_o": [v["name"] for v in planner.party_override.values()],
            "birth_o": [v["birth_date"] for v in planner.party_override.values()],
        },
        schema={"party_id": pl.String, "name_o": pl.String, "birth_o": pl.Date},
    )
    return (
        parties.join(ov, on="party_id", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("name_o", "name").alias("name"),
            pl.coalesce("birth_o", "birth_date").alias("birth_date"),
        )
        .drop("name_o", "birth_o")
    )


def _watchlist(planner: Planner) -> pl.DataFrame:
    rows = [{k: v for k, v in e.items() if not k.startswith("_")} for e in planner.watch]
    return pl.DataFrame(rows, schema=contract("watchlist").polars_schema())


def _address_tags(w: World, planner: Planner) -> pl.DataFrame:
    rows = []
    for (e, c), a in sorted(w.hot_wallet.items()):
        rows.append(
            {
                "address": w.wallet_address(a),
                "chain": c,
                "label": f"{EXCHANGES[e].title()} hot wallet",
                "category": "exchange",
                "entity_id": None,
                "source": "synthetic",
            }
        )
    for _j, a in enumerate(w.trader_cust.tolist()):
        rows.append(
            {
                "address": w.wallet_address(a),
                "chain": CHAINS[w.chain[a]],
                "label": f"{EXCHANGES[w.bank_ex[a]].title()} deposit address",
                "category": "exchange",
                "entity_id": None,
                "source": "synthetic",
            }
        )
    for c in MIXER_CHAINS:
        rows.append(
            {
                "address": w.wallet_address(w.mixer[c]),
                "chain": c,
                "label": f"{c.title()} mixing pool",
                "category": "mixer",
                "entity_id": None,
                "source": "synthetic",
            }
        )
    for c in BRIDGE_CHAINS:
        rows.append(
            {
                "address": w.wallet_address(w.bridge[c]),
                "chain": c,
                "label": f"{c.title()} bridge contract",
                "category": "bridge",
                "entity_id": None,
                "source": "synthetic",
            }
        )
    rows += planner.tags
    _ = EXCHANGE_CHAINS
    return pl.DataFrame(rows, schema=contract("address_tags").polars_schema()).unique(
        ["chain", "address"], keep="first", maintain_order=True
    )


def _truth(w: World, planner: Planner, hn: HardNegatives, P: dict, labels: pl.DataFrame):
    ts = pl.DataFrame({"pid": P["pid"], "ts": P["ts"], "usd": P["amount_usd"]})
    st = (
        labels.join(ts, on="pid")
        .group_by("scenario_id")
        .agg(
            pl.col("ts").min().alias("t0"),
            pl.col("ts").max().alias("t1"),
            pl.len().alias("n_transactions"),
            pl.col("usd").sum().alias("total_usd"),
        )
    )
    al = pl.DataFrame(
        planner.A,
        schema={
            "acct": pl.Int64,
            "scenario_id": pl.String,
            "typology": pl.String,
            "role": pl.String,
            "label": pl.String,
        },
        orient="row",
    )
    al = al.unique(["acct", "scenario_id"], keep="first", maintain_order=True)
    na = al.group_by("scenario_id").agg(pl.len().alias("n_accounts"))
    srows = [
        {
            k: s[k]
            for k in (
                "scenario_id",
                "typology",
                "label",
                "hard_negative_kind",
                "parent_scenario_id",
                "program",
                "params",
            )
        }
        for s in planner.S
    ]
    base = pl.DataFrame(
        srows,
        schema={
            "scenario_id": pl.String,
            "typology": pl.String,
            "label": pl.String,
            "hard_negative_kind": pl.String,
            "parent_scenario_id": pl.String,
            "program": pl.String,
            "params": pl.String,
        },
    )
    start_us = planner.start_us
    scen = (
        base.join(st, on="scenario_id", how="left", maintain_order="left")
        .join(na, on="scenario_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("t0").fill_null(start_us),
            pl.col("t1").fill_null(start_us),
            pl.col("n_transactions").fill_null(0).cast(pl.Int64),
            pl.col("total_usd").fill_null(0.0),
            pl.col("n_accounts").fill_null(0).cast(pl.Int64),
        )
    )
    # hard negatives (one scenario per account or trader group)
    has = hn.n_txn > 0
    hn_df = pl.DataFrame(
        {
            "scenario_id": hn.ids,
            "typology": ["hard_negative"] * len(hn.ids),
            "label": ["hard_negative"] * len(hn.ids),
            "hard_negative_kind": hn.kind,
            "parent_scenario_id": pl.Series([None] * len(hn.ids), dtype=pl.String),
            "program": pl.Series([None] * len(hn.ids), dtype=pl.String),
            "params": [json.dumps({"kind": k, "population": "ordinary book"}) for k in hn.kind],
            "t0": np.where(has, hn.first, start_us),
            "t1": np.where(has, hn.last, start_us),
            "n_transactions": hn.n_txn,
            "total_usd": hn.total,
            "n_accounts": np.array([len(a) for a in hn.accounts], dtype=np.int64),
        }
    )
    scen = pl.concat([scen, hn_df.cast(scen.schema)])
    scen = scen.with_columns(
        pl.col("t0").cast(pl.Datetime("us", "UTC")).alias("start_ts"),
        pl.col("t1").cast(pl.Datetime("us", "UTC")).alias("end_ts"),
    )
    scen = scen.select(contract("truth_scenarios").names)
    hn_acc = [
        (a, hn.ids[i], "hard_negative", "hard_negative", "hard_negative")
        for i, accts in enumerate(hn.accounts)
        for a in accts
    ]
    hn_al = pl.DataFrame(hn_acc, schema=al.schema, orient="row")
    al = pl.concat([al, hn_al])
    acct_labels = al.with_columns(
        w.acct_ids.gather(al.get_column("acct")).alias("account_id")
    ).select(contract("truth_account_labels").names)
    return scen, acct_labels.with_columns(al.get_column("acct").alias("_acct"))


def _sars(
    w: World,
    cfg: WorldConfig,
    planner: Planner,
    scen: pl.DataFrame,
    al: pl.DataFrame,
    hn: HardNegatives,
) -> pl.DataFrame:
    """Historical SARs: a configured share of suspicious subject accounts, plus noise on innocents."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 0, 904]))
    sp = cfg.sar
    subj = (
        al.filter(
            (pl.col("label") == "suspicious") & ~pl.col("role").is_in(["victim", "cuckoo_victim"])
        )
        .join(
            scen.select(
                "scenario_id", "start_ts", "end_ts", "total_usd", "n_accounts", "parent_scenario_id"
            ),
            on="scenario_id",
        )
        .filter(pl.col("parent_scenario_id").is_null())
        .unique("account_id", keep="first", maintain_order=True)
    )
    n_true = round(sp.coverage * subj.height)
    pick = (
        np.sort(rng.choice(subj.height, size=n_true, replace=False))
        if n_true
        else np.array([], dtype=np.int64)
    )
    chosen = subj[pick]
    cat = {
        "structuring": ("structuring", "transactions below CTR threshold"),
        "smurfing": ("structuring", "transactions below CTR threshold"),
        "cuckoo_smurfing": ("structuring", "transactions below CTR threshold"),
        "funnel_account": ("money_laundering", "funnel account"),
        "ransom_collection": ("fraud", "extortion"),
        "trade_based": ("money_laundering", "trade-based money laundering"),
        "convergence": (
            "terrorist_financing",
            "known or suspected terrorist/terrorist organization",
        ),
        "facilitator_network": (
            "terrorist_financing",
            "known or suspected terrorist/terrorist organization",
        ),
    }
    rows = []
    sub_rows = chosen.to_dicts()
    for r in sub_rows:
        c, s = cat.get(
            r["typology"],
            (
                "money_laundering",
                "suspicious use of multiple accounts"
                if "crypto" not in r["typology"]
                else "suspicious use of virtual currency",
            ),
        )
        if r["typology"] == "facilitator_network" and "SDNTK" in (
            scen.filter(pl.col("scenario_id") == r["scenario_id"]).get_column("program")[0] or ""
        ):
            c, s = "money_laundering", "transactions with sanctioned narcotics trafficker"
        a0, a1 = r["start_ts"].date(), r["end_ts"].date()
        rows.append(
            {
                "account_id": r["account_id"],
                "party_id": f"P{w.owner_of(r['_acct']):09d}",
                "filing_date": a1
                + timedelta(days=int(rng.integers(sp.delay_days[0], sp.delay_days[1] + 1))),
                "activity_start": a0,
                "activity_end": a1,
                "category": c,
                "subcategory": s,
                "amount_usd": round(
                    float(r["total_usd"]) / max(1, r["n_accounts"]) * float(rng.uniform(0.6, 1.0)),
                    2,
                ),
            }
        )
    n_noise = round(len(rows) * sp.noise / (1 - sp.noise)) if sp.noise < 1 else 0
    hn_accts = [a[0] for a in hn.accounts]
    free = w.pool_free[w.pool_pos :]
    for _ in range(n_noise):
        if rng.random() < sp.noise_on_hard_negative and hn_accts:
            a = int(hn_accts[int(rng.integers(len(hn_accts)))])
            c, s = (
                ("structuring", "transactions below CTR threshold")
                if rng.random() < 0.6
                else ("money_laundering", "unusual pass-through activity")
            )
        else:
            a = int(free[int(rng.integers(len(free)))])
            c, s = (
                ("other", "unusual cash activity")
                if rng.random() < 0.5
                else ("fraud", "account takeover suspected")
            )
        d0 = cfg.start + timedelta(days=int(rng.integers(0, cfg.days)))
        d1 = min(
            d0 + timedelta(days=int(rng.integers(0, 5))), cfg.start + timedelta(days=cfg.days - 1)
        )
        rows.append(
            {
                "account_id": w.account_id(a),
                "party_id": f"P{w.owner_of(a):09d}",
                "filing_date": d1
                + timedelta(days=int(rng.integers(sp.delay_days[0], sp.delay_days[1] + 1))),
                "activity_start": d0,
                "activity_end": d1,
                "category": c,
                "subcategory": s,
                "amount_usd": round(float(rng.uniform(3000, 60000)), 2),
            }
        )
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    for i, r in enumerate(rows):
        r["sar_id"] = f"SAR-{cfg.start.year}-{i:06d}"
    return (
        pl.DataFrame(rows, schema=contract("sar_filings").polars_schema())
        if rows
        else contract("sar_filings").empty()
    )


def _report(
    cfg, w: World, n_txn, scen: pl.DataFrame, al: pl.DataFrame, dfx: pl.DataFrame, files, secs
) -> dict:
    typ = {}
    for t in TYPOLOGIES:
        s = scen.filter(pl.col("typology") == t)
        typ[t] = {
            "scenarios": s.height,
            "accounts": al.filter(pl.col("typology") == t).get_column("account_id").n_unique(),
            "transactions": int(s.get_column("n_transactions").sum()),
        }
    hneg = {}
    hs = scen.filter(pl.col("label") == "hard_negative")
    for k in [*HARD_NEGATIVE_KINDS, None]:
        s = hs.filter(
            pl.col("hard_negative_kind").is_null()
            if k is None
            else pl.col("hard_negative_kind") == k
        )
        ids = s.get_column("scenario_id")
        hneg[k or "namesake"] = {
            "scenarios": s.height,
            "accounts": al.filter(pl.col("scenario_id").is_in(ids.implode()))
            .get_column("account_id")
            .n_unique(),
            "transactions": int(s.get_column("n_transactions").sum()),
        }
    defects = (
        {} if dfx.height == 0 else dict(dfx.group_by("defect").len().sort("defect").iter_rows())
    )
    return {
        "n_transactions": int(n_txn),
        "n_accounts": int(w.n_accounts),
        "n_parties": int(w.n_parties_written),
        "days": cfg.days,
        "start": cfg.start.isoformat(),
        "end": (cfg.start + timedelta(days=cfg.days - 1)).isoformat(),
        "files": files,
        "typologies": typ,
        "hard_negatives": hneg,
        "defects": {k: int(v) for k, v in defects.items()},
        "n_defects": int(dfx.height),
        "seconds": round(secs, 3),
        "config": cfg.to_dict(),
    }
