"""Evaluation on real bundled data equals scikit-learn's own metrics; baselines gate a model."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from sklearn import metrics
from sklearn.calibration import calibration_curve
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from loopline.errors import InvalidArgumentError
from loopline.modeling.baselines import RuleBaseline, baseline_for
from loopline.modeling.evaluation import (
    compare_with_baseline,
    evaluate_predictions,
    linear_coefficients,
    permutation_importance,
)


@pytest.fixture(scope="module")
def cancer() -> tuple[Any, Any, Any, Any]:
    data = load_breast_cancer(as_frame=True)
    return train_test_split(data.data, data.target, test_size=0.3, random_state=0)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def cancer_model(cancer: tuple[Any, Any, Any, Any]) -> Any:
    X_train, _, y_train, _ = cancer
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)


@pytest.fixture(scope="module")
def diabetes() -> tuple[Any, Any, Any, Any]:
    data = load_diabetes(as_frame=True)
    return train_test_split(data.data, data.target, test_size=0.3, random_state=0)  # type: ignore[no-any-return]


def test_classification_equals_sklearn(cancer: Any, cancer_model: Any) -> None:
    _, X_test, _, y_test = cancer
    score = cancer_model.predict_proba(X_test)[:, 1]
    result = evaluate_predictions("classification", y_test, y_score=score, threshold=0.5)
    pred = (score >= 0.5).astype(int)

    assert result.metrics == {
        "accuracy": metrics.accuracy_score(y_test, pred),
        "auc": metrics.roc_auc_score(y_test, score),
        "brier_score": metrics.brier_score_loss(y_test, score),
        "f1": metrics.f1_score(y_test, pred),
        "log_loss": metrics.log_loss(y_test, score),
        "precision": metrics.precision_score(y_test, pred),
        "recall": metrics.recall_score(y_test, pred),
    }
    assert result.confusion_matrix == tuple(map(tuple, metrics.confusion_matrix(y_test, pred)))
    assert result.labels == (0, 1)
    assert result.positive_label == 1


def test_calibration_table_equals_sklearn_curve(cancer: Any, cancer_model: Any) -> None:
    _, X_test, _, y_test = cancer
    score = cancer_model.predict_proba(X_test)[:, 1]
    table = evaluate_predictions("classification", y_test, y_score=score).calibration
    observed, predicted = calibration_curve(y_test, score, n_bins=10, strategy="uniform")

    assert table is not None
    assert len(table) == 10
    assert [b.lower for b in table] == pytest.approx(np.linspace(0, 0.9, 10).tolist())
    assert sum(b.count for b in table) == len(y_test)
    filled = [b for b in table if b.count]
    assert [b.observed_rate for b in filled] == pytest.approx(observed.tolist())
    assert [b.mean_predicted for b in filled] == pytest.approx(predicted.tolist())


def test_threshold_moves_the_confusion_matrix(cancer: Any, cancer_model: Any) -> None:
    _, X_test, _, y_test = cancer
    score = cancer_model.predict_proba(X_test)[:, 1]
    strict = evaluate_predictions("classification", y_test, y_score=score, threshold=0.9)

    expected = metrics.confusion_matrix(y_test, (score >= 0.9).astype(int))
    assert strict.confusion_matrix == tuple(map(tuple, expected))
    assert strict.threshold == 0.9


def test_regression_equals_sklearn(diabetes: Any) -> None:
    X_train, X_test, y_train, y_test = diabetes
    pred = LinearRegression().fit(X_train, y_train).predict(X_test)
    result = evaluate_predictions("regression", y_test, pred)

    assert result.metrics == {
        "mae": metrics.mean_absolute_error(y_test, pred),
        "mape": metrics.mean_absolute_percentage_error(y_test, pred),
        "r2": metrics.r2_score(y_test, pred),
        "rmse": metrics.root_mean_squared_error(y_test, pred),
    }


def test_model_beats_majority_baseline_and_constant_model_does_not(
    cancer: Any, cancer_model: Any
) -> None:
    X_train, X_test, y_train, y_test = cancer
    baseline = baseline_for("classification").fit(X_train, y_train)
    base = evaluate_predictions(
        "classification", y_test, baseline.predict(X_test), baseline.predict_proba(X_test)[:, 1]
    )
    model = evaluate_predictions(
        "classification", y_test, y_score=cancer_model.predict_proba(X_test)[:, 1]
    )
    constant = RuleBaseline(lambda X: np.ones(len(X), dtype=int), lambda X: np.full(len(X), 0.6))
    flat = evaluate_predictions(
        "classification", y_test, constant.predict(X_test), constant.predict_proba(X_test)
    )

    assert base.metrics["accuracy"] == max(y_test.mean(), 1 - y_test.mean())
    win = compare_with_baseline(model, base, primary_metric="auc", min_margin=0.2)
    assert win.beats
    assert win.margin == model.metrics["auc"] - base.metrics["auc"]  # type: ignore[operator]
    assert not compare_with_baseline(flat, base, primary_metric="auc").beats
    assert not compare_with_baseline(model, base, primary_metric="auc", min_margin=0.6).beats


def test_margin_is_sign_aware_for_lower_is_better(diabetes: Any) -> None:
    X_train, X_test, y_train, y_test = diabetes
    model = evaluate_predictions(
        "regression", y_test, LinearRegression().fit(X_train, y_train).predict(X_test)
    )
    median = baseline_for("regression", "median").fit(X_train, y_train)
    base = evaluate_predictions("regression", y_test, median.predict(X_test))

    comparison = compare_with_baseline(model, base, primary_metric="rmse")
    assert comparison.beats
    assert comparison.margin == base.metrics["rmse"] - model.metrics["rmse"]  # type: ignore[operator]
    assert not compare_with_baseline(base, model, primary_metric="rmse").beats
    assert median.predict(X_test[:1])[0] == np.median(y_train)


def test_one_class_reports_auc_as_none_with_a_reason() -> None:
    result = evaluate_predictions("classification", [1, 1, 1], y_score=[0.2, 0.7, 0.9])

    assert result.metrics["auc"] is None
    assert "one class" in result.notes["auc"]
    assert result.metrics["accuracy"] == pytest.approx(2 / 3)
    with pytest.raises(InvalidArgumentError, match="auc"):
        compare_with_baseline(result, result, primary_metric="auc")


def test_result_is_json_ready(cancer: Any, cancer_model: Any) -> None:
    _, X_test, _, y_test = cancer
    result = evaluate_predictions(
        "classification", y_test.to_numpy(), y_score=cancer_model.predict_proba(X_test)[:, 1]
    )
    payload = json.loads(json.dumps(result.to_dict()))

    assert payload["metrics"]["auc"] == result.metrics["auc"]
    assert len(payload["calibration"]) == 10
    assert payload["confusion_matrix"] == [list(row) for row in result.confusion_matrix or ()]
    with pytest.raises(AttributeError):
        result.task = "regression"  # type: ignore[misc]


def test_permutation_importance_equals_sklearn_and_is_ranked(cancer: Any) -> None:
    X_train, X_test, y_train, y_test = cancer
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X_train, y_train)
    ranked = permutation_importance(tree, X_test, y_test, scoring="roc_auc", n_repeats=3)
    raw = sk_permutation_importance(
        tree, X_test, y_test, scoring="roc_auc", n_repeats=3, random_state=0
    )

    by_name = {item.feature: item for item in ranked}
    for name, mean, std in zip(
        X_test.columns, raw.importances_mean, raw.importances_std, strict=True
    ):
        assert (by_name[name].importance_mean, by_name[name].importance_std) == (mean, std)
    means = [item.importance_mean for item in ranked]
    assert means == sorted(means, reverse=True)
    assert [item.rank for item in ranked] == list(range(1, len(ranked) + 1))


def test_linear_coefficients_are_exact_through_a_pipeline(
    cancer: Any, cancer_model: Any, diabetes: Any
) -> None:
    names = list(cancer[0].columns)
    coefs = linear_coefficients(cancer_model, names)
    logistic = cancer_model[-1]

    assert [coefs[n] for n in names] == logistic.coef_[0].tolist()
    assert coefs["(intercept)"] == logistic.intercept_[0]
    X_train, _, y_train, _ = diabetes
    plain = LinearRegression().fit(X_train, y_train)
    assert linear_coefficients(plain, list(X_train.columns))["bmi"] == plain.coef_[2]
    with pytest.raises(InvalidArgumentError, match="coef_"):
        linear_coefficients(DecisionTreeClassifier().fit(X_train[:5], [0, 1, 0, 1, 0]), ["a"])
    with pytest.raises(InvalidArgumentError, match="name 30 features"):
        linear_coefficients(cancer_model, names[:3])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "ranking", "y_true": [0, 1], "y_pred": [0, 1]}, "'task' parameter"),
        ({"task": "classification", "y_true": [0, 1], "y_pred": [0]}, "as many values"),
        ({"task": "classification", "y_true": [0, 1], "y_score": [0.2, 1.3]}, r"\[0, 1\]"),
        ({"task": "classification", "y_true": [0, 1], "y_score": [0.2, np.nan]}, r"\[0, 1\]"),
        ({"task": "classification", "y_true": [0, 1]}, "neither"),
        ({"task": "classification", "y_true": [0, 1, 2], "y_pred": [0, 1, 2]}, "binary"),
        (
            {
                "task": "classification",
                "y_true": ["a", "b"],
                "y_pred": ["a", "b"],
                "positive_label": "c",
            },
            "positive_label",
        ),
        ({"task": "classification", "y_true": [], "y_pred": []}, "empty"),
        ({"task": "regression", "y_true": [1.0, 2.0]}, "y_pred"),
        ({"task": "regression", "y_true": [1.0, np.inf], "y_pred": [1.0, 2.0]}, "finite"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        evaluate_predictions(**kwargs)


def test_bad_baseline_requests() -> None:
    with pytest.raises(InvalidArgumentError, match="'task' parameter"):
        baseline_for("ranking")
    with pytest.raises(InvalidArgumentError, match="median"):
        baseline_for("classification", "median")
    rule = baseline_for("classification", lambda X: [0] * len(X))
    assert rule.fit([[1]], [0]) is rule
    assert baseline_for("regression", rule) is rule
    regression = evaluate_predictions("regression", [1.0, 2.0], [1.0, 2.0])
    classification = evaluate_predictions("classification", [0, 1], [0, 1])
    with pytest.raises(InvalidArgumentError, match="Cannot compare"):
        compare_with_baseline(regression, classification, primary_metric="rmse")
    with pytest.raises(InvalidArgumentError, match="primary_metric"):
        compare_with_baseline(regression, regression, primary_metric="auc")
