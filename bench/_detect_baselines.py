"""Plain DuckDB SQL and polars formulations of three detection rules, the baselines that
bench/bench_detect.py measures the numba kernels against.

Every formulation returns ledger-row numbers (the row's position in the transactions file), not
txn_id strings, exactly like the kernels; the bench maps them to the same keys and checks that
every implementation returns the same result set.

* structuring (daily rule, per person): cash deposits of at most the CTR threshold into an account
  the person owns, plus the ones the person conducted into accounts of others; at least
  ``min_daily`` of them on one UTC day adding up to more than the threshold. Deposits into
  accounts of an excluded type (filers such as licensed MSBs) are not aggregated.
* rolling: for every credited row, count and USD sum of the credited account's rows with ts in
  ``[ts - window, ts]`` (peers with the same ts included): a RANGE window / ``rolling(...)``.
* pass-through pairs at one account: an in-row from another account (>= ``min_usd``) and an
  out-row of that account, ``ts_in <= ts_out <= ts_in + T``, ``lo <= usd_out / usd_in <= hi``,
  neither row crypto. An equi-join on (account, bucket of width T): an out-row of the window lies
  in the in-row's bucket or the next one, so bucket ``b`` joins ``b`` and ``b + 1`` (each pair is
  found exactly once), then the time and ratio predicates filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class Rules:
    ctr_threshold_usd: float = 10_000.0
    min_daily_deposits: int = 2
    excluded_deposit_account_types: tuple[str, ...] = ()
    rolling_days: int = 7
    pass_hours: float = 24.0
    ratio_low: float = 0.8
    ratio_high: float = 1.0
    min_amount_usd: float = 3000.0

    @property
    def pass_us(self) -> int:
        return round(self.pass_hours * HOUR_US)


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")" if values else "('')"


# -- DuckDB ---------------------------------------------------------------------------------------
def duckdb_load(con, tx_path: str, accounts_path: str) -> None:
    """Read the Parquet files into in-memory tables (``rowid`` = position in the file)."""
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        "CREATE OR REPLACE TABLE tx AS SELECT ts, src_account, dst_account, amount_usd, channel, txn_type, "
        f"conducted_by FROM read_parquet('{tx_path}')"
    )
    con.execute(
        "CREATE OR REPLACE TABLE acc AS SELECT account_id, owner_party_id, account_type "
        f"FROM read_parquet('{accounts_path}')"
    )


def duckdb_structuring(con, r: Rules):
    return con.sql(f"""
        WITH dep AS (
            SELECT epoch_us(t.ts) // {DAY_US} AS day, t.amount_usd, a.owner_party_id AS owner, t.conducted_by
            FROM tx t JOIN acc a ON a.account_id = t.dst_account
            WHERE t.channel = 'cash' AND t.txn_type = 'deposit' AND t.amount_usd <= {r.ctr_threshold_usd!r}
              AND a.account_type NOT IN {_sql_list(r.excluded_deposit_account_types)}
        ), person_rows AS (
            SELECT owner AS person, day, amount_usd FROM dep
            UNION ALL
            SELECT conducted_by AS person, day, amount_usd FROM dep
            WHERE conducted_by IS NOT NULL AND conducted_by <> owner
        )
        SELECT person, day, sum(amount_usd) AS total_usd, count(*) AS n_deposits
        FROM person_rows GROUP BY person, day
        HAVING count(*) >= {int(r.min_daily_deposits)} AND sum(amount_usd) > {r.ctr_threshold_usd!r}
    """).to_arrow_table()


def duckdb_rolling(con, r: Rules):
    return con.sql(f"""
        SELECT rowid AS row, count(*) OVER w AS n, sum(amount_usd) OVER w AS sum_usd
        FROM tx WHERE dst_account IS NOT NULL
        WINDOW w AS (PARTITION BY dst_account ORDER BY ts
                     RANGE BETWEEN INTERVAL {int(r.rolling_days)} DAYS PRECEDING AND CURRENT ROW)
    """).to_arrow_table()


def duckdb_pass_through(con, r: Rules):
    t = r.pass_us
    lo, hi = float(r.ratio_low), float(r.ratio_high)
    min_out = lo * r.min_amount_usd  # no out-row below lo * min_usd can pair: pushed down
    return con.sql(f"""
        WITH i AS (
            SELECT rowid AS r_in, dst_account AS acct, epoch_us(ts) AS t, amount_usd AS u, epoch_us(ts) // {t} AS b
            FROM tx
            WHERE src_account IS NOT NULL AND dst_account IS NOT NULL AND channel <> 'crypto'
              AND amount_usd >= {float(r.min_amount_usd)!r}
        ), o AS (
            SELECT rowid AS r_out, src_account AS acct, epoch_us(ts) AS t, amount_usd AS u, epoch_us(ts) // {t} AS b
            FROM tx WHERE src_account IS NOT NULL AND channel <> 'crypto' AND amount_usd >= {min_out!r}
        ), ib AS (
            SELECT r_in, acct, t, u, b FROM i UNION ALL SELECT r_in, acct, t, u, b + 1 FROM i
        )
        SELECT ib.r_in, o.r_out
        FROM ib JOIN o ON o.acct = ib.acct AND o.b = ib.b
        WHERE o.r_out <> ib.r_in AND o.t >= ib.t AND o.t <= ib.t + {t}
          AND o.u >= CAST({lo!r} AS DOUBLE) * ib.u AND o.u <= CAST({hi!r} AS DOUBLE) * ib.u
    """).to_arrow_table()


# -- polars ---------------------------------------------------------------------------------------
POLARS_COLUMNS = ("ts", "src_account", "dst_account", "amount_usd", "channel", "txn_type", "conducted_by")


def polars_load(tx_path: str, accounts_path: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    tx = pl.read_parquet(tx_path, columns=list(POLARS_COLUMNS)).with_row_index("row")
    acc = pl.read_parquet(accounts_path, columns=["account_id", "owner_party_id", "account_type"])
    return tx, acc


def polars_structuring(tx: pl.DataFrame, acc: pl.DataFrame, r: Rules) -> pl.DataFrame:
    thr = float(r.ctr_threshold_usd)
    dep = (
        tx.lazy()
        .filter((pl.col("channel") == "cash") & (pl.col("txn_type") == "deposit") & (pl.col("amount_usd") <= thr))
        .join(acc.lazy(), left_on="dst_account", right_on="account_id", how="inner")
        .filter(~pl.col("account_type").is_in(list(r.excluded_deposit_account_types)))
        .select(
            (pl.col("ts").dt.epoch("us") // DAY_US).alias("day"), "amount_usd",
            pl.col("owner_party_id").alias("owner"), "conducted_by",
        )
    )
    rows = pl.concat([
        dep.select(pl.col("owner").alias("person"), "day", "amount_usd"),
        dep.filter(pl.col("conducted_by").is_not_null() & (pl.col("conducted_by") != pl.col("owner")))
        .select(pl.col("conducted_by").alias("person"), "day", "amount_usd"),
    ])
    return (
        rows.group_by("person", "day")
        .agg(pl.col("amount_usd").sum().alias("total_usd"), pl.len().alias("n_deposits"))
        .filter((pl.col("n_deposits") >= r.min_daily_deposits) & (pl.col("total_usd") > thr))
        .collect()
    )


def polars_rolling(tx: pl.DataFrame, r: Rules) -> pl.DataFrame:
    credited = tx.lazy().filter(pl.col("dst_account").is_not_null()).select("row", "dst_account", "ts", "amount_usd")
    credited = credited.sort("dst_account", "ts", maintain_order=True).collect()
    stats = credited.rolling(
        index_column="ts", period=f"{int(r.rolling_days)}d", closed="both", group_by="dst_account"
    ).agg(pl.len().alias("n"), pl.col("amount_usd").sum().alias("sum_usd"))
    # the result has one row per input row, in the (sorted) input order: the row numbers line up
    return stats.select(credited.get_column("row"), "n", "sum_usd")


def polars_pass_through(tx: pl.DataFrame, r: Rules) -> pl.DataFrame:
    t = r.pass_us
    lo, hi = float(r.ratio_low), float(r.ratio_high)
    lf = tx.lazy().with_columns(pl.col("ts").dt.epoch("us").alias("t"))
    i = lf.filter(
        pl.col("src_account").is_not_null() & pl.col("dst_account").is_not_null()
        & (pl.col("channel") != "crypto") & (pl.col("amount_usd") >= float(r.min_amount_usd))
    ).select(pl.col("row").alias("r_in"), pl.col("dst_account").alias("acct"), "t",
             pl.col("amount_usd").alias("u"), (pl.col("t") // t).alias("b"))
    o = lf.filter(
        pl.col("src_account").is_not_null() & (pl.col("channel") != "crypto")
        & (pl.col("amount_usd") >= lo * float(r.min_amount_usd))
    ).select(pl.col("row").alias("r_out"), pl.col("src_account").alias("acct"), pl.col("t").alias("t_out"),
             pl.col("amount_usd").alias("u_out"), (pl.col("t") // t).alias("b"))
    ib = pl.concat([i, i.with_columns(pl.col("b") + 1)])
    return (
        ib.join(o, on=["acct", "b"], how="inner")
        .filter(
            (pl.col("r_out") != pl.col("r_in")) & (pl.col("t_out") >= pl.col("t")) & (pl.col("t_out") <= pl.col("t") + t)
            & (pl.col("u_out") >= lo * pl.col("u")) & (pl.col("u_out") <= hi * pl.col("u"))
        )
        .select("r_in", "r_out")
        .collect()
    )
