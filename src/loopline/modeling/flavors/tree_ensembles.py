"""Bounds checks on the tree ensembles inside a loaded scikit-learn model.

Forests, gradient boosting and isolation forests check their input once and then call their
trees' compiled code on it without the trees' own input check, so each tree must be exactly as
wide as what the ensemble checks (an isolation forest's tree: as wide as its feature subset).
Gradient boosting's ``predict_stages`` also writes tree k of a stage into column k of the
initial raw prediction unchecked, so ``estimators_`` must have one column per column of it.
:func:`~loopline.modeling.flavors.tree_checks.check_trees` runs :func:`check_ensemble` on every
ensemble :mod:`~loopline.modeling.flavors.tree_walk` finds, after checking the trees' nodes.

Examples:
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.tree._tree import Tree
    >>> from loopline.modeling.flavors.tree_walk import find_trees
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    >>> _, _, ensembles = find_trees(forest, source="iris.skops")
    >>> for found in ensembles:
    ...     check_ensemble(found, Tree, "iris.skops")
    >>> input_width(forest)
    4
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from loopline.modeling.flavors.tree_walk import Found, refusal

__all__ = ["check_ensemble", "input_width"]


def check_ensemble(found: Found, tree_type: Any, source: str) -> None:
    """Forests, gradient boosting, isolation forests call their trees' code on checked input."""
    from sklearn.ensemble import IsolationForest
    from sklearn.ensemble._gb import BaseGradientBoosting

    model = found.obj
    if not hasattr(model, "estimators_"):
        return  # not fitted: nothing runs its trees
    width = input_width(model)
    if width is None:
        raise refusal(source, found.path, "it has no integer n_features_in_")
    members = getattr(model, "estimators_", None)
    boosting = isinstance(model, BaseGradientBoosting)
    if boosting and not (isinstance(members, np.ndarray) and members.ndim == 2):
        raise refusal(source, found.path_to("estimators_"), "it is not a 2-D array")
    if not isinstance(members, list | tuple | np.ndarray):
        raise refusal(source, found.path_to("estimators_"), "it is not a sequence")
    subsets = getattr(model, "estimators_features_", None)
    shape = np.shape(members)
    isolation = isinstance(model, IsolationForest)
    for position, member in enumerate(np.ravel(np.asarray(members, dtype=object))):
        tree: Any = getattr(member, "tree_", None)
        if not isinstance(tree, tree_type):
            reason = "it holds no decision tree in tree_"
            raise refusal(source, _member(found, shape, position), reason)
        expected = width
        if isolation:
            subset = _subset_width(subsets, position, width)
            if subset is None:
                reason = "its feature subset is missing or wider than X"
                raise refusal(source, _member(found, shape, position), reason)
            expected = subset
        if tree.n_features != expected:
            path = f"{_member(found, shape, position)}.tree_"
            raise refusal(source, path, f"it splits {tree.n_features} features, not {expected}")
    if boosting:
        _check_boosting_columns(found, width, source)


def _check_boosting_columns(found: Found, width: int, source: str) -> None:
    """``predict_stages`` adds tree k of a stage to column k of the initial raw prediction."""
    model = found.obj
    columns = model.estimators_.shape[1]
    if columns != getattr(model, "n_trees_per_iteration_", None):
        raise refusal(
            source, found.path_to("estimators_"), "its columns are not n_trees_per_iteration_"
        )
    if model.init_ == "zero" or model.estimators_.shape[0] == 0:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = model._raw_predict_init(np.zeros((1, width), dtype=np.float32))
    except Exception as exc:  # any failure: the width cannot be vouched for
        raise refusal(
            source, found.path_to("init_"), f"its prediction on a row of zeros failed: {exc}"
        ) from None
    if np.ndim(raw) != 2 or np.shape(raw)[1] != columns:
        raise refusal(
            source,
            found.path_to("init_"),
            f"its raw prediction has shape {np.shape(raw)[1:]}, not ({columns},)",
        )


def _member(found: Found, shape: tuple[int, ...], position: int) -> str:
    cell = ", ".join(str(int(i)) for i in np.unravel_index(position, shape))
    return found.path_to(f"estimators_[{cell}]")


def _subset_width(subsets: Any, position: int, width: int) -> int | None:
    try:
        size = int(np.asarray(subsets[position]).size)
    except (TypeError, IndexError, KeyError):
        return None
    return size if size <= width else None


def input_width(estimator: Any) -> int | None:
    """The width an estimator's input check enforces: its ``n_features_in_``, if an integer."""
    width = getattr(estimator, "n_features_in_", None)
    if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 0:
        return None
    return int(width)
