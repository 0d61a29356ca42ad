"""Linkage of one feature window: who the facilitators are and how money connects every account
to them.

Screening (:mod:`nexusfin.linkage.screening`) works on the reference snapshot (parties, watchlist,
wallets) and is computed once per snapshot; graph proximity, personalized PageRank and the
crime-terror convergence (:mod:`nexusfin.linkage.graph`, :mod:`nexusfin.linkage.convergence`) run on
the window's ledger, seeded at the facilitator accounts that screening found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from nexusfin.detect.ledger import Ledger
from nexusfin.linkage import graph as lgraph
from nexusfin.linkage.convergence import Convergence, convergence
from nexusfin.linkage.identifiers import shared_identifiers
from nexusfin.linkage.screening import ScreeningConfig, screen_parties, screen_wallets
from nexusfin.scoring.config import ScoringConfig


@dataclass
class ReferenceLinkage:
    """Screening results of one reference snapshot."""

    matches: pl.DataFrame  # schemas/watchlist_matches.yaml (party matches and wallet matches)
    identifier_links: pl.DataFrame  # schemas/identifier_links.yaml
    facilitator_accounts: pl.DataFrame  # account_id, entity_id, entity_name, programs, terror, via


def screen_reference(parties: pl.DataFrame, watchlist: pl.DataFrame, accounts: pl.DataFrame,
                     address_tags: pl.DataFrame | None, config: ScoringConfig) -> ReferenceLinkage:
    """Watchlist screening of every party and wallet, the shared-identifier links, and the
    facilitator accounts: the accounts of strongly matched parties and the matched wallets."""
    scfg = ScreeningConfig.from_mapping({
        **config.linkage.screening,
        **({"terror_programs": list(config.linkage.terror_programs)} if _has_field("terror_programs") else {}),
        **({"crime_programs": list(config.linkage.crime_programs)} if _has_field("crime_programs") else {}),
    })
    party_matches = screen_parties(parties, watchlist, scfg)
    tags = address_tags if address_tags is not None else pl.DataFrame(
        schema={"address": pl.String, "chain": pl.String, "category": pl.String, "label": pl.String})
    wallet_matches = screen_wallets(accounts, watchlist, tags, scfg)
    matches = pl.concat([party_matches, wallet_matches], how="vertical_relaxed")
    links = shared_identifiers(parties, max_group=config.linkage.max_shared_identifier_group).links
    strong = matches.filter(pl.col("level") == "strong")
    by_party = (
        strong.filter(pl.col("account_id").is_null()).drop("account_id")
        .join(accounts.select("account_id", pl.col("owner_party_id").alias("party_id")), on="party_id")
        .with_columns(pl.lit("party").alias("via"))
    )
    by_wallet = strong.filter(pl.col("account_id").is_not_null()).with_columns(pl.lit("wallet").alias("via"))
    cols = ["account_id", "party_id", "entity_id", "entity_name", "programs", "terror_designated", "score", "via"]
    fac = (
        pl.concat([by_party.select(cols), by_wallet.select(cols)])
        .sort("score", "terror_designated", descending=True)
        .unique("account_id", keep="first", maintain_order=True)
        .sort("account_id")
    )
    return ReferenceLinkage(matches=matches, identifier_links=links, facilitator_accounts=fac)


def _has_field(name: str) -> bool:
    import dataclasses

    return name in {f.name for f in dataclasses.fields(ScreeningConfig)}


@dataclass
class WindowLinkage:
    """Graph linkage of one window, per ledger account code."""

    seeds: np.ndarray  # int32 facilitator account codes
    terror_seeds: np.ndarray
    prox: lgraph.Proximity
    prox_terror: lgraph.Proximity
    pagerank: np.ndarray
    convergence: Convergence
    seed_entities: dict[int, dict]


def _seed_codes(ledger: Ledger, fac: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, dict[int, dict]]:
    codes = pl.DataFrame({"account_id": ledger.account_ids, "code": np.arange(ledger.n_accounts, dtype=np.int32)})
    hit = fac.join(codes, on="account_id", how="inner")
    seeds = hit.get_column("code").to_numpy().astype(np.int32)
    terror = hit.filter(pl.col("terror_designated")).get_column("code").to_numpy().astype(np.int32)
    entities = {
        int(r["code"]): {"entity_id": r["entity_id"], "name": r["entity_name"], "programs": list(r["programs"])}
        for r in hit.select("code", "entity_id", "entity_name", "programs").iter_rows(named=True)
    }
    return np.sort(seeds), np.sort(terror), entities


def link_window(ledger: Ledger, reference: ReferenceLinkage, alerts: pl.DataFrame,
                config: ScoringConfig) -> WindowLinkage:
    """Proximity to every facilitator and to terror-designated ones, PageRank, convergence."""
    g = config.linkage.graph
    seeds, terror, entities = _seed_codes(ledger, reference.facilitator_accounts)
    prox = lgraph.proximity(ledger, seeds, max_hops=g.max_hops, time_respecting=g.time_respecting,
                            min_usd=g.min_usd)
    prox_t = lgraph.proximity(ledger, terror, max_hops=g.max_hops, time_respecting=g.time_respecting,
                              min_usd=g.min_usd)
    ppr = lgraph.personalized_pagerank(ledger, seeds, alpha=g.pagerank_alpha, iterations=g.pagerank_iterations)
    conv = convergence(ledger, prox_t, alerts, crime_families=config.linkage.crime_families,
                       seed_entities=entities)
    return WindowLinkage(seeds=seeds, terror_seeds=terror, prox=prox, prox_terror=prox_t, pagerank=ppr,
                         convergence=conv, seed_entities=entities)
