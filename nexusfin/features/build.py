"""The account feature table of one window (schemas/account_features.yaml)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import polars as pl

from nexusfin.contracts import contract
from nexusfin.detect.ledger import ACCOUNT_TYPES, COUNTRIES, DAY_US, Ledger
from nexusfin.features.behaviour import active_accounts, behaviour_frame
from nexusfin.features.linkage import ReferenceLinkage, WindowLinkage
from nexusfin.scoring.config import ScoringConfig

FEATURES = contract("account_features")
FEATURE_COLUMNS: tuple[str, ...] = tuple(c.name for c in FEATURES.columns if c.role == "feature")
DETECTOR_FAMILIES = ("structuring", "funnel", "rapid_movement", "crypto")


def feature_version(config: ScoringConfig) -> str:
    return f"v{config.version}-{config.fingerprint}"


def day_end_us(day: date) -> int:
    """Microseconds since the epoch at the end of ``day`` (UTC)."""
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone.utc)  # noqa: UP017
    return int(end.timestamp() * 1_000_000)


def alert_counts(alerts: pl.DataFrame, accounts: pl.DataFrame) -> pl.DataFrame:
    """Detector alerts per account (person-level alerts count for every account of the person)."""
    if alerts.is_empty():
        return pl.DataFrame(schema={"account_id": pl.String, **{f"alerts_{f}": pl.Float64 for f in DETECTOR_FAMILIES},
                                    "n_alert_rules": pl.Float64, "max_alert_strength": pl.Float64})
    own = accounts.select("account_id", pl.col("owner_party_id").alias("party_id"))
    direct = alerts.filter(pl.col("account_id").is_not_null()).select("account_id", "detector", "rule", "strength")
    person = (
        alerts.filter(pl.col("account_id").is_null() & pl.col("party_id").is_not_null())
        .select("party_id", "detector", "rule", "strength")
        .join(own, on="party_id")
        .select("account_id", "detector", "rule", "strength")
    )
    a = pl.concat([direct, person])
    return a.group_by("account_id").agg(
        *[(pl.col("detector") == f).sum().cast(pl.Float64).alias(f"alerts_{f}") for f in DETECTOR_FAMILIES],
        pl.col("rule").n_unique().cast(pl.Float64).alias("n_alert_rules"),
        pl.col("strength").max().alias("max_alert_strength"),
    )


def _hops(h: np.ndarray) -> np.ndarray:
    out = h.astype(np.float64)
    out[h < 0] = np.nan
    return out


def linkage_frame(ledger: Ledger, codes: np.ndarray, reference: ReferenceLinkage, window: WindowLinkage,
                  accounts: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Linkage features of the accounts ``codes``."""
    p, pt = window.prox, window.prox_terror
    end = day_end_us(as_of)
    last = np.maximum(np.where(p.hops_to[codes] >= 0, p.last_ts_to[codes], np.iinfo(np.int64).min),
                      np.where(p.hops_from[codes] >= 0, p.last_ts_from[codes], np.iinfo(np.int64).min))
    reached = (p.hops_to[codes] >= 0) | (p.hops_from[codes] >= 0)
    days_since = np.where(reached, np.clip((end - last) / DAY_US, 0.0, None), np.nan)
    conv = window.convergence
    n_active = max(len(codes), 1)
    frame = pl.DataFrame({
        "account_id": ledger.account_ids[codes],
        "hops_to_facilitator": _hops(p.hops_to[codes]),
        "hops_from_facilitator": _hops(p.hops_from[codes]),
        "hops_to_terror": _hops(pt.hops_to[codes]),
        "usd_to_facilitator": np.nan_to_num(np.where(p.hops_to[codes] > 0, p.path_usd_to[codes], 0.0)),
        "days_since_facilitator_flow": days_since,
        "facilitator_pagerank": window.pagerank[codes] * n_active,
        "convergent": conv.convergent[codes].astype(np.float64),
        "on_convergence_path": conv.on_convergence_path[codes].astype(np.float64),
    }).with_columns(pl.col("hops_to_facilitator", "hops_from_facilitator", "hops_to_terror",
                           "days_since_facilitator_flow").fill_nan(None))

    m = reference.matches
    own = accounts.select("account_id", pl.col("owner_party_id").alias("party_id"))
    party_best = m.filter(pl.col("account_id").is_null()).group_by("party_id").agg(pl.col("score").max())
    wallet_best = m.filter(pl.col("account_id").is_not_null()).group_by("account_id").agg(pl.col("score").max())
    score = (
        own.join(party_best, on="party_id", how="left")
        .join(wallet_best, on="account_id", how="left", suffix="_wallet")
        .select("account_id", pl.max_horizontal("score", "score_wallet").fill_null(0.0).alias("watchlist_score"))
    )
    fac = reference.facilitator_accounts.select(
        "account_id", pl.lit(1.0).alias("watchlist_strong"),
        pl.col("terror_designated").cast(pl.Float64).alias("watchlist_terror"))
    strong_parties = m.filter(pl.col("level") == "strong").get_column("party_id").unique()
    links = reference.identifier_links
    linked = pl.concat([
        links.filter(pl.col("party_b").is_in(strong_parties.implode())).select(pl.col("party_a").alias("party_id")),
        links.filter(pl.col("party_a").is_in(strong_parties.implode())).select(pl.col("party_b").alias("party_id")),
        m.filter((pl.col("level") != "strong") & pl.col("matched_fields").list.eval(
            pl.element().is_in(["id_number", "phone", "address"])).list.any()).select("party_id"),
    ]).unique().with_columns(pl.lit(1.0).alias("identifier_link"))
    id_link = own.join(linked, on="party_id", how="inner").select("account_id", "identifier_link")
    return (
        frame.join(score, on="account_id", how="left")
        .join(fac, on="account_id", how="left")
        .join(id_link, on="account_id", how="left")
        .with_columns(pl.col("watchlist_score", "watchlist_strong", "watchlist_terror", "identifier_link").fill_null(0.0))
    )


def build_features(ledger: Ledger, accounts: pl.DataFrame, parties: pl.DataFrame, alerts: pl.DataFrame,
                   reference: ReferenceLinkage, window: WindowLinkage, config: ScoringConfig, as_of: date
                   ) -> pl.DataFrame:
    """Feature rows of every account active in the ledger's window (excluded account types left out),
    conforming to schemas/account_features.yaml."""
    codes = active_accounts(ledger)
    excluded = [ACCOUNT_TYPES.index(t) for t in config.features.excluded_account_types if t in ACCOUNT_TYPES]
    codes = codes[~np.isin(ledger.acct_type[codes], excluded) & ledger.owned_accounts[codes]]
    hr = {COUNTRIES.index(c) for c in config.high_risk_jurisdictions if c in COUNTRIES}
    base = pl.DataFrame({
        "code": codes,
        "account_id": ledger.account_ids[codes],
        "account_type": np.asarray(ACCOUNT_TYPES, dtype=object)[ledger.acct_type[codes]],
        "is_wallet": (ledger.acct_chain[codes] >= 0).astype(np.float64),
        "home_high_risk": np.isin(ledger.acct_country[codes], list(hr)).astype(np.float64),
    }, schema_overrides={"account_type": pl.String})
    acc = accounts.select("account_id", pl.col("owner_party_id").alias("party_id"), "opened_date")
    par = parties.select(
        "party_id", (pl.col("kind") == "organization").cast(pl.Float64).alias("owner_is_organization"),
        pl.col("incorporation_date"))
    window_start = as_of - timedelta(days=config.features.window_days - 1)
    behaviour = behaviour_frame(ledger, config.regulatory)
    out = (
        base.join(behaviour, on="code", how="left")
        .join(acc, on="account_id", how="left")
        .join(par, on="party_id", how="left")
        .join(alert_counts(alerts, accounts), on="account_id", how="left")
        .join(linkage_frame(ledger, codes, reference, window, accounts, as_of), on="account_id", how="left")
        .with_columns(
            pl.lit(as_of).alias("as_of"),
            pl.lit(window_start).alias("window_start"),
            pl.lit(feature_version(config)).alias("feature_version"),
            ((pl.lit(as_of) - pl.col("opened_date")).dt.total_days().cast(pl.Float64).clip(0.0, None)
             .fill_null(0.0)).alias("account_age_days"),
            (pl.col("incorporation_date").is_not_null()
             & ((pl.lit(as_of) - pl.col("incorporation_date")).dt.total_days() < 365)).cast(pl.Float64)
            .alias("owner_new_company"),
            pl.col("owner_is_organization").fill_null(0.0),
            *[pl.col(f"alerts_{f}").fill_null(0.0) for f in DETECTOR_FAMILIES],
            pl.col("n_alert_rules", "max_alert_strength").fill_null(0.0),
        )
    )
    return FEATURES.conform(out.select(FEATURES.names))
