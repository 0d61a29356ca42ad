"""The AMLworld evaluation path end to end: AMLworld-format files -> nexusfin import -> nexusfin
evaluate --protocol amlworld (temporal 60/20/20, minority-class F1, per-pattern recall, JSON).

The fixture tests/fixtures/public/amlworld-synth/ is AMLworld-STYLE synthetic data written by
``python -m synthetic.amlworld`` (see its README.md); a test checks that the generator still
writes exactly these bytes. Also here: the generator's layout and parameters, and that features
never see labels, txn ids or rows beyond what the protocol allows.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from nexusfin.cli import app
from nexusfin.importers.amlworld import CURRENCIES, FORMATS, PATTERN_TYPES, TRANS_HEADER
from nexusfin.txnmodel import build_features, load, temporal_split, visibility
from nexusfin.txnmodel.features import FeatureConfig
from synthetic.amlworld import AmlworldConfig, generate

FIX = Path(__file__).parent / "fixtures" / "public" / "amlworld-synth"
NAME = "HI-Synth-Tiny"
FIXTURE_CONFIG = AmlworldConfig(n_transactions=6000, seed=11, name=NAME, laundering_rate=0.03, days=10)
FILES = (f"{NAME}_Trans.csv", f"{NAME}_accounts.csv", f"{NAME}_Patterns.txt")
ROOT = Path(__file__).resolve().parent.parent
TS = re.compile(r"^2022/\d\d/\d\d \d\d:\d\d$")
runner = CliRunner()


def _env() -> dict[str, str]:
    return {**os.environ, "TZ": "UTC", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("aw") / "root"
    res = runner.invoke(app, ["import", "--format", "amlworld", str(FIX), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def table(data_root):
    return load(data_root)


# -- the generator ---------------------------------------------------------------------------------
def test_fixture_is_what_the_generator_writes(tmp_path):
    summary = generate(FIXTURE_CONFIG, tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (FIX / name).read_bytes(), \
            f"{name} differs from the generator's output: regenerate the fixture (see its README.md)"
    assert summary["rows"] == len(read_trans(FIX / FILES[0]))


def read_trans(path: Path) -> list[list[str]]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == TRANS_HEADER
    return rows[1:]


def test_files_follow_the_amlworld_layouts():
    trans = read_trans(FIX / FILES[0])
    words = {w.lower() for w in CURRENCIES}
    assert all(len(r) == 11 for r in trans)
    assert all(TS.match(r[0]) for r in trans)
    assert [r[0] for r in trans] == sorted(r[0] for r in trans)  # in time order
    assert all(r[6].lower() in words and r[8].lower() in words for r in trans)
    assert {r[9].lower() for r in trans} == set(FORMATS)  # all seven payment formats occur
    assert {r[10] for r in trans} == {"0", "1"}
    assert any(r[1].startswith("0") for r in trans)  # zero-padded bank ids in the transactions file
    assert all(re.fullmatch(r"[0-9A-F]{9}", r[2]) and re.fullmatch(r"[0-9A-F]{9}", r[4]) for r in trans)
    assert all(re.fullmatch(r"\d+\.\d{2}", r[5]) or (r[6] == "Bitcoin" and re.fullmatch(r"\d+\.\d{6}", r[5]))
               for r in trans)
    with open(FIX / FILES[1], newline="") as fh:
        acc = list(csv.reader(fh))
    assert acc[0] == ["Bank Name", "Bank ID", "Account Number", "Entity ID", "Entity Name"]
    assert all(not r[1].startswith("0") for r in acc[1:])  # not padded in the accounts file
    known = {(int(r[1]), r[2]) for r in acc[1:]}
    assert all((int(r[1]), r[2]) in known and (int(r[3]), r[4]) in known for r in trans)
    # pattern blocks: BEGIN/END pairs of the eight types, rows verbatim from the transactions file
    lines = (FIX / FILES[2]).read_text().splitlines()
    laundering = Counter(",".join(r) for r in trans if r[10] == "1")
    open_type, n_blocks, in_blocks = None, 0, Counter()
    for line in lines:
        if line.startswith("BEGIN LAUNDERING ATTEMPT - "):
            assert open_type is None
            open_type = line.removeprefix("BEGIN LAUNDERING ATTEMPT - ").split(":")[0]
            assert open_type in PATTERN_TYPES
        elif line.startswith("END LAUNDERING ATTEMPT - "):
            assert line == f"END LAUNDERING ATTEMPT - {open_type}"
            open_type, n_blocks = None, n_blocks + 1
        elif line:
            assert open_type is not None and line.endswith(",1")
            in_blocks[line] += 1
    assert open_type is None and n_blocks >= 10
    assert all(laundering[k] >= v for k, v in in_blocks.items())  # every block row is a laundering row
    assert 0 < sum(laundering.values()) - sum(in_blocks.values())  # and some laundering rows are in no block


def test_generator_parameters_and_determinism(tmp_path):
    cfg = AmlworldConfig(n_transactions=150_000, seed=3, name="G")
    s = generate(cfg, tmp_path / "a")
    assert abs(s["rows"] - 150_000) < 1_500
    assert s["laundering_rate"] == pytest.approx(0.001, rel=0.1)
    assert s["lone_laundering_rows"] == pytest.approx(0.2 * s["laundering_rows"], abs=1)
    text = (tmp_path / "a" / "G_Patterns.txt").read_text()
    degrees = [int(m) for m in re.findall(r"Max (\d+)-degree Fan-(?:Out|In)", text)]
    hops = [int(m) for m in re.findall(r"CYCLE:  Max (\d+) hops", text)]
    assert degrees and max(degrees) <= 16 and hops and 2 <= min(hops) and max(hops) <= 10
    assert set(s["patterns"]) <= set(PATTERN_TYPES) and len(s["patterns"]) >= 6
    again = generate(cfg, tmp_path / "b")
    other = generate(dataclasses.replace(cfg, seed=4), tmp_path / "c")
    trans = "G_Trans.csv"
    assert (tmp_path / "a" / trans).read_bytes() == (tmp_path / "b" / trans).read_bytes()
    assert (tmp_path / "a" / trans).read_bytes() != (tmp_path / "c" / trans).read_bytes()
    assert again["laundering_rows"] == s["laundering_rows"] and other["rows"] > 0


def test_generator_cli(tmp_path):
    res = subprocess.run([sys.executable, "-m", "synthetic.amlworld", "--out", str(tmp_path), "--transactions",
                          "2000", "--seed", "5", "--name", "X"], capture_output=True, text=True, env=_env(), cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["rows"] > 1900
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X_Patterns.txt", "X_Trans.csv", "X_accounts.csv"]


# -- the import keeps the labels and patterns ----------------------------------------------------
def test_import_keeps_every_laundering_row_and_pattern(data_root, table):
    trans = read_trans(FIX / FILES[0])
    assert len(table) == len(trans)
    assert int(table.label.sum()) == sum(r[10] == "1" for r in trans)
    typ = set(table.typology.drop_nulls().unique().to_list())
    assert "unattributed" in typ and len(typ - {"unattributed"}) >= 4
    assert np.all(np.diff(table.ts) >= 0)


# -- features see no labels, no txn ids and nothing beyond the protocol ---------------------------
CFG = FeatureConfig()


def test_features_ignore_labels_and_txn_ids(table):
    sp = temporal_split(table.ts)
    lim = visibility(table.ts, sp)
    a = build_features(table, lim, CFG).X
    rng = np.random.default_rng(0)
    relabeled = dataclasses.replace(
        table, label=rng.permutation(table.label),
        typology=table.typology.gather(rng.permutation(len(table))),
        txn_id=pl.Series([f"x{i}" for i in rng.permutation(len(table))]))
    b = build_features(relabeled, lim, CFG).X
    np.testing.assert_array_equal(a, b)


def _prefix(t, k: int):
    fields = {f.name: getattr(t, f.name) for f in dataclasses.fields(t)}
    return dataclasses.replace(t, **{name: v[:k] for name, v in fields.items()
                                     if isinstance(v, (np.ndarray, pl.Series))})


def test_split_features_see_only_their_split_graph(table):
    """Train rows' features are the same without the validation and test rows; validation rows'
    the same without the test rows."""
    sp = temporal_split(table.ts)
    full = build_features(table, visibility(table.ts, sp), CFG).X
    _, b1, b2, _ = sp.bounds
    train_only = build_features(_prefix(table, b1), np.full(b1, b1, np.int64), CFG).X
    np.testing.assert_array_equal(full[:b1], train_only)
    upto_val = build_features(_prefix(table, b2), visibility(table.ts[:b2], sp)[:b2], CFG).X
    np.testing.assert_array_equal(full[b1:b2], upto_val[b1:b2])


def test_causal_features_see_only_the_past(table):
    sp = temporal_split(table.ts)
    full = build_features(table, visibility(table.ts, sp, "causal"), CFG).X
    for frac in (0.3, 0.7):
        t_cut = table.ts[int(frac * len(table))]
        k = int(np.searchsorted(table.ts, t_cut, side="right"))
        part = _prefix(table, k)
        got = build_features(part, visibility(part.ts, sp, "causal"), CFG).X
        np.testing.assert_array_equal(full[:k], got)


# -- nexusfin evaluate --protocol amlworld ----------------------------------------------------------
def test_evaluate_amlworld_end_to_end(data_root, tmp_path):
    out = tmp_path / "eval.json"
    res = subprocess.run([sys.executable, "-m", "nexusfin.cli", "evaluate", "--protocol", "amlworld", "--data",
                          str(data_root), "--json", str(out)], capture_output=True, text=True, env=_env(), cwd=ROOT)
    assert res.returncode == 0, res.stderr + res.stdout
    text = res.stdout
    for anchor in ("62.86", "63.23", "68.16", "HI-Small (published)", "recall per pattern", "it is not HI-Small"):
        assert anchor in text, anchor
    r = json.loads(out.read_text())
    assert r["protocol"] == "amlworld" and "not HI-Small" in r["caveat"]
    # 60/20/20 by time
    sp = r["splits"]
    assert sum(v["rows"] for v in sp.values()) == r["rows"] == len(read_trans(FIX / FILES[0]))
    for name, share in (("train", 0.6), ("validation", 0.2), ("test", 0.2)):
        assert sp[name]["share"] == pytest.approx(share, abs=0.01), name
    assert sp["train"]["last_ts"] < sp["validation"]["first_ts"] <= sp["validation"]["last_ts"] \
        < sp["test"]["first_ts"] <= sp["test"]["last_ts"]
    assert sum(v["positives"] for v in sp.values()) == r["positives"]
    # the test figures are consistent and well above a trivial classifier
    s = r["test"]
    assert s["positives"] == sp["test"]["positives"] == s["tp"] + s["fn"] and s["rows"] == sp["test"]["rows"]
    assert s["precision"] == pytest.approx(s["tp"] / (s["tp"] + s["fp"]))
    assert s["recall"] == pytest.approx(s["tp"] / s["positives"])
    prevalence = s["positives"] / s["rows"]
    trivial_f1 = 100 * 2 * prevalence / (1 + prevalence)  # flag every row
    assert s["f1"] > max(40.0, 4 * trivial_f1), s
    assert s["pr_auc"] > 5 * prevalence
    assert r["validation_f1"] > 0 and 0 < r["threshold"] < 1
    # per-pattern recall
    pats = {p["typology"]: p for p in r["patterns"]}
    assert sum(p["test_rows"] for p in pats.values()) == s["positives"]
    assert sum(p["detected"] for p in pats.values()) == s["tp"]
    assert all(p["recall"] == pytest.approx(p["detected"] / p["test_rows"]) for p in pats.values())
    assert len(pats) >= 3
    assert [a["f1"] for a in r["anchors"]] == [62.86, 63.23, 68.16]
    assert r["n_features"] == len(r["feature_names"]) and not any(
        k in n for n in r["feature_names"] for k in ("label", "typology", "txn_id", "pattern"))


def test_evaluate_amlworld_argument_errors(tmp_path):
    res = runner.invoke(app, ["evaluate", "--protocol", "amlworld"])
    assert res.exit_code == 2 and "--data" in res.output
    res = runner.invoke(app, ["evaluate", "--protocol", "nonsense", "--data", str(tmp_path)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["evaluate"])  # the detector protocol still needs --truth
    assert res.exit_code == 2 and "--truth" in res.output
    res = runner.invoke(app, ["evaluate", "--protocol", "amlworld", "--data", str(tmp_path / "nothing")])
    assert res.exit_code == 2 and "no landing transaction files" in res.output
