"""Explanations in-process: contributions add up to each model's output, for every family."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from loopline.errors import InvalidArgumentError
from loopline.serving.explain import explain, explainable


@pytest.fixture(scope="module")
def data() -> tuple[Any, Any]:
    from sklearn.datasets import make_classification

    return make_classification(n_samples=300, n_features=6, random_state=3)


def _totals(found: list[dict[str, Any]]) -> Any:
    return np.array([f["base_value"] + sum(f["contributions"].values()) for f in found])


def test_forests_and_trees_sum_to_the_positive_probability(data: tuple[Any, Any]) -> None:
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    X, y = data
    columns = tuple(f"c{i}" for i in range(6))
    for model in (RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0),
                  ExtraTreesClassifier(n_estimators=10, random_state=0),
                  DecisionTreeClassifier(max_depth=4, random_state=0)):  # fmt: skip
        model.fit(X, y)
        found = explain(model, X[:20], columns)
        np.testing.assert_allclose(_totals(found), model.predict_proba(X[:20])[:, 1], atol=1e-9)
        assert found[0]["output"] == "probability"


def test_xgboost_and_lightgbm_use_their_own_contributions(data: tuple[Any, Any]) -> None:
    import lightgbm
    import xgboost

    X, y = data
    columns = tuple(f"c{i}" for i in range(6))
    booster = xgboost.XGBClassifier(n_estimators=20, max_depth=3).fit(X, y)
    lgbm = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, y)

    for model in (booster, lgbm):
        found = explain(model, X[:10], columns)
        margin = (
            model.predict(X[:10], output_margin=True)
            if model is booster
            else model.predict(X[:10], raw_score=True)
        )
        np.testing.assert_allclose(_totals(found), margin, atol=1e-5)


def test_linear_without_means_is_relative_to_zero(data: tuple[Any, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = data
    model = LogisticRegression().fit(X, y)

    found = explain(model, X[:5], tuple(f"c{i}" for i in range(6)))

    np.testing.assert_allclose(_totals(found), model.decision_function(X[:5]), atol=1e-9)
    assert found[0]["reference"] == "zero"
    assert found[0]["base_value"] == pytest.approx(model.intercept_[0])


def test_unsupported_models_are_refused_by_name(data: tuple[Any, Any]) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    X, y = data
    model = KNeighborsClassifier().fit(X, y)

    assert not explainable(model)
    with pytest.raises(InvalidArgumentError, match="KNeighborsClassifier"):
        explain(model, X[:2], tuple(f"c{i}" for i in range(6)))
