"""Crypto hops (being written): peel chains, mixer/bridge exposure, chain hopping, on-ramp, cash-out."""

from __future__ import annotations

from nexusfin.detect.config import CryptoConfig
from nexusfin.detect.hits import Hits
from nexusfin.detect.ledger import Ledger


def detect_crypto(ledger: Ledger, cfg: CryptoConfig) -> list[Hits]:
    return []
