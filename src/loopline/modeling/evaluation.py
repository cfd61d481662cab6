"""Evaluate predictions, compare them with a baseline, and explain a model globally.

Pure functions over arrays: every metric is scikit-learn's own (``sklearn.metrics``,
``sklearn.inspection``), so the numbers equal what a scikit-learn user computes by hand.
Storing results on model versions builds on these results. The global explanations
(:func:`permutation_importance`, :func:`linear_coefficients`) live in
:mod:`loopline.modeling.explanation` and are re-exported here.

A metric that is undefined for the data (AUC with one class in ``y_true``, MAPE with a zero
target, precision with no predicted positive, score metrics without ``y_score``) is reported as
``None`` with the reason in ``notes``: an evaluation slice may legitimately hold one class, and
findings are results, not exceptions. Input that cannot be evaluated at all (mismatched lengths,
a score outside [0, 1], an unknown task) raises :class:`InvalidArgumentError`.

Examples:
    >>> result = evaluate_predictions("classification", [0, 1, 1, 0], y_score=[0.1, 0.8, 0.6, 0.3])
    >>> result.metrics["accuracy"], result.metrics["auc"]
    (1.0, 1.0)
    >>> evaluate_predictions("regression", [1.0, 2.0], y_pred=[1.0, 3.0]).metrics["mae"]
    0.5
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from loopline.errors import InvalidArgumentError
from loopline.modeling.explanation import (
    FeatureImportance,
    linear_coefficients,
    permutation_importance,
)
from loopline.modeling.sklearn_extra import require as _require

__all__ = [
    "LOWER_IS_BETTER",
    "TASKS",
    "BaselineComparison",
    "CalibrationBin",
    "EvaluationResult",
    "FeatureImportance",
    "compare_with_baseline",
    "evaluate_predictions",
    "linear_coefficients",
    "permutation_importance",
]

TASKS = ("classification", "regression")
LOWER_IS_BETTER = frozenset({"log_loss", "brier_score", "rmse", "mae", "mape"})
"""Metrics where smaller is better; every other metric is better when larger."""

CALIBRATION_BINS = 10


@dataclass(frozen=True)
class CalibrationBin:
    """One of ten equal-width score bins; the mean and the rate are None when it is empty.

    A score on an inner edge falls in the lower bin, as in ``sklearn.calibration_curve``.
    """

    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None


@dataclass(frozen=True)
class EvaluationResult:
    """Metrics of one set of predictions; ``to_dict`` is JSON-ready."""

    task: str
    n_samples: int
    metrics: dict[str, float | None]
    notes: dict[str, str] = field(default_factory=dict)
    threshold: float | None = None
    positive_label: Any = None
    labels: tuple[Any, ...] = ()
    confusion_matrix: tuple[tuple[int, ...], ...] | None = None
    calibration: tuple[CalibrationBin, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["labels"] = [_plain(label) for label in self.labels]
        data["positive_label"] = _plain(self.positive_label)
        for key in ("confusion_matrix", "calibration"):
            data[key] = None if data[key] is None else [_listify(row) for row in data[key]]
        return data


@dataclass(frozen=True)
class BaselineComparison:
    """``margin`` is how much better the model is (positive is better, whatever the metric)."""

    metric: str
    model_value: float
    baseline_value: float
    margin: float
    min_margin: float
    beats: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_predictions(
    task: str,
    y_true: Any,
    y_pred: Any = None,
    y_score: Any = None,
    *,
    threshold: float = 0.5,
    positive_label: Any = None,
) -> EvaluationResult:
    """Evaluate predictions for a binary classification or a regression ``task``.

    Classification takes ``y_pred`` (labels), ``y_score`` (probability of ``positive_label``)
    or both; without ``y_pred`` the labels are ``y_score >= threshold``. ``positive_label``
    defaults to 1 for 0/1 (or boolean) labels, else to the larger of the two labels.
    """
    if task not in TASKS:
        raise InvalidArgumentError(
            f"The 'task' parameter of evaluate_predictions must be one of {list(TASKS)}. "
            f"Got {task!r} instead.",
            argument="task",
            value=task,
        )
    np = _require("numpy")
    truth = _vector(np, y_true, "y_true")
    if truth.size == 0:
        raise InvalidArgumentError("The 'y_true' parameter must not be empty.", argument="y_true")
    pred = None if y_pred is None else _vector(np, y_pred, "y_pred", len(truth))
    if task == "regression":
        if pred is None:
            raise InvalidArgumentError(
                "The 'y_pred' parameter is required for regression.", argument="y_pred"
            )
        return _regression(np, truth, pred)
    score = None if y_score is None else _scores(np, y_score, len(truth))
    if pred is None and score is None:
        raise InvalidArgumentError(
            "Classification needs 'y_pred', 'y_score' or both; got neither.", argument="y_pred"
        )
    if not 0.0 <= threshold <= 1.0:
        raise InvalidArgumentError(
            f"The 'threshold' parameter must be in [0, 1]. Got {threshold!r} instead.",
            argument="threshold",
            value=threshold,
        )
    return _classification(np, truth, pred, score, threshold, positive_label)


def compare_with_baseline(
    model_result: EvaluationResult,
    baseline_result: EvaluationResult,
    *,
    primary_metric: str,
    min_margin: float = 0.0,
) -> BaselineComparison:
    """Compare a model with its baseline on ``primary_metric``.

    ``margin`` is model minus baseline for higher-is-better metrics and baseline minus model for
    ``LOWER_IS_BETTER`` ones. The model beats the baseline when the margin is positive and at
    least ``min_margin``: a tie never beats.
    """
    if model_result.task != baseline_result.task:
        raise InvalidArgumentError(
            f"Cannot compare a {model_result.task} result with a {baseline_result.task} baseline.",
            argument="baseline_result",
        )
    values = []
    for name, result in (("model_result", model_result), ("baseline_result", baseline_result)):
        if primary_metric not in result.metrics:
            raise InvalidArgumentError(
                f"The 'primary_metric' parameter must be one of {sorted(result.metrics)} for "
                f"{result.task}. Got {primary_metric!r} instead.",
                argument="primary_metric",
                value=primary_metric,
            )
        value = result.metrics[primary_metric]
        if value is None:
            reason = result.notes.get(primary_metric, "undefined")
            raise InvalidArgumentError(
                f"The {primary_metric!r} metric of {name} is undefined ({reason}); "
                "choose another primary metric.",
                argument="primary_metric",
                value=primary_metric,
            )
        values.append(value)
    model_value, baseline_value = values
    diff = model_value - baseline_value
    margin = -diff if primary_metric in LOWER_IS_BETTER else diff
    return BaselineComparison(
        metric=primary_metric,
        model_value=model_value,
        baseline_value=baseline_value,
        margin=margin,
        min_margin=min_margin,
        beats=margin > 0 and margin >= min_margin,
    )


def _classification(
    np: Any, truth: Any, pred: Any, score: Any, threshold: float, positive_label: Any
) -> EvaluationResult:
    metrics_mod = _require("sklearn.metrics")
    labels = _binary_labels(np, truth, pred, positive_label)
    negative, positive = labels
    if pred is None:
        pred = np.where(score >= threshold, positive, negative)
    is_pos = truth == positive
    metrics: dict[str, float | None] = {
        "accuracy": float(metrics_mod.accuracy_score(truth, pred)),
    }
    notes: dict[str, str] = {}
    for name, fn in (
        ("precision", metrics_mod.precision_score),
        ("recall", metrics_mod.recall_score),
        ("f1", metrics_mod.f1_score),
    ):
        value = float(fn(truth, pred, pos_label=positive, zero_division=np.nan))
        metrics[name] = None if math.isnan(value) else value
        if math.isnan(value):
            notes[name] = "undefined: no predicted or actual positive"
    calibration = None
    if score is None:
        for name in ("auc", "log_loss", "brier_score"):
            metrics[name] = None
            notes[name] = "needs y_score"
    else:
        metrics["log_loss"] = float(metrics_mod.log_loss(is_pos, score, labels=[False, True]))
        metrics["brier_score"] = float(metrics_mod.brier_score_loss(is_pos, score))
        if is_pos.all() or not is_pos.any():
            metrics["auc"] = None
            notes["auc"] = "undefined: y_true holds one class only"
        else:
            metrics["auc"] = float(metrics_mod.roc_auc_score(is_pos, score))
        calibration = _calibration(np, is_pos, score)
    matrix = metrics_mod.confusion_matrix(truth, pred, labels=list(labels))
    return EvaluationResult(
        task="classification",
        n_samples=len(truth),
        metrics=dict(sorted(metrics.items())),
        notes=notes,
        threshold=threshold,
        positive_label=positive,
        labels=labels,
        confusion_matrix=tuple(tuple(int(c) for c in row) for row in matrix),
        calibration=calibration,
    )


def _regression(np: Any, truth: Any, pred: Any) -> EvaluationResult:
    metrics_mod = _require("sklearn.metrics")
    for name, values in (("y_true", truth), ("y_pred", pred)):
        if values.dtype.kind not in "biuf" or not np.isfinite(values).all():
            raise InvalidArgumentError(
                f"The {name!r} parameter must hold finite numbers for regression.", argument=name
            )
    metrics: dict[str, float | None] = {
        "mae": float(metrics_mod.mean_absolute_error(truth, pred)),
        "rmse": float(metrics_mod.root_mean_squared_error(truth, pred)),
    }
    notes: dict[str, str] = {}
    if len(truth) < 2:
        metrics["r2"] = None
        notes["r2"] = "undefined: fewer than two samples"
    else:
        metrics["r2"] = float(metrics_mod.r2_score(truth, pred))
    if (truth == 0).any():
        metrics["mape"] = None
        notes["mape"] = "undefined: y_true holds zero"
    else:
        metrics["mape"] = float(metrics_mod.mean_absolute_percentage_error(truth, pred))
    return EvaluationResult(
        task="regression", n_samples=len(truth), metrics=dict(sorted(metrics.items())), notes=notes
    )


def _binary_labels(np: Any, truth: Any, pred: Any, positive_label: Any) -> tuple[Any, Any]:
    seen = set(truth.tolist()) | (set() if pred is None else set(pred.tolist()))
    if seen <= {0, 1}:
        classes = {0, 1}
    else:
        classes = seen | ({positive_label} if positive_label is not None else set())
    if len(classes) != 2:
        raise InvalidArgumentError(
            "Classification evaluation is binary: y_true and y_pred must hold two labels "
            f"(or one of 0/1). Got {sorted(map(str, classes))} instead; pass 'positive_label' "
            "when only one non-0/1 label appears.",
            argument="y_true",
        )
    if positive_label is None:
        positive_label = 1 if classes == {0, 1} else max(classes)
    if positive_label not in classes:
        raise InvalidArgumentError(
            f"The 'positive_label' parameter must be one of {sorted(map(str, classes))}. "
            f"Got {positive_label!r} instead.",
            argument="positive_label",
            value=str(positive_label),
        )
    (negative,) = classes - {positive_label}
    return negative, positive_label


def _calibration(np: Any, is_pos: Any, score: Any) -> tuple[CalibrationBin, ...]:
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    bins = np.searchsorted(edges[1:-1], score)
    table = []
    for i in range(CALIBRATION_BINS):
        inside = bins == i
        count = int(inside.sum())
        table.append(
            CalibrationBin(
                lower=float(edges[i]),
                upper=float(edges[i + 1]),
                count=count,
                mean_predicted=float(score[inside].mean()) if count else None,
                observed_rate=float(is_pos[inside].mean()) if count else None,
            )
        )
    return tuple(table)


def _vector(np: Any, values: Any, name: str, length: int | None = None) -> Any:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidArgumentError(
            f"The {name!r} parameter must be one-dimensional. Got shape {array.shape} instead.",
            argument=name,
        )
    if length is not None and len(array) != length:
        raise InvalidArgumentError(
            f"The {name!r} parameter must have as many values as y_true ({length}). "
            f"Got {len(array)} instead.",
            argument=name,
        )
    return array


def _scores(np: Any, values: Any, length: int) -> Any:
    array = _vector(np, values, "y_score", length)
    if array.dtype.kind not in "biuf":
        raise InvalidArgumentError("The 'y_score' parameter must be numeric.", argument="y_score")
    array = array.astype(float)
    outside = ~((array >= 0.0) & (array <= 1.0))
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        raise InvalidArgumentError(
            "The 'y_score' parameter must hold probabilities in [0, 1]. "
            f"Got {array[first]!r} at position {first} instead.",
            argument="y_score",
            position=first,
        )
    return array


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _listify(row: Any) -> Any:
    return row if isinstance(row, dict) else list(row)
