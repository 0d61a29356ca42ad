"""Planted typologies, planned upfront as small event tables with exact labels.

Every scenario is built on a local clock (hours from the world's first midnight), then placed in
the window by whole-day shifts (so hours of day survive) and compressed only if it is longer
than the window. Convergence scenarios enclose child scenarios (structuring, funnel_account,
crypto_cash_out) through ``parent_scenario_id``: a child's transactions and accounts carry
the child's labels AND the convergence scenario's labels (same role), and the legs that route
the proceeds to the terror-designated facilitator carry the convergence labels only.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from datetime import date, timedelta

import numpy as np

from . import names as N
from .background import DAY_US, HOUR_US
from .config import TYPOLOGIES, WorldConfig
from .world import (
    BRIDGE_CHAINS,
    CH,
    EXCHANGES,
    MIXER_CHAINS,
    TT,
    US_BANKS,
    World,
)


class Planner:
    def __init__(self, w: World, cfg: WorldConfig) -> None:
        self.w = w
        self.cfg = cfg
        self.reg = w.reg
        self.start_us = int(np.datetime64(cfg.start, "us").astype(np.int64))
        self.window_h = cfg.days * 24.0
        # global planted events
        self.E: dict[str, list] = {
            k: [] for k in ("ts", "src", "dst", "usd", "channel", "ttype", "loc", "cond", "memo")
        }
        self.L: list[tuple] = []  # (pid, scenario_id, typology, role, hop, label)
        self.A: list[tuple] = []  # (account idx, scenario_id, typology, role, label)
        self.S: list[dict] = []  # scenario rows (stats filled later)
        self.watch: list[dict] = []
        self.tags: list[dict] = []
        self.counter: dict[str, int] = {}
        self.party_override: dict[int, dict] = {}

    # -- scenario bookkeeping ----------------------------------------------------------------
    def new_sid(self, typ: str) -> str:
        k = self.counter.get(typ, 0)
        self.counter[typ] = k + 1
        return f"{typ.replace('_', '-')}-{k:05d}"

    def open(
        self,
        typ: str,
        params: dict,
        *,
        parent: dict | None = None,
        program: str | None = None,
        label: str = "suspicious",
        kind: str | None = None,
    ) -> dict:
        sid = self.new_sid(typ if label == "suspicious" else "hardneg-namesake")
        sc = {
            "scenario_id": sid,
            "typology": typ,
            "label": label,
            "hard_negative_kind": kind,
            "parent_scenario_id": parent["scenario_id"] if parent else None,
            "program": program,
            "params": _dumps(params),
            "parent": parent,
            "root": parent["root"] if parent else None,
            "events": [] if parent is None else None,
        }
        if parent is None:
            sc["root"] = sc
        self.S.append(sc)
        return sc

    def _chain(self, sc: dict) -> list[dict]:
        out = []
        while sc is not None:
            out.append(sc)
            sc = sc["parent"]
        return out

    def acct(self, sc: dict, a: int, role: str) -> None:
        for s in self._chain(sc):
            self.A.append((a, s["scenario_id"], s["typology"], role, s["label"]))

    def ev(
        self,
        sc: dict,
        h: float,
        src: int,
        dst: int,
        usd: float,
        channel: str,
        ttype: str,
        role: str,
        *,
        hop: int | None = None,
        loc: int = -1,
        cond: int = -1,
        memo: str | None = None,
    ) -> float:
        m = -1
        if memo is not None:
            m = len(self.w.memos)
            self.w.memos.append(memo)
        sc["root"]["events"].append(
            (
                h,
                src,
                dst,
                float(usd),
                CH[channel],
                TT[ttype],
                loc,
                cond,
                m,
                [(s["scenario_id"], s["typology"], role, hop, s["label"]) for s in self._chain(sc)],
            )
        )
        return h

    def close(self, sc: dict, rng: np.random.Generator) -> None:
        evs = sc["events"]
        if not evs:
            return
        hs = np.array([e[0] for e in evs])
        lo, hi = hs.min(), hs.max()
        if lo < 0:
            hs = hs - math.floor(lo / 24.0) * 24.0
            lo, hi = hs.min(), hs.max()
        limit = self.window_h - 0.01
        if hi >= limit:  # longer than the window: compress keeping order
            hs = hs * (limit / (hi + 1e-9))
            hi = hs.max()
        last_day = int(hi // 24)
        shift_days = int(rng.integers(0, max(1, self.cfg.days - last_day)))
        us = self.start_us + (hs * HOUR_US).astype(np.int64) + shift_days * DAY_US
        E = self.E
        for e, t in zip(evs, us.tolist(), strict=True):
            pid = len(E["ts"])
            E["ts"].append(t)
            for k, v in zip(
                ("src", "dst", "usd", "channel", "ttype", "loc", "cond", "memo"),
                e[1:9],
                strict=True,
            ):
                E[k].append(v)
            for lab in e[9]:
                self.L.append((pid, *lab))
        sc["events"] = None

    # -- entities -------------------------------------------------------------------------------
    def person(self, cc: str, rng, *, customer: bool = True, first=None, last=None, **kw) -> int:
        first = first or N.FIRST[int(rng.integers(len(N.FIRST)))]
        last = last or N.LAST[int(rng.integers(len(N.LAST)))]
        w = self.w
        area = self._area(cc, rng)
        a = w.areas[area]
        kw.setdefault(
            "address",
            f"{int(rng.integers(1, 9999))} {N.STREETS[int(rng.integers(len(N.STREETS)))]} St, {a.city}, {a.region} {a.zip}",
        )
        kw.setdefault(
            "phone", f"+{1 if cc == 'US' else 52}{int(rng.integers(2_000_000_000, 9_899_999_999))}"
        )
        kw.setdefault("id_type", "ssn" if cc == "US" else "passport")
        kw.setdefault(
            "id_number",
            (
                f"{int(rng.integers(100, 899))}-{int(rng.integers(10, 99))}-{int(rng.integers(1000, 9999))}"
                if cc == "US"
                else f"{cc}{int(rng.integers(10_000_000, 99_999_999))}"
            ),
        )
        kw.setdefault(
            "birth_date", date(1960, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 40)))
        )
        return w.add_party(
            f"{first} {last}",
            "person",
            cc,
            customer_since=(w.start - timedelta(days=int(rng.integers(20, 3000))))
            if customer
            else None,
            **kw,
        )

    def company(
        self, cc: str, btype: str, rng, *, incorporated: date | None = None, name: str | None = None
    ) -> int:
        w = self.w
        suffix = N.BIZ_SUFFIX[btype][int(rng.integers(len(N.BIZ_SUFFIX[btype])))]
        name = name or f"{N.BIZ_WORDS[int(rng.integers(len(N.BIZ_WORDS)))]} {suffix}"
        area = w.areas[self._area(cc, rng)]
        inc = incorporated or (w.start - timedelta(days=int(rng.integers(400, 8000))))
        return w.add_party(
            name,
            "organization",
            cc,
            business_type=btype,
            incorporation_date=inc,
            address=f"{int(rng.integers(1, 9999))} Commerce Blvd, {area.city}, {area.region} {area.zip}",
            phone=f"+1{int(rng.integers(2_000_000_000, 9_899_999_999))}",
            id_type="ein" if cc == "US" else "tax_id",
            id_number=f"{int(rng.integers(10, 99))}-{int(rng.integers(1_000_000, 9_999_999))}",
            customer_since=w.start - timedelta(days=int(rng.integers(5, 2000))),
        )

    def _area(self, cc: str, rng) -> int:
        w = self.w
        if cc == "US":
            return int(w.interior_areas[int(rng.integers(len(w.interior_areas)))])
        pool = w.foreign_areas.get(cc) or w.foreign_areas["MX"]
        return int(pool[int(rng.integers(len(pool)))])

    def bank_acct(
        self,
        party: int,
        cc: str,
        rng,
        *,
        area: int | None = None,
        bank: str | None = None,
        account_type: str = "checking",
        opened: date | None = None,
    ) -> int:
        area = self._area(cc, rng) if area is None else area
        return self.w.add_bank_account(
            party, area, rng, bank=bank, account_type=account_type, opened=opened
        )

    def foreign_acct(self, cc: str, rng, *, org: bool = False) -> int:
        p = (
            self.company(cc, "trading_company", rng)
            if org
            else self.person(cc, rng, customer=False)
        )
        return self.bank_acct(p, cc, rng, account_type="business" if org else "checking")

    def shell(self, rng, cc: str = "US", btype: str = "shell_company", recent: bool = False) -> int:
        inc = self.w.start - timedelta(days=int(rng.integers(20, 200))) if recent else None
        p = self.company(cc, btype, rng, incorporated=inc)
        return self.bank_acct(p, cc, rng, account_type="business")

    def mule(self, rng) -> int:
        """A recruited ordinary customer (keeps their ordinary activity)."""
        return self.w.draw_person_account()

    def wallet(self, owner: int, chain: str, rng, custodian: str = "SELF") -> int:
        a = self.w.add_wallet(owner, chain, rng, custodian=custodian)
        if custodian != "SELF":
            self.tags.append(
                {
                    "address": self.w.wallet_address(a),
                    "chain": chain,
                    "label": f"{custodian.title()} deposit address",
                    "category": "exchange",
                    "entity_id": None,
                    "source": "synthetic",
                }
            )
        return a

    def branch(self, acct: int, rng, area: int | None = None, atm: bool = False) -> int:
        w = self.w
        bank = w.acct_bank(acct)
        area = w.acct_area(acct) if area is None else area
        if bank not in US_BANKS and (bank, area) not in w.branch:
            area = w.acct_area(acct)
        return w.branch_loc(bank, area, rng, atm=atm)

    # -- typologies ----------------------------------------------------------------------------
    def structuring(self, sc, rng, t0: float = 0.0, p=None):
        p = p or self.cfg.typology_params.structuring
        lo, hi = p.band_usd or (self.reg.structuring_band_low_usd, self.reg.ctr_threshold_usd - 1.0)
        main = self.mule(rng)
        person = self.w.owner_of(main)
        n_acc = int(rng.integers(p.own_accounts[0], p.own_accounts[1] + 1))
        banks = [self.w.acct_bank(main)] + [
            b for b in rng.permutation(US_BANKS).tolist() if b != self.w.acct_bank(main)
        ]
        area = self.w.acct_area(main)
        accts = [main] + [
            self.bank_acct(person, "US", rng, area=area, bank=banks[i]) for i in range(1, n_acc)
        ]
        for a in accts:
            self.acct(sc, a, "structurer")
        n_days = int(rng.integers(p.days[0], p.days[1] + 1))
        nb = int(rng.integers(p.branches[0], p.branches[1] + 1))
        near = [area] + [int(x) for x in rng.choice(self.w.interior_areas, size=nb, replace=True)]
        plan = []
        for d in range(n_days):
            plan += [d] * int(rng.integers(p.deposits_per_day[0], p.deposits_per_day[1] + 1))
        need = math.floor(self.reg.ctr_threshold_usd / lo) + 1  # so the total crosses the threshold
        while len(plan) < need:
            plan.append(int(rng.integers(0, n_days)))
        plan.sort()
        total, h = 0.0, t0
        day0 = math.floor(t0 / 24) * 24
        for n, d in enumerate(plan):
            a = accts[n % len(accts)]
            usd = min(float(np.round(rng.uniform(lo, hi), 0 if hi - lo > 50 else 2)), hi)
            usd = max(usd, lo)
            h = day0 + d * 24 + 8.5 + n % 4 * 2 + float(rng.uniform(0, 1.5))
            loc = self.branch(a, rng, area=near[n % len(near)])
            self.ev(
                sc, h, -1, a, usd, "cash", "deposit", "structured_deposit", loc=loc, cond=person
            )
            total += usd
        if rng.random() < 0.5:
            dst = self.foreign_acct(str(rng.choice(["MX", "CO", "GT"])), rng)
            self.acct(sc, dst, "beneficiary")
            h = self.ev(
                sc,
                math.floor(h / 24) * 24 + 24 + float(rng.uniform(9, 16)),
                main,
                dst,
                round(total * rng.uniform(0.8, 0.95), 2),
                "wire",
                "transfer",
                "move_out",
            )
        return h, main, total, person

    def smurfing(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.smurfing
        col = self.mule(rng) if rng.random() < 0.5 else self.shell(rng)
        self.acct(sc, col, "collector")
        n_s = int(rng.integers(p.smurfs[0], p.smurfs[1] + 1))
        n_days = int(rng.integers(p.days[0], p.days[1] + 1))
        total, last = 0.0, t0
        areas = [self.w.acct_area(col)] + [int(x) for x in rng.choice(self.w.interior_areas, 3)]
        for _ in range(n_s):
            smurf = self.person("US", rng, customer=False)
            for _ in range(int(rng.integers(p.deposits_per_smurf[0], p.deposits_per_smurf[1] + 1))):
                h = t0 + int(rng.integers(0, n_days)) * 24 + float(rng.uniform(9, 17))
                usd = round(float(rng.uniform(*p.amount_usd)), 0)
                self.ev(
                    sc,
                    h,
                    -1,
                    col,
                    usd,
                    "cash",
                    "deposit",
                    "smurf_deposit",
                    loc=self.branch(col, rng, area=areas[int(rng.integers(len(areas)))]),
                    cond=smurf,
                )
                total += usd
                last = max(last, h)
        dst = self.foreign_acct(str(rng.choice(["MX", "CO", "PA"])), rng)
        self.acct(sc, dst, "beneficiary")
        self.ev(
            sc,
            last + float(rng.uniform(*p.out_delay_hours)),
            col,
            dst,
            round(total * rng.uniform(*p.out_ratio), 2),
            "wire",
            "transfer",
            "consolidated_out",
        )

    def cuckoo_smurfing(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.cuckoo_smurfing
        victim = self.mule(rng)
        self.acct(sc, victim, "cuckoo_victim")
        sender = self.foreign_acct(str(rng.choice(["GB", "ES", "AE", "CA"])), rng)
        self.acct(sc, sender, "origin")
        criminal = self.foreign_acct(str(rng.choice(["MX", "CO"])), rng)
        self.acct(sc, criminal, "beneficiary")
        expected = float(rng.uniform(*p.remittance_usd))
        n_s = int(rng.integers(p.smurfs[0], p.smurfs[1] + 1))
        n_days = int(rng.integers(p.days[0], p.days[1] + 1))
        shares = rng.dirichlet(np.ones(n_s)) * expected
        last = t0
        ctr = self.reg.ctr_threshold_usd
        for s in shares:
            smurf = self.person("US", rng, customer=False)
            parts = max(1, math.ceil(s / (ctr * 0.9)))
            for _ in range(parts):
                h = t0 + int(rng.integers(0, n_days)) * 24 + float(rng.uniform(9, 17))
                self.ev(
                    sc,
                    h,
                    -1,
                    victim,
                    round(s / parts, 0),
                    "cash",
                    "deposit",
                    "smurf_deposit",
                    loc=self.branch(victim, rng),
                    cond=smurf,
                )
                last = max(last, h)
        self.ev(
            sc,
            last + float(rng.uniform(*p.foreign_delay_hours)),
            sender,
            criminal,
            round(expected, 2),
            "wire",
            "remittance",
            "diverted_remittance",
            memo="FAMILY SUPPORT",
        )

    def funnel_account(self, sc, rng, t0=0.0, p=None, dst_override: int | None = None):
        p = p or self.cfg.typology_params.funnel_account
        w = self.w
        f = self.mule(rng) if rng.random() < 0.6 else self.shell(rng, btype="retail")
        if w.acct_bank(f) not in US_BANKS or w.acct_cc(f) != "US":
            f = self.shell(rng, btype="retail")
        self.acct(sc, f, "funnel")
        n_areas = int(rng.integers(p.deposit_areas[0], p.deposit_areas[1] + 1))
        areas = [
            int(a)
            for a in rng.choice(
                w.interior_areas, size=min(n_areas, len(w.interior_areas)), replace=False
            )
        ]
        n_dep = max(int(rng.integers(p.deposits[0], p.deposits[1] + 1)), len(areas))
        n_days = int(rng.integers(p.days[0], p.days[1] + 1))
        total, last = 0.0, t0
        for i in range(n_dep):
            h = t0 + int(rng.integers(0, n_days)) * 24 + float(rng.uniform(9, 17))
            usd = round(float(rng.uniform(*p.amount_usd)), 0)
            cond = self.person("US", rng, customer=False) if rng.random() < 0.5 else -1
            self.ev(
                sc,
                h,
                -1,
                f,
                usd,
                "cash",
                "deposit",
                "funnel_deposit",
                loc=self.branch(f, rng, area=areas[i % len(areas)]),
                cond=cond,
            )
            total += usd
            last = max(last, h)
        out = total * float(rng.uniform(*p.out_ratio))
        t = last + float(rng.uniform(*p.withdrawal_delay_hours))
        if dst_override is not None:
            self.ev(sc, t, f, dst_override, round(out, 2), "wire", "transfer", "funnel_wire_out")
            return t, f, out
        if rng.random() < p.wire_to_mx_prob or not w.border_areas:
            dst = self.foreign_acct("MX", rng)
            self.acct(sc, dst, "beneficiary")
            self.ev(sc, t, f, dst, round(out, 2), "wire", "transfer", "funnel_wire_out")
        else:
            k = int(rng.integers(p.withdrawals[0], p.withdrawals[1] + 1))
            for j, s in enumerate(rng.dirichlet(np.ones(k)) * out):
                area = int(w.border_areas[int(rng.integers(len(w.border_areas)))])
                self.ev(
                    sc,
                    t + j * float(rng.uniform(0.2, 6)),
                    f,
                    -1,
                    round(float(s), 0),
                    "cash",
                    "withdrawal",
                    "funnel_withdrawal",
                    loc=self.branch(f, rng, area=area),
                )
        return t, f, out

    def _node(self, rng, cross_prob: float) -> int:
        if rng.random() < cross_prob:
            return self.foreign_acct(
                str(rng.choice(N.LAYERING_COUNTRIES)), rng, org=rng.random() < 0.6
            )
        return self.mule(rng) if rng.random() < 0.5 else self.shell(rng)

    def chain(
        self,
        sc,
        rng,
        t0=0.0,
        p=None,
        origin: int | None = None,
        amount: float | None = None,
        end: int | None = None,
        role: str = "pass_through",
    ):
        """origin -> hop accounts -> beneficiary; returns (end time, last account, amount)."""
        hops = int(rng.integers(p.hops[0], p.hops[1] + 1))
        if origin is None:
            origin = (
                self.shell(rng)
                if rng.random() < 0.5
                else self.foreign_acct(str(rng.choice(N.LAYERING_COUNTRIES)), rng, org=True)
            )
            self.acct(sc, origin, "origin")
        nodes = [origin] + [self._node(rng, p.cross_border_prob) for _ in range(hops)]
        for n_ in nodes[1:]:
            self.acct(sc, n_, role)
        if end is None:
            end = self.foreign_acct(str(rng.choice(N.LAYERING_COUNTRIES)), rng, org=True)
            self.acct(sc, end, "beneficiary")
        nodes.append(end)
        amt = amount if amount is not None else float(rng.uniform(*p.amount_usd))
        h = t0 + float(rng.uniform(8, 16))
        for i in range(len(nodes) - 1):
            if i:
                amt *= float(rng.uniform(*p.pass_through))
                h += float(rng.uniform(*p.delay_hours))
            self.ev(
                sc, h, nodes[i], nodes[i + 1], round(amt, 2), "wire", "transfer", f"hop_{i}", hop=i
            )
        return h, end, amt

    def fan_in(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.fan_in
        hub = self.mule(rng) if rng.random() < 0.5 else self.shell(rng)
        self.acct(sc, hub, "hub")
        k = int(rng.integers(p.degree[0], p.degree[1] + 1))
        win = float(rng.uniform(*p.window_hours))
        total, last = 0.0, t0
        for _ in range(k):
            s = self.mule(rng)
            self.acct(sc, s, "spoke")
            h = t0 + float(rng.uniform(0, win))
            usd = round(float(rng.uniform(*p.amount_usd)), 2)
            self.ev(
                sc,
                h,
                s,
                hub,
                usd,
                str(rng.choice(["ach", "wire", "internal"])),
                "transfer",
                "fan_in",
            )
            total += usd
            last = max(last, h)
        dst = self.foreign_acct(str(rng.choice(N.LAYERING_COUNTRIES)), rng, org=True)
        self.acct(sc, dst, "beneficiary")
        self.ev(
            sc,
            last + float(rng.uniform(1, 24)),
            hub,
            dst,
            round(total * float(rng.uniform(*p.out_ratio)), 2),
            "wire",
            "transfer",
            "forward",
        )

    def fan_out(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.fan_out
        hub = self.mule(rng) if rng.random() < 0.5 else self.shell(rng)
        self.acct(sc, hub, "hub")
        k = int(rng.integers(p.degree[0], p.degree[1] + 1))
        amounts = rng.uniform(*p.amount_usd, k).round(2)
        origin = self.foreign_acct(str(rng.choice(N.LAYERING_COUNTRIES)), rng, org=True)
        self.acct(sc, origin, "origin")
        h0 = t0 + float(rng.uniform(8, 14))
        self.ev(
            sc,
            h0,
            origin,
            hub,
            round(float(amounts.sum()) / float(rng.uniform(*p.out_ratio)), 2),
            "wire",
            "transfer",
            "funding",
        )
        win = float(rng.uniform(*p.window_hours))
        for a in amounts:
            d = self.mule(rng)
            self.acct(sc, d, "spoke")
            self.ev(
                sc,
                h0 + 0.5 + float(rng.uniform(0, win)),
                hub,
                d,
                float(a),
                str(rng.choice(["ach", "wire", "internal"])),
                "transfer",
                "fan_out",
            )

    def scatter_gather(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.scatter_gather
        origin = self.shell(rng)
        self.acct(sc, origin, "origin")
        col = self.foreign_acct(str(rng.choice(N.LAYERING_COUNTRIES)), rng, org=True)
        self.acct(sc, col, "beneficiary")
        k = int(rng.integers(p.intermediates[0], p.intermediates[1] + 1))
        h0 = t0 + float(rng.uniform(8, 14))
        for _ in range(k):
            m = self.mule(rng)
            self.acct(sc, m, "mule")
            usd = float(rng.uniform(*p.amount_usd))
            h1 = h0 + float(rng.uniform(0, 6))
            self.ev(sc, h1, origin, m, round(usd, 2), "ach", "transfer", "scatter", hop=0)
            self.ev(
                sc,
                h1 + float(rng.uniform(*p.delay_hours)),
                m,
                col,
                round(usd * float(rng.uniform(*p.pass_through)), 2),
                "wire",
                "transfer",
                "gather",
                hop=1,
            )

    def gather_scatter(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.gather_scatter
        hub = self.shell(rng)
        self.acct(sc, hub, "hub")
        k = int(rng.integers(p.intermediates[0], p.intermediates[1] + 1))
        total, last = 0.0, t0
        for _ in range(k):
            s = self.mule(rng)
            self.acct(sc, s, "spoke")
            usd = round(float(rng.uniform(*p.amount_usd)), 2)
            h = t0 + float(rng.uniform(8, 30))
            self.ev(sc, h, s, hub, usd, "ach", "transfer", "gather", hop=0)
            total += usd
            last = max(last, h)
        k2 = int(rng.integers(p.intermediates[0], p.intermediates[1] + 1))
        out = total * float(rng.uniform(*p.pass_through))
        for s in rng.dirichlet(np.ones(k2)) * out:
            d = (
                self.foreign_acct(str(rng.choice(N.LAYERING_COUNTRIES)), rng)
                if rng.random() < 0.4
                else self.mule(rng)
            )
            self.acct(sc, d, "beneficiary")
            self.ev(
                sc,
                last + float(rng.uniform(*p.delay_hours)),
                hub,
                d,
                round(float(s), 2),
                "wire",
                "transfer",
                "scatter",
                hop=1,
            )

    def cycle(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.cycle
        L = int(rng.integers(p.length[0], p.length[1] + 1))
        a0 = self.shell(rng)
        self.acct(sc, a0, "origin")
        nodes = [a0] + [self._node(rng, 0.4) for _ in range(L - 1)]
        for n_ in nodes[1:]:
            self.acct(sc, n_, "pass_through")
        amt = float(rng.uniform(*p.amount_usd))
        h = t0 + float(rng.uniform(8, 14))
        for i in range(L):
            if i:
                amt *= float(rng.uniform(*p.pass_through))
                h += float(rng.uniform(*p.delay_hours))
            self.ev(
                sc,
                h,
                nodes[i],
                nodes[(i + 1) % L],
                round(amt, 2),
                "wire",
                "transfer",
                f"hop_{i}",
                hop=i,
            )

    def trade_based(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.trade_based
        inc = self.w.start - timedelta(
            days=int(rng.integers(p.incorporated_days_ago[0], p.incorporated_days_ago[1] + 1))
        )
        party = self.company(
            "US", str(rng.choice(["import_export", "trading_company"])), rng, incorporated=inc
        )
        front = self.bank_acct(
            party,
            "US",
            rng,
            account_type="business",
            opened=inc + timedelta(days=int(rng.integers(1, 10))),
        )
        self.acct(sc, front, "front_company")
        total, last = 0.0, t0
        for _ in range(int(rng.integers(p.payments_in[0], p.payments_in[1] + 1))):
            foreign = rng.random() < p.foreign_prob
            src = (
                self.foreign_acct(str(rng.choice(N.TRADE_COUNTRIES)), rng, org=True)
                if foreign
                else self.shell(rng, btype="trading_company")
            )
            self.acct(sc, src, "origin")
            usd = float(rng.uniform(*p.amount_usd))
            h = t0 + float(rng.uniform(0, 7 * 24))
            self.ev(
                sc,
                h,
                src,
                front,
                round(usd, 2),
                "wire",
                "trade",
                "trade_payment_in",
                memo=f"INV-{int(rng.integers(10000, 99999))} GOODS",
            )
            total += usd
            last = max(last, h)
        out = total * float(rng.uniform(*p.out_ratio))
        for s in (
            rng.dirichlet(np.ones(int(rng.integers(p.payments_out[0], p.payments_out[1] + 1))))
            * out
        ):
            d = self.foreign_acct(str(rng.choice(["MX", "CO", "HK", "PA", "CN"])), rng, org=True)
            self.acct(sc, d, "beneficiary")
            self.ev(
                sc,
                last + float(rng.uniform(2, 72)),
                front,
                d,
                round(float(s), 2),
                "wire",
                "trade",
                "trade_payment_out",
                memo=f"PO-{int(rng.integers(10000, 99999))}",
            )

    def ransom_collection(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.ransom_collection
        col = self.mule(rng)
        self.acct(sc, col, "collector")
        win = float(rng.uniform(*p.window_hours))
        total, last = 0.0, t0
        for _ in range(int(rng.integers(p.victims[0], p.victims[1] + 1))):
            v = self.mule(rng)
            self.acct(sc, v, "victim")
            usd = round(float(rng.uniform(*p.amount_usd)), 2)
            h = t0 + float(rng.uniform(0, win))
            self.ev(
                sc,
                h,
                v,
                col,
                usd,
                str(rng.choice(["ach", "wire", "internal"])),
                "transfer",
                "extortion_payment",
            )
            total += usd
            last = max(last, h)
        out = round(total * float(rng.uniform(*p.out_ratio)), 2)
        if rng.random() < 0.5:
            e = int(rng.integers(len(EXCHANGES)))
            self.ev(
                sc,
                last + float(rng.uniform(1, 24)),
                col,
                self.w.exchange_bank[e],
                out,
                "wire",
                "exchange_buy",
                "move_out",
            )
        else:
            d = self.foreign_acct(str(rng.choice(["MX", "SV", "HN", "GT"])), rng)
            self.acct(sc, d, "beneficiary")
            self.ev(
                sc, last + float(rng.uniform(1, 24)), col, d, out, "wire", "transfer", "move_out"
            )

    def crypto_cash_to_wallet(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.crypto_cash_to_wallet
        lo, hi = p.amount_usd or (
            self.reg.structuring_band_low_usd,
            self.reg.ctr_threshold_usd - 1.0,
        )
        acct = self.mule(rng)
        self.acct(sc, acct, "origin")
        person = self.w.owner_of(acct)
        total, last = 0.0, t0
        for d in range(int(rng.integers(p.cash_deposits[0], p.cash_deposits[1] + 1))):
            usd = round(float(rng.uniform(lo, hi)), 0)
            h = t0 + d * 24 + float(rng.uniform(9, 17))
            self.ev(
                sc,
                h,
                -1,
                acct,
                usd,
                "cash",
                "deposit",
                "cash_deposit",
                loc=self.branch(acct, rng),
                cond=person,
            )
            total += usd
            last = h
        e = int(rng.integers(len(EXCHANGES)))
        chain = str(rng.choice(["bitcoin", "ethereum", "tron"]))
        amt = total * float(rng.uniform(0.9, 0.99))
        h = last + float(rng.uniform(*p.buy_delay_hours))
        self.ev(
            sc,
            h,
            acct,
            self.w.exchange_bank[e],
            round(amt, 2),
            "wire",
            "exchange_buy",
            "exchange_buy",
        )
        wal = self.wallet(person, chain, rng)
        self.acct(sc, wal, "beneficiary")
        self.ev(
            sc,
            h + float(rng.uniform(*p.withdraw_delay_hours)),
            self.w.hot_wallet[(e, chain)],
            wal,
            amt * 0.995,
            "crypto",
            "transfer",
            "wallet_withdrawal",
        )

    def crypto_peel_chain(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.crypto_peel_chain
        chain = str(rng.choice(["bitcoin", "litecoin"])) if rng.random() < 0.8 else "ethereum"
        owner = self.person("US", rng, customer=False)
        cur = self.wallet(owner, chain, rng)
        self.acct(sc, cur, "peel_wallet")
        bal = float(rng.uniform(*p.start_usd))
        src = (
            self.w.mixer.get(chain)
            if chain in MIXER_CHAINS and rng.random() < 0.5
            else self.wallet(self.person("US", rng, customer=False), chain, rng)
        )
        if src not in self.w.mixer.values():
            self.acct(sc, src, "origin")
        h = t0 + float(rng.uniform(0, 12))
        self.ev(sc, h, src, cur, bal, "crypto", "transfer", "funding")
        for i in range(int(rng.integers(p.hops[0], p.hops[1] + 1))):
            h += float(rng.uniform(*p.delay_hours))
            peel = bal * float(rng.uniform(*p.peel_fraction))
            if rng.random() < p.exchange_peel_prob:
                dst = self.wallet(
                    owner, chain, rng, custodian=EXCHANGES[int(rng.integers(len(EXCHANGES)))]
                )
                self.acct(sc, dst, "exchange_deposit")
            else:
                dst = self.wallet(self.person("US", rng, customer=False), chain, rng)
                self.acct(sc, dst, "beneficiary")
            nxt = self.wallet(owner, chain, rng)
            self.acct(sc, nxt, "peel_wallet")
            self.ev(sc, h, cur, dst, peel, "crypto", "transfer", "peel", hop=i)
            bal = (bal - peel) * 0.9995
            self.ev(sc, h, cur, nxt, bal, "crypto", "transfer", "remainder", hop=i)
            cur = nxt

    def crypto_mixer(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.crypto_mixer
        chain = str(rng.choice(MIXER_CHAINS))
        mixer = self.w.mixer[chain]
        owner = self.person("US", rng, customer=False)
        total, last = 0.0, t0
        for _ in range(int(rng.integers(p.deposits[0], p.deposits[1] + 1))):
            wal = self.wallet(owner, chain, rng)
            self.acct(sc, wal, "mixer_user")
            usd = float(rng.uniform(*p.amount_usd)) / 2
            h = t0 + float(rng.uniform(0, 24))
            self.ev(sc, h, wal, mixer, usd, "crypto", "transfer", "mixer_deposit")
            total += usd
            last = max(last, h)
        out = total * (1 - float(rng.uniform(*p.fee)))
        k = int(rng.integers(p.withdrawals[0], p.withdrawals[1] + 1))
        for s in rng.dirichlet(np.ones(k)) * out:
            fresh = self.wallet(owner, chain, rng)
            self.acct(sc, fresh, "mixer_user")
            self.ev(
                sc,
                last + float(rng.uniform(*p.delay_hours)),
                mixer,
                fresh,
                float(s),
                "crypto",
                "transfer",
                "mixer_withdrawal",
            )

    def crypto_chain_hop(self, sc, rng, t0=0.0):
        p = self.cfg.typology_params.crypto_chain_hop
        owner = self.person("US", rng, customer=False)
        chains = list(rng.permutation(BRIDGE_CHAINS))
        hops = int(rng.integers(p.hops[0], p.hops[1] + 1))
        c = chains[0]
        wal = self.wallet(owner, c, rng)
        self.acct(sc, wal, "bridge_user")
        usd = float(rng.uniform(*p.amount_usd))
        h = t0 + float(rng.uniform(0, 12))
        for i in range(hops):
            nc = chains[(i + 1) % len(chains)]
            self.ev(sc, h, wal, self.w.bridge[c], usd, "crypto", "transfer", "bridge_in", hop=i)
            usd *= 1 - float(rng.uniform(*p.fee))
            h += float(rng.uniform(*p.delay_hours))
            nw = self.wallet(owner, nc, rng)
            self.acct(sc, nw, "bridge_user")
            self.ev(sc, h, self.w.bridge[nc], nw, usd, "crypto", "transfer", "bridge_out", hop=i)
            h += float(rng.uniform(*p.delay_hours))
            wal, c = nw, nc

    def crypto_cash_out(self, sc, rng, t0=0.0, p=None, dst_override: int | None = None):
        p = p or self.cfg.typology_params.crypto_cash_out
        chain = str(rng.choice(["bitcoin", "ethereum", "tron"]))
        acct = self.mule(rng)
        person = self.w.owner_of(acct)
        wal = self.wallet(person, chain, rng)
        self.acct(sc, wal, "origin")
        funder = self.wallet(self.person("US", rng, customer=False), chain, rng)
        self.acct(sc, funder, "origin")
        e = int(rng.integers(len(EXCHANGES)))
        dep = self.wallet(person, chain, rng, custodian=EXCHANGES[e])
        self.acct(sc, dep, "exchange_deposit")
        self.acct(sc, acct, "cash_out")
        usd = float(rng.uniform(*p.amount_usd))
        h = t0 + float(rng.uniform(0, 12))
        self.ev(sc, h, funder, wal, usd * 1.002, "crypto", "transfer", "funding")
        h += float(rng.uniform(0.5, 6))
        self.ev(sc, h, wal, dep, usd, "crypto", "transfer", "exchange_deposit")
        h += float(rng.uniform(*p.sell_delay_hours))
        fiat = usd * 0.995
        self.ev(
            sc,
            h,
            self.w.exchange_bank[e],
            acct,
            round(fiat, 2),
            "wire",
            "exchange_sell",
            "exchange_sell",
        )
        h += float(rng.uniform(*p.out_delay_hours))
        if dst_override is not None:
            self.ev(
                sc, h, acct, dst_override, round(fiat * 0.98, 2), "wire", "transfer", "wire_out"
            )
            return h, acct, fiat * 0.98
        if rng.random() < p.cash_withdrawal_prob:
            k = int(rng.integers(p.withdrawals[0], p.withdrawals[1] + 1))
            for j, s in enumerate(rng.dirichlet(np.ones(k)) * fiat * 0.97):
                self.ev(
                    sc,
                    h + j * float(rng.uniform(2, 30)),
                    acct,
                    -1,
                    round(float(s), 0),
                    "cash",
                    "withdrawal",
                    "cash_withdrawal",
                    loc=self.branch(acct, rng),
                )
        else:
            d = self.foreign_acct(str(rng.choice(["MX", "CO", "AE"])), rng)
            self.acct(sc, d, "beneficiary")
            self.ev(sc, h, acct, d, round(fiat * 0.97, 2), "wire", "transfer", "wire_out")
        return h, acct, fiat

    # -- designated facilitators ------------------------------------------------------------------
    def listed(self, rng, terror: bool, *, org: bool = False, banked: bool = True) -> dict:
        """A watchlist entry; returns the entry (with private first/last for variants)."""
        i = len(self.watch)
        if org:
            name = (N.TERROR_ORGS if terror else N.CARTEL_ORGS)[i % 4] + ("" if i < 4 else f" {i}")
            first, last = None, None
            al = [name.title(), name.replace("AL-", "AL "), name.replace(" ", "")[:24]]
        else:
            first = (N.TERROR_FIRST if terror else N.CARTEL_FIRST)[
                int(rng.integers(len(N.TERROR_FIRST if terror else N.CARTEL_FIRST)))
            ]
            last = (N.TERROR_LAST if terror else N.CARTEL_LAST)[
                int(rng.integers(len(N.TERROR_LAST if terror else N.CARTEL_LAST)))
            ]
            if not terror and rng.random() < 0.5:
                last = f"{last} {N.CARTEL_LAST[int(rng.integers(len(N.CARTEL_LAST)))]}"
            name = f"{first} {last}"
            al = N.aliases(first, last, rng)
        cc = str(rng.choice(N.TERROR_COUNTRIES)) if terror else "MX"
        if terror:
            prog = ["SDGT"] if rng.random() < 0.6 else ["SDGT", "FTO"]
        else:
            prog = (
                ["SDNTK"] if rng.random() < 0.5 else ["SDNTK", "SDGT", "FTO"]
            )  # cartels designated FTO in 2025
        a = self.w.areas[self._area(cc, rng)]
        e = {
            "entity_id": f"SYN-{10000 + i}",
            "name": name.upper() if not org else name,
            "aliases": al,
            "kind": "organization" if org else "person",
            "programs": prog,
            "country": cc,
            "id_numbers": [f"{cc}{int(rng.integers(10_000_000, 99_999_999))}"],
            "phones": [
                f"+{961 if cc == 'LB' else 52 if cc == 'MX' else 90}{int(rng.integers(10_000_000, 99_999_999))}"
            ],
            "addresses": [
                f"{int(rng.integers(1, 300))} {N.STREETS[int(rng.integers(len(N.STREETS)))]} Street, {a.city}, {cc}"
            ],
            "crypto_wallets": [],
            "birth_date": None
            if org
            else date(1955, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 35))),
            "designation_date": date(2012, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 13))),
            "source": "synthetic",
            "remarks": None,
            "_first": first,
            "_last": last,
            "_terror": terror,
        }
        self.watch.append(e)
        return e

    def facilitator_accounts(
        self, sc, rng, e: dict, *, wallet: bool
    ) -> tuple[int, int | None, int]:
        """Bank account (and optionally sanctioned wallet) of a listed entity, under a name variant."""
        cc = e["country"]
        if e["kind"] == "person":
            nm = N.variant(e["_first"], e["_last"], rng)
            party = self.w.add_party(
                nm,
                "person",
                "US" if rng.random() < 0.5 else cc,
                address=e["addresses"][0] if rng.random() < 0.5 else None,
                phone=e["phones"][0],
                id_type="passport",
                id_number=e["id_numbers"][0] if rng.random() < 0.6 else None,
                birth_date=e["birth_date"],
                customer_since=self.w.start - timedelta(days=int(rng.integers(30, 900))),
            )
        else:
            party = self.w.add_party(
                N.org_variant(e["name"], rng),
                "organization",
                cc,
                address=e["addresses"][0],
                phone=e["phones"][0],
                id_type="tax_id",
                id_number=e["id_numbers"][0],
                business_type="nonprofit" if e["_terror"] else "trading_company",
                incorporation_date=date(2015, 1, 1),
                customer_since=self.w.start - timedelta(days=int(rng.integers(30, 900))),
            )
        bank_cc = "US" if rng.random() < 0.5 else (cc if cc in self.w.foreign_areas else "US")
        acct = self.bank_acct(party, bank_cc, rng)
        self.acct(sc, acct, "facilitator_owned")
        wal = None
        if wallet:
            chain = str(rng.choice(["tron", "ethereum", "bitcoin"]))
            wal = self.wallet(party, chain, rng)
            addr = self.w.wallet_address(wal)
            e["crypto_wallets"].append(addr)
            self.tags.append(
                {
                    "address": addr,
                    "chain": chain,
                    "label": f"Sanctioned: {e['name']}",
                    "category": "sanctioned",
                    "entity_id": e["entity_id"],
                    "source": "synthetic",
                }
            )
            self.acct(sc, wal, "facilitator")
        return acct, wal, party

    def linked(self, sc, rng, e: dict, fac_party: int) -> list[int]:
        out = []
        p = self.cfg.typology_params.facilitator_network
        for j in range(int(rng.integers(p.linked_by_identifier[0], p.linked_by_identifier[1] + 1))):
            share = ("phone", "address", "id_number")[j % 3]
            kw = (
                {"phone": e["phones"][0]}
                if share == "phone"
                else {"address": e["addresses"][0]}
                if share == "address"
                else {"id_number": e["id_numbers"][0], "id_type": "passport"}
            )
            party = self.person("US", rng, **kw)
            a = self.bank_acct(party, "US", rng)
            self.acct(sc, a, "linked_by_identifier")
            out.append(a)
        return out

    def facilitator_network(self, sc_params, rng, t0=0.0):
        p = self.cfg.typology_params.facilitator_network
        terror = rng.random() < p.terror_prob
        e = self.listed(rng, terror, org=rng.random() < 0.25)
        sc = self.open(
            "facilitator_network",
            {**sc_params, "entity_id": e["entity_id"]},
            program=e["programs"][-1] if terror else "SDNTK",
        )
        acct, wal, party = self.facilitator_accounts(sc, rng, e, wallet=rng.random() < 0.4)
        links = self.linked(sc, rng, e, party)
        h = t0 + float(rng.uniform(8, 16))
        for _ in range(int(rng.integers(p.counterparties[0], p.counterparties[1] + 1))):
            hops = int(rng.integers(p.counterparty_hops[0], p.counterparty_hops[1] + 1))
            path = [self.mule(rng) if rng.random() < 0.6 else self.shell(rng) for _ in range(hops)]
            for a in path:
                self.acct(sc, a, "counterparty")
            usd = float(rng.uniform(*p.amount_usd))
            hh = h + float(rng.uniform(0, 24 * 5))
            nodes = [*path, acct]
            for i in range(
                len(nodes) - 1
            ):  # path toward the facilitator, farthest counterparty first
                self.ev(
                    sc,
                    hh,
                    nodes[i],
                    nodes[i + 1],
                    round(usd, 2),
                    "wire",
                    "transfer",
                    f"to_facilitator_hop_{i}",
                    hop=i,
                )
                hh += float(rng.uniform(1, 30))
                usd *= float(rng.uniform(0.9, 0.99))
        for a in links:
            self.ev(
                sc,
                h + float(rng.uniform(24, 24 * 6)),
                acct,
                a,
                round(float(rng.uniform(*p.amount_usd)) / 3, 2),
                "wire",
                "transfer",
                "to_linked",
            )
        if wal is not None:
            chain = self.w.acct_chain(wal)
            src = self.wallet(self.person("US", rng, customer=False), chain, rng)
            self.acct(sc, src, "counterparty")
            self.ev(
                sc,
                h + float(rng.uniform(0, 24 * 6)),
                src,
                wal,
                float(rng.uniform(*p.amount_usd)),
                "crypto",
                "transfer",
                "to_sanctioned_wallet",
            )
        self.close(sc, rng)
        # realistic extras: listed entries with no accounts in the bank, and innocent namesakes
        for _ in range(int(rng.poisson(p.unbanked_entries_per_scenario))):
            self.listed(rng, rng.random() < 0.5, org=rng.random() < 0.3, banked=False)
        n_ns = int(rng.poisson(p.namesakes_per_scenario))
        if self.counter.get("hardneg-namesake", 0) == 0:
            n_ns = max(n_ns, 1)  # every world has at least one screening near-miss
        for _ in range(n_ns):
            target = e if e["kind"] == "person" else self.listed(rng, terror, banked=False)
            self.namesake(rng, target)

    def namesake(self, rng, e: dict) -> None:
        a = self.mule(rng)
        party = self.w.owner_of(a)
        nm = (
            f"{e['_first']} {e['_last'].split()[0]}"
            if rng.random() < 0.5
            else N.variant(e["_first"], e["_last"], rng)
        )
        self.party_override[party] = {
            "name": nm,
            "birth_date": date(1970, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 30))),
        }
        sc = self.open(
            "hard_negative",
            {"kind": "namesake", "similar_to": e["entity_id"]},
            label="hard_negative",
            kind=None,
        )
        self.acct(sc, a, "hard_negative")

    def convergence(self, rng, t0=0.0):
        p = self.cfg.typology_params.convergence
        e = self.listed(rng, True, org=rng.random() < 0.4)
        cartel = self.listed(rng, False, org=True, banked=False)
        n_feed = int(rng.integers(p.feeders[0], p.feeders[1] + 1))
        kinds = [
            ["structuring", "funnel_account", "crypto_cash_out"][i % 3] for i in rng.permutation(3)
        ][:n_feed]
        if n_feed > 3:
            kinds += ["structuring"] * (n_feed - 3)
        sc = self.open(
            "convergence",
            {
                "entity_id": e["entity_id"],
                "crime_entity_id": cartel["entity_id"],
                "feeders": kinds,
                "params": asdict(p),
            },
            program="FTO" if "FTO" in e["programs"] else "SDGT",
        )
        crypto = rng.random() < p.crypto_route_prob
        fac_acct, fac_wal, _ = self.facilitator_accounts(sc, rng, e, wallet=crypto)
        hub_party = self.company(
            str(rng.choice(["TR", "AE", "LB"])),
            str(rng.choice(["nonprofit", "trading_company"])),
            rng,
        )
        hub = self.bank_acct(
            hub_party, self.w.party_field(hub_party, "country"), rng, account_type="business"
        )
        self.acct(sc, hub, "convergence_hub")
        # intermediaries: proceeds of every feeder are gathered by the first intermediary
        inter = [
            self._node(rng, 0.5)
            for _ in range(int(rng.integers(p.intermediaries[0], p.intermediaries[1] + 1)))
        ]
        for a in inter:
            self.acct(sc, a, "pass_through")
        end_h, total = t0, 0.0
        for k in kinds:
            child = self.open(k, {"parent": sc["scenario_id"]}, parent=sc)
            if k == "structuring":
                h, acct, amt, _ = self.structuring(child, rng, t0)
                out = amt * float(rng.uniform(0.9, 0.98))
                h = self.ev(
                    sc,
                    h + float(rng.uniform(*p.delay_hours)),
                    acct,
                    inter[0],
                    round(out, 2),
                    "wire",
                    "transfer",
                    "to_intermediary",
                    hop=0,
                )
            elif k == "funnel_account":
                h, acct, out = self.funnel_account(child, rng, t0, dst_override=inter[0])
            else:
                h, acct, out = self.crypto_cash_out(child, rng, t0, dst_override=inter[0])
            end_h, total = max(end_h, h), total + out
        amt = total * float(rng.uniform(*p.pass_through))
        h = end_h + float(rng.uniform(*p.delay_hours))
        nodes = [*inter, hub]
        for i in range(len(nodes) - 1):
            self.ev(
                sc,
                h,
                nodes[i],
                nodes[i + 1],
                round(amt, 2),
                "wire",
                "transfer",
                f"layer_hop_{i + 1}",
                hop=i + 1,
            )
            h += float(rng.uniform(*p.delay_hours))
            amt *= float(rng.uniform(*p.pass_through))
        if crypto:
            chain = self.w.acct_chain(fac_wal)
            ex = int(rng.integers(len(EXCHANGES)))
            self.ev(
                sc,
                h,
                hub,
                self.w.exchange_bank[ex],
                round(amt, 2),
                "wire",
                "exchange_buy",
                "to_exchange",
                hop=len(nodes),
            )
            h += float(rng.uniform(0.5, 12))
            self.ev(
                sc,
                h,
                self.w.hot_wallet[(ex, chain)],
                fac_wal,
                amt * 0.99,
                "crypto",
                "transfer",
                "to_facilitator",
                hop=len(nodes) + 1,
            )
        else:
            self.ev(
                sc,
                h,
                hub,
                fac_acct,
                round(amt, 2),
                "wire",
                "transfer",
                "to_facilitator",
                hop=len(nodes),
            )
        self.close(sc, rng)


_DUMPS_CACHE: dict[int, tuple[dict, str]] = {}


def _dumps(params: dict) -> str:
    hit = _DUMPS_CACHE.get(id(params))
    if hit is not None and hit[0] is params:
        return hit[1]
    s = json.dumps(params, sort_keys=True, default=_json_default)
    _DUMPS_CACHE[id(params)] = (params, s)
    return s


def _json_default(x):
    if isinstance(x, date):
        return x.isoformat()
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return str(x)


def plan_all(w: World, cfg: WorldConfig) -> Planner:
    pl_ = Planner(w, cfg)
    _DUMPS_CACHE.clear()
    tp = cfg.typology_params
    for ti, typ in enumerate(TYPOLOGIES):
        n = cfg.count(typ)
        params = _params_of(typ, tp, w)
        for i in range(n):
            rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 1_000_000 + ti, i]))
            if typ == "facilitator_network":
                pl_.facilitator_network(params, rng)
            elif typ == "convergence":
                pl_.convergence(rng)
            else:
                program = None
                sc = pl_.open(typ, params, program=program)
                if typ in ("rapid_movement", "layering_chain"):
                    pl_.chain(
                        sc,
                        rng,
                        0.0,
                        getattr(tp, typ),
                        role="pass_through" if typ == "rapid_movement" else "mule",
                    )
                elif typ == "structuring":
                    pl_.structuring(sc, rng, 0.0)
                else:
                    getattr(pl_, typ)(sc, rng, 0.0)
                pl_.close(sc, rng)
    _DUMPS_CACHE.clear()
    return pl_


def _params_of(typ: str, tp, w: World) -> dict:
    p = asdict(getattr(tp, typ))
    reg = w.reg
    if typ == "structuring" and p.get("band_usd") is None:
        p["band_usd"] = [reg.structuring_band_low_usd, reg.ctr_threshold_usd - 1.0]
    if typ == "crypto_cash_to_wallet" and p.get("amount_usd") is None:
        p["amount_usd"] = [reg.structuring_band_low_usd, reg.ctr_threshold_usd - 1.0]
    p["ctr_threshold_usd"] = reg.ctr_threshold_usd
    return p
