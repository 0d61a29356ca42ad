"""Configuration of a synthetic world: size, seed, output format, defect rate and every
typology parameter (amount bands, hop counts, pass-through ratios, delays).

Ranges are ``(low, high)`` tuples, inclusive, drawn uniformly (integers for counts, floats for
amounts, ratios and delays). Amount bands left as ``None`` are derived from the regulatory
configuration (``nexusfin.settings.load_regulatory``), never hard-coded.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from nexusfin.settings import Regulatory

IntRange = tuple[int, int]
FloatRange = tuple[float, float]

# Every planted typology, in generation order (truth_scenarios.typology minus hard_negative).
TYPOLOGIES: tuple[str, ...] = (
    "structuring",
    "smurfing",
    "cuckoo_smurfing",
    "funnel_account",
    "rapid_movement",
    "layering_chain",
    "fan_in",
    "fan_out",
    "scatter_gather",
    "gather_scatter",
    "cycle",
    "trade_based",
    "ransom_collection",
    "crypto_cash_to_wallet",
    "crypto_peel_chain",
    "crypto_mixer",
    "crypto_chain_hop",
    "crypto_cash_out",
    "facilitator_network",
    "convergence",
)

HARD_NEGATIVE_KINDS: tuple[str, ...] = (
    "cash_intensive_business",
    "remittance_sender",
    "payment_processor",
    "money_service_business",
    "crypto_trader",
)


@dataclass(frozen=True)
class StructuringParams:
    band_usd: FloatRange | None = None  # None: [structuring_band_low_usd, ctr_threshold_usd - 1]
    own_accounts: IntRange = (2, 4)  # accounts of the same person, each at a different bank
    days: IntRange = (2, 6)  # business days the deposits are spread over
    deposits_per_day: IntRange = (2, 3)  # per day, across the person's accounts
    branches: IntRange = (2, 5)  # distinct branches used


@dataclass(frozen=True)
class SmurfingParams:
    amount_usd: FloatRange = (1500.0, 2900.0)  # each smurf deposit (FFIEC: often under 3,000)
    smurfs: IntRange = (5, 14)  # distinct conductors
    deposits_per_smurf: IntRange = (1, 3)
    days: IntRange = (2, 6)
    out_ratio: FloatRange = (0.85, 0.98)  # share wired out of the collector afterwards
    out_delay_hours: FloatRange = (4.0, 72.0)


@dataclass(frozen=True)
class CuckooParams:
    remittance_usd: FloatRange = (6000.0, 30000.0)  # what the victim expects from abroad
    smurfs: IntRange = (3, 8)
    days: IntRange = (1, 4)
    foreign_delay_hours: FloatRange = (2.0, 48.0)  # sender's wire to the criminal after the cash


@dataclass(frozen=True)
class FunnelParams:
    deposit_areas: IntRange = (3, 5)  # distinct areas (US states far from the border)
    deposits: IntRange = (6, 14)
    amount_usd: FloatRange = (3000.0, 9500.0)
    days: IntRange = (2, 8)
    withdrawal_delay_hours: FloatRange = (1.0, 48.0)
    out_ratio: FloatRange = (0.85, 0.99)
    withdrawals: IntRange = (1, 4)
    wire_to_mx_prob: float = 0.4  # otherwise cash withdrawals in a border area


@dataclass(frozen=True)
class ChainParams:
    hops: IntRange = (2, 8)
    amount_usd: FloatRange = (20000.0, 400000.0)
    pass_through: FloatRange = (0.85, 1.0)  # share forwarded at each hop
    delay_hours: FloatRange = (0.5, 30.0)  # between receiving and forwarding
    cross_border_prob: float = 0.5  # chance a hop lands abroad


@dataclass(frozen=True)
class FanParams:
    degree: IntRange = (6, 16)
    amount_usd: FloatRange = (2000.0, 9500.0)
    window_hours: FloatRange = (2.0, 96.0)
    out_ratio: FloatRange = (0.85, 0.98)  # fan-in hub forwards, fan-out hub was funded by one wire


@dataclass(frozen=True)
class ScatterGatherParams:
    intermediates: IntRange = (3, 10)
    amount_usd: FloatRange = (3000.0, 9500.0)
    pass_through: FloatRange = (0.88, 0.99)
    delay_hours: FloatRange = (1.0, 48.0)


@dataclass(frozen=True)
class CycleParams:
    length: IntRange = (3, 8)
    amount_usd: FloatRange = (15000.0, 250000.0)
    pass_through: FloatRange = (0.9, 0.99)
    delay_hours: FloatRange = (1.0, 36.0)


@dataclass(frozen=True)
class TradeParams:
    incorporated_days_ago: IntRange = (15, 150)
    payments_in: IntRange = (3, 8)
    amount_usd: FloatRange = (40000.0, 450000.0)
    foreign_prob: float = 0.8
    out_ratio: FloatRange = (0.8, 0.97)
    payments_out: IntRange = (2, 6)


@dataclass(frozen=True)
class RansomParams:
    victims: IntRange = (6, 25)
    amount_usd: FloatRange = (400.0, 6000.0)
    window_hours: FloatRange = (6.0, 96.0)
    out_ratio: FloatRange = (0.85, 0.99)


@dataclass(frozen=True)
class CashToWalletParams:
    cash_deposits: IntRange = (2, 5)
    amount_usd: FloatRange | None = None  # None: structuring band
    buy_delay_hours: FloatRange = (2.0, 48.0)
    withdraw_delay_hours: FloatRange = (0.2, 12.0)


@dataclass(frozen=True)
class PeelParams:
    hops: IntRange = (3, 10)
    start_usd: FloatRange = (80000.0, 1500000.0)
    peel_fraction: FloatRange = (0.02, 0.12)
    delay_hours: FloatRange = (0.3, 12.0)
    exchange_peel_prob: float = 0.5  # peel lands on an exchange deposit address


@dataclass(frozen=True)
class MixerParams:
    deposits: IntRange = (1, 4)
    withdrawals: IntRange = (3, 8)
    amount_usd: FloatRange = (5000.0, 200000.0)
    delay_hours: FloatRange = (6.0, 96.0)
    fee: FloatRange = (0.01, 0.03)


@dataclass(frozen=True)
class ChainHopParams:
    hops: IntRange = (2, 5)
    amount_usd: FloatRange = (10000.0, 300000.0)
    delay_hours: FloatRange = (0.2, 8.0)
    fee: FloatRange = (0.001, 0.01)


@dataclass(frozen=True)
class CashOutParams:
    amount_usd: FloatRange = (15000.0, 250000.0)
    sell_delay_hours: FloatRange = (0.5, 24.0)
    out_delay_hours: FloatRange = (1.0, 48.0)
    cash_withdrawal_prob: float = 0.5  # otherwise a wire out
    withdrawals: IntRange = (1, 4)


@dataclass(frozen=True)
class FacilitatorParams:
    linked_by_identifier: IntRange = (
        1,
        3,
    )  # parties sharing a phone/address/id with the facilitator
    counterparty_hops: IntRange = (1, 3)
    counterparties: IntRange = (2, 5)
    amount_usd: FloatRange = (2000.0, 60000.0)
    unbanked_entries_per_scenario: float = 1.5  # watchlist entries without accounts in the bank
    namesakes_per_scenario: float = 1.0  # innocent near-miss namesakes (hard negatives)
    terror_prob: float = 0.5  # share with SDGT/FTO programmes (others SDNTK)


@dataclass(frozen=True)
class ConvergenceParams:
    feeders: IntRange = (2, 3)  # sub-scenarios (structuring, funnel_account, crypto_cash_out)
    intermediaries: IntRange = (1, 3)
    pass_through: FloatRange = (0.85, 0.98)
    delay_hours: FloatRange = (2.0, 48.0)
    crypto_route_prob: float = 0.35  # final leg to the facilitator's sanctioned wallet


@dataclass(frozen=True)
class HardNegativeParams:
    cash_business_frac: float = 0.008  # of accounts
    cash_daily_usd: FloatRange = (1500.0, 7000.0)
    cash_just_under_prob: float = 0.06  # a day's deposit lands just under the CTR threshold
    remittance_sender_frac: float = 0.008
    remittance_usd: FloatRange = (800.0, 4500.0)
    remittance_per_week: float = 1.2
    payment_processor_frac: float = 0.0006
    msb_frac: float = 0.0008
    pass_through: FloatRange = (0.95, 0.995)
    crypto_trader_frac: float = 0.006
    crypto_trade_usd: FloatRange = (500.0, 25000.0)
    crypto_trades_per_week: float = 1.5
    min_each: int = 3


@dataclass(frozen=True)
class BackgroundParams:
    """Per-account daily rates of the ordinary book (about 0.33 transactions/account/day)."""

    card_per_day: float = 0.17
    card_usd_median: float = 38.0
    p2p_per_day: float = 0.02
    cash_deposit_per_day: float = 0.012
    atm_per_day: float = 0.035
    remitter_frac: float = 0.05  # ordinary (unlabeled) remitters among persons
    remit_per_month: float = 1.5
    b2b_per_day: float = 0.25  # per business
    wallet_per_day: float = 0.05  # per retail wallet
    inbound_foreign_per_day: float = 0.004


@dataclass(frozen=True)
class SarParams:
    coverage: float = 0.28  # share of truly suspicious subject accounts with a historical SAR
    noise: float = 0.08  # share of filings on innocent accounts
    noise_on_hard_negative: float = 0.7
    delay_days: IntRange = (7, 45)


@dataclass(frozen=True)
class TypologyParams:
    structuring: StructuringParams = field(default_factory=StructuringParams)
    smurfing: SmurfingParams = field(default_factory=SmurfingParams)
    cuckoo_smurfing: CuckooParams = field(default_factory=CuckooParams)
    funnel_account: FunnelParams = field(default_factory=FunnelParams)
    rapid_movement: ChainParams = field(
        default_factory=lambda: ChainParams(
            hops=(1, 2),
            amount_usd=(15000.0, 200000.0),
            pass_through=(0.9, 1.0),
            delay_hours=(0.1, 4.0),
            cross_border_prob=0.3,
        )
    )
    layering_chain: ChainParams = field(default_factory=ChainParams)
    fan_in: FanParams = field(default_factory=FanParams)
    fan_out: FanParams = field(default_factory=FanParams)
    scatter_gather: ScatterGatherParams = field(default_factory=ScatterGatherParams)
    gather_scatter: ScatterGatherParams = field(default_factory=ScatterGatherParams)
    cycle: CycleParams = field(default_factory=CycleParams)
    trade_based: TradeParams = field(default_factory=TradeParams)
    ransom_collection: RansomParams = field(default_factory=RansomParams)
    crypto_cash_to_wallet: CashToWalletParams = field(default_factory=CashToWalletParams)
    crypto_peel_chain: PeelParams = field(default_factory=PeelParams)
    crypto_mixer: MixerParams = field(default_factory=MixerParams)
    crypto_chain_hop: ChainHopParams = field(default_factory=ChainHopParams)
    crypto_cash_out: CashOutParams = field(default_factory=CashOutParams)
    facilitator_network: FacilitatorParams = field(default_factory=FacilitatorParams)
    convergence: ConvergenceParams = field(default_factory=ConvergenceParams)


@dataclass(frozen=True)
class WorldConfig:
    seed: int = 7
    n_accounts: int = 5000  # accounts of the ordinary book; planted entities come on top
    days: int = 14
    start: date = date(2026, 1, 5)
    fmt: str = "parquet"  # landing transactions format: parquet, csv, jsonl
    defect_rate: float = 0.0
    typology_counts: dict[str, int] | None = None  # overrides per typology
    regulatory: Regulatory | None = None  # None: nexusfin.settings.load_regulatory()
    scenarios_per_million_accounts: float = 400.0
    min_scenarios: int = 3
    typology_params: TypologyParams = field(default_factory=TypologyParams)
    hard_negatives: HardNegativeParams = field(default_factory=HardNegativeParams)
    background: BackgroundParams = field(default_factory=BackgroundParams)
    sar: SarParams = field(default_factory=SarParams)

    def __post_init__(self) -> None:
        if self.fmt not in ("parquet", "csv", "jsonl"):
            raise ValueError(f"fmt must be parquet, csv or jsonl, not {self.fmt!r}")
        if self.days < 1 or self.n_accounts < 200:
            raise ValueError("need days >= 1 and n_accounts >= 200")
        if not 0.0 <= self.defect_rate < 0.5:
            raise ValueError("defect_rate must be in [0, 0.5)")
        unknown = set(self.typology_counts or {}) - set(TYPOLOGIES)
        if unknown:
            raise ValueError(f"unknown typologies in typology_counts: {sorted(unknown)}")

    def count(self, typology: str) -> int:
        if self.typology_counts and typology in self.typology_counts:
            return int(self.typology_counts[typology])
        return max(
            self.min_scenarios, round(self.n_accounts * self.scenarios_per_million_accounts / 1e6)
        )

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, date):
        return x.isoformat()
    return x
