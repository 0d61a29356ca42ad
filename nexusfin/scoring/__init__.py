"""Account risk scoring: configuration, the model (train, calibrate, threshold from capacity,
explain), the registry (skops artifacts, champion/candidate, promotion log), the daily scores and
alert queue, and evaluation against ground truth.

Submodules are imported where used (``nexusfin.scoring.model`` pulls in scikit-learn)."""

from nexusfin.scoring.config import ScoringConfig, load_scoring_config

__all__ = ["ScoringConfig", "load_scoring_config"]
