"""Synthetic SAR-like transaction streams with labeled typologies and hard negatives."""
