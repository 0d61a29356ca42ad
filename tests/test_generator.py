"""Synthetic generator: determinism, contracts, exact labels, SAR noise, defects, formats, params."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from nexusfin.contracts import contract, fx_usd_per_unit, vocabulary
from nexusfin.layout import REFERENCE_TABLES, DataRoot
from nexusfin.settings import load_regulatory
from synthetic import HARD_NEGATIVE_KINDS, TYPOLOGIES, WorldConfig, generate
from synthetic.config import ChainParams, StructuringParams, TypologyParams

REG = load_regulatory()
START = date(2026, 1, 5)


def _gen(tmp_path_factory, name: str, **kw) -> tuple[DataRoot, dict, WorldConfig]:
    cfg = WorldConfig(**{"seed": 11, "n_accounts": 3000, "days": 14, "start": START, **kw})
    out = tmp_path_factory.mktemp(name)
    return DataRoot(out), generate(cfg, out), cfg


def _landing(root: DataRoot) -> pl.DataFrame:
    c = contract("transactions")
    return pl.concat(
        [
            c.read(p).with_columns(pl.lit(d).alias("_day"), pl.lit(p.name).alias("_file"))
            for d, p in sorted(root.landing_days().items())
        ]
    )


def _tx_labels(root: DataRoot) -> pl.DataFrame:
    c = contract("truth_transaction_labels")
    return pl.concat(
        [c.read(p) for p in sorted((root.truth / "transaction_labels").glob("*.parquet"))]
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root, report, cfg = _gen(tmp_path_factory, "world")
    tables = {t: contract(t).read(root.reference_file(t)) for t in REFERENCE_TABLES}
    for t in ("truth_scenarios", "truth_account_labels", "truth_defects"):
        tables[t] = contract(t).read(root.truth_file(t))
    tables["transactions"] = _landing(root)
    tables["truth_transaction_labels"] = _tx_labels(root)
    return root, report, cfg, tables


def _digest(root: DataRoot) -> dict[str, str]:
    files = sorted(p for p in root.root.rglob("*") if p.is_file() and p.name != "manifest.json")
    return {
        str(p.relative_to(root.root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


# -- determinism ------------------------------------------------------------------------------------
def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path_factory):
    a, _, _ = _gen(tmp_path_factory, "det_a", n_accounts=1200, days=4)
    b, _, _ = _gen(tmp_path_factory, "det_b", n_accounts=1200, days=4)
    c, _, _ = _gen(tmp_path_factory, "det_c", n_accounts=1200, days=4, seed=12)
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert da == db
    tx = [k for k in da if k.startswith("landing/transactions/")]
    assert len(tx) == 4
    assert all(da[k] != dc[k] for k in tx)


def test_progress_and_report(tmp_path_factory):
    calls = []
    out = tmp_path_factory.mktemp("progress")
    rep = generate(
        WorldConfig(seed=2, n_accounts=800, days=3), out, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (3, 3) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    manifest = json.loads(DataRoot(out).manifest.read_text())
    assert manifest["n_transactions"] == rep["n_transactions"] > 0
    assert manifest["config"]["seed"] == 2 and manifest["config"]["start"] == "2026-01-05"
    json.dumps(rep)


# -- contracts and business rules ---------------------------------------------------------------------
def test_every_table_validates(world):
    _, _, _, t = world
    for name, df in t.items():
        if name in ("transactions",):
            df = df.drop("_day", "_file")
        assert contract(name).violations(df) == {}, name


def test_transaction_rules(world):
    _root, report, _cfg, t = world
    tx, acc = t["transactions"], t["accounts"]
    assert tx.height == report["n_transactions"]
    assert tx.get_column("txn_id").is_unique().all()
    # ts inside the file's day and sorted within each file
    assert (tx.get_column("ts").dt.date() == tx.get_column("_day")).all()
    for _, g in tx.group_by("_file"):
        assert g.get_column("ts").is_sorted()
    # cash sides and locations
    cash = tx.filter(pl.col("channel") == "cash")
    assert cash.filter(pl.col("location").is_null()).height == 0
    assert (
        cash.filter((pl.col("txn_type") == "deposit") & pl.col("src_account").is_not_null()).height
        == 0
    )
    assert (
        cash.filter(
            (pl.col("txn_type") == "withdrawal") & pl.col("dst_account").is_not_null()
        ).height
        == 0
    )
    assert set(cash.get_column("txn_type").unique()) <= {"deposit", "withdrawal"}
    noncash = tx.filter(pl.col("channel") != "cash")
    assert (
        noncash.filter(pl.col("src_account").is_null() | pl.col("dst_account").is_null()).height
        == 0
    )
    assert (
        tx.filter(pl.col("channel") != "cash").filter(pl.col("location").is_not_null()).height == 0
    )
    # accounts resolve, conductors resolve
    ids = set(acc.get_column("account_id"))
    used = set(tx.get_column("src_account").drop_nulls()) | set(
        tx.get_column("dst_account").drop_nulls()
    )
    assert used <= ids
    assert set(tx.get_column("conducted_by").drop_nulls()) <= set(
        t["parties"].get_column("party_id")
    )
    assert set(acc.get_column("owner_party_id")) <= set(t["parties"].get_column("party_id"))
    # crypto rows: chain + hash, both wallets on that chain, currency = chain asset
    cr = tx.filter(pl.col("channel") == "crypto")
    assert (
        cr.height > 0
        and cr.filter(pl.col("chain").is_null() | pl.col("tx_hash").is_null()).height == 0
    )
    w = acc.select("account_id", "account_type", pl.col("chain").alias("wchain"))
    for side in ("src_account", "dst_account"):
        j = cr.join(w, left_on=side, right_on="account_id", how="left")
        assert (j.get_column("account_type") == "wallet").all()
        assert (j.get_column("wchain") == j.get_column("chain")).all()
    assert tx.filter((pl.col("channel") != "crypto") & pl.col("chain").is_not_null()).height == 0
    # amount_usd = amount x reference rate
    fx = pl.DataFrame(
        {"currency": list(fx_usd_per_unit()), "rate": list(fx_usd_per_unit().values())}
    )
    j = tx.join(fx, on="currency", how="left")
    assert j.get_column("rate").null_count() == 0
    assert np.allclose(
        j.get_column("amount_usd").to_numpy(), (j["amount"] * j["rate"]).to_numpy(), rtol=1e-9
    )
    # wallets: chain + address; bank accounts neither
    wal = acc.filter(pl.col("account_type") == "wallet")
    assert wal.filter(pl.col("chain").is_null() | pl.col("address").is_null()).height == 0
    assert (
        acc.filter((pl.col("account_type") != "wallet") & pl.col("chain").is_not_null()).height == 0
    )
    # background realism: the book has the usual rails
    types = set(tx.get_column("txn_type").unique())
    assert {
        "payroll",
        "purchase",
        "payment",
        "remittance",
        "deposit",
        "withdrawal",
        "exchange_buy",
        "exchange_sell",
    } <= types
    rem = tx.filter(pl.col("txn_type") == "remittance")
    assert {"MX", "GT", "HN", "SV"} <= set(rem.get_column("dst_country").drop_nulls())


# -- labels -------------------------------------------------------------------------------------------
def test_every_typology_and_hard_negative_kind_is_labeled(world):
    _, report, _, t = world
    sc, al, tl = t["truth_scenarios"], t["truth_account_labels"], t["truth_transaction_labels"]
    for typ in TYPOLOGIES:
        ids = sc.filter(pl.col("typology") == typ).get_column("scenario_id")
        assert ids.len() >= 3, typ
        assert al.filter(pl.col("scenario_id").is_in(ids.implode())).height > 0, typ
        assert tl.filter(pl.col("scenario_id").is_in(ids.implode())).height > 0, typ
        assert report["typologies"][typ]["transactions"] > 0
    hn = sc.filter(pl.col("label") == "hard_negative")
    for kind in HARD_NEGATIVE_KINDS:
        ids = hn.filter(pl.col("hard_negative_kind") == kind).get_column("scenario_id")
        assert ids.len() >= 3, kind
        assert (
            al.filter(
                pl.col("scenario_id").is_in(ids.implode()) & (pl.col("label") == "hard_negative")
            ).height
            >= 3
        )
        assert (
            tl.filter(
                pl.col("scenario_id").is_in(ids.implode()) & (pl.col("label") == "hard_negative")
            ).height
            > 0
        ), kind
    namesakes = hn.filter(pl.col("hard_negative_kind").is_null())
    assert namesakes.height >= 1
    assert (
        al.filter(pl.col("scenario_id").is_in(namesakes.get_column("scenario_id").implode())).height
        >= 1
    )


def test_labels_are_consistent(world):
    _, _, _, t = world
    tx, sc, al, tl = (
        t["transactions"],
        t["truth_scenarios"],
        t["truth_account_labels"],
        t["truth_transaction_labels"],
    )
    assert set(tl.get_column("txn_id")) <= set(tx.get_column("txn_id"))
    assert set(al.get_column("account_id")) <= set(t["accounts"].get_column("account_id"))
    assert set(tl.get_column("scenario_id")) <= set(sc.get_column("scenario_id"))
    assert set(al.get_column("scenario_id")) <= set(sc.get_column("scenario_id"))
    # denormalised typology and label agree with the scenario
    j = tl.join(
        sc.select("scenario_id", pl.col("typology").alias("t2"), pl.col("label").alias("l2")),
        on="scenario_id",
    )
    assert (j["typology"] == j["t2"]).all() and (j["label"] == j["l2"]).all()
    # scenario statistics match the labels
    st = (
        tl.join(tx.select("txn_id", "ts", "amount_usd"), on="txn_id")
        .group_by("scenario_id")
        .agg(
            pl.len().alias("n"),
            pl.col("amount_usd").sum().alias("usd"),
            pl.col("ts").min().alias("t0"),
            pl.col("ts").max().alias("t1"),
        )
    )
    j = sc.join(st, on="scenario_id", how="left").with_columns(pl.col("n").fill_null(0))
    assert (j["n"] == j["n_transactions"]).all()
    k = j.filter(pl.col("n") > 0)
    assert np.allclose(k["usd"].to_numpy(), k["total_usd"].to_numpy(), rtol=1e-9)
    assert (k["t0"] == k["start_ts"]).all() and (k["t1"] == k["end_ts"]).all()
    na = al.group_by("scenario_id").agg(pl.len().alias("na"))
    j = sc.join(na, on="scenario_id", how="left").with_columns(pl.col("na").fill_null(0))
    assert (j["na"] == j["n_accounts"]).all()
    # children of convergence point at a convergence scenario and carry its labels too
    kids = sc.filter(pl.col("parent_scenario_id").is_not_null())
    assert kids.height >= 6
    parents = sc.filter(pl.col("typology") == "convergence")
    assert set(kids.get_column("parent_scenario_id")) <= set(parents.get_column("scenario_id"))
    assert set(kids.get_column("typology")) <= {"structuring", "funnel_account", "crypto_cash_out"}
    for kid in kids.iter_rows(named=True):
        kt = set(tl.filter(pl.col("scenario_id") == kid["scenario_id"]).get_column("txn_id"))
        pt = set(tl.filter(pl.col("scenario_id") == kid["parent_scenario_id"]).get_column("txn_id"))
        assert kt and kt <= pt
    assert set(parents.get_column("program")) <= {"SDGT", "FTO"}
    # planted transactions never double as hard negatives
    sus = set(tl.filter(pl.col("label") == "suspicious").get_column("txn_id"))
    assert not sus & set(tl.filter(pl.col("label") == "hard_negative").get_column("txn_id"))


def test_structuring_semantics(world):
    _, _, _cfg, t = world
    tx, _sc, tl, acc = (
        t["transactions"],
        t["truth_scenarios"],
        t["truth_transaction_labels"],
        t["accounts"],
    )
    dep = tl.filter(
        (pl.col("typology") == "structuring") & (pl.col("role") == "structured_deposit")
    ).join(tx, on="txn_id")
    assert dep.height > 0
    assert (dep["channel"] == "cash").all() and (dep["txn_type"] == "deposit").all()
    assert (dep["amount_usd"] <= REG.ctr_threshold_usd).all()
    assert (dep["amount_usd"] >= REG.structuring_band_low_usd).all()
    assert dep["src_account"].null_count() == dep.height
    owners = acc.select("account_id", "owner_party_id", "bank_id")
    j = dep.join(owners, left_on="dst_account", right_on="account_id")
    for _sid, g in j.group_by("scenario_id"):
        assert g["amount_usd"].sum() > REG.ctr_threshold_usd
        assert (
            g["conducted_by"].n_unique() == 1 and (g["conducted_by"] == g["owner_party_id"]).all()
        )
        assert g["location"].n_unique() >= 2
    # one person, several own accounts at different banks
    al = (
        t["truth_account_labels"]
        .filter(pl.col("role") == "structurer")
        .join(owners, on="account_id")
    )
    for _, g in al.group_by("scenario_id"):
        assert g["owner_party_id"].n_unique() == 1 and g["bank_id"].n_unique() == g.height >= 2
    # hard-negative cash businesses: just-under deposits are below the threshold
    hn = tl.filter(pl.col("role") == "just_under_cash_deposit").join(tx, on="txn_id")
    assert (
        hn.height > 0
        and (hn["amount_usd"] < REG.ctr_threshold_usd).all()
        and (hn["channel"] == "cash").all()
    )


def test_other_typology_semantics(world):
    _, _, _, t = world
    tx, tl, acc, sc = (
        t["transactions"],
        t["truth_transaction_labels"],
        t["accounts"],
        t["truth_scenarios"],
    )
    lab = tl.join(tx, on="txn_id")
    area = pl.col("location").str.extract(r"^([A-Z]{2}-[A-Z0-9]{1,3}-[A-Z0-9]+):", 1)
    border = set(REG.border_locations)
    for _, g in lab.filter(pl.col("typology") == "funnel_account").group_by("scenario_id"):
        deps = g.filter(pl.col("role") == "funnel_deposit").with_columns(area.alias("area"))
        assert deps["area"].n_unique() >= 2 and not set(deps["area"]) & border
        outs = g.filter(
            pl.col("role").is_in(["funnel_withdrawal", "funnel_wire_out"])
        ).with_columns(area.alias("area"))
        assert outs.height >= 1
        assert outs["ts"].min() > deps["ts"].min()
        for r in outs.iter_rows(named=True):
            assert r["area"] in border or r["dst_country"] == "MX" or r["role"] == "funnel_wire_out"
    # layering chains: each hop forwards 85-100% of the previous one
    lp = pl.concat(
        [
            lab.filter(pl.col("typology") == "layering_chain"),
            lab.filter(pl.col("typology") == "rapid_movement"),
        ]
    )
    for _, g in lp.group_by("scenario_id"):
        g = g.sort("hop")
        assert g["hop"].to_list() == list(range(g.height))
        r = (g["amount_usd"][1:] / g["amount_usd"][:-1]).to_numpy()
        assert ((r > 0.84) & (r <= 1.0001)).all()
        assert (g["dst_account"][:-1] == g["src_account"][1:]).all()
    # cycles return to the origin
    for _, g in lab.filter(pl.col("typology") == "cycle").group_by("scenario_id"):
        g = g.sort("hop")
        assert g["dst_account"][-1] == g["src_account"][0]
    # peel chains: each hop peels a small part and moves the remainder on
    for _, g in lab.filter(pl.col("typology") == "crypto_peel_chain").group_by("scenario_id"):
        peels, rem = (
            g.filter(pl.col("role") == "peel").sort("hop"),
            g.filter(pl.col("role") == "remainder").sort("hop"),
        )
        assert 3 <= peels.height <= 10 and (peels["amount_usd"] < rem["amount_usd"]).all()
    # mixers and bridges touch tagged addresses
    tags = t["address_tags"]
    addr = acc.select("account_id", "address").join(
        tags.select("address", "category"), on="address"
    )
    mixers = set(addr.filter(pl.col("category") == "mixer")["account_id"])
    bridges = set(addr.filter(pl.col("category") == "bridge")["account_id"])
    mx = lab.filter(pl.col("typology") == "crypto_mixer")
    assert set(mx.filter(pl.col("role") == "mixer_deposit")["dst_account"]) <= mixers
    ch = lab.filter(pl.col("typology") == "crypto_chain_hop")
    assert set(ch.filter(pl.col("role") == "bridge_in")["dst_account"]) <= bridges
    for _, g in ch.group_by("scenario_id"):
        assert g["chain"].n_unique() >= 2
    # trade-based: a recently incorporated import/export or trading company
    parties = t["parties"]
    fronts = (
        t["truth_account_labels"]
        .filter(pl.col("role") == "front_company")
        .join(acc, on="account_id")
        .join(parties, left_on="owner_party_id", right_on="party_id")
    )
    assert fronts.height >= 3
    assert set(fronts["business_type"]) <= {"import_export", "trading_company"}
    assert (fronts["incorporation_date"] > START - timedelta(days=200)).all()
    # convergence: money reaches an account or wallet owned by a terror-designated facilitator
    for sid in sc.filter(pl.col("typology") == "convergence")["scenario_id"]:
        g = lab.filter((pl.col("scenario_id") == sid) & (pl.col("role") == "to_facilitator"))
        fac = set(
            t["truth_account_labels"].filter(
                (pl.col("scenario_id") == sid)
                & pl.col("role").is_in(["facilitator", "facilitator_owned"])
            )["account_id"]
        )
        assert g.height == 1 and g["dst_account"][0] in fac


def test_watchlist_and_tags(world):
    _, _, _, t = world
    wl, tags, parties, acc, al = (
        t["watchlist"],
        t["address_tags"],
        t["parties"],
        t["accounts"],
        t["truth_account_labels"],
    )
    progs = set(wl["programs"].explode())
    assert {"SDNTK", "SDGT", "FTO"} <= progs
    assert (wl["aliases"].list.len() > 0).all()
    assert any("," in a for a in wl["aliases"].explode().drop_nulls())  # "LAST, First" word order
    assert {"exchange", "mixer", "bridge", "sanctioned"} <= set(tags["category"])
    sanc = tags.filter(pl.col("category") == "sanctioned")
    assert set(sanc["entity_id"]) <= set(wl["entity_id"])
    assert set(sanc["address"]) <= set(wl["crypto_wallets"].explode().drop_nulls())
    # facilitator-owned accounts belong to parties named with a variant (not always exact)
    fac = (
        al.filter(pl.col("role") == "facilitator_owned")
        .join(acc, on="account_id")
        .join(parties, left_on="owner_party_id", right_on="party_id")
    )
    listed = {n.upper() for n in wl["name"]}
    assert fac.height >= 3
    assert any(n.upper() not in listed for n in fac["name"])
    # linked by identifier: shares a phone, address or id number with a listed entity
    owners = acc.select("account_id", "owner_party_id")
    linked = (
        al.filter(pl.col("role") == "linked_by_identifier")
        .join(owners, on="account_id")
        .join(parties, left_on="owner_party_id", right_on="party_id")
    )
    ident = (
        set(wl["phones"].explode().drop_nulls())
        | set(wl["addresses"].explode().drop_nulls())
        | set(wl["id_numbers"].explode().drop_nulls())
    )
    assert linked.height >= 3
    for r in linked.iter_rows(named=True):
        assert {r["phone"], r["address"], r["id_number"]} & ident
    # some listed entries have no accounts in the bank
    assert wl.height > al.filter(pl.col("role") == "facilitator_owned").height


def test_sar_filings_incomplete_and_noisy(world):
    _, _, cfg, t = world
    sar, al, sc = t["sar_filings"], t["truth_account_labels"], t["truth_scenarios"]
    top = sc.filter(pl.col("parent_scenario_id").is_null())["scenario_id"]
    subjects = set(
        al.filter(
            (pl.col("label") == "suspicious")
            & ~pl.col("role").is_in(["victim", "cuckoo_victim"])
            & pl.col("scenario_id").is_in(top.implode())
        )["account_id"]
    )
    suspicious = set(al.filter(pl.col("label") == "suspicious")["account_id"])
    filed = sar["account_id"].to_list()
    true_f = [a for a in filed if a in subjects]
    noise = [a for a in filed if a not in suspicious]
    assert len(true_f) + len(noise) == len(filed)
    assert abs(len(true_f) / len(subjects) - cfg.sar.coverage) < 0.03
    assert abs(len(noise) / len(filed) - cfg.sar.noise) < 0.03
    hn = set(al.filter(pl.col("label") == "hard_negative")["account_id"])
    assert sum(a in hn for a in noise) >= len(noise) // 3
    assert (sar["filing_date"] > sar["activity_end"]).all()
    assert (sar["activity_end"] >= sar["activity_start"]).all()
    assert {"structuring", "money_laundering", "terrorist_financing"} <= set(sar["category"])


# -- defects ------------------------------------------------------------------------------------------
def _row_defects(
    raw: pl.DataFrame, day: date, accounts: set[str], seen: set[str], world_end: date, text: bool
) -> list[set[str]]:
    """Independent re-check of one landing file, row by row: which defect kinds does each row show?"""
    cur = vocabulary("iso4217") | vocabulary("crypto_assets")
    cc = vocabulary("iso3166_alpha2")
    chans = set(contract("transactions").column("channel").allowed)
    req = contract("transactions").required
    out = []
    future = datetime.combine(world_end + timedelta(days=30), datetime.min.time(), tzinfo=UTC)
    for r in raw.iter_rows(named=True):
        k = set()
        vals = dict(r)
        if text:
            for col in ("amount", "amount_usd"):
                v = vals[col]
                if v is not None:
                    try:
                        vals[col] = float(v)
                    except ValueError:
                        k.add("bad_type")
                        vals[col] = 1.0
            vals["ts"] = (
                None
                if vals["ts"] is None
                else datetime.fromisoformat(vals["ts"].replace("Z", "+00:00"))
            )
        if any(vals[c] is None for c in req):
            k.add("missing_required")
        if vals["currency"] is not None and vals["currency"] not in cur:
            k.add("unknown_currency")
        if vals["amount"] is not None and vals["amount"] < 0:
            k.add("negative_amount")
        if vals["amount"] is not None and vals["amount"] == 0:
            k.add("zero_amount")
        if vals["amount_usd"] is not None and vals["amount_usd"] > 1e9:
            k.add("absurd_amount")
        if vals["txn_id"] in seen:
            k.add("duplicate_txn_id")
        seen.add(vals["txn_id"])
        if any(
            vals[c] is not None and vals[c] not in accounts for c in ("src_account", "dst_account")
        ):
            k.add("orphan_account")
        if vals["ts"] is not None:
            if vals["ts"] > future:
                k.add("future_timestamp")
            elif vals["ts"].date() != day:
                k.add("ts_outside_day")
        if vals["channel"] == "cash" and vals["location"] is None:
            k.add("cash_without_location")
        if any(vals[c] is not None and vals[c] not in cc for c in ("src_country", "dst_country")):
            k.add("bad_country")
        if vals["channel"] is not None and vals["channel"] not in chans:
            k.add("bad_channel")
        out.append(k)
    return out


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_defects_point_at_exactly_the_broken_rows(tmp_path_factory, fmt):
    root, report, cfg = _gen(
        tmp_path_factory, f"defects_{fmt}", n_accounts=1500, days=5, fmt=fmt, defect_rate=0.01
    )
    truth = contract("truth_defects").read(root.truth_file("truth_defects"))
    accounts = set(contract("accounts").read(root.reference_file("accounts"))["account_id"])
    kinds = set(contract("truth_defects").column("defect").allowed)
    if fmt == "parquet":
        kinds.discard("bad_type")
    assert set(truth["defect"]) == kinds
    expected = {(r["file"], r["row_number"], r["defect"]) for r in truth.iter_rows(named=True)}
    found, seen, n_rows = set(), set(), 0
    end = START + timedelta(days=cfg.days - 1)
    for day, p in sorted(root.landing_days().items()):
        if fmt == "parquet":
            raw = pl.read_parquet(p)
        elif fmt == "csv":
            raw = pl.read_csv(p, infer_schema=False)
        else:
            raw = pl.read_ndjson(p, infer_schema_length=None).with_columns(
                pl.col("amount", "amount_usd").cast(pl.String)
            )
            raw = raw.with_columns(pl.col(c).cast(pl.String) for c in ("amount", "amount_usd"))
        n_rows += raw.height
        for i, ks in enumerate(_row_defects(raw, day, accounts, seen, end, text=fmt != "parquet")):
            found |= {(p.name, i, k) for k in ks}
    assert found == expected
    assert 0.5 * cfg.defect_rate * n_rows <= truth.height <= 2 * cfg.defect_rate * n_rows
    assert report["n_defects"] == truth.height
    # defects never sit on labeled rows
    labels = set(_tx_labels(root)["txn_id"])
    assert not labels & set(truth.filter(pl.col("defect") != "duplicate_txn_id")["txn_id"])
    # and both kinds of duplicates exist: inside a file and across files
    dup = truth.filter(pl.col("defect") == "duplicate_txn_id")
    same_day = [
        r["txn_id"][1:9] == r["file"][13:23].replace("-", "") for r in dup.iter_rows(named=True)
    ]
    assert any(same_day) and not all(same_day)


# -- formats ------------------------------------------------------------------------------------------
def test_csv_and_jsonl_read_back_like_parquet(tmp_path_factory):
    roots = {
        f: _gen(tmp_path_factory, f"fmt_{f}", n_accounts=1000, days=3, fmt=f)[0]
        for f in ("parquet", "csv", "jsonl")
    }
    c = contract("transactions")
    for day, p in roots["parquet"].landing_days().items():
        ref = c.read(p)
        for f in ("csv", "jsonl"):
            assert_frame_equal(c.read(roots[f].transactions_file(day, f)), ref)


# -- parameters ---------------------------------------------------------------------------------------
def test_typology_params_change_the_world(tmp_path_factory):
    tp = TypologyParams(
        structuring=StructuringParams(band_usd=(5000.0, 7000.0)),
        layering_chain=ChainParams(hops=(6, 6)),
    )
    counts = {t: 0 for t in TYPOLOGIES} | {"structuring": 4, "layering_chain": 4}
    root, rep, _ = _gen(
        tmp_path_factory,
        "params",
        n_accounts=1500,
        days=10,
        typology_params=tp,
        typology_counts=counts,
    )
    tl, tx = _tx_labels(root), _landing(root)
    lab = tl.join(tx, on="txn_id")
    dep = lab.filter(pl.col("role") == "structured_deposit")
    assert dep.height > 0 and dep["amount_usd"].min() >= 5000 and dep["amount_usd"].max() <= 7000
    for _, g in dep.group_by("scenario_id"):
        assert g["amount_usd"].sum() > REG.ctr_threshold_usd
    hops = lab.filter(pl.col("typology") == "layering_chain").group_by("scenario_id").len()
    assert hops.height == 4 and (hops["len"] == 7).all()
    assert rep["typologies"]["fan_in"]["scenarios"] == 0
    # the regulatory configuration drives the default band
    reg = dataclasses.replace(REG, ctr_threshold_usd=5000.0, structuring_band_low_usd=4000.0)
    root2, _, _ = _gen(
        tmp_path_factory,
        "reg",
        n_accounts=1500,
        days=6,
        regulatory=reg,
        typology_counts={t: 0 for t in TYPOLOGIES} | {"structuring": 3},
    )
    dep2 = (
        _tx_labels(root2)
        .filter(pl.col("role") == "structured_deposit")
        .join(_landing(root2), on="txn_id")
    )
    assert dep2["amount_usd"].min() >= 4000 and dep2["amount_usd"].max() < 5000
