"""AMLworld-STYLE synthetic data, written in the exact IBM AMLworld file layouts.

    python -m synthetic.amlworld --out DIR --transactions N --seed S [--name HI-Synth]

writes ``DIR/<NAME>_Trans.csv``, ``DIR/<NAME>_accounts.csv`` and ``DIR/<NAME>_Patterns.txt`` as
Altman et al. (NeurIPS 2023) publish them: the transactions header with its two ``Account``
columns, timestamps ``2022/09/01 00:20``, currencies as words, the seven payment formats,
zero-padded bank ids in the transactions file (not in the accounts file), and laundering
attempts as ``BEGIN LAUNDERING ATTEMPT - <TYPE>: <detail>`` ... ``END LAUNDERING ATTEMPT - <TYPE>``
blocks whose rows are repeated verbatim from the transactions file.

This is NOT HI-Small (it cannot be downloaded here) and does not reproduce its simulator (an
agent-based world with illicit income). It imitates its *shape*:

* **Background** (about 99.9 % of rows): entities (individuals, corporations, partnerships,
  sole proprietorships) owning one or more accounts at banks of Zipf-distributed size;
  heavy-tailed send and receive activity (merchants receive a lot); each account has a short
  list of regular counterparties it pays again and again; self transfers (``Reinvestment``);
  15 currencies, cross-currency wires; card refunds (2-cycles); payment formats and amounts by
  relation.
* **Legitimate look-alikes** (labelled 0): payroll fan-outs (an employer pays the same
  employees every week, 3 to 80 of them, within minutes, ACH), invoice collections (fan-ins:
  a company's clients each pay once a week within two days), treasury sweeps around the
  accounts of one entity (cycles), escrow pass-throughs (in, then out again within hours).
* **Laundering** (``--laundering-rate``, default 0.1 % of rows, "HI"-like): the eight AMLworld
  pattern types with AMLworld-like parameters: FAN-OUT and FAN-IN up to 16-degree, CYCLE up
  to 10 hops, GATHER-SCATTER and SCATTER-GATHER up to 8-degree sides, BIPARTITE (2-5 x 2-5),
  STACK (three layers), RANDOM walks up to 10 hops; legs spread over minutes to days; mostly
  ACH; accounts drawn half from a small pool of criminal accounts (reused across attempts)
  and half from everyone (mules with ordinary activity of their own). A share of laundering
  rows (``--lone-share``, default 0.2) belongs to no pattern: single transfers from criminal
  or mule accounts, written to the transactions file only (AMLworld's unattributed rows).

Everything is vectorised numpy (patterns loop over a few hundred attempts); 1M rows take a few
seconds. Same config and seed, same bytes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from nexusfin.contracts import fx_usd_per_unit

# currency word (as AMLworld writes it) -> ISO code, and its share of accounts
CURRENCIES: dict[str, tuple[str, float]] = {
    "US Dollar": ("USD", 0.36),
    "Euro": ("EUR", 0.23),
    "Yuan": ("CNY", 0.06),
    "Yen": ("JPY", 0.05),
    "UK Pound": ("GBP", 0.05),
    "Rupee": ("INR", 0.04),
    "Ruble": ("RUB", 0.04),
    "Swiss Franc": ("CHF", 0.03),
    "Australian Dollar": ("AUD", 0.03),
    "Canadian Dollar": ("CAD", 0.03),
    "Mexican Peso": ("MXN", 0.02),
    "Brazil Real": ("BRL", 0.02),
    "Saudi Riyal": ("SAR", 0.01),
    "Shekel": ("ILS", 0.01),
    "Bitcoin": ("BTC", 0.02),
}
CCY_WORDS = list(CURRENCIES)
BTC = CCY_WORDS.index("Bitcoin")
FORMATS = ["Reinvestment", "Cheque", "Credit Card", "ACH", "Cash", "Wire", "Bitcoin"]
F_REINV, F_CHEQUE, F_CARD, F_ACH, F_CASH, F_WIRE, F_BTC = range(7)
# median amount (USD) per payment format in background traffic
FORMAT_MEDIAN_USD = np.array([2500.0, 1200.0, 80.0, 1800.0, 400.0, 12000.0, 900.0])

PATTERNS = {  # AMLworld type -> share of attempts
    "FAN-OUT": 0.17,
    "FAN-IN": 0.17,
    "CYCLE": 0.12,
    "GATHER-SCATTER": 0.12,
    "SCATTER-GATHER": 0.12,
    "BIPARTITE": 0.10,
    "STACK": 0.10,
    "RANDOM": 0.10,
}
ENTITY_KINDS = ["Individual", "Corporation", "Partnership", "Sole Proprietorship"]
ENTITY_SHARE = [0.80, 0.10, 0.04, 0.06]
BANK_NAMES = ["National Bank", "City Bank", "First Bank", "Savings Bank", "Trust Bank",
              "Credit Union", "Commercial Bank"]
TRANS_HEADER = ("Timestamp,From Bank,Account,To Bank,Account,Amount Received,Receiving Currency,"
                "Amount Paid,Payment Currency,Payment Format,Is Laundering")
ACCOUNTS_HEADER = "Bank Name,Bank ID,Account Number,Entity ID,Entity Name"
MIN_PER_DAY = 1440


@dataclass(frozen=True)
class AmlworldConfig:
    n_transactions: int = 1_000_000
    seed: int = 7
    name: str = "HI-Synth"
    days: int = 14
    start: datetime = datetime(2022, 9, 1)
    n_accounts: int | None = None  # default: n_transactions // 10 (AMLworld HI-Small: ~5M rows, ~0.5M accounts)
    laundering_rate: float = 0.001  # share of rows with Is Laundering = 1 ("HI"; LI sets are ~0.05 %)
    lone_share: float = 0.2  # share of laundering rows in no pattern block
    criminal_share: float = 0.004  # accounts in the pool that pattern attempts reuse
    payroll_share: float = 0.04  # share of rows in payroll fan-outs
    collection_share: float = 0.02  # share of rows in invoice-collection fan-ins
    sweep_share: float = 0.004  # share of rows in same-entity treasury sweeps (cycles)
    escrow_share: float = 0.01  # share of rows in escrow pass-throughs (two rows each)
    refund_share: float = 0.02  # share of card payments refunded (2-cycles)

    def accounts(self) -> int:
        return self.n_accounts if self.n_accounts else max(200, self.n_transactions // 10)

    def __post_init__(self) -> None:
        if self.n_transactions < 100:
            raise ValueError("n_transactions must be at least 100")
        if self.days < 2:
            raise ValueError("days must be at least 2")
        if not 0.0 < self.laundering_rate < 0.5:
            raise ValueError("laundering_rate must be in (0, 0.5)")
        if not 0.0 <= self.lone_share <= 1.0:
            raise ValueError("lone_share must be in [0, 1]")


@dataclass
class _Rows:
    """Columns of the rows generated so far (appended in parts, concatenated once)."""

    parts: dict[str, list[np.ndarray]] = field(default_factory=lambda: {
        k: [] for k in ("t", "src", "dst", "usd", "fmt", "recv", "label")})
    n: int = 0

    def add(self, t, src, dst, usd, fmt, recv=None, label=0) -> np.ndarray:
        t = np.asarray(t, dtype=np.int64)
        k = len(t)
        p = self.parts
        p["t"].append(t)
        p["src"].append(np.asarray(src, dtype=np.int64))
        p["dst"].append(np.asarray(dst, dtype=np.int64))
        p["usd"].append(np.asarray(usd, dtype=np.float64))
        p["fmt"].append(np.broadcast_to(np.asarray(fmt, dtype=np.int8), (k,)).copy())
        p["recv"].append(np.full(k, -1, np.int8) if recv is None else np.asarray(recv, dtype=np.int8))
        p["label"].append(np.full(k, label, np.int8))
        idx = np.arange(self.n, self.n + k)
        self.n += k
        return idx

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in self.parts.items()}


class _World:
    """Entities, banks, accounts, activity weights and regular counterparties."""

    def __init__(self, cfg: AmlworldConfig, rng: np.random.Generator) -> None:
        n = cfg.accounts()
        self.n = n
        # entities own 1..4 accounts (companies more often several)
        n_ent = max(10, int(n / 1.12))
        kind = rng.choice(len(ENTITY_KINDS), size=n_ent, p=ENTITY_SHARE)
        company = kind != 0
        per = np.where(company, 1 + rng.binomial(3, 0.25, n_ent), 1 + (rng.random(n_ent) < 0.08))
        ent = np.repeat(np.arange(n_ent), per)[:n]
        if len(ent) < n:  # top up with one-account individuals
            extra = np.arange(n_ent, n_ent + n - len(ent))
            kind = np.concatenate([kind, np.zeros(len(extra), kind.dtype)])
            ent = np.concatenate([ent, extra])
            n_ent += len(extra)
        self.ent, self.ent_kind, self.n_ent = ent, kind, n_ent
        self.company = company_acc = kind[ent] != 0
        # banks: Zipf-sized, integer ids, zero-padded differently in the transactions file
        n_banks = max(8, n // 25)
        bank_w = 1.0 / np.arange(1, n_banks + 1) ** 1.1
        self.bank = _draw(np.cumsum(bank_w), rng.random(n), rng=None)
        ids = np.concatenate([
            np.array([10, 70, 3, 12, 20, 1, 11, 220, 5, 15], np.int64)[: min(10, n_banks)],
            _distinct(rng, max(0, n_banks - 10), 21, 400_000, exclude={10, 70, 3, 12, 20, 1, 11, 220, 5, 15}),
        ])
        self.bank_id = ids
        width = rng.choice([3, 4, 5, 6, 7], size=n_banks, p=[0.35, 0.2, 0.15, 0.2, 0.1])
        self.bank_str = np.array([str(i).zfill(max(w, len(str(i)))) for i, w in zip(ids, width, strict=True)])
        self.bank_name = np.array([f"{BANK_NAMES[i % len(BANK_NAMES)]} #{b}" for i, b in enumerate(ids)])
        # account numbers: 9 hex digits, unique (a bijection of the index, then x16)
        self.number = np.array([f"{x:09X}" for x in _hexids(n, rng, 0x800000000, 27)])
        ent_hex = _hexids(n_ent, rng, 0x800000000, 27)
        self.ent_id = np.array([f"{x:09X}" for x in ent_hex])
        # currency per account; companies sometimes bank abroad in another currency
        p = np.array([v[1] for v in CURRENCIES.values()])
        self.ccy = rng.choice(len(CCY_WORDS), size=n, p=p / p.sum()).astype(np.int8)
        # activity: heavy-tailed send/receive weights; merchants receive a lot
        self.merchant = company_acc & (rng.random(n) < 0.3)
        self.out_w = rng.lognormal(0.0, 1.0, n) * np.where(company_acc, 3.0, 1.0)
        in_w = rng.lognormal(0.0, 1.0, n) * np.where(company_acc, 2.0, 1.0)
        in_w = np.where(self.merchant, in_w * 15.0 * (1.0 + rng.pareto(1.3, n)), in_w)
        self.in_w = in_w
        self.out_cum = np.cumsum(self.out_w)
        self.in_cum = np.cumsum(self.in_w)
        self.scale = rng.lognormal(0.0, 0.6, n) * np.where(company_acc, 2.5, 1.0)
        # regular counterparties: up to 10 per account, drawn by receive weight
        self.n_regular = 1 + rng.binomial(9, 0.3, n)
        self.regular = _draw(self.in_cum, rng.random((n, 10)), rng=None)
        self.individuals = np.flatnonzero(~company_acc)
        self.companies = np.flatnonzero(company_acc & ~self.merchant)
        fx = fx_usd_per_unit()
        self.rate = np.array([fx[CURRENCIES[w][0]] for w in CCY_WORDS])

    def sample_in(self, rng: np.random.Generator, k: int) -> np.ndarray:
        return _draw(self.in_cum, rng.random(k), rng=None)

    def sample_out(self, rng: np.random.Generator, k: int) -> np.ndarray:
        return _draw(self.out_cum, rng.random(k), rng=None)


def _draw(cum: np.ndarray, u: np.ndarray, rng) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), len(cum) - 1).astype(np.int64)


def _hexids(n: int, rng: np.random.Generator, base: int, bits: int) -> np.ndarray:
    """n distinct integers base + 16 * perm(i) (an odd multiplier mod 2**bits is a bijection)."""
    mult = int(rng.integers(1 << 20, 1 << 26)) | 1
    off = int(rng.integers(0, 1 << bits))
    k = (np.arange(n, dtype=np.int64) * mult + off) & ((1 << bits) - 1)
    return base + 16 * k


def _distinct(rng: np.random.Generator, k: int, lo: int, hi: int, exclude: set[int]) -> np.ndarray:
    out: list[int] = []
    seen = set(exclude)
    while len(out) < k:
        for x in rng.integers(lo, hi, size=2 * (k - len(out)) + 8).tolist():
            if x not in seen:
                seen.add(x)
                out.append(x)
                if len(out) == k:
                    break
    return np.array(out, dtype=np.int64)


def _minute_of_day(rng: np.random.Generator, k: int) -> np.ndarray:
    """Business-hours heavy, some around the clock."""
    day = np.clip(rng.normal(13 * 60, 180, k), 0, MIN_PER_DAY - 1)
    anytime = rng.integers(0, MIN_PER_DAY, k)
    return np.where(rng.random(k) < 0.65, day, anytime).astype(np.int64)


def _days(rng: np.random.Generator, k: int, days: int) -> np.ndarray:
    w = np.array([0.6 if (d % 7) in (2, 3) else 1.0 for d in range(days)])  # 2022/09/03-04 a weekend
    return rng.choice(days, size=k, p=w / w.sum()).astype(np.int64)


# -- background ---------------------------------------------------------------------------------
def _background(w: _World, rows: _Rows, rng: np.random.Generator, k: int, cfg: AmlworldConfig) -> None:
    if k <= 0:
        return
    src = w.sample_out(rng, k)
    r = rng.random(k)
    self_t = r < 0.07
    regular = (r >= 0.07) & (r < 0.75)
    slot = (rng.random(k) * w.n_regular[src]).astype(np.int64)
    dst = np.where(regular, w.regular[src, slot], w.sample_in(rng, k))
    dst = np.where(self_t, src, dst)
    clash = (dst == src) & ~self_t
    self_t |= clash  # a draw of oneself is a reinvestment
    to_merchant = w.merchant[dst]
    fmt = np.where(
        to_merchant,
        rng.choice([F_CARD, F_CHEQUE, F_ACH, F_CASH, F_WIRE], size=k, p=[0.55, 0.2, 0.12, 0.1, 0.03]),
        rng.choice([F_CHEQUE, F_ACH, F_CASH, F_CARD, F_WIRE], size=k, p=[0.38, 0.22, 0.18, 0.14, 0.08]),
    ).astype(np.int8)
    fmt = np.where(self_t, F_REINV, fmt)
    fmt = np.where((w.ccy[src] == BTC) & ~self_t, F_BTC, fmt).astype(np.int8)
    usd = FORMAT_MEDIAN_USD[fmt] * rng.lognormal(0.0, 1.1, k) * w.scale[src]
    t = _days(rng, k, cfg.days) * MIN_PER_DAY + _minute_of_day(rng, k)
    cross = np.isin(fmt, [F_WIRE, F_ACH]) & (w.ccy[dst] != w.ccy[src]) & (rng.random(k) < 0.35) \
        & (w.ccy[dst] != BTC)
    recv = np.where(cross, w.ccy[dst], -1).astype(np.int8)
    rows.add(t, src, dst, usd, fmt, recv)
    # card refunds: the merchant pays (part of) it back within three days
    card = np.flatnonzero((fmt == F_CARD) & (rng.random(k) < cfg.refund_share))
    if len(card):
        back = t[card] + rng.integers(60, 3 * MIN_PER_DAY, len(card))
        ok = back < cfg.days * MIN_PER_DAY
        card, back = card[ok], back[ok]
        part = np.where(rng.random(len(card)) < 0.7, 1.0, rng.uniform(0.2, 0.9, len(card)))
        rows.add(back, dst[card], src[card], usd[card] * part,
                 np.where(rng.random(len(card)) < 0.8, F_CARD, F_ACH))


def _payroll(w: _World, rows: _Rows, rng: np.random.Generator, target: int, cfg: AmlworldConfig) -> int:
    """Employers pay the same employees every week (or every other week) within minutes."""
    made = 0
    T = cfg.days * MIN_PER_DAY
    while made < target and len(w.companies) and len(w.individuals):
        emp = int(rng.choice(w.companies))
        n = int(min(80, 3 + rng.geometric(1 / 12)))
        staff = rng.choice(w.individuals, size=n, replace=len(w.individuals) < n)
        staff = np.unique(staff)
        n = len(staff)
        period = int(rng.choice([7, 14], p=[0.7, 0.3])) * MIN_PER_DAY
        first = int(rng.integers(0, period)) // MIN_PER_DAY * MIN_PER_DAY + int(rng.integers(6 * 60, 18 * 60))
        salary = rng.lognormal(np.log(1500.0), 0.5, n) * (period / (7 * MIN_PER_DAY))
        fmt = F_ACH if rng.random() < 0.8 else F_CHEQUE
        for pay in range(first, T, period):
            t = pay + rng.integers(0, int(rng.integers(1, 40)), n)
            ok = t < T
            rows.add(t[ok], np.full(ok.sum(), emp), staff[ok],
                     (salary * (1 + rng.normal(0, 0.02, n)).clip(0.9, 1.1))[ok], fmt)
            made += int(ok.sum())
    return made


def _collections(w: _World, rows: _Rows, rng: np.random.Generator, target: int, cfg: AmlworldConfig) -> int:
    """A company's clients each pay their weekly invoice within two days of the billing day."""
    made = 0
    T = cfg.days * MIN_PER_DAY
    while made < target and len(w.companies):
        co = int(rng.choice(w.companies))
        n = int(min(40, 2 + rng.geometric(1 / 8)))
        clients = np.unique(w.sample_out(rng, n))
        clients = clients[clients != co]
        n = len(clients)
        if n == 0:
            continue
        bill = rng.lognormal(np.log(2500.0), 0.9, n)
        fmt = rng.choice([F_ACH, F_WIRE, F_CHEQUE], size=n, p=[0.6, 0.2, 0.2]).astype(np.int8)
        day0 = int(rng.integers(0, 7)) * MIN_PER_DAY
        for cyc in range(day0, T, 7 * MIN_PER_DAY):
            t = cyc + rng.integers(0, 2 * MIN_PER_DAY, n)
            keep = (t < T) & (rng.random(n) < 0.9)
            rows.add(t[keep], clients[keep], np.full(keep.sum(), co), bill[keep] * rng.uniform(0.8, 1.2, keep.sum()),
                     fmt[keep])
            made += int(keep.sum())
    return made


def _sweeps(w: _World, rows: _Rows, rng: np.random.Generator, target: int, cfg: AmlworldConfig) -> int:
    """Treasury sweeps around the accounts of one entity: A -> B (-> C) -> A within a day."""
    _, first, count = np.unique(w.ent, return_index=True, return_counts=True)  # w.ent is sorted
    multi = np.flatnonzero(count >= 2)
    made = 0
    T = cfg.days * MIN_PER_DAY
    if not len(multi):
        return 0
    while made < target:
        e = int(rng.choice(multi))
        accs = np.arange(first[e], first[e] + count[e])
        rng.shuffle(accs)
        t0 = int(rng.integers(0, T - MIN_PER_DAY))
        amt = rng.lognormal(np.log(20000.0), 1.0)
        hops = np.append(accs, accs[0])
        k = len(hops) - 1
        t = t0 + np.cumsum(rng.integers(5, 240, k))
        t = t - max(0, int(t[-1]) - (T - 1))  # the sweep ends inside the period
        fmt = int(rng.choice([F_WIRE, F_ACH, F_REINV], p=[0.4, 0.4, 0.2]))
        rows.add(t, hops[:-1], hops[1:], amt * np.ones(k), fmt)
        made += k
    return made


def _escrow(w: _World, rows: _Rows, rng: np.random.Generator, target: int, cfg: AmlworldConfig) -> int:
    """Money in, then (most of it) out again to a third party within hours."""
    k = target // 2
    if k <= 0:
        return 0
    T = cfg.days * MIN_PER_DAY
    mid = rng.choice(w.companies, size=k) if len(w.companies) else w.sample_in(rng, k)
    a = w.sample_out(rng, k)
    b = w.sample_in(rng, k)
    ok = (a != mid) & (b != mid) & (a != b)
    mid, a, b = mid[ok], a[ok], b[ok]
    k = len(mid)
    t1 = _days(rng, k, cfg.days) * MIN_PER_DAY + _minute_of_day(rng, k)
    t2 = t1 + rng.integers(10, 8 * 60, k)
    ok = t2 < T  # both legs inside the period
    mid, a, b, t1, t2 = mid[ok], a[ok], b[ok], t1[ok], t2[ok]
    k = len(mid)
    amt = rng.lognormal(np.log(8000.0), 1.0, k)
    fmt = rng.choice([F_WIRE, F_ACH, F_CHEQUE], size=k, p=[0.4, 0.4, 0.2]).astype(np.int8)
    rows.add(t1, a, mid, amt, fmt)
    rows.add(t2, mid, b, amt * rng.uniform(0.9, 0.99, k), fmt)
    return 2 * k


# -- laundering ---------------------------------------------------------------------------------
class _Launderers:
    def __init__(self, w: _World, rng: np.random.Generator, cfg: AmlworldConfig) -> None:
        self.w, self.rng, self.cfg = w, rng, cfg
        self.pool = rng.choice(w.n, size=max(20, int(w.n * cfg.criminal_share)), replace=False)
        self.used: list[int] = []
        self.T = cfg.days * MIN_PER_DAY

    def accounts(self, k: int) -> np.ndarray:
        """k distinct accounts, each from the criminal pool (p 0.5) or anyone (a mule)."""
        rng = self.rng
        out: list[int] = []
        seen: set[int] = set()
        while len(out) < k:
            a = int(rng.choice(self.pool)) if rng.random() < 0.5 else int(rng.integers(0, self.w.n))
            if a not in seen:
                seen.add(a)
                out.append(a)
        self.used.extend(out)
        return np.array(out, dtype=np.int64)

    def times(self, k: int, t0: int = 0) -> np.ndarray:
        """k increasing times after t0: gaps ~ exponential around a pattern-specific pace (minutes
        to days). Relative: ``place`` moves the whole attempt into the simulated period."""
        rng = self.rng
        pace = float(rng.lognormal(np.log(180.0), 1.3))
        return t0 + np.cumsum(rng.exponential(pace, k)).astype(np.int64)

    def place(self, t: np.ndarray) -> np.ndarray:
        """The attempt's times shifted by a uniform start in [-span, period): laundering rows are
        spread evenly over the period (stationary, like the background), and an attempt running
        over either end of the observed period keeps only its legs inside it (as a bank's data
        extract would); legs outside come back as -1."""
        t = t - t.min()
        span = int(t.max())
        t = t + int(self.rng.integers(-span, self.T))
        return np.where((t >= 0) & (t < self.T), t, -1)

    def fmt(self, k: int) -> np.ndarray:
        rng = self.rng
        base = int(rng.choice([F_ACH, F_WIRE, F_CHEQUE, F_CASH, F_CARD], p=[0.72, 0.09, 0.08, 0.06, 0.05]))
        other = rng.choice([F_ACH, F_WIRE, F_CHEQUE, F_CASH, F_CARD], size=k, p=[0.5, 0.15, 0.15, 0.1, 0.1])
        return np.where(rng.random(k) < 0.9, base, other).astype(np.int8)

    def amount(self, k: int, total: float | None = None) -> np.ndarray:
        rng = self.rng
        if total is None:
            total = float(rng.lognormal(np.log(25000.0), 1.1))
        return total / k * rng.uniform(0.7, 1.3, k)

    def attempt(self, kind: str) -> tuple[str, tuple]:
        """One laundering attempt: (detail text, (t, src, dst, usd, fmt) arrays in block order)."""
        detail, (t, src, dst, usd, fmt) = self._shape(kind)
        t = self.place(np.asarray(t, dtype=np.int64))
        keep = t >= 0
        return detail, (t[keep], src[keep], dst[keep], usd[keep], fmt[keep])

    def _shape(self, kind: str) -> tuple[str, tuple]:
        rng = self.rng
        if kind in ("FAN-OUT", "FAN-IN"):
            k = int(rng.integers(2, 17))
            acc = self.accounts(k + 1)
            hub, spokes = np.full(k, acc[0]), acc[1:]
            t = self.times(k)
            src, dst = (hub, spokes) if kind == "FAN-OUT" else (spokes, hub)
            word = "Fan-Out" if kind == "FAN-OUT" else "Fan-In"
            return f"Max {k}-degree {word}", (t, src, dst, self.amount(k), self.fmt(k))
        if kind == "CYCLE":
            k = int(rng.integers(2, 11))
            acc = self.accounts(k)
            t = self.times(k)
            amt = float(rng.lognormal(np.log(15000.0), 1.0)) * np.cumprod(rng.uniform(0.93, 1.0, k))
            return f"Max {k} hops", (t, acc, np.roll(acc, -1), amt, self.fmt(k))
        if kind == "GATHER-SCATTER":
            a, b = int(rng.integers(2, 9)), int(rng.integers(2, 9))
            acc = self.accounts(a + b + 1)
            hub = acc[0]
            t_in = self.times(a)
            t_out = self.times(b, int(t_in[-1]))
            total = float(rng.lognormal(np.log(30000.0), 1.0))
            t = np.concatenate([t_in, t_out])
            src = np.concatenate([acc[1 : a + 1], np.full(b, hub)])
            dst = np.concatenate([np.full(a, hub), acc[a + 1 :]])
            usd = np.concatenate([self.amount(a, total), self.amount(b, total * 0.97)])
            return f"Max {a}-degree Fan-In", (t, src, dst, usd, self.fmt(a + b))
        if kind == "SCATTER-GATHER":
            k = int(rng.integers(2, 9))
            acc = self.accounts(k + 2)
            origin, dest, mids = acc[0], acc[1], acc[2:]
            t1 = self.times(k)
            t2 = t1 + rng.exponential(float(rng.lognormal(np.log(240.0), 1.0)), k).astype(np.int64) + 1
            total = float(rng.lognormal(np.log(30000.0), 1.0))
            leg = self.amount(k, total)
            t = np.concatenate([t1, t2])
            src = np.concatenate([np.full(k, origin), mids])
            dst = np.concatenate([mids, np.full(k, dest)])
            usd = np.concatenate([leg, leg * rng.uniform(0.95, 1.0, k)])
            return f"Max {k}-degree Fan-Out", (t, src, dst, usd, self.fmt(2 * k))
        if kind == "BIPARTITE":
            a, b = int(rng.integers(2, 6)), int(rng.integers(2, 6))
            acc = self.accounts(a + b)
            src, dst = _bipartite(rng, acc[:a], acc[a:])
            k = len(src)
            return "", (self.times(k), src, dst, self.amount(k), self.fmt(k))
        if kind == "STACK":
            a, b, c = (int(x) for x in rng.integers(2, 5, 3))
            acc = self.accounts(a + b + c)
            s1, d1 = _bipartite(rng, acc[:a], acc[a : a + b])
            s2, d2 = _bipartite(rng, acc[a : a + b], acc[a + b :])
            t1 = self.times(len(s1))
            t2 = self.times(len(s2), int(t1[len(t1) // 2]))
            total = float(rng.lognormal(np.log(30000.0), 1.0))
            t = np.concatenate([t1, t2])
            return "", (t, np.concatenate([s1, s2]), np.concatenate([d1, d2]),
                        np.concatenate([self.amount(len(s1), total), self.amount(len(s2), total * 0.97)]),
                        self.fmt(len(t)))
        if kind == "RANDOM":
            k = int(rng.integers(3, 11))
            acc = self.accounts(max(3, k // 2 + 1))
            walk = [int(rng.integers(0, len(acc)))]
            for _ in range(k):
                nxt = int(rng.integers(0, len(acc) - 1))
                walk.append(nxt + (nxt >= walk[-1]))
            walk_a = acc[np.array(walk)]
            amt = float(rng.lognormal(np.log(15000.0), 1.0)) * np.cumprod(rng.uniform(0.9, 1.0, k))
            return f"Max {k} hops", (self.times(k), walk_a[:-1], walk_a[1:], amt, self.fmt(k))
        raise ValueError(kind)

    def lone(self, k: int) -> tuple:
        """Laundering rows in no pattern: criminal or mule accounts paying someone once."""
        rng, w = self.rng, self.w
        used = np.array(self.used or self.pool.tolist())
        r = rng.random(k)
        src = np.where(r < 0.4, rng.choice(self.pool, k), np.where(r < 0.7, rng.choice(used, k),
                                                                    rng.integers(0, w.n, k)))
        dst = np.where(rng.random(k) < 0.6, w.sample_in(rng, k), rng.choice(self.pool, k))
        dst = np.where(dst == src, (dst + 1) % w.n, dst)
        fmt = rng.choice([F_ACH, F_WIRE, F_CHEQUE, F_CASH, F_CARD], size=k, p=[0.55, 0.12, 0.13, 0.1, 0.1])
        t = _days(rng, k, self.cfg.days) * MIN_PER_DAY + _minute_of_day(rng, k)
        return t, src, dst, rng.lognormal(np.log(6000.0), 1.2, k), fmt.astype(np.int8)


def _bipartite(rng: np.random.Generator, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Random edges left -> right, p 0.5 each, every account on both sides in at least one."""
    m = rng.random((len(left), len(right))) < 0.5
    for i in range(len(left)):
        if not m[i].any():
            m[i, rng.integers(0, len(right))] = True
    for j in range(len(right)):
        if not m[:, j].any():
            m[rng.integers(0, len(left)), j] = True
    i, j = np.nonzero(m)
    return left[i], right[j]


# -- writing ------------------------------------------------------------------------------------
def _amount_str(units: pl.Expr, decimals: int) -> pl.Expr:
    scale = 10**decimals
    return pl.concat_str([(units // scale).cast(pl.String), pl.lit("."),
                          (units % scale).cast(pl.String).str.zfill(decimals)])


def _lines(w: _World, a: dict[str, np.ndarray], start: datetime) -> pl.Series:
    """The transactions-file line of every row (same text in the patterns file)."""
    pay = w.ccy[a["src"]].astype(np.int64)
    pay = np.where(a["fmt"] == F_BTC, BTC, pay)
    recv = np.where(a["recv"] >= 0, a["recv"], pay)
    paid = a["usd"] / w.rate[pay]
    received = np.where(recv == pay, paid, a["usd"] / w.rate[recv])

    def units(x, ccy):
        dec = np.where(ccy == BTC, 1e6, 1e2)
        return np.maximum(np.round(x * dec), 1).astype(np.int64)

    paid_u, recv_u = units(paid, pay), units(received, recv)
    recv_u = np.where(recv == pay, paid_u, recv_u)
    words = pl.Series(CCY_WORDS)
    fmts = pl.Series(FORMATS)
    bank_str = pl.Series(w.bank_str)
    number = pl.Series(w.number)
    epoch = int(start.timestamp()) if start.tzinfo else int((start - datetime(1970, 1, 1)).total_seconds())
    df = pl.DataFrame({
        "t": pl.Series((epoch + a["t"] * 60) * 1_000_000).cast(pl.Datetime("us")),
        "fb": bank_str.gather(w.bank[a["src"]]), "fa": number.gather(a["src"]),
        "tb": bank_str.gather(w.bank[a["dst"]]), "ta": number.gather(a["dst"]),
        "ru": recv_u, "rc": words.gather(recv), "pu": paid_u, "pc": words.gather(pay),
        "f": fmts.gather(a["fmt"].astype(np.int64)), "l": a["label"].astype(np.int64),
    })
    return df.select(pl.concat_str([
        pl.col("t").dt.strftime("%Y/%m/%d %H:%M"), pl.col("fb"), pl.col("fa"), pl.col("tb"), pl.col("ta"),
        pl.when(pl.col("rc") == "Bitcoin").then(_amount_str(pl.col("ru"), 6)).otherwise(_amount_str(pl.col("ru"), 2)),
        pl.col("rc"),
        pl.when(pl.col("pc") == "Bitcoin").then(_amount_str(pl.col("pu"), 6)).otherwise(_amount_str(pl.col("pu"), 2)),
        pl.col("pc"), pl.col("f"), pl.col("l").cast(pl.String),
    ], separator=",").alias("line")).to_series()


def _write_lines(path: Path, header: str | None, lines: pl.Series) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        if header is not None:
            fh.write((header + "\n").encode())
        pl.DataFrame({"line": lines}).write_csv(fh, include_header=False, quote_style="never")
    tmp.replace(path)


def generate(cfg: AmlworldConfig, out: str | Path) -> dict:
    """Write the three AMLworld files for ``cfg`` into ``out``; return a summary."""
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ss = np.random.SeedSequence(cfg.seed)
    r_world, r_bg, r_look, r_laund, r_order = (np.random.default_rng(s) for s in ss.spawn(5))
    w = _World(cfg, r_world)
    rows = _Rows()
    N = cfg.n_transactions

    # laundering first: the number of rows is the target, attempts are drawn until it is met
    lau = _Launderers(w, r_laund, cfg)
    n_laund = max(1, round(N * cfg.laundering_rate))
    pattern_target = n_laund - round(n_laund * cfg.lone_share)
    blocks: list[tuple[str, str, np.ndarray]] = []
    kinds, share = list(PATTERNS), np.array(list(PATTERNS.values()))
    made = 0
    while made < pattern_target:
        kind = str(r_laund.choice(kinds, p=share / share.sum()))
        detail, (t, src, dst, usd, fmt) = lau.attempt(kind)
        if len(t) == 0:  # the whole attempt fell outside the observed period
            continue
        idx = rows.add(t, src, dst, usd, fmt, label=1)
        blocks.append((kind, detail, idx))
        made += len(idx)
    # lone rows: lone_share of all laundering rows (attempts overshoot their target a little)
    n_lone = n_laund if cfg.lone_share >= 1.0 else round(made * cfg.lone_share / (1.0 - cfg.lone_share))
    if n_lone:
        rows.add(*lau.lone(n_lone), label=1)

    # legitimate look-alikes, then background up to the row count
    look = {
        "payroll": _payroll(w, rows, r_look, int(N * cfg.payroll_share), cfg),
        "collections": _collections(w, rows, r_look, int(N * cfg.collection_share), cfg),
        "sweeps": _sweeps(w, rows, r_look, int(N * cfg.sweep_share), cfg),
        "escrow": _escrow(w, rows, r_look, int(N * cfg.escrow_share), cfg),
    }
    # background rows k plus about k * 0.25 (card share) * refund_share refunds fill up to N
    _background(w, rows, r_bg, round(max(0, N - rows.n) / (1 + 0.25 * cfg.refund_share)), cfg)
    a = rows.arrays()
    # the transactions file is in time order; rows of the same minute in random order (line
    # numbers become txn ids on import and must say nothing about labels)
    order = np.lexsort((r_order.random(len(a["t"])), a["t"]))
    where = np.empty_like(order)
    where[order] = np.arange(len(order))
    a = {k: v[order] for k, v in a.items()}
    lines = _lines(w, a, cfg.start)
    name = cfg.name
    _write_lines(out / f"{name}_Trans.csv", TRANS_HEADER, lines)

    # patterns file: blocks with their rows verbatim (STACK rows layer by layer, not in time order)
    parts: list[str] = []
    by_type: dict[str, dict[str, int]] = {}
    for kind, detail, idx in blocks:
        pos = where[idx]
        if kind != "STACK":
            pos = pos[np.argsort(a["t"][pos], kind="stable")]
        parts.append(f"BEGIN LAUNDERING ATTEMPT - {kind}" + (f":  {detail}" if detail else ""))
        parts.extend(lines.gather(pos).to_list())
        parts.append(f"END LAUNDERING ATTEMPT - {kind}")
        parts.append("")
        s = by_type.setdefault(kind, {"attempts": 0, "rows": 0})
        s["attempts"] += 1
        s["rows"] += len(idx)
    tmp = out / f"{name}_Patterns.txt.tmp"
    tmp.write_text("\n".join(parts) + ("\n" if parts else ""), encoding="utf-8")
    tmp.replace(out / f"{name}_Patterns.txt")

    # accounts file: every account (bank id not padded here)
    acc = pl.DataFrame({
        "Bank Name": w.bank_name[w.bank], "Bank ID": w.bank_id[w.bank], "Account Number": w.number,
        "Entity ID": w.ent_id[w.ent],
        "Entity Name": [f"{ENTITY_KINDS[k]} #{e}" for k, e in zip(w.ent_kind[w.ent].tolist(), w.ent.tolist(), strict=True)],
    })
    tmpa = out / f"{name}_accounts.csv.tmp"
    acc.write_csv(tmpa)
    tmpa.replace(out / f"{name}_accounts.csv")
    n_rows = len(a["t"])
    return {
        "name": name, "out": str(out), "rows": n_rows, "accounts": w.n,
        "laundering_rows": int(a["label"].sum()), "laundering_rate": float(a["label"].mean()),
        "lone_laundering_rows": n_lone, "attempts": len(blocks), "patterns": by_type, "look_alikes": look,
        "days": cfg.days, "seconds": time.perf_counter() - t0, "config": asdict(cfg),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--transactions", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--name", default="HI-Synth")
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--accounts", type=int, default=None)
    ap.add_argument("--laundering-rate", type=float, default=0.001)
    ap.add_argument("--lone-share", type=float, default=0.2)
    args = ap.parse_args(argv)
    cfg = AmlworldConfig(n_transactions=args.transactions, seed=args.seed, name=args.name, days=args.days,
                         n_accounts=args.accounts, laundering_rate=args.laundering_rate, lone_share=args.lone_share)
    summary = generate(cfg, args.out)
    print(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
