"""A data root (as ``nexusfin import`` or ``nexusfin generate`` write it) as time-sorted arrays.

Transactions come from ``landing/transactions/`` (one file per day), accounts (owner, bank)
from ``landing/reference/accounts.parquet`` when present, labels from
``truth/transaction_labels/`` (``label == "suspicious"`` is the positive class; the typology of
its scenario names the pattern, ``unattributed`` for AMLworld rows in no pattern block).

Rows are sorted by ``ts`` only; rows sharing a timestamp keep the order in which they were read
(every feature is independent of that order, see ``kernels``). The ``txn_id`` is carried for
reporting and never becomes a feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from nexusfin.contracts import contract
from nexusfin.layout import DataRoot

COLUMNS = ("txn_id", "ts", "src_account", "dst_account", "amount", "currency", "amount_usd", "channel",
           "txn_type", "memo")


class DataError(ValueError):
    """The data root cannot be evaluated (no transactions, no labels, ...)."""


@dataclass
class TxnTable:
    txn_id: pl.Series  # for reporting only
    ts: np.ndarray  # int64 microseconds since the epoch, non-decreasing
    src: np.ndarray  # int64 account codes 0..n_accounts-1
    dst: np.ndarray
    amount: np.ndarray  # float64, in the paid currency
    amount_usd: np.ndarray  # float64
    pay_ccy: np.ndarray  # int64 category codes (index into ccy_names)
    recv_ccy: np.ndarray
    channel: np.ndarray  # int64 codes (index into channel_names)
    txn_type: np.ndarray
    same_owner: np.ndarray  # int8: 1 both accounts belong to one party, 0 not, -1 unknown
    same_bank: np.ndarray  # int8 likewise
    label: np.ndarray  # int8: 1 suspicious
    typology: pl.Series  # String; null for negatives
    n_accounts: int
    ccy_names: list[str]
    channel_names: list[str]
    txn_type_names: list[str]

    def __len__(self) -> int:
        return len(self.ts)


def _codes(col: pl.Series) -> tuple[np.ndarray, list[str]]:
    names = sorted(col.drop_nulls().unique().to_list())
    codes = col.cast(pl.Enum(names)).to_physical().fill_null(len(names)).to_numpy().astype(np.int64)
    return codes, names


def read_transactions(root: DataRoot) -> pl.DataFrame:
    days = root.landing_days()
    if not days:
        raise DataError(f"no landing transaction files under {root.landing_transactions}")
    files = list(days.values())
    if all(p.suffix == ".parquet" for p in files):
        return pl.scan_parquet([str(p) for p in files]).select(COLUMNS).collect()
    c = contract("transactions")
    return pl.concat([c.read(p).select(COLUMNS) for p in files])


def read_labels(root: DataRoot) -> pl.DataFrame:
    """txn_id, typology of every suspicious transaction (the first scenario's when several)."""
    files = sorted((root.truth / "transaction_labels").glob("*.parquet"))
    if not files:
        raise DataError(f"no ground truth under {root.truth / 'transaction_labels'} (labels are needed to "
                        "train and to evaluate)")
    lab = pl.scan_parquet([str(p) for p in files]).select("txn_id", "scenario_id", "typology", "label").collect()
    return (lab.filter(pl.col("label") == "suspicious").sort("txn_id", "scenario_id")
            .unique("txn_id", keep="first", maintain_order=True).select("txn_id", "typology"))


def load(root: str | Path) -> TxnTable:
    """The transactions of a data root, sorted by time, coded for the kernels, with labels."""
    root = DataRoot(root)
    tx = read_transactions(root)
    if tx.height == 0:
        raise DataError(f"no transactions under {root.landing_transactions}")
    tx = tx.sort("ts", maintain_order=True)
    lab = read_labels(root)
    tx = tx.join(lab, on="txn_id", how="left", maintain_order="left")
    # account codes over both sides; a missing side (cash) becomes a phantom account of its own
    ids = pl.concat([tx.get_column("src_account"), tx.get_column("dst_account")]).drop_nulls().unique().sort()
    enum = pl.Enum(ids.to_list())
    n_known = len(ids)
    n = tx.height
    src, dst = (np.array(tx.get_column(c).cast(enum).to_physical().cast(pl.Int64).fill_null(-1).to_numpy(),
                         dtype=np.int64) for c in ("src_account", "dst_account"))
    nxt = n_known
    for side in (src, dst):
        missing = np.flatnonzero(side < 0)
        side[missing] = nxt + np.arange(len(missing))
        nxt += len(missing)
    n_accounts = nxt
    # owner and bank of each known account, when the reference table is there
    same_owner = np.full(n, -1, np.int8)
    same_bank = np.full(n, -1, np.int8)
    acc_file = root.reference_file("accounts")
    if acc_file.is_file():
        acc = pl.read_parquet(acc_file, columns=["account_id", "owner_party_id", "bank_id"])
        acc = acc.filter(pl.col("account_id").is_in(ids.implode()))
        code = acc.get_column("account_id").cast(enum).to_physical().to_numpy().astype(np.int64)
        owner_c, _ = _codes(acc.get_column("owner_party_id"))
        bank_c, _ = _codes(acc.get_column("bank_id"))
        owner = np.full(n_accounts, -1, np.int64)
        bank = np.full(n_accounts, -1, np.int64)
        owner[code] = owner_c
        bank[code] = bank_c
        for arr, out in ((owner, same_owner), (bank, same_bank)):
            a, b = arr[src], arr[dst]
            known = (a >= 0) & (b >= 0)
            out[known] = (a[known] == b[known]).astype(np.int8)
    pay = tx.get_column("currency")
    recv = tx.get_column("memo").str.extract(r"^received \S+ (\S+)$", 1).fill_null(pay)
    ccy_codes, ccy_names = _codes(pl.concat([pay, recv]))
    channel, channel_names = _codes(tx.get_column("channel"))
    txn_type, txn_type_names = _codes(tx.get_column("txn_type"))
    typology = tx.get_column("typology")
    return TxnTable(
        txn_id=tx.get_column("txn_id"),
        ts=tx.get_column("ts").dt.epoch("us").to_numpy().astype(np.int64),
        src=src, dst=dst,
        amount=tx.get_column("amount").to_numpy().astype(np.float64),
        amount_usd=tx.get_column("amount_usd").to_numpy().astype(np.float64),
        pay_ccy=ccy_codes[:n], recv_ccy=ccy_codes[n:],
        channel=channel, txn_type=txn_type,
        same_owner=same_owner, same_bank=same_bank,
        label=typology.is_not_null().to_numpy().astype(np.int8),
        typology=typology,
        n_accounts=n_accounts,
        ccy_names=ccy_names, channel_names=channel_names, txn_type_names=txn_type_names,
    )
