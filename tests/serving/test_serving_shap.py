"""``explainer="shap"``: shap's values, equal in total to the built-in ones; 501 without shap.

TreeSHAP and the built-in (Saabas) path contributions are different attributions of the same
output: per row they add up to the same raw log-odds, and for stumps (one split per tree) they
differ by a constant per feature. For a linear model against the training means they are equal.
"""

from __future__ import annotations

import sys
from typing import Any

import httpx
import numpy as np
import pytest
from serving_support import Models, Running, row

from loopline.errors import MissingDependencyError
from loopline.serving.explain import explain

pytest.importorskip("shap")

COLUMNS6 = tuple(f"c{i}" for i in range(6))


@pytest.fixture(scope="module")
def data() -> tuple[Any, Any]:
    from sklearn.datasets import make_classification

    return make_classification(n_samples=300, n_features=6, random_state=3)


def _matrix(found: list[dict[str, Any]], columns: tuple[str, ...]) -> Any:
    return np.array([[f["contributions"][c] for c in columns] for f in found])


def _totals(found: list[dict[str, Any]]) -> Any:
    return np.array([f["base_value"] + sum(f["contributions"].values()) for f in found])


def test_gradient_boosting_shap_totals_equal_the_builtin_log_odds(data: tuple[Any, Any]) -> None:
    from sklearn.ensemble import GradientBoostingClassifier

    X, y = data
    model = GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0).fit(X, y)

    shap_found = explain(model, X[:20], COLUMNS6, explainer="shap")
    builtin = explain(model, X[:20], COLUMNS6)

    assert {f["output"] for f in shap_found} == {"log_odds"}
    assert {f["explainer"] for f in shap_found} == {"shap"}
    np.testing.assert_allclose(_totals(shap_found), _totals(builtin), atol=1e-9)
    np.testing.assert_allclose(_totals(shap_found), model.decision_function(X[:20]), atol=1e-9)
    # depth 3: a real difference in how the output is shared (SHAP is not Saabas)
    assert np.abs(_matrix(shap_found, COLUMNS6) - _matrix(builtin, COLUMNS6)).max() > 1e-3


def test_gradient_boosting_stumps_differ_from_builtin_by_a_constant(data: tuple[Any, Any]) -> None:
    from sklearn.ensemble import GradientBoostingClassifier

    X, y = data
    model = GradientBoostingClassifier(n_estimators=30, max_depth=1, random_state=0).fit(X, y)

    shap_values = _matrix(explain(model, X[:25], COLUMNS6, explainer="shap"), COLUMNS6)
    builtin = _matrix(explain(model, X[:25], COLUMNS6), COLUMNS6)

    offset = shap_values - builtin
    np.testing.assert_allclose(offset, np.broadcast_to(offset[0], offset.shape), atol=1e-9)


def test_linear_shap_equals_the_builtin_against_the_means(data: tuple[Any, Any]) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = data
    model = LogisticRegression(max_iter=1000).fit(X, y)
    means = {c: float(v) for c, v in zip(COLUMNS6, X.mean(axis=0), strict=True)}

    shap_found = explain(model, X[:10], COLUMNS6, means, explainer="shap")
    builtin = explain(model, X[:10], COLUMNS6, means)

    assert shap_found[0]["reference"] == "training_mean"
    np.testing.assert_allclose(_matrix(shap_found, COLUMNS6), _matrix(builtin, COLUMNS6), atol=1e-9)
    np.testing.assert_allclose(_totals(shap_found), model.decision_function(X[:10]), atol=1e-9)


def test_shap_over_http_sums_to_the_log_odds(gbc_server: Running, models: Models) -> None:
    body = {"rows": [row(models.X, i) for i in range(4)], "explain": True, "explainer": "shap"}

    answer = httpx.post(f"{gbc_server.url}/deployments/gbc/predict", json=body, timeout=60)

    assert answer.status_code == 200, answer.text
    raw = models.gbc.decision_function(models.frame.head(4))
    for p, expected in zip(answer.json()["predictions"], raw, strict=True):
        explanation = p["explanation"]
        assert explanation["explainer"] == "shap"
        total = explanation["base_value"] + sum(explanation["contributions"].values())
        assert total == pytest.approx(expected, abs=1e-9)


def test_missing_shap_is_a_501_with_the_install_hint(
    gbc_server: Running, models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)
    body = {"rows": [row(models.X, 0)], "explain": True, "explainer": "shap"}

    answer = httpx.post(f"{gbc_server.url}/deployments/gbc/predict", json=body, timeout=60)

    assert answer.status_code == 501
    assert "pip install 'loopline[shap]'" in answer.json()["error"]
    with pytest.raises(MissingDependencyError, match=r"loopline\[shap\]"):
        explain(models.gbc, models.X[:1], tuple(models.frame.columns), explainer="shap")
    # the built-in explainer needs nothing more
    builtin = {"rows": [row(models.X, 0)], "explain": True}
    assert httpx.post(f"{gbc_server.url}/deployments/gbc/predict", json=builtin).status_code == 200


def test_an_unknown_explainer_is_a_400(gbc_server: Running, models: Models) -> None:
    body = {"rows": [row(models.X, 0)], "explain": True, "explainer": "lime"}

    answer = httpx.post(f"{gbc_server.url}/deployments/gbc/predict", json=body)

    assert answer.status_code == 400
    assert "'explainer' must be 'builtin' or 'shap'" in answer.json()["error"]
