"""The ordinary book, one day at a time, fully vectorized: card spending, payroll, rent, bills,
P2P, ATM and cash, family remittances, B2B payments, retail crypto, and the labeled
hard-negative populations (cash-intensive businesses, heavy remitters, payment processors,
money-service businesses, crypto traders)."""

from __future__ import annotations

from datetime import date

import numpy as np

from .config import HARD_NEGATIVE_KINDS
from .events import Batch
from .world import (
    B2B,
    CASHBIZ,
    CH,
    EMPLOYER,
    EXCHANGES,
    LANDLORD,
    MERCHANT,
    MSB,
    PP,
    TT,
    UTILITY,
    World,
)

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
HN_ROLES = [
    "cash_deposit",
    "just_under_cash_deposit",
    "remittance",
    "pass_through_in",
    "pass_through_out",
    "exchange_buy",
    "crypto_withdrawal",
    "crypto_deposit",
    "exchange_sell",
]
HR = {r: i for i, r in enumerate(HN_ROLES)}


class HardNegatives:
    """One truth scenario per hard-negative account (crypto traders: bank account + wallets)."""

    def __init__(self, w: World) -> None:
        groups = [
            ("cash_intensive_business", w.idx_of[CASHBIZ]),
            ("remittance_sender", w.hn_remitters),
            ("payment_processor", w.idx_of[PP]),
            ("money_service_business", w.idx_of[MSB]),
            ("crypto_trader", w.traders),
        ]
        self.kind: list[str] = []
        self.accounts: list[list[int]] = []
        hn_of = np.full(w.n_book, -1, dtype=np.int32)
        trader_pos = {int(t): j for j, t in enumerate(w.traders)}
        for kind, accts in groups:
            assert kind in HARD_NEGATIVE_KINDS
            for a in accts.tolist():
                hn_of[a] = len(self.kind)
                self.kind.append(kind)
                if kind == "crypto_trader":
                    j = trader_pos[a]
                    self.accounts.append([a, int(w.trader_self[j]), int(w.trader_cust[j])])
                else:
                    self.accounts.append([a])
        self.hn_of = hn_of
        n = len(self.kind)
        self.ids = [f"hardneg-{k}-{i:06d}" for i, k in enumerate(self.kind)]
        self.n_txn = np.zeros(n, dtype=np.int64)
        self.total = np.zeros(n, dtype=np.float64)
        self.first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        self.last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)

    def accumulate(self, hn: np.ndarray, ts: np.ndarray, usd: np.ndarray) -> None:
        m = hn >= 0
        if not m.any():
            return
        h, t, u = hn[m], ts[m], usd[m]
        n = len(self.kind)
        self.n_txn += np.bincount(h, minlength=n)
        self.total += np.bincount(h, weights=u, minlength=n)
        np.minimum.at(self.first, h, t)
        np.maximum.at(self.last, h, t)


def _tod(rng: np.random.Generator, n: int, lo_h: float, hi_h: float) -> np.ndarray:
    return rng.integers(int(lo_h * HOUR_US), int(hi_h * HOUR_US), n)


def _logn(
    rng: np.random.Generator, n: int, median: float, sigma: float, lo: float, hi: float
) -> np.ndarray:
    return np.clip(np.exp(rng.normal(np.log(median), sigma, n)), lo, hi)


def background_day(
    w: World, hn: HardNegatives, day: date, day0_us: int, rng: np.random.Generator
) -> Batch:
    _cfg, bg, hp, reg = w.cfg, w.cfg.background, w.cfg.hard_negatives, w.reg
    b = Batch()
    b.day0 = day0_us
    persons = w.persons
    np_ = len(persons)
    dow = day.weekday()
    week = day.isocalendar()[1]
    dom = day.day
    merchants = np.concatenate([w.idx_of[MERCHANT], w.idx_of[CASHBIZ]])

    # card purchases
    k = rng.poisson(np_ * bg.card_per_day * (1.15 if dow >= 4 else 0.95))
    src = persons[rng.integers(0, np_, k)]
    b.add(
        day0_us + _tod(rng, k, 7, 23.5),
        src,
        merchants[rng.integers(0, len(merchants), k)],
        np.round(_logn(rng, k, bg.card_usd_median, 0.9, 1.0, 3000), 2),
        CH["card"],
        TT["purchase"],
    )

    # payroll (biweekly, employer's weekday and week parity)
    emp = w.p_employer
    has = emp >= 0
    e = np.where(has, emp, 0)
    m = has & (w.employer_weekday[e] == dow) & (w.employer_parity[e] == week % 2)
    k = int(m.sum())
    if k:
        b.add(
            day0_us + _tod(rng, k, 5, 9),
            emp[m],
            persons[m],
            w.p_salary[m],
            CH["ach"],
            TT["payroll"],
            memo=0,
        )
    # rent and bills
    m = (w.p_landlord >= 0) & (w.p_rent_day == dom)
    k = int(m.sum())
    if k:
        b.add(
            day0_us + _tod(rng, k, 6, 20),
            persons[m],
            w.p_landlord[m],
            w.p_rent[m],
            CH["ach"],
            TT["payment"],
            memo=1,
        )
    m = w.p_bill_day == dom
    k = int(m.sum())
    if k:
        b.add(
            day0_us + _tod(rng, k, 6, 22),
            persons[m],
            w.p_utility[m],
            np.round(w.p_bill[m] * rng.uniform(0.85, 1.15, k), 2),
            CH["ach"],
            TT["payment"],
            memo=2,
        )
    # P2P
    k = rng.poisson(np_ * bg.p2p_per_day)
    b.add(
        day0_us + _tod(rng, k, 7, 23),
        persons[rng.integers(0, np_, k)],
        persons[rng.integers(0, np_, k)],
        np.round(_logn(rng, k, 80, 1.0, 5, 5000), 2),
        rng.choice([CH["ach"], CH["internal"]], k),
        TT["transfer"],
        memo=8,
    )
    # cash deposits and ATM withdrawals of persons
    k = rng.poisson(np_ * bg.cash_deposit_per_day)
    dst = persons[rng.integers(0, np_, k)]
    b.add(
        day0_us + _tod(rng, k, 8, 18),
        -1,
        dst,
        np.round(_logn(rng, k, 350, 0.8, 20, 4000), 0),
        CH["cash"],
        TT["deposit"],
        loc=w.book_home[dst],
    )
    k = rng.poisson(np_ * bg.atm_per_day)
    src = persons[rng.integers(0, np_, k)]
    b.add(
        day0_us + _tod(rng, k, 0, 24),
        src,
        -1,
        20.0 * rng.integers(1, 31, k),
        CH["cash"],
        TT["withdrawal"],
        loc=w.atm_lut[w.bank[src], w.area[src]],
    )
    # ordinary family remittances and inbound foreign transfers
    m = w.p_remitter & (rng.random(np_) < bg.remit_per_month / 30.0)
    k = int(m.sum())
    if k:
        b.add(
            day0_us + _tod(rng, k, 8, 21),
            persons[m],
            w.p_remit_dst[m],
            np.round(_logn(rng, k, 280, 0.6, 50, 2500), 2),
            CH["wire"],
            TT["remittance"],
            memo=3,
        )
    k = rng.poisson(np_ * bg.inbound_foreign_per_day)
    fo = w.foreign_all
    b.add(
        day0_us + _tod(rng, k, 2, 20),
        fo[rng.integers(0, len(fo), k)],
        persons[rng.integers(0, np_, k)],
        np.round(_logn(rng, k, 450, 0.8, 50, 8000), 2),
        CH["wire"],
        TT["remittance"],
    )
    # B2B payments (business days mostly)
    biz = w.biz_all
    k = rng.poisson(len(biz) * bg.b2b_per_day * (1.0 if dow < 5 else 0.2))
    b.add(
        day0_us + _tod(rng, k, 8, 19),
        biz[rng.integers(0, len(biz), k)],
        biz[rng.integers(0, len(biz), k)],
        np.round(_logn(rng, k, 3500, 1.1, 50, 900000), 2),
        rng.choice([CH["wire"], CH["ach"], CH["check"]], k, p=[0.3, 0.5, 0.2]),
        TT["payment"],
        memo=4,
    )
    # retail crypto: to/from exchange hot wallets or between retail wallets on the same chain
    rw = w.retail_wallets
    k = rng.poisson(len(rw) * bg.wallet_per_day)
    if k:
        wal = rw[rng.integers(0, len(rw), k)]
        ex = rng.integers(0, len(EXCHANGES), k)
        hot = w.hot_lut[ex, w.chain[wal]]
        peer = rw[rng.integers(0, len(rw), k)]
        same = (w.chain[peer] == w.chain[wal]) & (peer != wal)
        d = rng.integers(0, 3, k)
        src = np.where(d == 0, wal, np.where(d == 1, hot, wal))
        dst = np.where(d == 0, hot, np.where(d == 1, wal, np.where(same, peer, hot)))
        b.add(
            day0_us + _tod(rng, k, 0, 24),
            src,
            dst,
            np.round(_logn(rng, k, 600, 1.3, 5, 200000), 2),
            CH["crypto"],
            TT["transfer"],
        )

    # ---- hard negatives -----------------------------------------------------------------
    band_lo, ctr = reg.structuring_band_low_usd, reg.ctr_threshold_usd
    cb = w.idx_of[CASHBIZ]
    if dow != 6 and len(cb):
        k = len(cb)
        under = rng.random(k) < hp.cash_just_under_prob
        usd = np.where(
            under,
            np.round(rng.uniform(band_lo, ctr - 1.0, k), 0),
            np.round(rng.uniform(*hp.cash_daily_usd, k), 0),
        )
        b.add(
            day0_us + _tod(rng, k, 16, 20),
            -1,
            cb,
            usd,
            CH["cash"],
            TT["deposit"],
            loc=w.book_home[cb],
            hn=hn.hn_of[cb],
            hnrole=np.where(under, HR["just_under_cash_deposit"], HR["cash_deposit"]),
        )
    rs = w.hn_remitters
    m = rng.random(len(rs)) < hp.remittance_per_week / 7.0
    k = int(m.sum())
    if k:
        s = rs[m]
        t = day0_us + _tod(rng, k, 10, 20)
        usd = np.round(rng.uniform(*hp.remittance_usd, k), 2)
        b.add(
            t,
            s,
            w.hn_remit_dst[m],
            usd,
            CH["wire"],
            TT["remittance"],
            memo=7,
            hn=hn.hn_of[s],
            hnrole=HR["remittance"],
        )
        c = rng.random(k) < 0.35  # cash brought in first, same branch
        kc = int(c.sum())
        if kc:
            b.add(
                t[c] - _tod(rng, kc, 0.5, 3),
                -1,
                s[c],
                np.round(usd[c] * rng.uniform(0.9, 1.05, kc), 0),
                CH["cash"],
                TT["deposit"],
                loc=w.book_home[s[c]],
                hn=hn.hn_of[s[c]],
                hnrole=HR["cash_deposit"],
            )
    # payment processors: many small inflows, settled out to merchants the same evening
    pps = w.idx_of[PP]
    if len(pps):
        cnt = rng.poisson(25, len(pps))
        owner = np.repeat(pps, cnt)
        k = len(owner)
        usd = np.round(_logn(rng, k, 70, 0.9, 2, 5000), 2)
        b.add(
            day0_us + _tod(rng, k, 0, 21),
            persons[rng.integers(0, np_, k)],
            owner,
            usd,
            CH["ach"],
            TT["payment"],
            hn=hn.hn_of[owner],
            hnrole=HR["pass_through_in"],
        )
        _settle(
            b,
            rng,
            w,
            hn,
            pps,
            np.bincount(np.repeat(np.arange(len(pps)), cnt), weights=usd, minlength=len(pps)),
            merchants,
            (21.5, 23.9),
            CH["ach"],
            TT["payment"],
            6,
            (1, 4),
        )
    # money-service businesses: agent cash in, remittance wires out
    msbs = w.idx_of[MSB]
    if dow != 6 and len(msbs):
        cnt = rng.integers(1, 4, len(msbs))
        pos = np.repeat(np.arange(len(msbs)), cnt)
        owner = msbs[pos]
        k = len(owner)
        usd = np.round(rng.uniform(3000, 40000, k), 0)
        agents = w.msb_agent_arr[pos, rng.integers(0, w.msb_agent_arr.shape[1], k)]
        b.add(
            day0_us + _tod(rng, k, 9, 17),
            -1,
            owner,
            usd,
            CH["cash"],
            TT["deposit"],
            loc=agents,
            hn=hn.hn_of[owner],
            hnrole=HR["pass_through_in"],
        )
        _settle(
            b,
            rng,
            w,
            hn,
            msbs,
            np.bincount(pos, weights=usd, minlength=len(msbs)),
            w.msb_corridor,
            (17.5, 22),
            CH["wire"],
            TT["remittance"],
            7,
            (1, 3),
        )
    # crypto traders: buy (fiat to exchange, then withdraw to own wallet) or sell (deposit, then fiat back)
    tr = w.traders
    m = rng.random(len(tr)) < hp.crypto_trades_per_week / 7.0
    k = int(m.sum())
    if k:
        pos = np.flatnonzero(m)
        acct, selfw, cust = tr[pos], w.trader_self[pos], w.trader_cust[pos]
        ex = w.bank_ex[cust].astype(np.int64)
        exbank = w.exch_bank_arr[ex]
        hot = w.hot_lut[ex, w.chain[selfw]]
        usd = np.round(rng.uniform(*hp.crypto_trade_usd, k), 2)
        t1 = day0_us + _tod(rng, k, 1, 15)
        t2 = t1 + _tod(rng, k, 0.1, 8)
        buy = rng.random(k) < 0.6
        h = hn.hn_of[acct]
        fiat_ch = np.where(usd > 5000, CH["wire"], CH["ach"])
        bb, ss = buy, ~buy
        b.add(
            t1[bb],
            acct[bb],
            exbank[bb],
            usd[bb],
            fiat_ch[bb],
            TT["exchange_buy"],
            hn=h[bb],
            hnrole=HR["exchange_buy"],
        )
        b.add(
            t2[bb],
            hot[bb],
            selfw[bb],
            np.round(usd[bb] * 0.995, 2),
            CH["crypto"],
            TT["transfer"],
            hn=h[bb],
            hnrole=HR["crypto_withdrawal"],
        )
        b.add(
            t1[ss],
            selfw[ss],
            cust[ss],
            usd[ss],
            CH["crypto"],
            TT["transfer"],
            hn=h[ss],
            hnrole=HR["crypto_deposit"],
        )
        b.add(
            t2[ss],
            exbank[ss],
            acct[ss],
            np.round(usd[ss] * 0.995, 2),
            fiat_ch[ss],
            TT["exchange_sell"],
            hn=h[ss],
            hnrole=HR["exchange_sell"],
        )
    return b


def _settle(
    b: Batch,
    rng,
    w: World,
    hn: HardNegatives,
    owners: np.ndarray,
    inflow: np.ndarray,
    dests: np.ndarray,
    hours: tuple[float, float],
    channel: int,
    ttype: int,
    memo: int,
    parts: tuple[int, int],
) -> None:
    """Pass-through: each owner sends pass_through x its inflow of the day in 1-3 payments."""
    hp = w.cfg.hard_negatives
    live = inflow > 0
    owners, inflow = owners[live], inflow[live]
    j = rng.integers(parts[0], parts[1], len(owners))
    pos = np.repeat(np.arange(len(owners)), j)
    share = rng.random(len(pos)) + 0.2
    share = share / np.bincount(pos, weights=share)[pos]
    out = (inflow * rng.uniform(*hp.pass_through, len(owners)))[pos] * share
    src = owners[pos]
    k = len(pos)
    b.add(
        _day0(b) + _tod(rng, k, *hours),
        src,
        dests[rng.integers(0, len(dests), k)],
        np.round(out, 2),
        channel,
        ttype,
        memo=memo,
        hn=hn.hn_of[src],
        hnrole=HR["pass_through_out"],
    )


def _day0(b: Batch) -> int:
    return b.day0


def prepare(w: World) -> None:
    """Arrays the day builder needs, computed once."""
    rng = np.random.default_rng(np.random.SeedSequence([w.cfg.seed, 0, 903]))
    from .world import FOREIGN

    w.foreign_all = w.idx_of[FOREIGN]
    w.biz_all = np.concatenate([w.idx_of[k] for k in (EMPLOYER, MERCHANT, LANDLORD, B2B, UTILITY)])
    w.exch_bank_arr = np.array([w.exchange_bank[e] for e in range(len(EXCHANGES))], dtype=np.int64)
    cc = rng.choice(["MX", "GT", "HN", "SV"], len(w.hn_remitters), p=[0.5, 0.2, 0.15, 0.15])
    mx = max(len(v) for v in w.msb_agents.values()) if w.msb_agents else 1
    w.msb_agent_arr = np.array(
        [[v[j % len(v)] for j in range(mx)] for v in (w.msb_agents[int(i)] for i in w.idx_of[MSB])],
        dtype=np.int32,
    ).reshape(-1, mx)
    w.msb_corridor = np.concatenate([w.foreign_by_cc[c] for c in ("MX", "GT", "HN", "SV")])
    w.hn_remit_dst = np.array(
        [w.foreign_by_cc[c][int(rng.integers(len(w.foreign_by_cc[c])))] for c in cc], dtype=np.int64
    )
