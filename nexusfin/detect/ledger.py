"""The per-account arrays every detector reads, built once and shared.

A :class:`Ledger` holds one detection window of transactions as flat numpy columns (codes instead
of strings) plus two CSR indexes sorted by time: the rows each account sent (``out``) and the
rows each account received (``in``). Account codes are ordered by owner, so the accounts of one
person form a contiguous block (``owner_ptr``): person-level rules read a block, not a join.

A ledger may cover one *partition* of the accounts (``partition=(i, n)``): it then holds every row
that touches an account (or conductor) of the partition, and ``owned`` marks the accounts and
parties whose alerts this partition emits. Running the partitions separately and concatenating
their alerts gives the same alerts as one ledger over everything; this is how the kernels can
later run on a distributed engine unchanged.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from nexusfin.contracts import contract, vocabulary
from nexusfin.detect._numba import njit, pnjit, prange

__all__ = [
    "CHANNELS",
    "TAG_BRIDGE",
    "TAG_EXCHANGE",
    "TAG_MIXER",
    "TAG_SANCTIONED",
    "TXN_TYPES",
    "Ledger",
    "LedgerInputError",
    "build_ledger",
    "build_ledger_from_parquet",
    "code_of",
]

_TX = contract("transactions")
CHANNELS: tuple[str, ...] = tuple(_TX.column("channel").allowed)
TXN_TYPES: tuple[str, ...] = tuple(_TX.column("txn_type").allowed)
CHAINS: tuple[str, ...] = tuple(_TX.column("chain").allowed)
ACCOUNT_TYPES: tuple[str, ...] = tuple(contract("accounts").column("account_type").allowed)
COUNTRIES: tuple[str, ...] = tuple(sorted(vocabulary("iso3166_alpha2")))

HOUR_US = 3_600_000_000  # ts is microseconds since the epoch, UTC
DAY_US = 24 * HOUR_US

# the integer codes kernels compare (one place, derived from the contract's allowed values)
CASH = CHANNELS.index("cash")
CRYPTO = CHANNELS.index("crypto")
DEPOSIT = TXN_TYPES.index("deposit")
WITHDRAWAL = TXN_TYPES.index("withdrawal")
EXCHANGE_SELL = TXN_TYPES.index("exchange_sell")
EXCHANGE_BUY = TXN_TYPES.index("exchange_buy")

TAG_MIXER, TAG_BRIDGE, TAG_EXCHANGE, TAG_SANCTIONED = 1, 2, 4, 8
_TAG_BITS = {"mixer": TAG_MIXER, "bridge": TAG_BRIDGE, "exchange": TAG_EXCHANGE, "sanctioned": TAG_SANCTIONED}

TRANSACTION_COLUMNS = (
    "txn_id", "ts", "src_account", "dst_account", "amount_usd", "channel", "txn_type",
    "src_country", "dst_country", "location", "conducted_by",
)


class LedgerInputError(ValueError):
    """The transactions or accounts handed to the detectors cannot be indexed."""


def code_of(vocab: tuple[str, ...], name: str) -> int:
    """The integer code kernels use for a channel, txn_type, chain, account type or country."""
    try:
        return vocab.index(name)
    except ValueError:
        raise LedgerInputError(f"{name!r} is not one of {list(vocab)}") from None


@dataclass
class Ledger:
    """Flat columns of one detection window; see the module docstring."""

    # dictionaries (code -> value)
    account_ids: np.ndarray
    party_ids: np.ndarray
    areas: np.ndarray
    txn_ids: pl.Series
    # per account (index = account code)
    acct_owner: np.ndarray  # int32 party code
    acct_type: np.ndarray  # int8 code in ACCOUNT_TYPES
    acct_chain: np.ndarray  # int8 code in CHAINS, -1 for bank accounts
    acct_country: np.ndarray  # int16 code in COUNTRIES, -1 unknown
    acct_tags: np.ndarray  # int8 bit flags TAG_*
    acct_area: np.ndarray  # int32 code in areas of the account's home location, -1 unknown
    owner_ptr: np.ndarray  # int64[n_parties + 1]: accounts of party p are owner_ptr[p]:owner_ptr[p+1]
    # per row
    ts: np.ndarray  # int64 microseconds since the epoch, UTC
    usd: np.ndarray  # float64
    channel: np.ndarray  # int8 code in CHANNELS
    ttype: np.ndarray  # int8 code in TXN_TYPES
    src: np.ndarray  # int32 account code, -1 for the cash side
    dst: np.ndarray  # int32 account code, -1 for the cash side
    area: np.ndarray  # int32 code in areas (location before ':'), -1 none
    cond: np.ndarray  # int32 party code of the conductor, -1 none
    src_cc: np.ndarray  # int16 country code, -1 none
    dst_cc: np.ndarray  # int16 country code, -1 none
    # CSR indexes, rows sorted by ts within each account
    out_ptr: np.ndarray
    out_idx: np.ndarray
    in_ptr: np.ndarray
    in_idx: np.ndarray
    # which accounts / parties this partition reports on
    owned_accounts: np.ndarray = field(default=None)  # type: ignore[assignment]
    owned_parties: np.ndarray = field(default=None)  # type: ignore[assignment]
    partition: tuple[int, int] = (0, 1)

    @property
    def n_rows(self) -> int:
        return len(self.ts)

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_parties(self) -> int:
        return len(self.party_ids)

    def account_code(self, account_id: str) -> int:
        hit = np.flatnonzero(self.account_ids == account_id)
        if not len(hit):
            raise KeyError(account_id)
        return int(hit[0])


def _partition_of(ids: pl.Series, n: int) -> np.ndarray:
    """Stable partition number of each id (crc32, identical on every machine and engine)."""
    if n == 1:
        return np.zeros(len(ids), dtype=np.int32)
    return np.array([zlib.crc32(s.encode()) % n for s in ids.to_list()], dtype=np.int32)


def _codes(values: pl.Series, categories: pl.Series | _StringIndex, what: str) -> np.ndarray:
    """int32 codes of ``values`` in ``categories`` (null -> -1); unknown values are an error."""
    index = categories if isinstance(categories, _StringIndex) else _StringIndex(categories)
    codes = index.codes(values)
    if codes is not None:
        return codes
    categories = index.categories
    enum = pl.Enum(categories)
    try:
        coded = values.cast(enum)
    except pl.exceptions.InvalidOperationError:
        known = set(categories.to_list())
        bad = sorted({v for v in values.drop_nulls().unique().to_list() if v not in known})
        raise LedgerInputError(
            f"{len(bad)} {what} value(s) not in the accounts/parties reference, e.g. {bad[:5]}"
        ) from None
    return coded.to_physical().cast(pl.Int32).fill_null(-1).to_numpy()


def _small_codes(values: pl.Series, vocab: tuple[str, ...], what: str, dtype) -> np.ndarray:
    return _codes(values, pl.Series(vocab, dtype=pl.String), what).astype(dtype)


# -- string -> code lookups ------------------------------------------------------------------------
# Coding 10M account-id strings through a polars Enum cast took seconds; a hash table probed by a
# parallel kernel straight over Arrow's string-view buffers (ids of up to 12 bytes sit inline in
# the 16-byte view, so most lookups never leave it) takes a fraction of that. Same codes: a value's
# code is its position in the categories; anything the table does not know falls back to the
# polars path above, which reports it.
class _StringIndex:
    """Open-addressing hash table over a Series of distinct strings (code = position)."""

    def __init__(self, categories: pl.Series):
        self.categories = categories.cast(pl.String) if categories.dtype != pl.String else categories
        self._views = _string_views(self.categories)
        if self._views is None or self.categories.null_count():
            self._table = None
        else:
            self._table = _build_table(*self._views[:4])

    def codes(self, values: pl.Series) -> np.ndarray | None:
        """int32 codes (null -> -1), or None if some value is unknown (or the fast path is unavailable)."""
        if self._table is None:
            return None
        if values.dtype != pl.String:
            if values.dtype != pl.Null and not isinstance(values.dtype, (pl.Categorical, pl.Enum)):
                return None
            values = values.cast(pl.String)
        if len(values) == 0:
            return np.zeros(0, dtype=np.int32)
        if values.null_count() == len(values):
            return np.full(len(values), -1, dtype=np.int32)
        views = _string_views(values)
        if views is None:
            return None
        out, n_unknown = _probe(self._table, *self._views[:4], *views)
        return None if n_unknown else out


def _string_views(series: pl.Series):
    """The views of a String Series, as one chunk (rechunking copies the 16-byte views only)."""
    import pyarrow as pa

    arr = series.rechunk().to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks != 1:
            return None
        arr = arr.chunk(0)
    if not pa.types.is_string_view(arr.type):
        return None
    return _views_of(arr)


def _views_of(arr):
    """(int32 view words, view bytes, long-string bytes, buffer starts, validity) of a string-view array."""
    n, off = len(arr), arr.offset
    bufs = arr.buffers()
    if n == 0 or bufs[1] is None:
        return np.zeros(0, np.int32), np.zeros(0, np.uint8), np.zeros(1, np.uint8), np.zeros(1, np.int64), \
            np.zeros(0, np.bool_)
    raw = np.frombuffer(bufs[1], dtype=np.uint8)[16 * off : 16 * (off + n)]
    words = raw.view(np.int32)
    data_bufs = [np.frombuffer(b, dtype=np.uint8) for b in bufs[2:] if b is not None]
    sizes = np.array([len(b) for b in data_bufs], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(sizes) else np.zeros(1, np.int64)
    data = np.concatenate(data_bufs) if len(data_bufs) > 1 else (data_bufs[0] if data_bufs else np.zeros(1, np.uint8))
    if bufs[0] is None or arr.null_count == 0:
        valid = np.ones(0, dtype=np.bool_)  # empty: every value is valid
    else:
        bits = np.unpackbits(np.frombuffer(bufs[0], dtype=np.uint8), bitorder="little")
        valid = bits[off : off + n].astype(np.bool_)
    if arr.null_count == n:
        valid = np.zeros(n, dtype=np.bool_)
    return words, raw, data, starts, valid


@njit
def _fmix(h):
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit
def _str_key(words, raw, data, starts, i):
    """(length, a, b, hash) of string ``i``: a string of up to 12 bytes is its zero-padded bytes
    (a, b); a longer one is (4-byte prefix, 0) and its hash covers every byte."""
    n = np.int64(words[4 * i])
    if n <= 12:
        w0 = np.int64(words[4 * i + 1]) & 0xFFFFFFFF
        w1 = np.int64(words[4 * i + 2]) & 0xFFFFFFFF
        w2 = np.int64(words[4 * i + 3]) & 0xFFFFFFFF
        if n < 4:  # views need not zero the bytes past the string: do it here
            w0 &= (np.int64(1) << (8 * n)) - 1
        if n < 8:
            w1 &= (np.int64(1) << (8 * max(n - 4, 0))) - 1
        if n < 12:
            w2 &= (np.int64(1) << (8 * max(n - 8, 0))) - 1
        a = w0 | (w1 << 32)
        b = w2 | (n << 32)
        h = _fmix(np.uint64(a) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(b))
    else:
        a = np.int64(words[4 * i + 1]) & 0xFFFFFFFF
        b = n << 32
        h = np.uint64(14695981039346656037)
        base = starts[words[4 * i + 2]] + np.int64(words[4 * i + 3] & 0x7FFFFFFF)
        for k in range(n):
            h = (h ^ np.uint64(data[base + k])) * np.uint64(1099511628211)
        h = _fmix(h)
    return n, a, b, h


@njit
def _long_eq(aw, ad, ast, i, bw, bd, bst, j, n):
    pa = ast[aw[4 * i + 2]] + np.int64(aw[4 * i + 3] & 0x7FFFFFFF)
    pb = bst[bw[4 * j + 2]] + np.int64(bw[4 * j + 3] & 0x7FFFFFFF)
    for k in range(n):  # noqa: SIM110 (a generator does not compile in numba)
        if ad[pa + k] != bd[pb + k]:
            return False
    return True


@njit
def _build_table(words, raw, data, starts):
    """Slots of 4 int64 (code, a, b, spare): a probe usually touches one cache line and, for
    strings of up to 12 bytes, never the categories themselves."""
    n = len(words) // 4
    size = 16
    while size < 2 * n:
        size *= 2
    table = np.full((size, 4), -1, dtype=np.int64)
    mask = np.uint64(size - 1)
    for i in range(n):
        _, a, b, h = _str_key(words, raw, data, starts, i)
        p = h & mask
        while table[p, 0] >= 0:
            p = (p + np.uint64(1)) & mask
        table[p, 0], table[p, 1], table[p, 2] = i, a, b
    return table


@pnjit
def _probe(table, cw, cr, cd, cst, words, raw, data, starts, valid):
    n_rows = len(words) // 4
    out = np.empty(n_rows, dtype=np.int32)
    mask = np.uint64(len(table) - 1)
    all_valid = len(valid) == 0
    unknown = 0
    for i in prange(n_rows):
        if not all_valid and not valid[i]:
            out[i] = -1
            continue
        n, a, b, h = _str_key(words, raw, data, starts, i)
        p = h & mask
        code = -2
        while table[p, 0] >= 0:
            if table[p, 1] == a and table[p, 2] == b:
                c = table[p, 0]
                if n <= 12 or _long_eq(cw, cd, cst, c, words, data, starts, i, n):
                    code = c
                    break
            p = (p + np.uint64(1)) & mask
        out[i] = code
        if code == -2:
            unknown += 1
    return out, unknown


def build_ledger(
    transactions: pl.DataFrame | pl.LazyFrame,
    accounts: pl.DataFrame,
    address_tags: pl.DataFrame | None = None,
    *,
    partition: tuple[int, int] = (0, 1),
) -> Ledger:
    """Index one window of transactions for the detectors.

    ``transactions`` follows the transactions contract (extra columns are ignored);
    ``accounts`` the accounts contract; ``address_tags`` (optional) tags wallets as mixer, bridge,
    exchange or sanctioned. Every account a row names must be in ``accounts``.
    """
    part_i, part_n = _check_partition(partition)
    if isinstance(transactions, pl.LazyFrame):
        transactions = transactions.select(TRANSACTION_COLUMNS).collect()
    missing = [c for c in TRANSACTION_COLUMNS if c not in transactions.columns]
    if missing:
        raise LedgerInputError(f"transactions lack column(s) {missing}")
    tx = transactions.select(TRANSACTION_COLUMNS)
    return _build(tx.get_column, accounts, address_tags, part_i, part_n)


def build_ledger_from_parquet(
    files: str | Path | list[str | Path],
    accounts: pl.DataFrame,
    address_tags: pl.DataFrame | None = None,
    *,
    partition: tuple[int, int] = (0, 1),
) -> Ledger:
    """The ledger :func:`build_ledger` makes of ``pl.read_parquet(files)``, read one column at a
    time: each string column is turned into codes and dropped before the next one is read, so the
    whole table of strings is never in memory at once (only ``txn_id`` is kept)."""
    part_i, part_n = _check_partition(partition)
    paths = [str(f) for f in files] if isinstance(files, (list, tuple)) else [str(files)]
    scan = pl.scan_parquet(paths)
    names = scan.collect_schema().names()
    missing = [c for c in TRANSACTION_COLUMNS if c not in names]
    if missing:
        raise LedgerInputError(f"transactions lack column(s) {missing}")
    return _build(lambda name: scan.select(name).collect().to_series(), accounts, address_tags, part_i, part_n)


def _check_partition(partition: tuple[int, int]) -> tuple[int, int]:
    part_i, part_n = partition
    if not (part_n >= 1 and 0 <= part_i < part_n):
        raise LedgerInputError(f"partition must be (i, n) with 0 <= i < n, not {partition}")
    return part_i, part_n


def _owned_array(a: np.ndarray, dtype) -> np.ndarray:
    """A C-contiguous, writeable array: kernels are compiled once per array type, and a read-only
    view (what polars hands out for a single-chunk column) would be a second type, compiled again."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def _build(column: Callable[[str], pl.Series], accounts: pl.DataFrame, address_tags: pl.DataFrame | None,
           part_i: int, part_n: int) -> Ledger:
    """The ledger from a ``column(name) -> Series`` source; each column is fetched once, when needed."""
    for c in ("account_id", "owner_party_id", "account_type"):
        if c not in accounts.columns:
            raise LedgerInputError(f"accounts lack column {c!r}")
    usd_col, ts_col = column("amount_usd"), column("ts")
    if usd_col.null_count() or ts_col.null_count():
        raise LedgerInputError("transactions have null ts or amount_usd")
    usd = usd_col.to_numpy().astype(np.float64, copy=False)
    ts = ts_col.dt.cast_time_unit("us").to_physical().to_numpy()
    del usd_col, ts_col

    # parties: account owners and conductors; accounts ordered by owner so a person is one block
    acc = accounts.select(
        "account_id",
        "owner_party_id",
        "account_type",
        pl.col("country") if "country" in accounts.columns else pl.lit(None, pl.String).alias("country"),
        pl.col("chain") if "chain" in accounts.columns else pl.lit(None, pl.String).alias("chain"),
        pl.col("address") if "address" in accounts.columns else pl.lit(None, pl.String).alias("address"),
        pl.col("home_location") if "home_location" in accounts.columns
        else pl.lit(None, pl.String).alias("home_location"),
    )
    if acc.get_column("account_id").is_duplicated().any():
        raise LedgerInputError("accounts has duplicate account_id values")
    conducted_by = column("conducted_by")
    parties = (
        pl.concat([acc.get_column("owner_party_id"), conducted_by.drop_nulls()])
        .unique()
        .sort()
    )
    acc = acc.sort("owner_party_id", "account_id")
    account_ids = acc.get_column("account_id")
    party_index = _StringIndex(parties)
    acct_owner = _codes(acc.get_column("owner_party_id"), party_index, "owner_party_id")
    owner_ptr = np.zeros(len(parties) + 1, dtype=np.int64)
    np.add.at(owner_ptr, acct_owner + 1, 1)
    owner_ptr = np.cumsum(owner_ptr)

    tags = np.zeros(len(acc), dtype=np.int8)
    if address_tags is not None and len(address_tags):
        bits = (
            address_tags.filter(pl.col("category").is_in(list(_TAG_BITS)))
            .select("address", "chain", pl.col("category").replace_strict(_TAG_BITS, return_dtype=pl.Int8).alias("bit"))
            .group_by("address", "chain")
            .agg(pl.col("bit").unique())
        )
        hit = acc.with_row_index("code").join(bits, on=["address", "chain"], how="inner")
        for code, bl in zip(hit.get_column("code").to_list(), hit.get_column("bit").to_list(), strict=True):
            tags[code] = np.bitwise_or.reduce(np.array(bl, dtype=np.int8))
    acct_type = _small_codes(acc.get_column("account_type"), ACCOUNT_TYPES, "account_type", np.int8)
    tags[acct_type == ACCOUNT_TYPES.index("exchange")] |= TAG_EXCHANGE

    # partition filter: keep every row touching an owned party (as owner of either side or conductor)
    account_index = _StringIndex(account_ids)
    src = _codes(column("src_account"), account_index, "src_account")
    dst = _codes(column("dst_account"), account_index, "dst_account")
    cond = _codes(conducted_by, party_index, "conducted_by")
    del conducted_by, account_index, party_index
    owned_parties = _partition_of(parties, part_n) == part_i
    keep = None
    if part_n > 1:
        keep = (
            ((src >= 0) & owned_parties[acct_owner[np.maximum(src, 0)]])
            | ((dst >= 0) & owned_parties[acct_owner[np.maximum(dst, 0)]])
            | ((cond >= 0) & owned_parties[np.maximum(cond, 0)])
        )
        src, dst, cond, ts, usd = src[keep], dst[keep], cond[keep], ts[keep], usd[keep]
        keep_series = pl.Series(keep)

    def kept(name: str) -> pl.Series:
        values = column(name)
        return values if keep is None else values.filter(keep_series)

    # areas: split only the rows that have a location (cash), not the whole column
    location = kept("location")
    has_loc = location.is_not_null()
    area_str = location.filter(has_loc).str.split_exact(":", 1).struct.field("field_0")
    home_area = acc.get_column("home_location").str.split_exact(":", 1).struct.field("field_0")
    areas = pl.concat([area_str, home_area]).drop_nulls().unique().sort()
    area = np.full(len(location), -1, dtype=np.int32)
    area[has_loc.to_numpy()] = _codes(area_str, areas, "location area")
    del location, has_loc, area_str
    channel = _small_codes(kept("channel"), CHANNELS, "channel", np.int8)
    ttype = _small_codes(kept("txn_type"), TXN_TYPES, "txn_type", np.int8)
    src_cc = _small_codes(kept("src_country"), COUNTRIES, "src_country", np.int16)
    dst_cc = _small_codes(kept("dst_country"), COUNTRIES, "dst_country", np.int16)
    txn_ids = kept("txn_id")

    n_acc = len(acc)
    ts = _owned_array(ts, np.int64)
    with ThreadPoolExecutor(2) as pool:  # the kernels release the GIL: both indexes at once
        out_csr = pool.submit(_csr, src, ts, n_acc)
        in_ptr, in_idx = _csr(dst, ts, n_acc)
        out_ptr, out_idx = out_csr.result()
    return Ledger(
        account_ids=account_ids.to_numpy(),
        party_ids=parties.to_numpy(),
        areas=areas.to_numpy(),
        txn_ids=txn_ids,
        acct_owner=acct_owner,
        acct_type=acct_type,
        acct_chain=_small_codes(acc.get_column("chain"), CHAINS, "chain", np.int8),
        acct_country=_small_codes(acc.get_column("country"), COUNTRIES, "country", np.int16),
        acct_tags=tags,
        acct_area=_codes(home_area, areas, "home location area"),
        owner_ptr=owner_ptr,
        ts=ts,
        usd=_owned_array(usd, np.float64),
        channel=channel,
        ttype=ttype,
        src=src,
        dst=dst,
        area=area,
        cond=cond,
        src_cc=src_cc,
        dst_cc=dst_cc,
        out_ptr=out_ptr,
        out_idx=out_idx,
        in_ptr=in_ptr,
        in_idx=in_idx,
        owned_accounts=owned_parties[acct_owner] if len(acct_owner) else np.zeros(0, bool),
        owned_parties=owned_parties,
        partition=(part_i, part_n),
    )


def _csr(key: np.ndarray, ts: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by ``key`` (-1 skipped), each group sorted by ``ts`` (stable)."""
    if len(key) >= 2**31 - 1:
        raise LedgerInputError("a ledger holds at most 2**31 - 2 rows; use more partitions")
    return _csr_kernel(key.astype(np.int32, copy=False), ts, n_keys)


@njit
def _csr_kernel(key, ts, n_keys):
    n = len(key)
    in_time_order = True  # rows already in time order (the usual case): every group comes out sorted
    for i in range(1, n):
        if ts[i] < ts[i - 1]:
            in_time_order = False
            break
    ptr = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(n):
        if key[i] >= 0:
            ptr[key[i] + 1] += 1
    for k in range(n_keys):
        ptr[k + 1] += ptr[k]
    fill = ptr[:-1].copy()
    idx = np.empty(ptr[n_keys], dtype=np.int32)
    for i in range(n):  # counting sort keeps input order within a key
        k = key[i]
        if k >= 0:
            idx[fill[k]] = i
            fill[k] += 1
    if in_time_order:
        return ptr, idx
    for k in range(n_keys):  # then time order within each key (usually already sorted)
        lo, hi = ptr[k], ptr[k + 1]
        sorted_ = True
        for j in range(lo + 1, hi):
            if ts[idx[j]] < ts[idx[j - 1]]:
                sorted_ = False
                break
        if not sorted_:
            seg = idx[lo:hi].copy()
            order = np.argsort(ts[seg], kind="mergesort")
            for j in range(hi - lo):
                idx[lo + j] = seg[order[j]]
    return ptr, idx


def eligible_accounts(ledger: Ledger, excluded_types: tuple[str, ...]) -> np.ndarray:
    """Owned accounts not in a segment monitored by its own scenarios (e.g. licensed MSBs)."""
    codes = [ACCOUNT_TYPES.index(t) for t in excluded_types if t in ACCOUNT_TYPES]
    return ledger.owned_accounts & ~np.isin(ledger.acct_type, codes)
