"""Graph linkage speed: proximity to facilitators (both directions), personalized PageRank, paths
and crime-terror convergence on the ~10.6M-transaction / 1M-account bench world, against baselines
that compute the same things.

The world is bench/bench_detect.py's (generated once and cached in ``--dir``, default
var/bench/detect/; this benchmark never regenerates it). Seeds: the wallets tagged sanctioned plus
800 accounts drawn with a fixed seed (about as many facilitator accounts as the generator plants
in a world this size); terror seeds: every other one.

Every implementation runs in a FRESH process (its own peak memory) and saves its result; the parent
checks they are equal and fails loudly if not:

* ``nexusfin``: read + ledger (bench_detect's column-by-column build), then
  :func:`~nexusfin.linkage.graph.proximity` (both directions), :func:`personalized_pagerank`
  (30 iterations, adjacency build included), :func:`paths_frame` for every account reached, the
  detection stage for the window's alerts (timed, not part of linkage) and
  :func:`~nexusfin.linkage.convergence.convergence`. It also writes the integer-coded edge list
  (row, src, dst, ts, usd: the graph's rows, cash sides and self-transfers dropped) the baselines
  read, so they solve the graph problem on the same codes and row numbers, not string handling.
* ``duckdb``: the same level-synchronous, time-respecting BFS as iterative joins in SQL (one
  ``INSERT ... SELECT`` per level: join the frontier on the edge's known side, deadline filter,
  anti-join the labelled accounts, best row per account by ``row_number()``).
* ``polars``: the same per level with lazy joins, anti-join and ``sort`` + ``unique``.
* ``numpy``: the same per level over the whole edge list with boolean masks and ``lexsort``; and
  PageRank by ``np.bincount`` power iteration (same formula).

    python -m bench.bench_linkage_graph [--dir var/bench/detect] [--max-hops 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

EDGES_FILE = "linkage_edges.parquet"
SEEDS_FILE = "linkage_seeds.json"
TS_INF = np.iinfo(np.int64).max
IMPLS = ("nexusfin", "duckdb", "polars", "numpy")
BASELINES = ("duckdb", "polars", "numpy")


def _seeds(ledger) -> tuple[np.ndarray, np.ndarray]:
    from nexusfin.detect.ledger import TAG_SANCTIONED

    sanctioned = np.flatnonzero(ledger.acct_tags & TAG_SANCTIONED)
    rng = np.random.default_rng(0)
    seeds = np.unique(np.r_[sanctioned, rng.choice(ledger.n_accounts, 800, replace=False)]).astype(np.int32)
    return seeds, seeds[::2].copy()


def _warm() -> None:
    """Load the linkage kernels from the numba cache (compile them the first time) on a tiny ledger."""
    from datetime import UTC, datetime

    import polars as pl

    from nexusfin.detect import build_ledger
    from nexusfin.linkage import graph as G

    tx = pl.DataFrame({
        "txn_id": ["w1", "w2"], "ts": [datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 5, 10, tzinfo=UTC)],
        "src_account": ["A", "B"], "dst_account": ["B", "C"], "amount_usd": [9000.0, 8900.0],
        "channel": ["wire", "wire"], "txn_type": ["transfer", "transfer"], "src_country": ["US", "US"],
        "dst_country": ["US", "MX"], "location": [None, None], "conducted_by": [None, None],
    }, schema_overrides={"ts": pl.Datetime("us", "UTC"), "location": pl.String, "conducted_by": pl.String})
    acc = pl.DataFrame({"account_id": ["A", "B", "C"], "owner_party_id": ["P1", "P2", "P3"],
                        "account_type": ["checking"] * 3, "country": ["US", "US", "MX"]})
    ledger = build_ledger(tx, acc)
    before = G._SMALL
    G._SMALL = 0  # the parallel paths are the ones the big ledger takes
    try:
        for mode in ("push", "pull"):
            G._proximity(ledger, np.array([2]), mode=mode)
        p = G.proximity(ledger, np.array([2]))
        G.personalized_pagerank(ledger, np.array([2]))
        G.paths_frame(ledger, p, np.arange(3))
    finally:
        G._SMALL = before


CPU: dict[str, float] = {}  # CPU seconds (every thread of the process) of the fastest run, by name


def _best(fn, runs: int, name: str | None = None):
    """(fastest wall time, result) of ``runs`` calls; CPU[name] = that run's CPU time (all threads):
    on a shared machine wall time counts other work too, CPU time much less so."""
    best, out = None, None
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if best is None or dt < best:
            best = dt
            if name:
                CPU[name] = dc
    return best, out


# -- ours --------------------------------------------------------------------------------------------------
def run_ours(folder: Path, out: Path, max_hops: int) -> dict:
    import polars as pl

    from bench.bench_detect import _ledger, _rss_mb
    from nexusfin.detect import detect_alerts, load_detector_config
    from nexusfin.detect._numba import set_threads
    from nexusfin.linkage import graph as G
    from nexusfin.linkage.convergence import convergence

    res: dict = {"impl": "nexusfin", "threads": set_threads(None)}
    ledger, times = _ledger(folder)
    res.update(times)
    t0 = time.perf_counter()
    _warm()
    res["linkage_kernel_load"] = time.perf_counter() - t0
    seeds, terror = _seeds(ledger)
    res["rows"], res["accounts"] = ledger.n_rows, ledger.n_accounts
    res["seeds"], res["terror_seeds"] = len(seeds), len(terror)
    valid = (ledger.src >= 0) & (ledger.dst >= 0) & (ledger.src != ledger.dst)
    res["edges"] = int(valid.sum())
    if not (out / EDGES_FILE).is_file():
        rows = np.flatnonzero(valid)
        pl.DataFrame({"r": rows.astype(np.int64), "src": ledger.src[rows], "dst": ledger.dst[rows],
                      "ts": ledger.ts[rows], "usd": ledger.usd[rows]}).write_parquet(out / EDGES_FILE)
    (out / SEEDS_FILE).write_text(json.dumps({"seeds": seeds.tolist(), "terror": terror.tolist(),
                                              "n_accounts": ledger.n_accounts, "max_hops": max_hops}))

    res["proximity"], prox = _best(lambda: G.proximity(ledger, seeds, max_hops=max_hops), 3, "proximity")
    res["proximity_push"], _ = _best(lambda: G._proximity(ledger, seeds, max_hops=max_hops, mode="push"), 2)
    res["proximity_pull"], _ = _best(lambda: G._proximity(ledger, seeds, max_hops=max_hops, mode="pull"), 2)
    res["reached_to"] = [int((prox.hops_to == k).sum()) for k in range(max_hops + 1)]
    res["reached_from"] = [int((prox.hops_from == k).sum()) for k in range(max_hops + 1)]
    res["proximity_untimed"], plain = _best(
        lambda: G.proximity(ledger, seeds, max_hops=max_hops, time_respecting=False), 1, "proximity_untimed")
    res["reached_to_untimed"] = [int((plain.hops_to == k).sum()) for k in range(max_hops + 1)]
    del plain
    res["adjacency"], _ = _best(lambda: G._undirected(ledger.src, ledger.dst, ledger.usd, ledger.out_ptr,
                                                      ledger.out_idx, ledger.in_ptr, ledger.in_idx, True), 2)
    res["pagerank"], ppr = _best(lambda: G.personalized_pagerank(ledger, seeds, tol=0.0), 2, "pagerank")
    reached = np.flatnonzero(prox.hops_to > 0)
    res["paths_accounts"] = len(reached)
    res["paths_frame"], frame = _best(lambda: G.paths_frame(ledger, prox, reached, "to"), 2, "paths_frame")
    del frame
    t0 = time.perf_counter()
    frames = detect_alerts(ledger, load_detector_config())
    alerts = pl.concat(list(frames.values()))
    res["detect_alerts"] = time.perf_counter() - t0
    res["alerts"] = alerts.height
    res["proximity_terror"], prox_t = _best(lambda: G.proximity(ledger, terror, max_hops=max_hops), 1)
    res["convergence"], conv = _best(lambda: convergence(ledger, prox_t, alerts), 2, "convergence")
    res["crime_accounts"], res["convergent"] = int(conv.crime.sum()), int(conv.convergent.sum())
    res["flagged"], res["groups"] = int(conv.flagged.sum()), conv.groups.height
    res["cpu"] = dict(CPU)
    res["peak_rss_mb"] = _rss_mb()
    _save(out, "nexusfin", prox.hops_to, prox.next_row_to, prox.hops_from, prox.prev_row_from)
    np.save(out / "pagerank_nexusfin.npy", ppr)
    return res


def _save(out: Path, impl: str, hops_to, row_to, hops_from, row_from) -> None:
    import polars as pl

    pl.DataFrame({"hops_to": hops_to.astype(np.int8), "row_to": row_to.astype(np.int64),
                  "hops_from": hops_from.astype(np.int8), "row_from": row_from.astype(np.int64)}
                 ).write_parquet(out / f"proximity_{impl}.parquet")


# -- baselines ------------------------------------------------------------------------------------------------
def _levels_to_arrays(n: int, labelled: list[tuple[np.ndarray, int, np.ndarray]]):
    hops = np.full(n, -1, dtype=np.int8)
    row = np.full(n, -1, dtype=np.int64)
    for acct, level, r in labelled:
        hops[acct] = level
        row[acct] = r
    return hops, row


def run_duckdb(out: Path, spec: dict) -> dict:
    import duckdb

    from bench.bench_detect import _rss_mb

    con = duckdb.connect()
    res: dict = {"impl": "duckdb"}
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE e AS SELECT * FROM read_parquet('{out / EDGES_FILE}')")
    res["read"] = time.perf_counter() - t0
    seeds = spec["seeds"]
    t0, c0 = time.perf_counter(), time.process_time()
    results = {}
    for direction in ("to", "from"):
        new, known = ("src", "dst") if direction == "to" else ("dst", "src")
        # the deadline / arrival of the known side bounds the row's time; later (to) or earlier
        # (from) is better, then the larger amount, then the smaller row
        cmp = "e.ts <= l.t" if direction == "to" else "e.ts >= l.t"
        order = "e.ts DESC" if direction == "to" else "e.ts ASC"
        start = TS_INF if direction == "to" else -TS_INF
        con.execute("CREATE OR REPLACE TABLE lab (acct INTEGER, hops TINYINT, t BIGINT, r BIGINT)")
        con.execute("INSERT INTO lab SELECT unnest($1::INTEGER[]), 0, $2, -1", [seeds, start])
        for k in range(spec["max_hops"]):
            n_new = con.execute(f"""
                INSERT INTO lab
                SELECT e.{new}, {k + 1}, e.ts, e.r
                FROM e JOIN lab l ON e.{known} = l.acct AND l.hops = {k}
                WHERE {cmp} AND NOT EXISTS (SELECT 1 FROM lab x WHERE x.acct = e.{new})
                QUALIFY row_number() OVER (PARTITION BY e.{new} ORDER BY {order}, e.usd DESC, e.r) = 1
            """).fetchone()[0]
            if not n_new:
                break
        results[direction] = con.execute("SELECT acct, hops, r FROM lab").fetchnumpy()
    res["proximity"], res["cpu"] = time.perf_counter() - t0, {"proximity": time.process_time() - c0}
    res["peak_rss_mb"] = _rss_mb()
    n = spec["n_accounts"]
    hops_to, row_to = _levels_to_arrays(n, [(results["to"]["acct"], results["to"]["hops"], results["to"]["r"])])
    hops_from, row_from = _levels_to_arrays(n, [(results["from"]["acct"], results["from"]["hops"],
                                                 results["from"]["r"])])
    _save(out, "duckdb", hops_to, row_to, hops_from, row_from)
    return res


def run_polars(out: Path, spec: dict) -> dict:
    import polars as pl

    from bench.bench_detect import _rss_mb

    res: dict = {"impl": "polars"}
    t0 = time.perf_counter()
    e = pl.read_parquet(out / EDGES_FILE)
    res["read"] = time.perf_counter() - t0
    seeds = spec["seeds"]
    t0, c0 = time.perf_counter(), time.process_time()
    results = {}
    for direction in ("to", "from"):
        new, known = ("src", "dst") if direction == "to" else ("dst", "src")
        start = TS_INF if direction == "to" else -TS_INF
        lab = pl.DataFrame({"acct": seeds, "hops": [0] * len(seeds), "t": [start] * len(seeds), "r": [-1] * len(seeds)},
                           schema={"acct": pl.Int32, "hops": pl.Int8, "t": pl.Int64, "r": pl.Int64})
        frontier = lab
        for k in range(spec["max_hops"]):
            cand = (
                e.lazy().join(frontier.lazy().select(pl.col("acct").alias(known), pl.col("t").alias("bound")), on=known)
                .filter(pl.col("ts") <= pl.col("bound") if direction == "to" else pl.col("ts") >= pl.col("bound"))
                .join(lab.lazy().select(pl.col("acct").alias(new)), on=new, how="anti")
                .sort(["ts", "usd", "r"], descending=[direction == "to", True, False])
                .unique(new, keep="first")
                .select(pl.col(new).alias("acct"), pl.lit(k + 1, pl.Int8).alias("hops"), pl.col("ts").alias("t"),
                        "r")
                .collect()
            )
            if cand.is_empty():
                break
            lab = pl.concat([lab, cand])
            frontier = cand
        results[direction] = lab
    res["proximity"], res["cpu"] = time.perf_counter() - t0, {"proximity": time.process_time() - c0}
    res["peak_rss_mb"] = _rss_mb()
    n = spec["n_accounts"]
    arrays = {}
    for d, lab in results.items():
        arrays[d] = _levels_to_arrays(n, [(lab["acct"].to_numpy(), lab["hops"].to_numpy(), lab["r"].to_numpy())])
    _save(out, "polars", *arrays["to"], *arrays["from"])
    return res


def run_numpy(out: Path, spec: dict) -> dict:
    import polars as pl

    from bench.bench_detect import _rss_mb

    res: dict = {"impl": "numpy"}
    t0 = time.perf_counter()
    e = pl.read_parquet(out / EDGES_FILE)
    r, src, dst = e["r"].to_numpy(), e["src"].to_numpy(), e["dst"].to_numpy()
    ts, usd = e["ts"].to_numpy(), e["usd"].to_numpy()
    del e
    res["read"] = time.perf_counter() - t0
    n, seeds = spec["n_accounts"], np.array(spec["seeds"], dtype=np.int64)
    t0, c0 = time.perf_counter(), time.process_time()
    arrays = {}
    for direction in ("to", "from"):
        new, known = (src, dst) if direction == "to" else (dst, src)
        key = ts if direction == "to" else -ts  # larger key is better in both directions
        hops = np.full(n, -1, dtype=np.int8)
        row = np.full(n, -1, dtype=np.int64)
        bound = np.full(n, TS_INF, dtype=np.int64)  # deadline (to) or -arrival (from)
        hops[seeds] = 0
        for k in range(spec["max_hops"]):
            ok = (hops[known] == k) & (hops[new] == -1)
            cand = np.flatnonzero(ok)
            cand = cand[key[cand] <= bound[known[cand]]]
            if not len(cand):
                break
            order = np.lexsort((r[cand], -usd[cand], -key[cand], new[cand]))
            c = cand[order]
            first = np.r_[True, new[c][1:] != new[c][:-1]]
            c = c[first]
            hops[new[c]] = k + 1
            row[new[c]] = r[c]
            bound[new[c]] = key[c]
        arrays[direction] = (hops, row)
    res["proximity"], res["cpu"] = time.perf_counter() - t0, {"proximity": time.process_time() - c0}
    # PageRank: the same formula, one bincount per iteration over both edge directions
    t0, c0 = time.perf_counter(), time.process_time()
    a_idx = np.concatenate([src, dst])
    b_idx = np.concatenate([dst, src])
    w = np.concatenate([usd, usd])
    strength = np.bincount(a_idx, weights=w, minlength=n)
    e_vec = np.zeros(n)
    e_vec[np.unique(seeds)] = 1.0 / len(np.unique(seeds))
    p = e_vec.copy()
    alpha = 0.15
    for _ in range(30):
        q = np.divide(p, strength, out=np.zeros(n), where=strength > 0)
        dangling = p[strength <= 0].sum()
        p = (1 - alpha) * np.bincount(a_idx, weights=w * q[b_idx], minlength=n) + (alpha + (1 - alpha) * dangling) * e_vec
    res["pagerank"] = time.perf_counter() - t0
    res["cpu"]["pagerank"] = time.process_time() - c0
    res["peak_rss_mb"] = _rss_mb()
    np.save(out / "pagerank_numpy.npy", p)
    _save(out, "numpy", *arrays["to"], *arrays["from"])
    return res


# -- parent -----------------------------------------------------------------------------------------------------
def _child(args, impl: str) -> dict:
    cmd = [sys.executable, "-m", "bench.bench_linkage_graph", "--phase", "run", "--impl", impl, "--dir", str(args.dir),
           "--out", str(args.out), "--max-hops", str(args.max_hops)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise RuntimeError(f"{impl} failed (exit {proc.returncode})")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["process_wall_seconds"] = wall
    print(f"   {impl:<9} proximity {res['proximity']:7.2f} s  wall {wall:7.2f} s  peak {res.get('peak_rss_mb', 0):8.0f} MB",
          flush=True)
    return res


class Mismatch(AssertionError):
    pass


def check_equal(out: Path, impls: tuple[str, ...]) -> str:
    import polars as pl

    ref = pl.read_parquet(out / "proximity_nexusfin.parquet")
    for impl in impls:
        other = pl.read_parquet(out / f"proximity_{impl}.parquet")
        for col in ref.columns:
            bad = int((ref[col] != other[col]).sum())
            if bad:
                raise Mismatch(f"proximity: nexusfin and {impl} differ in {col} on {bad:,} accounts")
    ours, base = np.load(out / "pagerank_nexusfin.npy"), np.load(out / "pagerank_numpy.npy")
    if not np.allclose(ours, base, rtol=1e-9, atol=1e-15):
        raise Mismatch(f"pagerank: nexusfin and numpy differ (max abs {np.abs(ours - base).max():.2e})")
    reached = int((ref["hops_to"] >= 0).sum() + (ref["hops_from"] >= 0).sum())
    return (f"proximity: nexusfin, {', '.join(impls)} return the same hops and path rows for every account, both "
            f"directions ({reached:,} labels); PageRank equals numpy's within 1e-9 (sum {ours.sum():.12f})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=Path("var/bench/detect"), help="bench_detect's cached world")
    ap.add_argument("--out", type=Path, default=Path("var/bench/linkage"))
    ap.add_argument("--max-hops", type=int, default=4)
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--phase", choices=["all", "run"], default="all")
    ap.add_argument("--impl", choices=IMPLS)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.phase == "run":
        if args.impl == "nexusfin":
            res = run_ours(args.dir, args.out, args.max_hops)
        else:
            spec = json.loads((args.out / SEEDS_FILE).read_text())
            res = {"duckdb": run_duckdb, "polars": run_polars, "numpy": run_numpy}[args.impl](args.out, spec)
        print(json.dumps(res, default=float))
        return 0

    from bench._harness import write_result

    print("== prepare (bench_detect's cached world)", flush=True)
    meta = json.loads(subprocess.run(
        [sys.executable, "-m", "bench.bench_detect", "--dir", str(args.dir), "--phase", "prepare", "--accounts",
         str(args.accounts), "--days", str(args.days), "--seed", str(args.seed)],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    print(f"   {meta['rows']:,} transactions, {meta['n_accounts']:,} accounts", flush=True)
    (args.out / EDGES_FILE).unlink(missing_ok=True)  # written afresh from this world's ledger
    raw = {"meta": meta}
    for impl in IMPLS:
        raw[impl] = _child(args, impl)
    notes = [check_equal(args.out, BASELINES)]
    ours = raw["nexusfin"]
    edges = ours["edges"]
    rows = []

    def row(task, impl, seconds, rss=None, ratio=None, what="", cpu=None):
        rows.append({"task": task, "implementation": impl, "seconds": round(seconds, 3),
                     "CPU s": None if cpu is None else round(cpu, 3),
                     "edges/s": round(edges * (2 if "both" in task else 1) / seconds) if seconds else None,
                     "peak RSS MB": round(rss) if rss else None,
                     "vs ours": None if ratio is None else round(ratio, 2), "note": what})

    task = f"proximity, both directions (time-respecting BFS, max {args.max_hops} hops)"
    row(task, "nexusfin (auto push/pull)", ours["proximity"], ours["peak_rss_mb"], 1.0, cpu=ours["cpu"]["proximity"],
        what=f"push only {ours['proximity_push']:.2f} s, pull only {ours['proximity_pull']:.2f} s; reached to "
        f"{ours['reached_to']}, from {ours['reached_from']}")
    for b in BASELINES:
        r = raw[b]
        row(task, {"duckdb": "DuckDB iterative joins", "polars": "polars iterative joins",
                   "numpy": "numpy masks + lexsort"}[b], r["proximity"], r["peak_rss_mb"],
            r["proximity"] / ours["proximity"], f"after its own read of the edge list ({r['read']:.2f} s)",
            cpu=r["cpu"]["proximity"])
    row("proximity, both directions, not time-respecting", "nexusfin", ours["proximity_untimed"],
        cpu=ours["cpu"]["proximity_untimed"], what=f"reached to {ours['reached_to_untimed']}")
    row("personalized PageRank, 30 iterations", "nexusfin", ours["pagerank"], ours["peak_rss_mb"], 1.0,
        f"incl. undirected adjacency build {ours['adjacency']:.2f} s", cpu=ours["cpu"]["pagerank"])
    row("personalized PageRank, 30 iterations", "numpy bincount", raw["numpy"]["pagerank"],
        raw["numpy"]["peak_rss_mb"], raw["numpy"]["pagerank"] / ours["pagerank"], cpu=raw["numpy"]["cpu"]["pagerank"])
    row("paths_frame (every account reached, direction to)", "nexusfin", ours["paths_frame"],
        cpu=ours["cpu"]["paths_frame"], what=f"{ours['paths_accounts']:,} accounts")
    row("convergence (terror seeds, the window's alerts)", "nexusfin", ours["convergence"],
        cpu=ours["cpu"]["convergence"], what=f"{ours['alerts']:,} alerts (detection {ours['detect_alerts']:.2f} s, not included), "
             f"{ours['crime_accounts']:,} crime accounts, {ours['convergent']:,} convergent, {ours['flagged']:,} "
             f"flagged, {ours['groups']:,} groups")
    for r_ in rows:
        r_["edges/s"] = r_["edges/s"] if "proximity" in r_["task"] or "PageRank" in r_["task"] else None
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    notes.insert(0, f"{ours['rows']:,} transactions ({edges:,} graph edges: both sides accounts, no self-transfers), "
                    f"{ours['accounts']:,} accounts, {ours['seeds']:,} seeds ({ours['terror_seeds']:,} terror), "
                    f"{ours['threads']} threads; each implementation in a fresh process; 'vs ours' = its time / "
                    f"ours (higher: ours faster); CPU s = CPU time of all the process's threads in the timed run "
                    f"(less sensitive than wall time to other work on the machine); edges/s counts each direction's edges once; code at {rev or '?'}, "
                    f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    notes.append(f"read + ledger {ours['ledger']:.2f} s (shared with detection), linkage kernels loaded from the "
                 f"numba cache in {ours['linkage_kernel_load']:.2f} s")
    raw["code"] = {"commit": rev}
    path = write_result("linkage_graph", {"title": "Graph linkage: proximity, PageRank, convergence (10.6M transactions)",
                                          "rows": rows, "notes": notes, "raw": raw})
    from bench._harness import to_markdown

    print(to_markdown(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
