"""Linkage and features.

``watchlist_screening`` screens the reference snapshot (every party and wallet against the
watchlist, shared identifiers between parties) and names the facilitator accounts; it runs with
the reference snapshots (reference_job), not every day.

``account_features`` builds, for day D, one row per account active in the lake window
D - window_days + 1 .. D (schemas/account_features.yaml) from the window's transactions, the
detector alerts of the window and the screening, plus the best money path between each account
and a facilitator (schemas/facilitator_paths.yaml). Gates: the contract (blocking), every active
account featured exactly once (blocking), every path made of real transfers of the window
(blocking) and a GX suite derived from the contract.
"""

import time
import warnings
from datetime import date

import dagster as dg
import polars as pl

from nexusfin import features as nf
from nexusfin.contracts import ContractViolation, contract
from nexusfin.detect import read_window
from nexusfin.detect.ledger import ACCOUNT_TYPES
from nexusfin.files import atomic_path
from nexusfin.quality.gx_suites import CRITICAL, contract_expectations, validate
from nexusfin.scoring.config import ScoringConfig, load_scoring_config
from pipelines.detections.assets import FAMILY_ASSETS
from pipelines.partitions import daily_partitions
from pipelines.quality.gx_adapter import gx_check_results, gx_check_specs
from pipelines.reference.assets import preview
from pipelines.resources import NexusfinStorage, ScoringSettings

GROUP = "features"
MATCHES = contract("watchlist_matches")


def load_config(settings: ScoringSettings) -> ScoringConfig:
    try:
        return load_scoring_config(settings.config_path or None)
    except (OSError, ValueError, TypeError) as exc:
        raise dg.Failure(f"scoring configuration {settings.config_path or '(defaults)'} is invalid: {exc}") from exc


def _window_mapping() -> dg.TimeWindowPartitionMapping:
    try:
        days = load_scoring_config().features.window_days
    except Exception:  # a broken file must not stop the code location from loading; the run reports it
        days = 14
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.TimeWindowPartitionMapping(start_offset=-(days - 1), end_offset=0,
                                             allow_nonexistent_upstream_partitions=True)


FEATURE_WINDOW = _window_mapping()


def linkage_folder(storage: NexusfinStorage):
    return storage.lake_path / "linkage"


def read_reference(storage: NexusfinStorage) -> nf.Reference:
    try:
        return nf.load_reference(storage.lake_path / "reference")
    except FileNotFoundError as exc:
        raise dg.Failure(f"{exc}: materialize the reference assets first (reference_job)") from exc


@dg.asset(
    group_name=GROUP,
    deps=["parties", "watchlist", "accounts", "address_tags"],
    kinds={"parquet", "rapidfuzz"},
    description="Watchlist screening of the reference snapshot: every party (names, aliases, identifiers) and "
    "wallet against the watchlist (lake/linkage/watchlist_matches.parquet), parties sharing identifiers "
    "(identifier_links.parquet) and the facilitator accounts (facilitator_accounts.parquet).",
    check_specs=[
        dg.AssetCheckSpec("matches_meet_contract", asset="watchlist_screening", blocking=True,
                          description="Every match satisfies schemas/watchlist_matches.yaml; scores in [0, 1]."),
        dg.AssetCheckSpec("facilitators_are_known_accounts", asset="watchlist_screening", blocking=True,
                          description="Every facilitator account exists in the accounts snapshot and is matched "
                          "to an entity of the watchlist snapshot."),
    ],
)
def watchlist_screening(context: dg.AssetExecutionContext, storage: NexusfinStorage,
                        scoring: ScoringSettings) -> dg.MaterializeResult:
    config = load_config(scoring)
    ref = read_reference(storage)
    t0 = time.perf_counter()
    link = nf.reference_linkage(ref, config)
    seconds = time.perf_counter() - t0
    problems: dict[str, object] = {}
    try:
        problems.update(MATCHES.violations(MATCHES.conform(link.matches)))
    except ContractViolation as exc:
        problems["conform"] = str(exc)
    fac = link.facilitator_accounts
    unknown_acc = fac.filter(~pl.col("account_id").is_in(ref.accounts["account_id"].implode())).height
    unknown_ent = fac.filter(~pl.col("entity_id").is_in(ref.watchlist["entity_id"].implode())).height
    paths = nf.write_reference_linkage(link, linkage_folder(storage))
    m = link.matches
    return dg.MaterializeResult(
        metadata={
            "matches": m.height,
            "strong": m.filter(pl.col("level") == "strong").height,
            "possible": m.filter(pl.col("level") == "possible").height,
            "facilitator_accounts": fac.height,
            "terror_facilitator_accounts": fac.filter(pl.col("terror_designated")).height,
            "identifier_links": link.identifier_links.height,
            "parties_screened": ref.parties.height,
            "watchlist_entries": ref.watchlist.height,
            "seconds": round(seconds, 2),
            "path": dg.MetadataValue.path(str(paths["watchlist_matches"])),
            "preview": preview(m.sort("score", descending=True).select(
                "party_id", "entity_id", "entity_name", "score", "level", "matched_fields")),
        },
        check_results=[
            dg.AssetCheckResult(check_name="matches_meet_contract", passed=not problems,
                                severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"violations": dg.MetadataValue.json(problems)}),
            dg.AssetCheckResult(check_name="facilitators_are_known_accounts",
                                passed=unknown_acc == 0 and unknown_ent == 0, severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"unknown_accounts": unknown_acc, "unknown_entities": unknown_ent}),
        ],
    )


def _active_accounts(window: pl.DataFrame, accounts: pl.DataFrame, excluded: tuple[str, ...]) -> pl.Series:
    """Accounts the features must cover, derived independently of the feature builder."""
    touched = pl.concat([window.get_column("src_account"), window.get_column("dst_account")]).drop_nulls().unique()
    keep = accounts.filter(~pl.col("account_type").is_in([t for t in excluded if t in ACCOUNT_TYPES]))
    return keep.filter(pl.col("account_id").is_in(touched.implode())).get_column("account_id")


@dg.asset(
    group_name=GROUP,
    partitions_def=daily_partitions,
    deps=[dg.AssetDep("lake_transactions", partition_mapping=FEATURE_WINDOW),
          *[dg.AssetDep(a, partition_mapping=FEATURE_WINDOW) for a in FAMILY_ASSETS.values()],
          "watchlist_screening", "warehouse_reference"],
    kinds={"parquet", "polars", "numba"},
    description="Account features of the day (schemas/account_features.yaml; lake/features/date=D) and the best "
    "money paths to facilitators (schemas/facilitator_paths.yaml; lake/features_paths/date=D).",
    check_specs=[
        dg.AssetCheckSpec("features_meet_contract", asset="account_features", blocking=True,
                          description="schemas/account_features.yaml: types, nulls, ranges; one row per account."),
        dg.AssetCheckSpec("features_cover_active_accounts", asset="account_features", blocking=True,
                          description="Every account active in the window (excluded types aside) has a row, and no "
                          "other account does."),
        dg.AssetCheckSpec("paths_are_real_transfers", asset="account_features", blocking=True,
                          description="Every facilitator path is a chain of transfers of the window: consecutive "
                          "accounts, lengths agree with hops."),
        *gx_check_specs("account_features", "gx_account_features",
                        "Great Expectations suite derived from schemas/account_features.yaml."),
    ],
)
def account_features(context: dg.AssetExecutionContext, storage: NexusfinStorage,
                     scoring: ScoringSettings) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    config = load_config(scoring)
    lake = storage.lake_path
    if not (lake / "transactions" / f"date={day}" / "part-0.parquet").is_file():
        raise dg.Failure(f"no lake partition for {day}: ingest the day first (lake_transactions)")
    ref = read_reference(storage)
    try:
        link = nf.read_reference_linkage(linkage_folder(storage))
    except FileNotFoundError as exc:
        raise dg.Failure(str(exc)) from exc
    t0 = time.perf_counter()
    wf = nf.features_for_day(lake, day, ref, link, config)
    seconds = time.perf_counter() - t0
    feats, paths = wf.features, wf.paths

    problems: dict[str, object] = dict(nf.FEATURES.violations(feats))
    dup = feats.select(pl.struct("account_id", "as_of").is_duplicated().sum()).item()
    if dup:
        problems["duplicate (account_id, as_of)"] = int(dup)
    first, last = nf.window_days(config, day)
    window = read_window(lake, first, last).select("txn_id", "src_account", "dst_account").collect()
    expected = _active_accounts(window, ref.accounts, config.features.excluded_account_types)
    have = feats.get_column("account_id")
    missing = expected.filter(~expected.is_in(have.implode()))
    extra = have.filter(~have.is_in(expected.implode()))
    # paths: each hop a transfer of the window from the previous account to the next
    hops = (paths.select("account_id", "direction", "path_accounts", "path_txn_ids")
            .with_columns(pl.int_ranges(pl.col("path_txn_ids").list.len()).alias("i")).explode("path_txn_ids", "i")
            .with_columns(pl.col("path_accounts").list.get(pl.col("i")).alias("a"),
                          pl.col("path_accounts").list.get(pl.col("i") + 1).alias("b"))
            .join(window, left_on="path_txn_ids", right_on="txn_id", how="left"))
    bad_hops = hops.filter((pl.col("src_account") != pl.col("a")) | (pl.col("dst_account") != pl.col("b"))
                           | pl.col("src_account").is_null()).height
    bad_len = paths.filter((pl.col("path_txn_ids").list.len() != pl.col("hops"))
                           | (pl.col("path_accounts").list.len() != pl.col("hops") + 1)).height
    gx = validate(feats, [s for s in contract_expectations(nf.FEATURES) if not s.rule.endswith(":not_empty")],
                  suite="account_features", id_column="account_id", sample_rows=storage.gx_sample_rows)
    blocking_ok = not problems and missing.is_empty() and extra.is_empty() and not bad_hops and not bad_len \
        and gx.passed(CRITICAL)
    if blocking_ok:
        written = nf.write_features(wf, lake, day)
    else:
        written = ()
        rejected = lake / "features" / "_rejected" / f"date={day}" / "part-0.parquet"
        with atomic_path(rejected) as tmp:
            feats.write_parquet(tmp)
        context.log.error(f"account_features {day}: a blocking check failed; rows written to {rejected}")
    return dg.MaterializeResult(
        metadata={
            "accounts": feats.height,
            "window": f"{first}..{last}",
            "window_rows": window.height,
            "facilitator_accounts_in_window": len(wf.linkage.seeds),
            "terror_facilitator_accounts_in_window": len(wf.linkage.terror_seeds),
            "accounts_reaching_a_facilitator": int((feats.get_column("hops_to_facilitator").is_not_null()).sum()),
            "convergent_accounts": int((feats.get_column("convergent") > 0).sum()),
            "paths": paths.height,
            "published": blocking_ok,
            "path": dg.MetadataValue.path(str(written[0]) if written else "(rejected)"),
            "seconds": round(seconds, 2),
            "feature_version": nf.feature_version(config),
        },
        check_results=[
            dg.AssetCheckResult(check_name="features_meet_contract", passed=not problems,
                                severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"violations": dg.MetadataValue.json(problems)}),
            dg.AssetCheckResult(check_name="features_cover_active_accounts",
                                passed=missing.is_empty() and extra.is_empty(), severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"expected": expected.len(), "missing": missing.len(), "extra": extra.len(),
                                          "first_missing": dg.MetadataValue.json(missing.head(5).to_list())}),
            dg.AssetCheckResult(check_name="paths_are_real_transfers", passed=not bad_hops and not bad_len,
                                severity=dg.AssetCheckSeverity.ERROR,
                                metadata={"paths": paths.height, "hops_checked": hops.height,
                                          "hops_not_in_window_or_disconnected": bad_hops,
                                          "length_mismatches": bad_len}),
            *gx_check_results(gx, "gx_account_features"),
        ],
    )


feature_assets = [watchlist_screening, account_features]
