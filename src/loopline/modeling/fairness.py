"""Group fairness of binary predictions, computed by fairlearn, and thresholds to gate on.

Every number is fairlearn's own: per-group metrics come from ``MetricFrame`` and the
differences from ``demographic_parity_difference``, ``demographic_parity_ratio`` and
``equalized_odds_difference``, so they equal what a fairlearn user gets on the same rows.

Groups smaller than ``min_group_size`` are listed with their counts but not scored, and their
rows are left out of the differences: rates over a handful of rows are noise, and one tiny group
would otherwise decide the gate. With fewer than two scored groups the differences are ``None``.
Threshold checks treat an undefined metric as a violation (the gate fails closed).

A fairness finding is a result, never an exception; only unusable input raises
:class:`InvalidArgumentError`.
"""

from __future__ import annotations

import importlib
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from loopline.errors import InvalidArgumentError, MissingDependencyError

__all__ = [
    "DISPARITY_METRICS",
    "FairnessReport",
    "GroupMetrics",
    "ThresholdViolation",
    "check_thresholds",
    "fairness_report",
]

DISPARITY_METRICS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
)

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class GroupMetrics:
    """One group's count and, when scored, its rates (``None`` when unscored or undefined)."""

    group: Any
    count: int
    scored: bool
    selection_rate: float | None = None
    true_positive_rate: float | None = None
    false_positive_rate: float | None = None
    accuracy: float | None = None


@dataclass(frozen=True)
class FairnessReport:
    """Per-group metrics and the disparities between scored groups; ``to_dict`` is JSON-ready."""

    groups: tuple[GroupMetrics, ...]
    demographic_parity_difference: float | None
    demographic_parity_ratio: float | None
    equalized_odds_difference: float | None
    min_group_size: int
    positive_label: Any

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for group in data["groups"]:
            group["group"] = _plain(group["group"])
        data["positive_label"] = _plain(self.positive_label)
        return data


@dataclass(frozen=True)
class ThresholdViolation:
    """A disparity that fails its threshold; ``value`` is ``None`` when it could not be computed."""

    metric: str
    operator: str
    threshold: float
    value: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fairness_report(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    *,
    min_group_size: int = 30,
    positive_label: Any = 1,
) -> FairnessReport:
    """Score binary predictions by the groups of one sensitive feature.

    Labels are compared with ``positive_label`` and handed to fairlearn as 0/1.
    """
    np = _require("numpy", extra="fairness")
    truth, pred, sensitive = (
        _vector(np, values, name)
        for values, name in (
            (y_true, "y_true"),
            (y_pred, "y_pred"),
            (sensitive_features, "sensitive_features"),
        )
    )
    for name, values in (("y_pred", pred), ("sensitive_features", sensitive)):
        if len(values) != len(truth):
            raise InvalidArgumentError(
                f"The {name!r} parameter must have as many values as y_true ({len(truth)}). "
                f"Got {len(values)} instead.",
                argument=name,
            )
    if min_group_size < 1:
        raise InvalidArgumentError(
            f"The 'min_group_size' parameter must be at least 1. Got {min_group_size} instead.",
            argument="min_group_size",
            value=min_group_size,
        )
    _check_binary(truth, pred, positive_label)
    truth01 = (truth == positive_label).astype(int)
    pred01 = (pred == positive_label).astype(int)
    groups, counts = np.unique(sensitive, return_counts=True)
    large = {
        g for g, c in zip(groups.tolist(), counts.tolist(), strict=True) if c >= min_group_size
    }
    keep = np.isin(sensitive, list(large))
    scored = _score_groups(truth01[keep], pred01[keep], sensitive[keep]) if large else {}
    table = tuple(
        GroupMetrics(group=g, count=c, scored=g in scored, **scored.get(g, {}))
        for g, c in zip(groups.tolist(), counts.tolist(), strict=True)
    )
    disparities = (
        _disparities(truth01[keep], pred01[keep], sensitive[keep])
        if len(large) >= 2
        else dict.fromkeys(DISPARITY_METRICS)
    )
    return FairnessReport(
        groups=table, min_group_size=min_group_size, positive_label=positive_label, **disparities
    )


def check_thresholds(
    report: FairnessReport, thresholds: Mapping[str, tuple[str, float]]
) -> list[ThresholdViolation]:
    """The thresholds the report fails, for example ``{"demographic_parity_ratio": (">=", 0.8)}``.

    An empty list means every threshold holds. A disparity that is ``None`` (fewer than two
    scored groups) fails its threshold.
    """
    violations = []
    for metric, (op, limit) in thresholds.items():
        if metric not in DISPARITY_METRICS:
            raise InvalidArgumentError(
                f"The thresholds of check_thresholds must name one of {list(DISPARITY_METRICS)}. "
                f"Got {metric!r} instead.",
                argument="thresholds",
                value=metric,
            )
        if op not in _OPERATORS:
            raise InvalidArgumentError(
                f"The operator for {metric!r} must be one of {list(_OPERATORS)}. "
                f"Got {op!r} instead.",
                argument="thresholds",
                value=op,
            )
        value = getattr(report, metric)
        if value is None or not _OPERATORS[op](value, limit):
            violations.append(ThresholdViolation(metric, op, float(limit), value))
    return violations


def _score_groups(truth: Any, pred: Any, sensitive: Any) -> dict[Any, dict[str, float | None]]:
    fm = _require("fairlearn.metrics", extra="fairness")
    skm = _require("sklearn.metrics", extra="fairness")
    frame = fm.MetricFrame(
        metrics={
            "selection_rate": fm.selection_rate,
            "true_positive_rate": fm.true_positive_rate,
            "false_positive_rate": fm.false_positive_rate,
            "accuracy": skm.accuracy_score,
        },
        y_true=truth,
        y_pred=pred,
        sensitive_features=sensitive,
    )
    return {
        _plain(group): {name: _number(value) for name, value in row.items()}
        for group, row in frame.by_group.iterrows()
    }


def _disparities(truth: Any, pred: Any, sensitive: Any) -> dict[str, float | None]:
    fm = _require("fairlearn.metrics", extra="fairness")
    return {
        name: _number(getattr(fm, name)(truth, pred, sensitive_features=sensitive))
        for name in DISPARITY_METRICS
    }


def _check_binary(truth: Any, pred: Any, positive_label: Any) -> None:
    labels = set(truth.tolist()) | set(pred.tolist())
    if len(labels) > 2 or (len(labels) == 2 and positive_label not in labels):
        raise InvalidArgumentError(
            "fairness_report needs binary labels that include 'positive_label' "
            f"({positive_label!r}). Got {sorted(map(str, labels))} instead.",
            argument="positive_label",
            value=str(positive_label),
        )


def _vector(np: Any, values: Any, name: str) -> Any:
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise InvalidArgumentError(
            f"The {name!r} parameter must be a non-empty one-dimensional sequence. "
            f"Got shape {array.shape} instead.",
            argument=name,
        )
    return array


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _require(module: str, *, extra: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"Fairness reports need {module!r}: pip install 'loopline[{extra}]'.",
            module=module,
            extra=extra,
        ) from None
