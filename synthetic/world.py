"""The static world: code tables, places, banks, branches, the ordinary book of parties and
accounts (vectorized), and the registry planted scenarios add their own entities to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from nexusfin.contracts import fx_usd_per_unit, vocabulary
from nexusfin.settings import Regulatory

from . import names as N
from .config import WorldConfig

CHANNELS = ["cash", "wire", "ach", "check", "card", "internal", "crypto"]
TXN_TYPES = [
    "deposit",
    "withdrawal",
    "transfer",
    "payment",
    "purchase",
    "payroll",
    "remittance",
    "trade",
    "exchange_buy",
    "exchange_sell",
    "fee",
]
CHAINS = ["bitcoin", "ethereum", "tron", "bsc", "solana", "polygon", "litecoin", "monero"]
CHAIN_ASSET = {
    "bitcoin": "BTC",
    "ethereum": "ETH",
    "tron": "USDT",
    "bsc": "BNB",
    "solana": "SOL",
    "polygon": "MATIC",
    "litecoin": "LTC",
    "monero": "XMR",
}
EXCHANGE_CHAINS = ["bitcoin", "ethereum", "tron", "bsc", "solana", "polygon", "litecoin"]
BRIDGE_CHAINS = ["ethereum", "bsc", "polygon", "tron", "solana"]
MIXER_CHAINS = ["bitcoin", "ethereum"]
CH = {c: i for i, c in enumerate(CHANNELS)}
TT = {t: i for i, t in enumerate(TXN_TYPES)}
CHN = {c: i for i, c in enumerate(CHAINS)}
US_BANKS = [f"B{i:02d}" for i in range(1, 9)]
EXCHANGES = ["COINVAULT", "BITHARBOR", "NEXAX", "CRYPTOPLAZA", "LUMENEX"]

# Background account kinds.
(
    PERSON,
    EMPLOYER,
    MERCHANT,
    LANDLORD,
    UTILITY,
    B2B,
    CASHBIZ,
    MSB,
    PP,
    EXCH_BANK,
    FOREIGN,
    WALLET_SELF,
    WALLET_CUST,
    HOT_WALLET,
    MIXER,
    BRIDGE,
) = range(16)
N_KINDS = BRIDGE + 1

BORDER_CITY = {
    "78040": "Laredo",
    "78041": "Laredo",
    "78043": "Laredo",
    "78045": "Laredo",
    "78046": "Laredo",
    "79901": "El Paso",
    "79905": "El Paso",
    "85621": "Nogales",
    "92173": "San Ysidro",
    "92154": "San Diego",
}


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_B58 = np.frombuffer(b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", dtype=np.uint8)
_B32 = np.frombuffer(b"qpzry9x8gf2tvdw0s3jn54khce6mua7l", dtype=np.uint8)


def _rand_address(chain: str, rng: np.random.Generator) -> str:
    def pick(alpha: np.ndarray, n: int) -> str:
        return alpha[rng.integers(0, len(alpha), n)].tobytes().decode()

    if chain in ("ethereum", "bsc", "polygon"):
        return "0x" + pick(_HEX, 40)
    if chain == "bitcoin":
        return "bc1q" + pick(_B32, 38)
    if chain == "litecoin":
        return "ltc1q" + pick(_B32, 38)
    if chain == "tron":
        return "T" + pick(_B58, 33)
    if chain == "solana":
        return pick(_B58, 44)
    return "4" + pick(_B58, 94)  # monero


def tx_hashes(chains: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Chain-style transaction hashes (hex, 0x-prefixed on EVM chains)."""
    words = rng.integers(0, 2**63, size=(len(chains), 4), dtype=np.int64)
    out = []
    for c, w in zip(chains.tolist(), words.tolist(), strict=True):
        h = "".join(f"{x:016x}" for x in w)
        out.append(("0x" + h) if CHAINS[c] in ("ethereum", "bsc", "polygon") else h)
    return out


@dataclass
class Area:
    cc: str
    region: str
    zip: str
    city: str

    @property
    def prefix(self) -> str:
        return f"{self.cc}-{self.region}-{self.zip}"


class World:
    """Code tables plus the account/party registry. Accounts and parties are addressed by
    integer index everywhere; strings are built once, vectorized."""

    def __init__(self, cfg: WorldConfig, reg: Regulatory, rng: np.random.Generator) -> None:
        self.cfg = cfg
        self.reg = reg
        self.rng = rng
        self.start = cfg.start
        self.end = cfg.start + timedelta(days=cfg.days)
        self.fx = fx_usd_per_unit()
        self.currencies = sorted(self.fx)
        self.cur_code = {c: i for i, c in enumerate(self.currencies)}
        self.fx_arr = np.array([self.fx[c] for c in self.currencies])
        self.countries = sorted(vocabulary("iso3166_alpha2"))
        self.cc_code = {c: i for i, c in enumerate(self.countries)}
        self.memos: list[str] = [
            "PAYROLL",
            "RENT",
            "UTILITY BILL",
            "FAMILY SUPPORT",
            "INVOICE",
            "CARD SETTLEMENT",
            "MERCHANT PAYOUT",
            "REMESA",
            "P2P",
            "TRANSFER",
        ]
        self._build_places()
        self._pp: dict[str, list] = {k: [] for k in _PARTY_COLS}
        self._pa: dict[str, list] = {k: [] for k in _ACCOUNT_COLS}
        self._build_book()

    # -- places ---------------------------------------------------------------------------
    def _build_places(self) -> None:
        areas: list[Area] = [Area(*a) for a in N.US_INTERIOR]
        self.interior_areas = [
            i for i, a in enumerate(areas) if a.region not in ("TX", "CA", "AZ", "NM")
        ]
        seen = {a.prefix for a in areas}
        self.border_areas: list[int] = []
        extra = list(self.reg.border_locations)
        for t in self.reg.targeting_orders:
            extra += list(t.locations)
        self.gto_areas: list[int] = []
        for pref in extra:
            cc, region, zp = pref.split("-")
            if pref not in seen:
                seen.add(pref)
                areas.append(Area(cc, region, zp, BORDER_CITY.get(zp, "Border Town")))
            idx = next(i for i, a in enumerate(areas) if a.prefix == pref)
            if pref in self.reg.border_locations and idx not in self.border_areas:
                self.border_areas.append(idx)
            if (
                any(pref in t.locations for t in self.reg.targeting_orders)
                and idx not in self.gto_areas
            ):
                self.gto_areas.append(idx)
        self.us_areas = [i for i, a in enumerate(areas) if a.cc == "US"]
        self.foreign_areas: dict[str, list[int]] = {}
        for cc, lst in N.FOREIGN_AREAS.items():
            for a in lst:
                areas.append(Area(*a))
                self.foreign_areas.setdefault(cc, []).append(len(areas) - 1)
        self.areas = areas
        # Locations: every US bank has 2 branches and 1 ATM in every US area; foreign banks 1
        # branch per area of their country; agents are added for MSBs later.
        locs: list[str] = []
        loc_area: list[int] = []
        self.branch: dict[tuple[str, int], list[int]] = {}
        self.atm: dict[tuple[str, int], list[int]] = {}
        for b in US_BANKS:
            n = 0
            for ai in self.us_areas:
                for kind in ("BR", "BR", "ATM"):
                    n += 1
                    locs.append(f"{areas[ai].prefix}:{b}-{kind}{n:04d}")
                    loc_area.append(ai)
                    (self.branch if kind == "BR" else self.atm).setdefault((b, ai), []).append(
                        len(locs) - 1
                    )
        self.foreign_banks: dict[str, list[str]] = {}
        for cc, ais in self.foreign_areas.items():
            self.foreign_banks[cc] = [f"{cc}B{k}" for k in (1, 2)]
            for b in self.foreign_banks[cc]:
                for n, ai in enumerate(ais, 1):
                    locs.append(f"{areas[ai].prefix}:{b}-BR{n:04d}")
                    loc_area.append(ai)
                    self.branch.setdefault((b, ai), []).append(len(locs) - 1)
                    locs.append(f"{areas[ai].prefix}:{b}-ATM{n:04d}")
                    loc_area.append(ai)
                    self.atm.setdefault((b, ai), []).append(len(locs) - 1)
        self.locs = locs
        self.loc_area = loc_area

    def add_location(self, s: str, area: int) -> int:
        self.locs.append(s)
        self.loc_area.append(area)
        return len(self.locs) - 1

    def branch_loc(self, bank: str, area: int, rng: np.random.Generator, atm: bool = False) -> int:
        pool = (self.atm if atm else self.branch).get((bank, area))
        if not pool:
            pool = self.branch[(bank, area)]
        return pool[int(rng.integers(len(pool)))]

    def area_of_loc(self, loc: int) -> int:
        return self.loc_area[loc]

    # -- ordinary book (vectorized) ----------------------------------------------------------
    def _build_book(self) -> None:
        cfg, rng, hn = self.cfg, self.rng, self.cfg.hard_negatives
        n = cfg.n_accounts

        def cnt(frac: float, lo: int) -> int:
            return max(lo, round(frac * n))

        counts = {
            EMPLOYER: cnt(0.02, 5),
            MERCHANT: cnt(0.03, 8),
            LANDLORD: cnt(0.01, 4),
            UTILITY: cnt(0.0005, 3),
            B2B: cnt(0.015, 5),
            CASHBIZ: cnt(hn.cash_business_frac, hn.min_each),
            MSB: cnt(hn.msb_frac, hn.min_each),
            PP: cnt(hn.payment_processor_frac, hn.min_each),
            EXCH_BANK: len(EXCHANGES),
            FOREIGN: cnt(0.03, 30),
            HOT_WALLET: len(EXCHANGES) * len(EXCHANGE_CHAINS),
            MIXER: len(MIXER_CHAINS),
            BRIDGE: len(BRIDGE_CHAINS),
        }
        n_traders = cnt(hn.crypto_trader_frac, hn.min_each)
        n_retail_wallets = cnt(0.008, 5)
        counts[WALLET_CUST] = n_traders
        counts[WALLET_SELF] = n_traders + n_retail_wallets
        n_persons = n - sum(counts.values())
        if n_persons < n // 2:
            raise ValueError("n_accounts too small for the book")
        counts[PERSON] = n_persons
        order = range(N_KINDS)  # kind codes are assigned in book order
        kind = np.concatenate([np.full(counts[k], k, dtype=np.int8) for k in order])
        self.kind = kind
        self.n_book = n
        self.idx_of = {k: np.flatnonzero(kind == k) for k in order}
        persons = self.idx_of[PERSON]

        # Parties: one per account, except wallets (owned by persons or services).
        owner = np.arange(n, dtype=np.int64)  # party index == account index for non-wallets
        # Crypto traders: first n_traders persons get a custodial + a self wallet
        perm = rng.permutation(persons)
        self.traders = np.sort(perm[:n_traders])
        retail = np.sort(perm[n_traders : n_traders + n_retail_wallets])
        hn_remit = np.sort(
            perm[
                n_traders + n_retail_wallets : n_traders
                + n_retail_wallets
                + cnt(hn.remittance_sender_frac, hn.min_each)
            ]
        )
        self.hn_remitters = hn_remit
        self_w, cust_w = self.idx_of[WALLET_SELF], self.idx_of[WALLET_CUST]
        owner[self_w] = np.concatenate([self.traders, retail])
        owner[cust_w] = self.traders
        self.trader_self = self_w[:n_traders]
        self.trader_cust = cust_w
        self.retail_wallets = self_w[n_traders:]
        self.retail_owner = retail
        # Service wallets are owned by the exchange/mixer/bridge parties (the exchange bank
        # account's party for hot wallets).
        exb = self.idx_of[EXCH_BANK]
        hot = self.idx_of[HOT_WALLET]
        owner[hot] = np.repeat(exb, len(EXCHANGE_CHAINS))
        self.owner = owner

        # Chains and exchanges of wallets
        chain = np.full(n, -1, dtype=np.int8)
        bank_ex = np.full(n, -1, dtype=np.int8)  # exchange index for custodial/hot wallets
        tchain = rng.choice(
            [CHN[c] for c in EXCHANGE_CHAINS],
            size=n_traders,
            p=[0.3, 0.3, 0.15, 0.08, 0.1, 0.04, 0.03],
        )
        chain[self.trader_self] = tchain
        chain[cust_w] = tchain
        tex = rng.integers(0, len(EXCHANGES), n_traders)
        bank_ex[cust_w] = tex
        chain[self.retail_wallets] = rng.choice(
            [CHN[c] for c in EXCHANGE_CHAINS],
            size=len(retail),
            p=[0.3, 0.3, 0.15, 0.08, 0.1, 0.04, 0.03],
        )
        chain[hot] = np.tile([CHN[c] for c in EXCHANGE_CHAINS], len(EXCHANGES))
        bank_ex[hot] = np.repeat(np.arange(len(EXCHANGES)), len(EXCHANGE_CHAINS))
        chain[self.idx_of[MIXER]] = [CHN[c] for c in MIXER_CHAINS]
        chain[self.idx_of[BRIDGE]] = [CHN[c] for c in BRIDGE_CHAINS]
        self.chain = chain
        self.bank_ex = bank_ex
        self.hot_wallet = {
            (e, c): int(hot[e * len(EXCHANGE_CHAINS) + j])
            for e in range(len(EXCHANGES))
            for j, c in enumerate(EXCHANGE_CHAINS)
        }
        self.mixer = {c: int(self.idx_of[MIXER][j]) for j, c in enumerate(MIXER_CHAINS)}
        self.bridge = {c: int(self.idx_of[BRIDGE][j]) for j, c in enumerate(BRIDGE_CHAINS)}
        self.exchange_bank = {e: int(exb[e]) for e in range(len(EXCHANGES))}

        # Domicile: areas and banks
        area = np.empty(n, dtype=np.int32)
        us_pool = np.array(self.us_areas)
        w = np.where(np.isin(us_pool, self.border_areas), 0.25, 1.0)
        area[:] = rng.choice(us_pool, size=n, p=w / w.sum())
        fo = self.idx_of[FOREIGN]
        fcc = rng.choice(N.REMIT_COUNTRIES, size=len(fo), p=N.REMIT_WEIGHTS)
        # a slice of foreign accounts in trade and layering countries
        k = len(fo) // 4
        fcc[:k] = rng.choice(N.TRADE_COUNTRIES, size=k)
        area[fo] = [
            self.foreign_areas[c][int(rng.integers(len(self.foreign_areas[c])))] for c in fcc
        ]
        self.area = area
        bank = rng.integers(0, len(US_BANKS), n).astype(np.int16)
        self.bank = bank
        area_cc_lut = np.array([self.cc_code[a.cc] for a in self.areas], dtype=np.int16)
        acc_cc = area_cc_lut[area]
        # service wallets: "domiciled" offshore
        acc_cc[hot] = self.cc_code["KY"]
        acc_cc[self.idx_of[MIXER]] = self.cc_code["SC"]
        acc_cc[self.idx_of[BRIDGE]] = self.cc_code["VG"]
        self.book_cc = acc_cc
        cur = np.full(n, self.cur_code["USD"], dtype=np.int16)
        cur[fo] = [self.cur_code[N.COUNTRY_CURRENCY[c]] for c in fcc]
        wal = chain >= 0
        cur[wal] = [self.cur_code[CHAIN_ASSET[CHAINS[c]]] for c in chain[wal]]
        self.book_cur = cur
        home = np.full(n, -1, dtype=np.int32)
        # home branch: first branch of (bank, area)
        us = ~wal
        fbank_names = []
        for i in fo:
            cc = self.areas[area[i]].cc
            fbank_names.append(self.foreign_banks[cc][int(rng.integers(2))])
        self.foreign_bank_of = dict(zip(fo.tolist(), fbank_names, strict=True))
        br_first = {key: v[0] for key, v in self.branch.items()}
        lut = np.full((len(US_BANKS), len(self.areas)), -1, dtype=np.int32)
        for bi, b in enumerate(US_BANKS):
            for ai in self.us_areas:
                lut[bi, ai] = br_first[(b, ai)]
        dom = np.flatnonzero(us & (kind != FOREIGN))
        home[dom] = lut[bank[dom], area[dom]]
        home[fo] = [br_first[(self.foreign_bank_of[i], area[i])] for i in fo]
        self.book_home = home

        # Person attributes for the ordinary streams
        np_ = len(persons)
        self.employers = self.idx_of[EMPLOYER]
        emp = rng.integers(0, len(self.employers), np_)
        employed = rng.random(np_) < 0.85
        self.p_employer = np.where(employed, self.employers[emp], -1)
        self.employer_weekday = rng.choice([3, 4], size=n, p=[0.3, 0.7])  # Thu/Fri
        self.employer_parity = rng.integers(0, 2, n)
        self.p_salary = np.round(np.exp(rng.normal(np.log(2100), 0.45, np_)), 2)
        renters = rng.random(np_) < 0.6
        self.p_landlord = np.where(
            renters, self.idx_of[LANDLORD][rng.integers(0, counts[LANDLORD], np_)], -1
        )
        self.p_rent_day = rng.integers(1, 6, np_)
        self.p_rent = np.round(np.exp(rng.normal(np.log(1400), 0.35, np_)), 0)
        self.p_utility = self.idx_of[UTILITY][rng.integers(0, counts[UTILITY], np_)]
        self.p_bill_day = rng.integers(1, 29, np_)
        self.p_bill = np.round(np.exp(rng.normal(np.log(110), 0.5, np_)), 2)
        self.p_remitter = rng.random(np_) < cfg.background.remitter_frac
        self.persons = persons
        # foreign recipients per remittance country
        self.foreign_by_cc: dict[str, np.ndarray] = {}
        for cc in set(fcc.tolist()):
            self.foreign_by_cc[cc] = fo[fcc == cc]
        for cc in N.REMIT_COUNTRIES:
            if cc not in self.foreign_by_cc:
                self.foreign_by_cc[cc] = fo[:1]
        self.p_remit_dst = np.empty(np_, dtype=np.int64)
        rc = rng.choice(N.REMIT_COUNTRIES, size=np_, p=N.REMIT_WEIGHTS)
        for cc in N.REMIT_COUNTRIES:
            m = rc == cc
            pool = self.foreign_by_cc[cc]
            self.p_remit_dst[m] = pool[rng.integers(0, len(pool), m.sum())]
        # MSB agent locations (some in targeting-order ZIPs), cash-business home areas
        self.msb_agents: dict[int, list[int]] = {}
        for j, i in enumerate(self.idx_of[MSB]):
            ais = [self.gto_areas[j % len(self.gto_areas)]] if self.gto_areas else []
            ais.append(int(area[i]))
            locs = []
            for t, ai in enumerate(ais):
                locs.append(
                    self.add_location(f"{self.areas[ai].prefix}:M{j + 1:04d}-AG{t + 1}", ai)
                )
            self.msb_agents[int(i)] = locs
        self.n_book_parties = n  # party index == account index in the book
        self.pool_free = rng.permutation(
            np.setdiff1d(persons, np.concatenate([self.traders, retail, hn_remit]))
        )
        self.pool_pos = 0

    # -- registry for planted entities -----------------------------------------------------
    @property
    def n_accounts(self) -> int:
        return self.n_book + len(self._pa["account_id"])

    @property
    def n_parties(self) -> int:
        return self.n_book_parties + len(self._pp["party_id"])

    def draw_person_account(self) -> int:
        """An ordinary person's account (with its ordinary activity) recruited into a scenario;
        each one at most once."""
        if self.pool_pos >= len(self.pool_free):
            raise ValueError("world too small for the planted scenarios; raise n_accounts")
        i = int(self.pool_free[self.pool_pos])
        self.pool_pos += 1
        return i

    def owner_of(self, acct: int) -> int:
        if acct < self.n_book:
            return int(self.owner[acct])
        return self._pa["owner"][acct - self.n_book]

    def acct_cc(self, acct: int) -> str:
        if acct < self.n_book:
            return self.countries[self.book_cc[acct]]
        return self._pa["country"][acct - self.n_book]

    def acct_cur(self, acct: int) -> str:
        if acct < self.n_book:
            return self.currencies[self.book_cur[acct]]
        return self._pa["currency"][acct - self.n_book]

    def acct_chain(self, acct: int) -> str | None:
        if acct < self.n_book:
            c = int(self.chain[acct])
            return CHAINS[c] if c >= 0 else None
        return self._pa["chain"][acct - self.n_book]

    def acct_bank(self, acct: int) -> str:
        if acct < self.n_book:
            k = self.kind[acct]
            if k == FOREIGN:
                return self.foreign_bank_of[acct]
            if self.chain[acct] >= 0:
                return EXCHANGES[self.bank_ex[acct]] if self.bank_ex[acct] >= 0 else "SELF"
            return US_BANKS[self.bank[acct]]
        return self._pa["bank_id"][acct - self.n_book]

    def acct_area(self, acct: int) -> int:
        if acct < self.n_book:
            return int(self.area[acct])
        return self._pa["area"][acct - self.n_book]

    def add_party(
        self,
        name: str,
        kind: str,
        country: str,
        *,
        address: str | None = None,
        phone: str | None = None,
        id_type: str | None = None,
        id_number: str | None = None,
        business_type: str | None = None,
        birth_date: date | None = None,
        incorporation_date: date | None = None,
        customer_since: date | None = None,
    ) -> int:
        p = self._pp
        idx = self.n_parties
        p["party_id"].append(f"P{idx:09d}")
        for k, v in (
            ("name", name),
            ("kind", kind),
            ("country", country),
            ("address", address),
            ("phone", phone),
            ("id_type", id_type),
            ("id_number", id_number),
            ("business_type", business_type),
            ("birth_date", birth_date),
            ("incorporation_date", incorporation_date),
            ("customer_since", customer_since),
        ):
            p[k].append(v)
        return idx

    def party_field(self, party: int, field_: str):
        return (
            self._pp[field_][party - self.n_book_parties] if party >= self.n_book_parties else None
        )

    def add_account(
        self,
        owner: int,
        *,
        bank_id: str,
        account_type: str,
        country: str,
        currency: str,
        area: int = -1,
        home_location: int = -1,
        opened: date | None = None,
        chain: str | None = None,
        address: str | None = None,
    ) -> int:
        a = self._pa
        idx = self.n_accounts
        a["account_id"].append(f"W-{idx:09d}" if account_type == "wallet" else f"A{idx:09d}")
        a["owner"].append(owner)
        a["bank_id"].append(bank_id)
        a["account_type"].append(account_type)
        a["country"].append(country)
        a["currency"].append(currency)
        a["area"].append(area)
        a["home_location"].append(self.locs[home_location] if home_location >= 0 else None)
        a["opened_date"].append(
            opened or (self.start - timedelta(days=int(self.rng.integers(200, 3000))))
        )
        a["chain"].append(chain)
        a["address"].append(address)
        return idx

    def add_wallet(
        self,
        owner: int,
        chain: str,
        rng: np.random.Generator,
        *,
        custodian: str = "SELF",
        opened: date | None = None,
        address: str | None = None,
    ) -> int:
        return self.add_account(
            owner,
            bank_id=custodian,
            account_type="wallet",
            country="US",
            currency=CHAIN_ASSET[chain],
            chain=chain,
            address=address or _rand_address(chain, rng),
            opened=opened or (self.start - timedelta(days=int(rng.integers(1, 60)))),
        )

    def add_bank_account(
        self,
        owner: int,
        area: int,
        rng: np.random.Generator,
        *,
        bank: str | None = None,
        account_type: str = "checking",
        opened: date | None = None,
    ) -> int:
        a = self.areas[area]
        if bank is None:
            bank = (
                US_BANKS[int(rng.integers(len(US_BANKS)))]
                if a.cc == "US"
                else self.foreign_banks[a.cc][int(rng.integers(2))]
            )
        home = self.branch[(bank, area)][0]
        return self.add_account(
            owner,
            bank_id=bank,
            account_type=account_type,
            country=a.cc,
            currency=N.COUNTRY_CURRENCY.get(a.cc, "USD"),
            area=area,
            home_location=home,
            opened=opened,
        )

    # -- code arrays for every account (book + planted) -------------------------------------
    def finalize(self) -> None:
        """Freeze the registry into arrays used by the day builder."""
        a = self._pa
        self.acc_cc_arr = np.concatenate(
            [self.book_cc, np.array([self.cc_code[c] for c in a["country"]], dtype=np.int16)]
        )
        self.acc_cur_arr = np.concatenate(
            [self.book_cur, np.array([self.cur_code[c] for c in a["currency"]], dtype=np.int16)]
        )
        self.loc_cc_arr = np.array(
            [self.cc_code[self.areas[x].cc] for x in self.loc_area], dtype=np.int16
        )
        self.acc_chain_arr = np.concatenate(
            [self.chain, np.array([CHN[c] if c else -1 for c in a["chain"]], dtype=np.int8)]
        )
        lut = np.full((len(US_BANKS), len(self.areas)), -1, dtype=np.int32)
        for bi, b in enumerate(US_BANKS):
            for ai in self.us_areas:
                lut[bi, ai] = self.atm[(b, ai)][0]
        self.atm_lut = lut
        self.hot_lut = np.array(
            [[self.hot_wallet.get((e, c), -1) for c in CHAINS] for e in range(len(EXCHANGES))],
            dtype=np.int64,
        )
        self.acct_ids = self.accounts_frame().get_column("account_id")
        self.loc_series = pl.Series("location", self.locs, dtype=pl.String)
        self.cc_series = pl.Series("cc", self.countries, dtype=pl.String)
        self.cur_series = pl.Series("cur", self.currencies, dtype=pl.String)
        self.memo_series = pl.Series("memo", self.memos, dtype=pl.String)

    def party_id(self, party: int) -> str:
        return f"P{party:09d}"

    def account_id(self, acct: int) -> str:
        if acct < self.n_book:
            return f"W-{acct:09d}" if self.chain[acct] >= 0 else f"A{acct:09d}"
        return self._pa["account_id"][acct - self.n_book]

    # -- tables ---------------------------------------------------------------------------
    def accounts_frame(self) -> pl.DataFrame:
        if getattr(self, "_accounts_df", None) is not None:
            return self._accounts_df
        n, rng = self.n_book, np.random.default_rng(np.random.SeedSequence([self.cfg.seed, 0, 901]))
        kind = self.kind
        is_w = self.chain >= 0
        idx = pl.Series(np.arange(n, dtype=np.int64)).cast(pl.String).str.zfill(9)
        acct_id = pl.select(
            pl.when(pl.lit(pl.Series(is_w)))
            .then(pl.lit("W-") + pl.lit(idx))
            .otherwise(pl.lit("A") + pl.lit(idx))
        ).to_series()
        types = np.array(
            [
                "checking",
                "business",
                "business",
                "business",
                "business",
                "business",
                "business",
                "msb",
                "payment_processor",
                "exchange",
                "checking",
                "wallet",
                "wallet",
                "wallet",
                "wallet",
                "wallet",
            ]
        )
        atype = types[kind]
        sav = (kind == PERSON) & (rng.random(n) < 0.1)
        atype = np.where(sav, "savings", atype)
        bank_names = np.array(US_BANKS)[self.bank].astype(object)
        fo = self.idx_of[FOREIGN]
        bank_names[fo] = [self.foreign_bank_of[i] for i in fo]
        wal = np.flatnonzero(is_w)
        bank_names[wal] = [
            EXCHANGES[self.bank_ex[i]] if self.bank_ex[i] >= 0 else "SELF" for i in wal
        ]
        addr = np.full(n, None, dtype=object)
        for i in wal:
            addr[i] = _rand_address(CHAINS[self.chain[i]], rng)
        self.book_address = addr
        opened = np.datetime64(self.start) - rng.integers(30, 6000, n).astype("timedelta64[D]")
        w_open = np.datetime64(self.start) - rng.integers(10, 1500, n).astype("timedelta64[D]")
        opened = np.where(is_w, w_open, opened)
        closed = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        home = self.book_home
        book = pl.DataFrame(
            {
                "account_id": acct_id,
                "owner_party_id": pl.select(
                    pl.lit("P") + pl.lit(pl.Series(self.owner).cast(pl.String).str.zfill(9))
                ).to_series(),
                "bank_id": pl.Series(bank_names.tolist(), dtype=pl.String),
                "account_type": pl.Series(atype, dtype=pl.String),
                "country": self.cc_series_full()[self.book_cc],
                "currency": pl.Series(self.currencies)[self.book_cur],
                "home_location": pl.Series(self.locs, dtype=pl.String).gather(
                    pl.select(
                        pl.when(pl.lit(pl.Series(home)) >= 0).then(
                            pl.lit(pl.Series(home.astype(np.int64)))
                        )
                    ).to_series()
                ),
                "opened_date": pl.Series(opened),
                "closed_date": pl.Series(closed),
                "chain": pl.Series(
                    np.array([None, *CHAINS], dtype=object)[
                        self.chain.astype(np.int64) + 1
                    ].tolist(),
                    dtype=pl.String,
                ),
                "address": pl.Series(addr.tolist(), dtype=pl.String),
            }
        )
        a = self._pa
        planted = pl.DataFrame(
            {
                "account_id": a["account_id"],
                "owner_party_id": [f"P{o:09d}" for o in a["owner"]],
                "bank_id": a["bank_id"],
                "account_type": a["account_type"],
                "country": a["country"],
                "currency": a["currency"],
                "home_location": a["home_location"],
                "opened_date": a["opened_date"],
                "closed_date": [None] * len(a["account_id"]),
                "chain": a["chain"],
                "address": a["address"],
            },
            schema={
                "account_id": pl.String,
                "owner_party_id": pl.String,
                "bank_id": pl.String,
                "account_type": pl.String,
                "country": pl.String,
                "currency": pl.String,
                "home_location": pl.String,
                "opened_date": pl.Date,
                "closed_date": pl.Date,
                "chain": pl.String,
                "address": pl.String,
            },
        )
        self._accounts_df = pl.concat([book.cast(planted.schema), planted])
        return self._accounts_df

    def cc_series_full(self) -> pl.Series:
        return pl.Series(self.countries, dtype=pl.String)

    def wallet_address(self, acct: int) -> str:
        if acct < self.n_book:
            if getattr(self, "book_address", None) is None:
                self.accounts_frame()
            return self.book_address[acct]
        return self._pa["address"][acct - self.n_book]

    def parties_frame(self) -> pl.DataFrame:
        n, rng = self.n_book, np.random.default_rng(np.random.SeedSequence([self.cfg.seed, 0, 902]))
        kind = self.kind
        is_person = np.isin(kind, [PERSON, FOREIGN])
        first = pl.Series(N.FIRST).gather(rng.integers(0, len(N.FIRST), n))
        last = pl.Series(N.LAST).gather(rng.integers(0, len(N.LAST), n))
        word = pl.Series(N.BIZ_WORDS).gather(rng.integers(0, len(N.BIZ_WORDS), n))
        btype = np.full(n, None, dtype=object)
        kind_bt = {
            EMPLOYER: ["construction", "professional_services", "logistics", "retail", "other"],
            MERCHANT: ["retail", "restaurant", "other"],
            LANDLORD: ["real_estate"],
            UTILITY: ["other"],
            B2B: [
                "logistics",
                "construction",
                "professional_services",
                "retail",
                "import_export",
                "trading_company",
            ],
            CASHBIZ: ["restaurant", "car_wash", "convenience_store"],
            MSB: ["money_service_business"],
            PP: ["payment_processor"],
            EXCH_BANK: ["crypto_exchange"],
            HOT_WALLET: ["crypto_exchange"],
            MIXER: ["other"],
            BRIDGE: ["other"],
        }
        for k, opts in kind_bt.items():
            ii = self.idx_of[k]
            btype[ii] = np.array(opts, dtype=object)[rng.integers(0, len(opts), len(ii))]
        bts = sorted(N.BIZ_SUFFIX)
        table = [N.BIZ_SUFFIX[b][j % len(N.BIZ_SUFFIX[b])] for b in bts for j in range(6)]
        bcode = {b: i for i, b in enumerate(bts)}
        has_bt = btype != None  # noqa: E711
        code = np.zeros(n, dtype=np.int64)
        code[has_bt] = [bcode[b] for b in btype[has_bt]]
        sidx = code * 6 + rng.integers(0, 6, n)
        suffix = pl.Series(table, dtype=pl.String).gather(sidx)
        util_names = [
            "City Power & Light",
            "Metro Water Utility",
            "Unity Telecom",
            "Bell Wireless",
            "GasCo Energy",
        ]
        area = self.area
        area_city = pl.Series([a.city for a in self.areas])[area]
        area_reg = pl.Series([a.region for a in self.areas])[area]
        area_zip = pl.Series([a.zip for a in self.areas])[area]
        area_cc = pl.Series([a.cc for a in self.areas])[area]
        num = pl.Series(rng.integers(1, 9999, n))
        street = pl.Series(N.STREETS).gather(rng.integers(0, len(N.STREETS), n))
        phone = pl.Series(rng.integers(2_000_000_000, 9_899_999_999, n)).cast(pl.String)
        ssn = pl.Series(rng.integers(100_000_000, 899_999_999, n)).cast(pl.String)
        df = pl.DataFrame(
            {
                "first": first,
                "last": last,
                "word": word,
                "suffix": suffix,
                "is_person": is_person,
                "city": area_city,
                "reg": area_reg,
                "zip": area_zip,
                "cc": area_cc,
                "num": num,
                "street": street,
                "phone": phone,
                "ssn": ssn,
                "btype": pl.Series(btype.tolist(), dtype=pl.String),
            }
        )
        birth = np.datetime64("1950-01-01") + rng.integers(0, 365 * 52, n).astype("timedelta64[D]")
        inc = np.datetime64(self.start) - rng.integers(400, 12000, n).astype("timedelta64[D]")
        since = np.datetime64(self.start) - rng.integers(30, 6000, n).astype("timedelta64[D]")
        out = df.select(
            pl.select(pl.lit("P") + pl.lit(pl.Series(np.arange(n)).cast(pl.String).str.zfill(9)))
            .to_series()
            .alias("party_id"),
            pl.when("is_person")
            .then(pl.format("{} {}", "first", "last"))
            .otherwise(pl.format("{} {}", "word", "suffix"))
            .alias("name"),
            pl.when("is_person")
            .then(pl.lit("person"))
            .otherwise(pl.lit("organization"))
            .alias("kind"),
            pl.col("cc").alias("country"),
            pl.format("{} {} St, {}, {} {}", "num", "street", "city", "reg", "zip").alias(
                "address"
            ),
            pl.when(pl.col("cc") == "US")
            .then(pl.format("+1{}", "phone"))
            .otherwise(pl.format("+52{}", "phone"))
            .alias("phone"),
            pl.when(pl.col("is_person") & (pl.col("cc") == "US"))
            .then(pl.lit("ssn"))
            .when("is_person")
            .then(pl.lit("national_id"))
            .otherwise(pl.lit("ein"))
            .alias("id_type"),
            pl.when(pl.col("is_person") & (pl.col("cc") == "US"))
            .then(
                pl.format(
                    "{}-{}-{}",
                    pl.col("ssn").str.slice(0, 3),
                    pl.col("ssn").str.slice(3, 2),
                    pl.col("ssn").str.slice(5, 4),
                )
            )
            .when("is_person")
            .then(pl.format("ID{}", "ssn"))
            .otherwise(
                pl.format("{}-{}", pl.col("ssn").str.slice(0, 2), pl.col("ssn").str.slice(2, 7))
            )
            .alias("id_number"),
            pl.col("btype").alias("business_type"),
            pl.when("is_person").then(pl.lit(pl.Series(birth))).alias("birth_date"),
            pl.when(~pl.col("is_person")).then(pl.lit(pl.Series(inc))).alias("incorporation_date"),
            pl.when(pl.col("cc") == "US").then(pl.lit(pl.Series(since))).alias("customer_since"),
        )
        # utilities get utility names; wallets' "parties" are unused rows -> drop them
        ui = self.idx_of[UTILITY]
        fix = {
            int(i): util_names[j % len(util_names)] + ("" if j < len(util_names) else f" {j}")
            for j, i in enumerate(ui)
        }
        for e, i in self.exchange_bank.items():
            fix[i] = EXCHANGES[e].title() + " Exchange Inc"
        for c, i in self.mixer.items():
            fix[i] = f"{c.title()} Mixing Pool (unknown operator)"
        for c, i in self.bridge.items():
            fix[i] = f"{c.title()} Bridge Protocol"
        out = out.with_columns(out.get_column("name").scatter(list(fix), list(fix.values())))
        keep = ~np.isin(kind, [WALLET_SELF, WALLET_CUST, HOT_WALLET])
        out = out.filter(pl.Series(keep))
        # the service wallets (mixer, bridge) are organizations with offshore domicile
        out = out.with_columns(
            pl.when(
                pl.col("party_id").is_in(
                    [f"P{i:09d}" for i in list(self.mixer.values()) + list(self.bridge.values())]
                )
            )
            .then(pl.lit("SC"))
            .otherwise(pl.col("country"))
            .alias("country")
        )
        p = self._pp
        planted = pl.DataFrame({k: p[k] for k in _PARTY_COLS}, schema=_PARTY_SCHEMA)
        return pl.concat([out.cast(_PARTY_SCHEMA), planted])


_PARTY_COLS = [
    "party_id",
    "name",
    "kind",
    "country",
    "address",
    "phone",
    "id_type",
    "id_number",
    "business_type",
    "birth_date",
    "incorporation_date",
    "customer_since",
]
_PARTY_SCHEMA = {
    "party_id": pl.String,
    "name": pl.String,
    "kind": pl.String,
    "country": pl.String,
    "address": pl.String,
    "phone": pl.String,
    "id_type": pl.String,
    "id_number": pl.String,
    "business_type": pl.String,
    "birth_date": pl.Date,
    "incorporation_date": pl.Date,
    "customer_since": pl.Date,
}
_ACCOUNT_COLS = [
    "account_id",
    "owner",
    "bank_id",
    "account_type",
    "country",
    "currency",
    "area",
    "home_location",
    "opened_date",
    "chain",
    "address",
]
