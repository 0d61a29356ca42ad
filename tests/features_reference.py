"""Reference implementation of the behaviour statistics (the former polars version of
:func:`nexusfin.features.behaviour.behaviour_frame`).

Plain polars aggregations over the ledger's rows: each row is counted once on the sending side and
once on the receiving side (a row whose sender and receiver are the same account counts once on
each side), the cash side (-1) of a cash row is never an account. Only the test-suite (and ad-hoc
benchmarks) import this module.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from nexusfin.detect.ledger import (
    CASH,
    CRYPTO,
    DAY_US,
    TAG_BRIDGE,
    TAG_EXCHANGE,
    TAG_MIXER,
    TAG_SANCTIONED,
    Ledger,
)
from nexusfin.features.behaviour import BEHAVIOUR_COLUMNS, _country_mask
from nexusfin.settings import Regulatory


def behaviour_frame_reference(ledger: Ledger, regulatory: Regulatory) -> pl.DataFrame:
    """One row per active account code (column ``code``) with :data:`BEHAVIOUR_COLUMNS`."""
    hr = _country_mask(regulatory.high_risk_jurisdictions)
    tags = ledger.acct_tags
    src, dst = ledger.src, ledger.dst
    cp_tag_out = np.where(dst >= 0, tags[np.maximum(dst, 0)], 0).astype(np.int8)
    cp_tag_in = np.where(src >= 0, tags[np.maximum(src, 0)], 0).astype(np.int8)
    rows = pl.DataFrame({
        "src": src, "dst": dst, "usd": ledger.usd, "day": (ledger.ts // DAY_US).astype(np.int32),
        "cash": ledger.channel == CASH, "crypto": ledger.channel == CRYPTO, "area": ledger.area,
        "cross": (ledger.src_cc >= 0) & (ledger.dst_cc >= 0) & (ledger.src_cc != ledger.dst_cc),
        "hr_dst": hr[ledger.dst_cc.astype(np.int32) + 1], "hr_src": hr[ledger.src_cc.astype(np.int32) + 1],
        "tag_dst": cp_tag_out, "tag_src": cp_tag_in,
    })
    band_low, ctr = regulatory.structuring_band_low_usd, regulatory.ctr_threshold_usd
    both = pl.concat([
        rows.filter(pl.col("src") >= 0).select(
            pl.col("src").alias("code"), pl.col("dst").alias("cp"), "usd", "day", "cash", "crypto", "area",
            "cross", pl.col("hr_dst").alias("hr"), pl.col("tag_dst").alias("tag"), pl.lit(True).alias("out")),
        rows.filter(pl.col("dst") >= 0).select(
            pl.col("dst").alias("code"), pl.col("src").alias("cp"), "usd", "day", "cash", "crypto", "area",
            "cross", pl.col("hr_src").alias("hr"), pl.col("tag_src").alias("tag"), pl.lit(False).alias("out")),
    ])
    usd, out, cash, tag = pl.col("usd"), pl.col("out"), pl.col("cash"), pl.col("tag")

    def tagged(bit: int) -> pl.Expr:
        return usd.filter((tag & bit) != 0).sum()

    near = cash & (usd >= band_low) & (usd <= ctr)
    agg = both.group_by("code").agg(
        n_out=out.sum().cast(pl.Float64),
        n_in=(~out).sum().cast(pl.Float64),
        usd_out=usd.filter(out).sum(),
        usd_in=usd.filter(~out).sum(),
        n_counterparties_out=pl.col("cp").filter(out & (pl.col("cp") >= 0)).n_unique().cast(pl.Float64),
        n_counterparties_in=pl.col("cp").filter(~out & (pl.col("cp") >= 0)).n_unique().cast(pl.Float64),
        active_days=pl.col("day").n_unique().cast(pl.Float64),
        max_txn_usd=usd.max(),
        round_amount_share=((usd % 100.0).abs() < 0.005).mean(),
        cash_in_usd=usd.filter(cash & ~out).sum(),
        cash_out_usd=usd.filter(cash & out).sum(),
        n_cash=cash.sum().cast(pl.Float64),
        n_cash_near_ctr=near.sum().cast(pl.Float64),
        n_cash_locations=pl.col("area").filter(cash & (pl.col("area") >= 0)).n_unique().cast(pl.Float64),
        total=usd.sum(),
        cross_usd=usd.filter(pl.col("cross")).sum(),
        hr_usd=usd.filter(pl.col("hr")).sum(),
        crypto_usd=usd.filter(pl.col("crypto")).sum(),
        mixer_usd=tagged(TAG_MIXER),
        bridge_usd=tagged(TAG_BRIDGE),
        exchange_usd=tagged(TAG_EXCHANGE),
        sanctioned_wallet_usd=tagged(TAG_SANCTIONED),
    )
    hi = pl.max_horizontal("usd_in", "usd_out")
    safe_total = pl.when(pl.col("total") > 0).then(pl.col("total")).otherwise(None)
    return agg.with_columns(
        flow_through_ratio=pl.when(hi > 0).then(pl.min_horizontal("usd_in", "usd_out") / hi).otherwise(0.0),
        cash_near_ctr_share=pl.when(pl.col("n_cash") > 0).then(pl.col("n_cash_near_ctr") / pl.col("n_cash"))
        .otherwise(0.0),
        cross_border_share=(pl.col("cross_usd") / safe_total).fill_null(0.0).clip(0.0, 1.0),
        high_risk_share=(pl.col("hr_usd") / safe_total).fill_null(0.0).clip(0.0, 1.0),
    ).select("code", *BEHAVIOUR_COLUMNS).sort("code")
