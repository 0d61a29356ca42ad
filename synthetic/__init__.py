"""Synthetic SAR-like transaction streams with labeled typologies and hard negatives.

from synthetic import generate, WorldConfig
report = generate(WorldConfig(seed=7, n_accounts=5000, days=14), "var/demo")
"""

from .config import HARD_NEGATIVE_KINDS, TYPOLOGIES, TypologyParams, WorldConfig
from .generator import generate

__all__ = ["HARD_NEGATIVE_KINDS", "TYPOLOGIES", "TypologyParams", "WorldConfig", "generate"]
