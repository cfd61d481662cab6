"""Explain a fitted model globally: permutation importance and exact linear coefficients.

Both are scikit-learn's own numbers (``sklearn.inspection`` and a linear model's ``coef_``), so they
equal what a scikit-learn user computes by hand. :mod:`loopline.modeling.evaluation` re-exports
them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from loopline.errors import InvalidArgumentError
from loopline.modeling.sklearn_extra import require as _require

__all__ = ["FeatureImportance", "linear_coefficients", "permutation_importance"]


@dataclass(frozen=True)
class FeatureImportance:
    """Permutation importance of one feature: the mean and std drop of the score, and its rank."""

    feature: str
    importance_mean: float
    importance_std: float
    rank: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def permutation_importance(
    model: Any,
    X: Any,
    y: Any,
    *,
    scoring: str | Any,
    n_repeats: int = 5,
    random_state: int = 0,
    feature_names: list[str] | None = None,
) -> list[FeatureImportance]:
    """Permutation importance of a fitted model (``sklearn.inspection``), most important first.

    Feature names come from ``feature_names``, else from a DataFrame's columns, else ``x0, x1...``.
    """
    inspection = _require("sklearn.inspection")
    raw = inspection.permutation_importance(
        model, X, y, scoring=scoring, n_repeats=n_repeats, random_state=random_state
    )
    means = [float(v) for v in raw.importances_mean]
    stds = [float(v) for v in raw.importances_std]
    names = _feature_names(X, feature_names, len(means))
    order = sorted(range(len(means)), key=lambda i: -means[i])
    return [FeatureImportance(names[i], means[i], stds[i], rank) for rank, i in enumerate(order, 1)]


def linear_coefficients(model: Any, feature_names: list[str]) -> dict[str, float]:
    """The exact coefficients of a fitted single-output linear model, by feature.

    A Pipeline's final step is used; its coefficients apply to the features that step sees (for
    example after scaling), so ``feature_names`` names those. The intercept, when fitted, is
    under ``"(intercept)"``.
    """
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    coef = getattr(estimator, "coef_", None)
    if coef is None:
        raise InvalidArgumentError(
            f"linear_coefficients needs a fitted linear model with 'coef_'; "
            f"{type(estimator).__name__} has none.",
            argument="model",
        )
    np = _require("numpy")
    values = np.asarray(coef, dtype=float)
    if values.ndim == 2 and values.shape[0] == 1:
        values = values[0]
    if values.ndim != 1:
        raise InvalidArgumentError(
            f"linear_coefficients supports single-output models; 'coef_' has shape {coef.shape}.",
            argument="model",
        )
    if len(feature_names) != len(values):
        raise InvalidArgumentError(
            f"The 'feature_names' parameter must name {len(values)} features. "
            f"Got {len(feature_names)} instead.",
            argument="feature_names",
        )
    result = {name: float(v) for name, v in zip(feature_names, values, strict=True)}
    intercept = np.ravel(getattr(estimator, "intercept_", 0.0))
    if intercept.size == 1:
        result["(intercept)"] = float(intercept[0])
    return result


def _feature_names(X: Any, names: list[str] | None, count: int) -> list[str]:
    if names is None:
        columns = getattr(X, "columns", None)
        names = [str(c) for c in columns] if columns is not None else None
    names = names if names is not None else [f"x{i}" for i in range(count)]
    if len(names) != count:
        raise InvalidArgumentError(
            f"The 'feature_names' parameter must name {count} features. Got {len(names)} instead.",
            argument="feature_names",
        )
    return names
