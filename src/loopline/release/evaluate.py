"""Evaluate a loaded model on a table: metrics, the baseline, explanation and fairness in one dict.

:func:`evaluate_model` builds the ``result`` document of a stored evaluation (its keys are listed
in ``docs/release.md``). Every number comes from :mod:`loopline.modeling`: scikit-learn's metrics,
a baseline fitted on the same training data as the model, permutation importance, exact
coefficients for linear models, and fairlearn's group metrics. Findings are results: an undefined
metric is ``None`` with a note, and a part that cannot be computed (coefficients of a tree, a
baseline without the primary metric) is ``None`` with the reason under ``notes``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from loopline.entities import ReleasePolicy
from loopline.errors import InvalidArgumentError, LooplineError
from loopline.modeling.baselines import baseline_for
from loopline.modeling.evaluation import (
    EvaluationResult,
    compare_with_baseline,
    evaluate_predictions,
    linear_coefficients,
    permutation_importance,
)
from loopline.modeling.fairness import fairness_report
from loopline.modeling.logged import LoggedModel

__all__ = ["RESULT_SCHEMA", "evaluate_model"]

RESULT_SCHEMA = 1
"""The version of the result document's layout."""


class _Scorable:
    """A loaded model as scikit-learn's permutation importance wants it (it checks for ``fit``)."""

    def __init__(self, model: LoggedModel) -> None:
        self.model = model

    def fit(self, X: Any, y: Any = None) -> _Scorable:
        return self

    def predict(self, X: Any) -> Any:
        return self.model.predict(X)

    def predict_proba(self, X: Any) -> Any:
        return self.model.predict_proba(X)


def evaluate_model(
    model: LoggedModel,
    data: Any,
    *,
    target: str,
    train: Any,
    policy: ReleasePolicy,
    baseline: Any = "auto",
    sensitive_features: Any = None,
    threshold: float = 0.5,
    positive_label: Any = None,
    importance: bool = True,
) -> dict[str, Any]:
    """The evaluation document of ``model`` on the DataFrame ``data`` (``target`` is a column).

    The baseline is fitted on ``train`` (a DataFrame with the same ``target``).
    ``sensitive_features`` is a column name, a list of names, or one array-like of group labels.
    """
    np = _numpy()
    for argument, frame in (("data", data), ("train_data", train)):
        if target not in frame.columns:
            raise InvalidArgumentError(
                f"The {argument!r} table has no target column {target!r}; its columns are "
                f"{[str(c) for c in frame.columns][:20]}.",
                field="target",
            )
    if len(data) == 0:
        raise InvalidArgumentError("The 'data' table has no rows to evaluate on.", field="data")
    groups = _sensitive(data, sensitive_features)
    y = data[target].to_numpy()
    X = data.drop(columns=[target])
    task = "classification" if model.loaded.has_predict_proba else "regression"
    notes: dict[str, str] = {}
    if task == "classification":
        classes = _classes(model.model, y)
        positive = _positive(classes, positive_label)
        score = _column(np, model.predict_proba(X), classes, positive)
        result = evaluate_predictions(
            task, y, y_score=score, threshold=threshold, positive_label=positive
        )
        negative = next(label for label in result.labels if label != positive)
        y_pred = np.where(score >= threshold, positive, negative)
    else:
        positive = None
        y_pred = np.asarray(model.predict(X))
        result = evaluate_predictions(task, y, y_pred=y_pred)
    base_name, base_result = _baseline(
        np, task, baseline, train, target, X, y, threshold, positive, result
    )
    comparison = None
    metric = policy.metric_for(task)
    try:
        comparison = compare_with_baseline(
            result, base_result, primary_metric=metric, min_margin=policy.baseline_margin
        ).to_dict()
    except InvalidArgumentError as exc:
        notes["comparison"] = exc.message
    explained = _importance(model, X, y, task, positive, notes) if importance else None
    fairness = None
    if groups:
        if task != "classification":
            notes["fairness"] = "fairness metrics need a binary classifier; none computed"
        else:
            fairness = {
                name: fairness_report(
                    y, y_pred, values, min_group_size=policy.min_group_size,
                    positive_label=positive,
                ).to_dict()
                for name, values in groups.items()
            }  # fmt: skip
    document: dict[str, Any] = _clean(
        {
            "schema": RESULT_SCHEMA,
            "task": task,
            "target": target,
            "n_rows": len(data),
            "n_train_rows": len(train),
            "threshold": threshold if task == "classification" else None,
            "positive_label": positive,
            "model": result.to_dict(),
            "baseline": {"strategy": base_name, **base_result.to_dict()},
            "comparison": comparison,
            "importance": explained,
            "coefficients": _coefficients(model, X, notes),
            "fairness": fairness,
            "notes": notes,
        }
    )
    return document


def _sensitive(data: Any, features: Any) -> dict[str, Any]:
    """Group labels by feature name."""
    if features is None:
        return {}
    names: Sequence[Any] | None = None
    if isinstance(features, str):
        names = [features]
    elif (
        isinstance(features, list | tuple)
        and features
        and all(isinstance(f, str) for f in features)
    ):
        names = features
    if names is not None:
        missing = [n for n in names if n not in data.columns]
        if missing:
            raise InvalidArgumentError(
                f"The 'sensitive_features' parameter names column(s) {missing} that 'data' "
                "does not have.",
                field="sensitive_features",
            )
        return {str(n): data[n].to_numpy() for n in names}
    values = _numpy().asarray(features)
    if values.ndim != 1 or len(values) != len(data):
        raise InvalidArgumentError(
            "The 'sensitive_features' parameter must be a column name, a list of column names, "
            f"or one group label per row of 'data' ({len(data)}). Got shape {values.shape} "
            "instead.",
            field="sensitive_features",
        )
    return {str(getattr(features, "name", None) or "sensitive_feature"): values}


def _classes(estimator: Any, y: Any) -> list[Any]:
    found = getattr(estimator, "classes_", None)
    if found is None and hasattr(estimator, "steps"):
        found = getattr(estimator.steps[-1][1], "classes_", None)
    if found is not None:
        return [c.item() if hasattr(c, "item") else c for c in found]
    seen = sorted({v.item() if hasattr(v, "item") else v for v in y}, key=str)
    return [0, 1] if set(seen) <= {0, 1} else seen


def _positive(classes: list[Any], positive_label: Any) -> Any:
    if len(classes) != 2:
        raise InvalidArgumentError(
            f"Release evaluation is binary; the model has the classes {classes[:10]}.",
            field="model_uri",
        )
    if positive_label is None:
        return 1 if set(classes) <= {0, 1} else max(classes)
    if positive_label not in classes:
        raise InvalidArgumentError(
            f"The 'positive_label' parameter must be one of the model's classes {classes}. "
            f"Got {positive_label!r} instead.",
            field="positive_label",
        )
    return positive_label


def _column(np: Any, proba: Any, classes: list[Any], positive: Any) -> Any:
    array = np.asarray(proba, dtype=float)
    return array[:, classes.index(positive)] if array.ndim == 2 else array


def _baseline(
    np: Any,
    task: str,
    strategy: Any,
    train: Any,
    target: str,
    X: Any,
    y: Any,
    threshold: float,
    positive: Any,
    result: EvaluationResult,
) -> tuple[str, EvaluationResult]:
    """The baseline's name and its result on the same rows as the model."""
    estimator = baseline_for(task, strategy)
    name = strategy if isinstance(strategy, str) else type(estimator).__name__
    if hasattr(estimator, "fit"):
        estimator.fit(train.drop(columns=[target]), train[target].to_numpy())
    if task == "regression":
        return name, evaluate_predictions(task, y, y_pred=np.asarray(estimator.predict(X), float))
    try:
        proba = estimator.predict_proba(X)
    except AttributeError:
        proba = None
    if proba is None:
        return name, evaluate_predictions(
            task, y, y_pred=np.asarray(estimator.predict(X)), positive_label=positive
        )
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(estimator, "classes_", [])]
    classes = classes or list(result.labels)
    score = _column(np, proba, classes, positive) if positive in classes else np.zeros(len(y))
    return name, evaluate_predictions(
        task, y, y_score=score, threshold=threshold, positive_label=positive
    )


def _importance(
    model: LoggedModel, X: Any, y: Any, task: str, positive: Any, notes: dict[str, str]
) -> list[dict[str, Any]] | None:
    skm = _sklearn_metrics()
    columns = [c.name for c in model.signature.inputs] if model.signature else list(X.columns)
    if task == "classification":
        is_pos = y == positive
        if is_pos.all() or not is_pos.any():
            notes["importance"] = "undefined: the data holds one class only"
            return None
        classes = _classes(model.model, y)

        def scorer(est: Any, X_: Any, y_: Any) -> float:
            score = _column(_numpy(), est.predict_proba(X_), classes, positive)
            return float(skm.roc_auc_score(y_ == positive, score))

        metric = "auc"
    else:

        def scorer(est: Any, X_: Any, y_: Any) -> float:
            return -float(skm.root_mean_squared_error(y_, est.predict(X_)))

        metric = "rmse"
    found = permutation_importance(_Scorable(model), X[columns], y, scoring=scorer)
    notes.setdefault("importance", f"permutation importance: drop in {metric}, 5 repeats")
    return [item.to_dict() for item in found]


def _coefficients(model: LoggedModel, X: Any, notes: dict[str, str]) -> dict[str, float] | None:
    estimator = model.model
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if getattr(final, "coef_", None) is None:
        notes["coefficients"] = f"{type(final).__name__} is not a linear model"
        return None
    try:
        if hasattr(estimator, "steps") and len(estimator.steps) > 1:
            names = [str(n) for n in estimator[:-1].get_feature_names_out()]
        else:
            names = [str(n) for n in getattr(final, "feature_names_in_", X.columns)]
        return linear_coefficients(estimator, names)
    except (LooplineError, AttributeError, ValueError) as exc:
        notes["coefficients"] = f"not available: {exc}"
        return None


def _clean(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, NaN and infinity as None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _numpy() -> Any:
    import numpy

    return numpy


def _sklearn_metrics() -> Any:
    import sklearn.metrics

    return sklearn.metrics
