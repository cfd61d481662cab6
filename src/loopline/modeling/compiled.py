"""Compiled predictors for scikit-learn tree ensembles, checked against the estimator at load.

scikit-learn validates its input on every call (``check_array``, feature names, the config,
an init estimator's own ``predict_proba`` for gradient boosting, a joblib pool for forests):
~0.2-0.4 ms for a 100-tree ``GradientBoostingClassifier`` on one row, several ms for a
forest, whatever the tree arithmetic costs. The server and bulk scoring have already checked their
input (a float array of the right width), so this module calls the fitted trees' compiled code
directly and combines the results exactly as scikit-learn does:

- ``GradientBoostingClassifier`` / ``Regressor``: the init estimator's raw prediction (a
  constant row for the default and ``"zero"`` inits; other init estimators are not compiled),
  plus ``learning_rate`` x each stage's tree (scikit-learn's own Cython ``predict_stages`` below
  1,024 rows; above, each tree's ``apply``, which releases the GIL, and the pre-scaled leaf
  values), then the loss's link (sigmoid or softmax) for a classifier;
- ``RandomForest*``, ``ExtraTrees*``: the sum of each tree's ``tree_.predict`` in the
  estimator's order, divided by the number of trees (the same additions in the same order as
  scikit-learn's sequential path);
- ``DecisionTreeClassifier`` / ``Regressor``: the tree's ``tree_.predict``;
- ``HistGradientBoostingClassifier`` / ``Regressor`` without categorical features (those
  get an encoder per call): the baseline plus each iteration's predictor (float64 input, OpenMP
  threads from 1,024 rows), then the loss's link.

Anything else (pipelines, multi-output models, custom init estimators, categorical
preprocessing) is left to scikit-learn. A compiled predictor is used only when it reproduces the
estimator's own output on probe rows (zeros, random rows, and rows on the trees' thresholds)
to 1e-12; a batch holding NaN or infinity always goes to the estimator. Large batches are
split across threads (the trees' traversal releases the GIL); each row's arithmetic is the
same either way.

Examples:
    >>> import numpy as np
    >>> from sklearn.ensemble import GradientBoostingClassifier
    >>> X = np.random.default_rng(0).normal(size=(200, 4))
    >>> model = GradientBoostingClassifier(n_estimators=10).fit(X, X[:, 0] > 0)
    >>> compiled = compile_model(model, 4)
    >>> compiled.kind
    'gradient_boosting'
    >>> bool(np.array_equal(compiled.predict_proba(X[:3]), model.predict_proba(X[:3])))
    True
    >>> compile_model(object(), 4) is None
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

__all__ = ["CompiledTrees", "compile_model", "guarded", "strip_feature_names"]

Predict = Callable[[Any], Any]
TOLERANCE = 1e-12
THREADED_ROWS = 50_000  # below this a batch runs on the calling thread
_FORESTS = frozenset(
    {
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
    }
)
_TREES = frozenset({"DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
                    "ExtraTreeRegressor"})  # fmt: skip
_BOOSTING = frozenset({"GradientBoostingClassifier", "GradientBoostingRegressor"})
_HIST = frozenset({"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"})


class CompiledTrees:
    """A tree ensemble's direct predictor for finite, C-contiguous 2-D arrays.

    ``predict_proba`` (classifiers) and ``predict`` (regressors) take float64 or float32 rows
    (cast to float32, as scikit-learn's trees do) and skip every per-call check: give them only
    what the estimator would accept. Build one with :func:`compile_model`, which checks it.
    """

    def __init__(
        self,
        kind: str,
        model: Any,
        raw: Predict,
        link: Predict | None,
        *,
        dtype: str = "float32",
        threads: bool = True,
    ) -> None:
        self.kind = kind
        self.model = model
        self.is_classifier = link is not None
        self._raw = raw
        self._link = link
        self._dtype = dtype
        self._threads = max(1, min(8, os.cpu_count() or 1)) if threads else 1

    def __repr__(self) -> str:
        return f"CompiledTrees({type(self.model).__name__}, kind={self.kind!r})"

    @property
    def threads(self) -> int:
        """How many threads a batch of at least ``THREADED_ROWS`` rows is split across."""
        return self._threads

    @threads.setter
    def threads(self, count: int) -> None:
        self._threads = max(1, int(count))

    def _rows(self, X: Any) -> Any:
        import numpy as np

        rows = np.ascontiguousarray(X, dtype=self._dtype)
        if self._threads == 1 or rows.shape[0] < THREADED_ROWS:
            return self._raw(rows)
        from concurrent.futures import ThreadPoolExecutor

        chunks = np.array_split(rows, self._threads)
        with ThreadPoolExecutor(self._threads) as pool:
            parts = list(pool.map(self._raw, chunks))
        return np.concatenate(parts, axis=0)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, ``(N, K)`` float64, as ``model.predict_proba(X)``."""
        if self._link is None:
            raise TypeError(f"{type(self.model).__name__} is a regressor: it has no predict_proba")
        return self._link(self._rows(X))

    def predict(self, X: Any) -> Any:
        """A regressor's predictions ``(N,)``; a classifier's class labels."""
        if self._link is None:
            return self._rows(X)
        proba = self.predict_proba(X)
        return self.model.classes_.take(proba.argmax(axis=1), axis=0)


def compile_model(model: Any, width: int, reference: Predict | None = None) -> CompiledTrees | None:
    """A checked :class:`CompiledTrees` for ``model``, or None when it has none.

    Args:
        model: a fitted scikit-learn estimator (anything else gives None).
        width: the number of input columns.
        reference: the output to match on probe rows (default: the estimator's own
            ``predict_proba`` for a classifier, ``predict`` for a regressor).
    """
    if not type(model).__module__.startswith("sklearn.") or width < 1:
        return None
    try:
        compiled = _build(model)
    except Exception:
        return None
    if compiled is None:
        return None
    import numpy as np

    if reference is None:
        reference = model.predict_proba if compiled.is_classifier else model.predict
    probe = _probe(np, model, width)
    try:
        ours = compiled.predict_proba(probe) if compiled.is_classifier else compiled.predict(probe)
        theirs = np.asarray(reference(probe), dtype=np.float64)
        if ours.shape != theirs.shape or not np.allclose(
            ours, theirs, rtol=TOLERANCE, atol=TOLERANCE
        ):
            return None
    except Exception:
        return None
    return compiled


def strip_feature_names(model: Any) -> bool:
    """Remove ``feature_names_in_`` from ``model`` (and pipeline steps); True when none is left.

    Done on a loaded copy whose column order has been taken from it, so scikit-learn does not
    warn "X does not have valid feature names" on every array it is given.

    Examples:
        >>> class Fitted:
        ...     feature_names_in_ = None
        >>> model = Fitted()
        >>> model.__dict__["feature_names_in_"] = ["a"]
        >>> strip_feature_names(model)
        False
        >>> strip_feature_names(object())
        True
    """
    if getattr(model, "transformers", None) is not None:
        return False  # a ColumnTransformer selects columns by name: it needs a DataFrame
    steps = getattr(model, "steps", None)
    if steps is not None:
        return all(strip_feature_names(step) for _, step in steps if step != "passthrough")
    if "feature_names_in_" in getattr(model, "__dict__", {}):
        del model.__dict__["feature_names_in_"]
    return not hasattr(model, "feature_names_in_")


def guarded(compiled: CompiledTrees, slow: Predict) -> Predict:
    """``compiled``'s ``predict_proba`` (a regressor's ``predict``) for finite batches, ``slow``
    (the estimator's own callable) for any batch holding NaN or infinity."""
    import numpy as np

    isfinite = np.isfinite
    fast = compiled.predict_proba if compiled.is_classifier else compiled.predict

    def predict(X: Any) -> Any:
        if not isfinite(X).all():
            return slow(X)  # the estimator's own handling of missing values (or its error)
        return fast(X)

    return predict


def _build(model: Any) -> CompiledTrees | None:
    name = type(model).__name__
    if int(getattr(model, "n_outputs_", 1)) != 1 or not hasattr(model, "n_features_in_"):
        return None
    if name in _BOOSTING:
        return _boosting(model)
    if name in _FORESTS:
        return _forest(model)
    if name in _TREES:
        return _forest(model, single=True)
    if name in _HIST:
        return _hist(model)
    return None


def _boosting(model: Any) -> CompiledTrees | None:
    import numpy as np
    from sklearn.base import is_classifier
    from sklearn.ensemble._gradient_boosting import predict_stages

    estimators = model.estimators_
    scale = float(model.learning_rate)
    k = int(estimators.shape[1])
    width = int(model.n_features_in_)
    if isinstance(model.init_, str):
        if model.init_ != "zero":
            return None
        init = np.zeros(k, dtype=np.float64)
    else:
        if type(model.init_).__name__ not in ("DummyClassifier", "DummyRegressor"):
            return None
        probe = np.vstack([np.zeros(width), np.ones(width)]).astype(np.float32)
        rows = np.asarray(model._raw_predict_init(probe), dtype=np.float64)
        if rows.shape != (2, k) or not np.array_equal(rows[0], rows[1]):
            return None
        init = rows[0].copy()
    trees = [[estimators[i, j].tree_ for j in range(k)] for i in range(estimators.shape[0])]
    # scale x each leaf's value, once: the same double product scikit-learn forms per row
    scaled = [[scale * np.ascontiguousarray(t.value[:, 0, 0]) for t in stage] for stage in trees]
    tile = np.tile

    def raw(X32: Any) -> Any:
        out = tile(init, (X32.shape[0], 1))
        if X32.shape[0] < 1024:
            predict_stages(estimators, X32, scale, out)  # one Cython call, holds the GIL
            return out
        # A tree at a time: ``apply`` walks the tree without the GIL, so other threads (the
        # server's, bulk scoring's writers) run meanwhile; the additions per row are the same
        # as predict_stages', in the same order.
        for j in range(k):
            column = out[:, j].copy()
            for stage, values in zip(trees, scaled, strict=True):
                column += values[j].take(stage[j].apply(X32))
            out[:, j] = column
        return out

    if is_classifier(model):
        to_proba = model._loss.predict_proba
        return CompiledTrees("gradient_boosting", model, raw, to_proba)

    def regression(X32: Any) -> Any:
        return raw(X32).ravel()

    return CompiledTrees("gradient_boosting", model, regression, None)


def _forest(model: Any, *, single: bool = False) -> CompiledTrees | None:
    trees = [model.tree_] if single else [e.tree_ for e in model.estimators_]
    if not trees:
        return None
    from sklearn.base import is_classifier

    classifier = is_classifier(model)
    count = float(len(trees))
    if classifier:
        n_classes = int(model.n_classes_)
        first, rest = trees[0], trees[1:]

        def proba(X32: Any) -> Any:
            total = first.predict(X32)[:, :n_classes].copy()
            for tree in rest:
                total += tree.predict(X32)[:, :n_classes]
            if not single:
                total /= count
            return total

        def identity(values: Any) -> Any:
            return values

        return CompiledTrees("tree" if single else "forest", model, proba, identity)

    import numpy as np

    def regression(X32: Any) -> Any:
        total = np.zeros(X32.shape[0], dtype=np.float64)
        for tree in trees:
            total += tree.predict(X32)[:, 0]
        if not single:
            total /= count
        return total

    return CompiledTrees("tree" if single else "forest", model, regression, None)


def _hist(model: Any) -> CompiledTrees | None:
    """HistGradientBoosting without a categorical preprocessor: baseline + each predictor."""
    import numpy as np
    from sklearn.base import is_classifier
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    if getattr(model, "_preprocessor", None) is not None:
        return None  # categorical features: an encoder transforms each call's input
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    baseline = model._baseline_prediction
    predictors = model._predictors
    k = int(model.n_trees_per_iteration_)
    many = _openmp_effective_n_threads()

    def raw(X64: Any) -> Any:
        n = X64.shape[0]
        out = np.zeros((n, k), dtype=baseline.dtype, order="F")
        out += baseline
        threads = 1 if n < 1024 else many  # OpenMP start-up costs more than one row
        for iteration in predictors:
            for j, predictor in enumerate(iteration):
                out[:, j] += predictor.predict(X64, known, f_idx_map, threads)
        return out

    if is_classifier(model):
        return CompiledTrees(
            "hist_gradient_boosting", model, raw, model._loss.predict_proba,
            dtype="float64", threads=False,
        )  # fmt: skip
    inverse = model._loss.link.inverse

    def regression(X64: Any) -> Any:
        return inverse(raw(X64).ravel())

    return CompiledTrees(
        "hist_gradient_boosting", model, regression, None, dtype="float64", threads=False
    )


def _probe(np: Any, model: Any, width: int) -> Any:
    """Zeros, random rows, and rows whose values sit on the trees' own thresholds."""
    rng = np.random.default_rng(0)
    rows = [np.zeros((1, width)), rng.normal(size=(24, width)) * 3]
    thresholds: list[Any] = [[] for _ in range(width)]
    trees = _tree_list(model)
    pairs = [(tree.feature, tree.threshold) for tree in trees[:50]]
    for iteration in (getattr(model, "_predictors", None) or [])[:50]:
        for predictor in iteration:
            splits = predictor.nodes[predictor.nodes["is_leaf"] == 0]
            pairs.append((splits["feature_idx"], splits["num_threshold"]))
    for features, values in pairs:
        for feature, threshold in zip(features, values, strict=True):
            if 0 <= feature < width:
                thresholds[feature].append(threshold)
    on = np.zeros((8, width))
    for feature, values in enumerate(thresholds):
        if values:
            on[:, feature] = rng.choice(np.asarray(values), size=8)
    rows.append(on)
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float64)


def _tree_list(model: Any) -> list[Any]:
    if hasattr(model, "tree_"):
        return [model.tree_]
    estimators = getattr(model, "estimators_", None)
    if estimators is None:
        return []
    flat = estimators.ravel() if hasattr(estimators, "ravel") else estimators
    return [e.tree_ for e in flat if hasattr(e, "tree_")]
