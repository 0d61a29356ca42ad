"""Transaction-level laundering classifier under the published AMLworld protocol.

    from nexusfin.txnmodel import evaluate
    result = evaluate("var/hi-synth")          # a data root written by `nexusfin import --format amlworld`
    result.test["f1"], result.patterns

Rows are sorted by time and split 60/20/20 (train / validation / test); graph features of each
split come from the graph visible at that split (``split``), the model is fitted on train labels
only, the threshold is chosen on validation and minority-class F1 is reported on test
(``model``). Library code: never imports dagster.

Importing this package sets ``OMP_WAIT_POLICY=PASSIVE`` unless the caller set a policy: OpenMP
worker threads (numba's pool and scikit-learn's gradient boosting) then sleep instead of
spinning while they wait. On a machine busy with other work, spinning threads made fitting up to
20x slower (measured: 59 s instead of 2.5 s for 100 trees on 2,400 rows). It only takes effect if
no OpenMP runtime was loaded before.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .data import DataError, TxnTable, load
from .features import FeatureConfig, Features, build_features
from .model import ANCHOR_DATASET, ANCHORS, ModelConfig, Result, evaluate
from .split import Split, temporal_split, visibility

__all__ = [
    "ANCHORS",
    "ANCHOR_DATASET",
    "DataError",
    "FeatureConfig",
    "Features",
    "ModelConfig",
    "Result",
    "Split",
    "TxnTable",
    "build_features",
    "evaluate",
    "load",
    "temporal_split",
    "visibility",
]
