"""Watchlist screening at scale: ~1,000,000 parties against ~1,000 designated entities (about five
listed names each), with planted facilitators, namesakes and identifier links whose truth is
known; against a naive baseline that scores every (party, listed name) pair.

The world is synthesised here from the generator's name material (synthetic/names.py), quickly and
deterministically:

- watchlist: persons (first names from the designated and the general pools, surnames from the
  designated pools, half of the cartel ones compound) and organisations, aliases as the generator
  writes them (``SURNAME, First``, transliteration, missing accents, a typo, word order), one id
  number, phone and address each, a birth date for persons;
- parties: general-pool persons and businesses (a third of the names with a typo, some with a
  middle name, so most names are distinct), plus per designated entity a few planted parties:
  ``facilitator`` (a name variant as the generator writes it, the entity's phone, sometimes its id
  number and address, the same birth date: must be strong), ``namesake`` (the name or a variant,
  another birth date, no shared identifier: must not be strong) and ``linked`` (an unrelated
  name with the entity's phone, address or id number: must be possible with that field).

Measured in this process: ``screen_parties`` wall time (2 cores here), parties/s, the strong /
possible counts, planted recall, namesake false-strong rate, peak RSS. Baseline: one
``rapidfuzz.process.cdist`` (``fuzz.token_sort_ratio`` on the same normalised names, all cores,
``score_cutoff``) of a random sample of parties against every listed name, extrapolated linearly
to all parties; names only (identifier joins excluded from both for the ratio).

    python -m bench.bench_screening [--parties 1000000] [--entities 1000] [--sample 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date, timedelta

import numpy as np
import polars as pl

from bench._harness import peak_rss_mb, timer, write_result
from synthetic import names as N

PLANTED_PER_ENTITY = {"facilitator": 0.5, "namesake": 0.3, "linked": 0.3}


def _pick(rng: np.random.Generator, pool: list[str], n: int) -> np.ndarray:
    return np.asarray(pool, dtype=object)[rng.integers(0, len(pool), n)]


def build_watchlist(n: int, rng: np.random.Generator) -> tuple[pl.DataFrame, list[dict]]:
    rows, meta = [], []
    persons_first = N.TERROR_FIRST + N.CARTEL_FIRST + N.FIRST
    for i in range(n):
        org = rng.random() < 0.2
        terror = rng.random() < 0.5
        cc = str(rng.choice(N.TERROR_COUNTRIES)) if terror else "MX"
        if org:
            base = (N.TERROR_ORGS if terror else N.CARTEL_ORGS)[i % 4]
            word = N.BIZ_WORDS[int(rng.integers(len(N.BIZ_WORDS)))].upper()
            name = f"{word} {base} {i}"
            first = last = None
            aliases = [name.title(), name.replace("AL-", "AL "), name.replace(" ", "")[:24]]
        else:
            first = persons_first[int(rng.integers(len(persons_first)))]
            last_pool = N.TERROR_LAST if terror else N.CARTEL_LAST
            last = last_pool[int(rng.integers(len(last_pool)))]
            if not terror and rng.random() < 0.5:
                last = f"{last} {N.CARTEL_LAST[int(rng.integers(len(N.CARTEL_LAST)))]}"
            name = f"{first} {last}".upper()
            aliases = N.aliases(first, last, rng)
        programs = (["SDGT"] if rng.random() < 0.6 else ["SDGT", "FTO"]) if terror else (
            ["SDNTK"] if rng.random() < 0.5 else ["SDNTK", "SDGT", "FTO"])  # fmt: skip
        e = {
            "entity_id": f"BEN-{i:05d}",
            "name": name,
            "aliases": aliases,
            "kind": "organization" if org else "person",
            "programs": programs,
            "country": cc,
            "id_numbers": [f"{cc}{int(rng.integers(10_000_000, 99_999_999))}"],
            "phones": [f"+{961 if cc == 'LB' else 52 if cc == 'MX' else 90}{int(rng.integers(10_000_000, 99_999_999))}"],
            "addresses": [f"{int(rng.integers(1, 300))} {N.STREETS[int(rng.integers(len(N.STREETS)))]} Street, "
                          f"Zone {int(rng.integers(1, 40))}, {cc}"],
            "crypto_wallets": [],
            "birth_date": None if org else date(1955, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 35))),
            "designation_date": None,
            "source": "synthetic",
            "remarks": None,
        }  # fmt: skip
        rows.append(e)
        meta.append({**e, "_first": first, "_last": last})
    from nexusfin.contracts import contract

    return pl.DataFrame(rows, schema=contract("watchlist").polars_schema()), meta


def build_parties(
    n: int, meta: list[dict], rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Background parties plus planted ones; returns (parties, truth(party_id, role, entity_id, field))."""
    planted: list[dict] = []
    truth: list[dict] = []
    for e in meta:
        for role, share in PLANTED_PER_ENTITY.items():
            if rng.random() >= share:
                continue
            pid = f"X{len(planted):07d}"
            person = e["kind"] == "person"
            row = {"party_id": pid, "kind": e["kind"], "country": "US", "address": None, "phone": None,
                   "id_number": None, "birth_date": None}  # fmt: skip
            field = None
            if role == "facilitator":
                row["name"] = (
                    N.variant(e["_first"], e["_last"], rng)
                    if person
                    else N.org_variant(e["name"], rng)
                )
                row["phone"] = e["phones"][0]
                row["id_number"] = e["id_numbers"][0] if rng.random() < 0.6 or not person else None
                row["address"] = e["addresses"][0] if rng.random() < 0.5 or not person else None
                row["birth_date"] = e["birth_date"]
            elif role == "namesake":
                if not person:
                    continue
                row["name"] = (f"{e['_first']} {e['_last'].split()[0]}" if rng.random() < 0.5
                               else N.variant(e["_first"], e["_last"], rng))  # fmt: skip
                row["phone"] = f"+1{int(rng.integers(2_000_000_000, 9_899_999_999))}"
                row["birth_date"] = date(1970, 1, 1) + timedelta(
                    days=int(rng.integers(0, 365 * 30))
                )
            else:
                field = ("phone", "address", "id_number")[int(rng.integers(3))]
                row["kind"] = "person"
                row["name"] = (
                    f"{N.FIRST[int(rng.integers(len(N.FIRST)))]} {N.LAST[int(rng.integers(len(N.LAST)))]}"
                )
                row[field] = {
                    "phone": e["phones"],
                    "address": e["addresses"],
                    "id_number": e["id_numbers"],
                }[field][0]
                row["birth_date"] = date(1960, 1, 1) + timedelta(
                    days=int(rng.integers(0, 365 * 40))
                )
            if row["kind"] == "person" and row["birth_date"] is None:
                row["birth_date"] = date(1960, 1, 1)
            planted.append(row)
            truth.append(
                {"party_id": pid, "role": role, "entity_id": e["entity_id"], "field": field}
            )
    m = n - len(planted)
    is_org = rng.random(m) < 0.12
    first, last = _pick(rng, N.FIRST, m), _pick(rng, N.LAST, m)
    middle = rng.random(m) < 0.08
    mid = _pick(rng, N.FIRST, m)
    biz = _pick(rng, N.BIZ_WORDS, m)
    suffix = _pick(rng, [s for v in N.BIZ_SUFFIX.values() for s in v], m)
    typo = rng.random(m) < 0.33
    names = []
    for i in range(m):
        if is_org[i]:
            nm = f"{biz[i]} {suffix[i]}"
        else:
            ln = N._typo(last[i], rng) if typo[i] else last[i]
            nm = f"{first[i]} {mid[i]} {ln}" if middle[i] else f"{first[i]} {ln}"
        names.append(nm)
    bg = pl.DataFrame({
        "party_id": [f"P{i:08d}" for i in range(m)],
        "name": names,
        "kind": np.where(is_org, "organization", "person").tolist(),
        "country": "US",
        "address": [f"{a} {s} St, Springfield, ST {z:05d}" for a, s, z in zip(
            rng.integers(1, 9999, m).tolist(), _pick(rng, N.STREETS, m).tolist(), rng.integers(1000, 99999, m).tolist(),
            strict=True)],
        "phone": [f"+1{p}" for p in rng.integers(2_000_000_000, 9_899_999_999, m).tolist()],
        "id_number": [f"{s // 1000000:03d}-{s // 10000 % 100:02d}-{s % 10000:04d}"
                      for s in rng.integers(100_000_000, 899_999_999, m).tolist()],
        "birth_date": (np.datetime64("1950-01-01") + rng.integers(0, 365 * 52, m).astype("timedelta64[D]")),
    }).with_columns(pl.when(pl.col("kind") == "organization").then(None).otherwise(pl.col("birth_date"))
                    .cast(pl.Date).alias("birth_date"))  # fmt: skip
    schema = bg.schema
    parties = pl.concat([bg, pl.DataFrame(planted, schema=schema)]).sample(
        fraction=1.0, shuffle=True, seed=1
    )
    return parties, pl.DataFrame(truth, schema={"party_id": pl.String, "role": pl.String, "entity_id": pl.String,
                                                "field": pl.String})  # fmt: skip


def baseline(
    parties: pl.DataFrame, watchlist: pl.DataFrame, truth: pl.DataFrame, sample: int, seed: int
) -> dict:
    """Naive: ``fuzz.token_sort_ratio`` of a sample of normalised party names against every
    normalised listed name (one cdist, all cores, cutoff 85), timed and extrapolated linearly to
    all parties; its name recall on the planted facilitators (any listed name of their entity at
    85 or more) and its name hits per party on the sample."""
    from rapidfuzz import fuzz, process

    from nexusfin.linkage.screening import _listed_names, name_key

    listed = _listed_names(watchlist)
    names = listed.get_column("key").to_list()
    smp = parties.sample(n=min(sample, parties.height), seed=seed)

    def keys(df: pl.DataFrame) -> list[str]:
        expr = name_key(pl.col("name"), pl.col("kind") == "organization")
        return df.select(expr).to_series().fill_null("").to_list()

    t0 = time.perf_counter()
    m = process.cdist(keys(smp), names, scorer=fuzz.token_sort_ratio, score_cutoff=85, workers=-1)
    secs = time.perf_counter() - t0
    fac = truth.filter(pl.col("role") == "facilitator").join(parties, on="party_id")
    fm = process.cdist(keys(fac), names, scorer=fuzz.token_sort_ratio, score_cutoff=85, workers=-1)
    own = (
        fac.get_column("entity_id").to_numpy()[:, None]
        == listed.get_column("entity_id").to_numpy()[None, :]
    )
    found = ((fm > 0) & own).any(axis=1)
    return {
        "sample": smp.height,
        "listed_names": len(names),
        "seconds_sample": secs,
        "seconds_extrapolated": secs * parties.height / smp.height,
        "name_hits_per_party": float(np.count_nonzero(m)) / smp.height,
        "facilitator_name_recall": float(found.mean()),
    }


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--parties", type=int, default=1_000_000)
    ap.add_argument("--entities", type=int, default=1_000)
    ap.add_argument("--sample", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    from nexusfin.contracts import contract
    from nexusfin.linkage import screen_parties, shared_identifiers

    rng = np.random.default_rng(args.seed)
    with timer() as t_prep:
        watchlist, meta = build_watchlist(args.entities, rng)
        parties, truth = build_parties(args.parties, meta, rng)
    n_listed = watchlist.height + int(watchlist.get_column("aliases").list.len().sum())
    # load the numba kernels from their cache (or compile them) before timing
    screen_parties(parties.head(1000), watchlist)
    load_before = os.getloadavg()[0]
    cpu0 = time.process_time()
    with timer() as t_screen:
        matches = screen_parties(parties, watchlist)
    cpu_screen = time.process_time() - cpu0
    contract("watchlist_matches").validate(matches)
    with timer() as t_links:
        links = shared_identifiers(parties)
    base = baseline(parties, watchlist, truth, args.sample, args.seed)

    strong = matches.filter(pl.col("level") == "strong")
    best = matches.join(truth, on=["party_id", "entity_id"], how="inner")

    def count(role: str, cond: pl.Expr) -> tuple[int, int]:
        want = truth.filter(pl.col("role") == role)
        got = best.filter((pl.col("role") == role) & cond)
        return got.select("party_id", "entity_id").unique().height, want.height

    fac_hit, fac_n = count("facilitator", pl.col("level") == "strong")
    link_hit, link_n = count("linked", (pl.col("level") == "possible")
                             & pl.col("matched_fields").list.contains(pl.col("field")))  # fmt: skip
    ns = truth.filter(pl.col("role") == "namesake")
    ns_strong = ns.join(strong, on="party_id", how="semi").height
    ns_reported = ns.join(matches, on="party_id", how="semi").height
    named = pl.col("matched_fields").list.eval(pl.element().is_in(["name", "alias"])).list.any()
    fac_named = best.filter((pl.col("role") == "facilitator") & named).height / max(1, fac_n)
    possible = matches.filter(pl.col("level") == "possible")
    ident = (
        pl.col("matched_fields")
        .list.eval(pl.element().is_in(["id_number", "phone", "address"]))
        .list.any()
    )
    kinds = possible.select(
        (named & ~ident).sum().alias("name_only"), (~named & ident).sum().alias("identifier_only"),
        (named & ident).sum().alias("name_and_identifier"),
    ).row(0, named=True)  # fmt: skip
    secs = t_screen["seconds"]
    res = {
        "parties": parties.height, "entities": watchlist.height, "listed_names": n_listed,
        "distinct_party_names": parties.select(pl.col("name").n_unique()).item(),
        "seconds_prepare": t_prep["seconds"], "seconds_screen": secs, "cpu_seconds_screen": cpu_screen,
        "load_average_before": load_before, "parties_per_second": parties.height / secs,
        "matches": matches.height, "strong": strong.height, "possible": matches.height - strong.height,
        "facilitator_recall": fac_hit / max(1, fac_n), "facilitators": fac_n,
        "linked_possible_with_field": link_hit / max(1, link_n), "linked": link_n,
        "namesakes": ns.height, "namesakes_strong": ns_strong, "namesakes_reported": ns_reported,
        "seconds_shared_identifiers": t_links["seconds"], "identifier_links": links.links.height,
        "oversized_groups": links.oversized_groups.height,
        "possible_by_evidence": kinds, "facilitator_name_recall": fac_named,
        "name_hits_per_party": matches.filter(named).height / parties.height,
        "baseline": base, "speedup_vs_baseline": base["seconds_extrapolated"] / secs,
        "peak_rss_mb": peak_rss_mb(),
    }  # fmt: skip
    rows = [
        {"what": f"screen_parties: {res['parties']:,} parties x {res['entities']:,} entities ({n_listed:,} names)",
         "seconds": round(secs, 2), "parties/s": round(res["parties_per_second"])},
        {"what": f"naive cdist token_sort_ratio, {base['sample']:,}-party sample extrapolated (names only)",
         "seconds": round(base["seconds_extrapolated"], 2),
         "parties/s": round(res["parties"] / base["seconds_extrapolated"])},
        {"what": "shared_identifiers (phone, address, id_number pairs)", "seconds": round(t_links["seconds"], 2),
         "parties/s": round(res["parties"] / t_links["seconds"])},
    ]  # fmt: skip
    notes = [
        f"speed-up over the naive baseline: {res['speedup_vs_baseline']:.1f}x (ours includes identifier joins, "
        f"scoring and the contract)",
        f"{res['distinct_party_names']:,} distinct party names; {res['strong']:,} strong and {res['possible']:,} "
        f"possible matches (possible: {kinds['name_only']:,} name only, {kinds['identifier_only']:,} identifier "
        f"only, {kinds['name_and_identifier']:,} both)",
        f"names alone: facilitator name recall {fac_named:.3f} (naive token_sort_ratio >= 85: "
        f"{base['facilitator_name_recall']:.3f}); name hits per party {res['name_hits_per_party']:.4f} "
        f"(naive: {base['name_hits_per_party']:.4f})",
        f"planted facilitators strong: {fac_hit}/{fac_n} ({res['facilitator_recall']:.3f}); identifier-linked "
        f"parties possible with the shared field: {link_hit}/{link_n}; namesakes strong: {ns_strong}/{ns.height} "
        f"(reported as possible: {ns_reported})",
        f"screen_parties used {cpu_screen:.2f} s of CPU for {secs:.2f} s wall; 1-minute load average before it "
        f"{load_before:.1f} on {os.cpu_count()} CPUs (other work on the machine inflates wall times)",
        f"peak RSS {res['peak_rss_mb']:,.0f} MB (whole process, world included)",
    ]
    write_result("screening", {"title": "Watchlist screening: 1M parties x 1,000 entities", "rows": rows,
                               "notes": notes, "raw": res})  # fmt: skip
    for r in rows:
        print(r)
    for n in notes:
        print("-", n)
    return res


if __name__ == "__main__":
    main()
