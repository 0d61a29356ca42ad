"""The numba tree walker against scikit-learn's own predictor (the reference) on random data."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from nexusfin.scoring.forest import FastScorer, flatten, raw_predict


def _fit(seed: int, n: int = 600, d: int = 5, nan_share: float = 0.1, **kw) -> tuple[HistGradientBoostingClassifier,
                                                                                   np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = ((X[:, 0] + 0.5 * X[:, 1] ** 2 + rng.normal(scale=0.5, size=n)) > 0.5).astype(int)
    X[rng.random((n, d)) < nan_share] = np.nan  # missing values take the learned side
    hgb = HistGradientBoostingClassifier(max_iter=kw.get("max_iter", 30), max_leaf_nodes=kw.get("leaves", 15),
                                         random_state=seed).fit(X, y)
    return hgb, X


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 1500), leaves=st.integers(2, 31),
       nan_share=st.sampled_from([0.0, 0.1, 0.5]))
def test_raw_scores_equal_sklearn(seed, rows, leaves, nan_share):
    hgb, X = _fit(seed, leaves=leaves, nan_share=nan_share)
    rng = np.random.default_rng(seed + 1)
    Q = rng.normal(scale=2.0, size=(rows, X.shape[1]))
    Q[rng.random(Q.shape) < nan_share] = np.nan
    forest = flatten(hgb)
    assert forest is not None
    np.testing.assert_allclose(raw_predict(forest, Q), hgb._raw_predict(Q).ravel(), rtol=0, atol=1e-12)


def test_calibrated_probabilities_equal_predict_proba():
    import polars as pl

    hgb, X = _fit(3, n=2000)
    pipe = Pipeline([("same", FunctionTransformer()), ("hgb", hgb)])
    cal = CalibratedClassifierCV(FrozenEstimator(pipe), method="isotonic").fit(X[:800], (X[:800, 0] > 0).astype(int))
    cols = [f"f{i}" for i in range(X.shape[1])]
    frame = pl.DataFrame(X, schema=cols)
    fast = FastScorer(cal).predict(frame, cols)
    np.testing.assert_allclose(fast, cal.predict_proba(frame.select(cols).to_numpy())[:, 1], atol=1e-12)


def test_empty_input_and_categorical_fallback():
    hgb, X = _fit(1)
    assert raw_predict(flatten(hgb), np.empty((0, X.shape[1]))).shape == (0,)
    rng = np.random.default_rng(0)
    Xc = np.column_stack([rng.integers(0, 4, 500), rng.normal(size=500)])
    yc = (Xc[:, 0] == 2).astype(int)
    cat = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0]).fit(Xc, yc)
    if any(p[0].nodes["is_categorical"].any() for p in cat._predictors):
        assert flatten(cat) is None  # categorical splits: scikit-learn's predictor is used instead
    else:
        pytest.skip("no categorical split was learned")
