"""The chunk predictor's compiled trees: used for forests, checked, NaN chunks to the estimator."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

from loopline.modeling.flavors import LoadedModel
from loopline.modeling.logged import LoggedModel
from loopline.modeling.signature import infer_signature
from loopline.scoring.predictor import ChunkPredictor


def _predictor(
    model: object, X: pd.DataFrame, example: pd.DataFrame | None = None
) -> ChunkPredictor:
    loaded = LoadedModel(model, flavor="sklearn", meta={}, predict=model.predict,  # type: ignore[attr-defined]
                         predict_proba=model.predict_proba)  # type: ignore[attr-defined]  # fmt: skip
    return ChunkPredictor(
        LoggedModel(loaded, infer_signature(X if example is None else example), "test")
    )


def test_forest_chunks_use_compiled_trees_with_sklearns_numbers() -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(400, 4)), columns=["a", "b", "c", "d"])
    model = RandomForestClassifier(n_estimators=15, random_state=0).fit(X, X["a"] > 0)
    with_nan = X.copy()
    with_nan.iloc[0, 0] = np.nan
    predictor = _predictor(model, X, with_nan)  # column "a" may be missing
    assert predictor.compiled is not None
    table = pa.Table.from_pandas(X, preserve_index=False)
    scores = predictor.score(table)
    np.testing.assert_allclose(scores.proba, model.predict_proba(X.to_numpy()), rtol=1e-12)
    # a chunk with a missing value goes to the estimator (which handles NaN itself)
    nan_scores = predictor.score(pa.Table.from_pandas(with_nan, preserve_index=False))
    np.testing.assert_allclose(nan_scores.proba, model.predict_proba(with_nan.to_numpy()))
    # pickled to a Dask worker: compiled (and checked) again there
    copy = pickle.loads(pickle.dumps(predictor))
    assert copy.compiled is not None
    np.testing.assert_array_equal(copy.score(table).proba, scores.proba)


def test_gradient_boosting_chunks_use_compiled_trees_bit_for_bit() -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(3_000, 3)) * 2, columns=["a", "b", "c"])
    model = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X, X["b"] > 0)
    predictor = _predictor(model, X)
    assert predictor.compiled is not None
    # 3,000 rows: the tree-at-a-time path (apply without the GIL); 50 rows: predict_stages
    for rows in (X, X.head(50)):
        proba = predictor.score(pa.Table.from_pandas(rows, preserve_index=False)).proba
        np.testing.assert_array_equal(proba, model.predict_proba(rows.to_numpy()))


def test_multiclass_gradient_boosting_chunks_match_sklearn_exactly() -> None:
    rng = np.random.default_rng(6)
    X = pd.DataFrame(rng.normal(size=(2_500, 4)), columns=["a", "b", "c", "d"])
    y = np.digitize(X["a"] + X["c"], [-0.5, 0.5])  # three classes
    model = GradientBoostingClassifier(n_estimators=8, random_state=0).fit(X, y)
    predictor = _predictor(model, X)
    assert predictor.compiled is not None
    scores = predictor.score(pa.Table.from_pandas(X, preserve_index=False))
    np.testing.assert_array_equal(scores.proba, model.predict_proba(X.to_numpy()))
    np.testing.assert_array_equal(scores.labels, model.predict(X.to_numpy()))
