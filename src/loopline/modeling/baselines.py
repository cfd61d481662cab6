"""Non-ML baselines a model must beat before it is released.

A baseline follows the scikit-learn estimator contract (parameters in ``__init__``, ``fit``
returns self), so it is trained on the same data as the model and scored by the same code.
``baseline_for`` picks one per task; a user rule (a function of ``X``, or any object with
``predict``) replaces it.

Examples:
    >>> baseline = baseline_for("classification").fit([[0], [1], [2]], [1, 1, 0])
    >>> baseline.predict([[5]]).tolist()
    [1]
    >>> baseline_for("regression", "median").fit([[0], [1], [2]], [1.0, 2.0, 9.0]).predict([[0]])
    array([2.])
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from loopline.errors import InvalidArgumentError, MissingDependencyError

__all__ = ["CLASSIFICATION_STRATEGIES", "REGRESSION_STRATEGIES", "RuleBaseline", "baseline_for"]

CLASSIFICATION_STRATEGIES = ("auto", "prior", "most_frequent", "stratified", "uniform")
"""``auto`` is ``prior``: predicts the majority class, ``predict_proba`` gives the class priors."""

REGRESSION_STRATEGIES = ("auto", "mean", "median")
"""``auto`` is ``mean`` (the constant that minimises squared error)."""

Rule = Callable[[Any], Any]


class RuleBaseline:
    """A user rule as a baseline: ``rule(X)`` returns the predictions; ``proba(X)`` the scores.

    ``fit`` learns nothing and returns self, so the rule drops in where a fitted baseline goes.

    Examples:
        >>> rule = RuleBaseline(lambda X: [1 if row[0] > 2 else 0 for row in X])
        >>> rule.fit([[1], [3]], [0, 1]).predict([[1], [3]]).tolist()
        [0, 1]
    """

    def __init__(self, rule: Rule, proba: Rule | None = None) -> None:
        self.rule = rule
        self.proba = proba

    def fit(self, X: Any, y: Any = None) -> RuleBaseline:
        return self

    def predict(self, X: Any) -> Any:
        return _numpy().asarray(self.rule(X))

    def predict_proba(self, X: Any) -> Any:
        if self.proba is None:
            raise AttributeError("This RuleBaseline was built without a 'proba' rule.")
        return _numpy().asarray(self.proba(X))


def baseline_for(task: str, strategy: str | Rule | Any = "auto") -> Any:
    """An unfitted baseline for ``task`` ("classification" or "regression").

    ``strategy`` is a strategy name (see ``CLASSIFICATION_STRATEGIES`` and
    ``REGRESSION_STRATEGIES``), a function of ``X`` (wrapped in :class:`RuleBaseline`) or an
    object with ``predict``, returned unchanged.
    """
    if task not in ("classification", "regression"):
        raise InvalidArgumentError(
            "The 'task' parameter of baseline_for must be 'classification' or 'regression'. "
            f"Got {task!r} instead.",
            argument="task",
            value=task,
        )
    if not isinstance(strategy, str):
        if hasattr(strategy, "predict"):
            return strategy
        if callable(strategy):
            return RuleBaseline(strategy)
        raise InvalidArgumentError(
            "The 'strategy' parameter of baseline_for must be a strategy name, a function of X "
            f"or an object with predict. Got {type(strategy).__name__} instead.",
            argument="strategy",
        )
    names = CLASSIFICATION_STRATEGIES if task == "classification" else REGRESSION_STRATEGIES
    if strategy not in names:
        raise InvalidArgumentError(
            f"The 'strategy' parameter of baseline_for must be one of {list(names)} for {task}. "
            f"Got {strategy!r} instead.",
            argument="strategy",
            value=strategy,
        )
    dummy = _sklearn_dummy()
    if task == "classification":
        return dummy.DummyClassifier(strategy="prior" if strategy == "auto" else strategy)
    return dummy.DummyRegressor(strategy="mean" if strategy == "auto" else strategy)


def _sklearn_dummy() -> Any:
    try:
        return importlib.import_module("sklearn.dummy")
    except ImportError:
        raise MissingDependencyError(
            "Baselines need scikit-learn: pip install 'loopline[sklearn]'.",
            module="sklearn",
            extra="sklearn",
        ) from None


def _numpy() -> Any:
    try:
        return importlib.import_module("numpy")
    except ImportError:
        raise MissingDependencyError(
            "Baselines need numpy: pip install 'loopline[sklearn]'.",
            module="numpy",
            extra="sklearn",
        ) from None
