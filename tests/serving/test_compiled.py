"""Compiled tree ensembles (loopline.modeling.compiled) against scikit-learn's own predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import loopline
from loopline.modeling import compiled as compiled_module
from loopline.modeling.compiled import compile_model
from loopline.modeling.logged import load_logged_model, log_model
from loopline.serving.runtime import ModelRuntime

WIDTH = 8


@pytest.fixture(scope="module")
def classification() -> tuple[Any, Any, Any]:
    X, y = make_classification(n_samples=300, n_features=WIDTH, n_informative=5, random_state=0)
    X3, y3 = make_classification(
        n_samples=300, n_features=WIDTH, n_informative=5, n_classes=3, random_state=1
    )
    return X, y, (X3, y3)


@pytest.fixture(scope="module")
def regression() -> tuple[Any, Any]:
    return make_regression(n_samples=300, n_features=WIDTH, noise=5.0, random_state=0)  # type: ignore[no-any-return]


CLASSIFIERS = [
    GradientBoostingClassifier(n_estimators=20, random_state=0),
    GradientBoostingClassifier(n_estimators=10, init="zero", max_depth=2, random_state=0),
    RandomForestClassifier(n_estimators=15, random_state=0),
    ExtraTreesClassifier(n_estimators=15, random_state=0),
    DecisionTreeClassifier(random_state=0),
    HistGradientBoostingClassifier(max_iter=15, random_state=0),
]
REGRESSORS = [
    GradientBoostingRegressor(n_estimators=20, random_state=0),
    GradientBoostingRegressor(n_estimators=10, loss="huber", random_state=0),
    RandomForestRegressor(n_estimators=15, random_state=0),
    ExtraTreesRegressor(n_estimators=15, random_state=0),
    DecisionTreeRegressor(max_depth=6, random_state=0),
    HistGradientBoostingRegressor(max_iter=15, random_state=0),
    HistGradientBoostingRegressor(max_iter=15, loss="poisson", random_state=0),
]


def _rows(X: Any) -> list[Any]:
    """One row, a small batch, and a batch large enough to be split across threads."""
    big = np.random.default_rng(5).normal(size=(compiled_module.THREADED_ROWS + 7, WIDTH)) * 2
    return [X[:1], X[:37], np.ascontiguousarray(big)]


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("classes", [2, 3])
def test_classifiers_match_sklearn(estimator: Any, classes: int, classification: Any) -> None:
    X, y, (X3, y3) = classification
    if classes == 3:
        X, y = X3, y3
    model = type(estimator)(**estimator.get_params()).fit(X, y)
    compiled = compile_model(model, WIDTH)
    assert compiled is not None
    for rows in _rows(X):
        ours = compiled.predict_proba(rows)
        assert ours.shape == (len(rows), classes)
        np.testing.assert_allclose(ours, model.predict_proba(rows), rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(compiled.predict(rows), model.predict(rows))
    # float32 input is taken as scikit-learn takes it
    X32 = X[:20].astype(np.float32)
    np.testing.assert_allclose(
        compiled.predict_proba(X32), model.predict_proba(X32), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("estimator", REGRESSORS, ids=lambda e: type(e).__name__)
def test_regressors_match_sklearn(estimator: Any, regression: Any) -> None:
    X, y = regression
    y = y - y.min() + 1.0  # positive, for the Poisson loss
    model = type(estimator)(**estimator.get_params()).fit(X, y)
    compiled = compile_model(model, WIDTH)
    assert compiled is not None
    assert not compiled.is_classifier
    for rows in _rows(X):
        np.testing.assert_allclose(compiled.predict(rows), model.predict(rows), rtol=1e-12)
    with pytest.raises(TypeError, match="regressor"):
        compiled.predict_proba(X[:1])


def test_unsupported_models_are_left_to_sklearn(classification: Any) -> None:
    X, y, _ = classification
    frame = pd.DataFrame(X, columns=[f"c{i}" for i in range(WIDTH)])
    frame["kind"] = pd.Categorical(np.where(y > 0, "a", "b"))
    codes = np.column_stack([np.floor(np.abs(X[:, 0]) * 3) % 7, X[:, 1:]])
    unsupported = [  # categorical features: an encoder runs per call
        HistGradientBoostingClassifier(max_iter=5).fit(frame, y),
        HistGradientBoostingClassifier(max_iter=5, categorical_features=[0]).fit(codes, y),
        make_pipeline(StandardScaler(), DecisionTreeClassifier()).fit(X, y),
        LogisticRegression().fit(X, y),
        GradientBoostingClassifier(n_estimators=5, init=LogisticRegression()).fit(X, y),
        RandomForestClassifier(n_estimators=3).fit(X, np.column_stack([y, y])),  # multi-output
    ]
    for model in unsupported:
        width = int(model.n_features_in_)
        assert compile_model(model, width) is None, type(model).__name__
    assert compile_model({"not": "a model"}, WIDTH) is None


def test_a_compiled_predictor_that_disagrees_is_refused(classification: Any) -> None:
    X, y, _ = classification
    model = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)
    assert compile_model(model, WIDTH, lambda rows: model.predict_proba(rows) + 1e-9) is None
    assert compile_model(model, WIDTH, lambda rows: model.predict_proba(rows)[:3]) is None

    def broken(rows: Any) -> Any:
        raise ValueError("nope")

    assert compile_model(model, WIDTH, broken) is None


def test_runtime_uses_it_and_sends_missing_values_to_sklearn(tmp_path: Any) -> None:
    X, y = make_classification(n_samples=300, n_features=WIDTH, random_state=3)
    columns = [f"c{i}" for i in range(WIDTH)]
    frame = pd.DataFrame(X, columns=columns)
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(frame, y)
    client = loopline.Client(str(tmp_path / "store"))
    run_id = client.create_run(client.create_experiment("compiled")).info.run_id
    tracking: Any = client.backend
    log_model(tracking, client.registry, run_id, model, "model", input_example=frame.head(20),
              registered_model_name="forest", actor="tester")  # fmt: skip
    logged = load_logged_model(tracking, client.registry, "models:/forest/1")
    runtime = ModelRuntime(logged, name="forest", version=1)
    assert runtime.fast
    assert runtime.compiled.kind == "forest"
    for rows in (X[:1], X[:50]):
        scores = runtime.score(np.ascontiguousarray(rows))
        np.testing.assert_allclose(scores.proba, model.predict_proba(frame.iloc[: len(rows)]))
        np.testing.assert_array_equal(scores.labels, model.predict(frame.iloc[: len(rows)]))
    with_nan = X[:2].copy()
    with_nan[0, 3] = np.nan  # sklearn's forests route missing values; the compiled path must not
    scores = runtime.score(with_nan)
    expected = model.predict_proba(pd.DataFrame(with_nan, columns=columns))
    np.testing.assert_allclose(scores.proba, expected)
