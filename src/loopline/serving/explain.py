"""Per-prediction explanations: feature contributions that add up to the model's output.

- Linear models (``coef_``/``intercept_``): exact, in the decision function's units (log-odds for
  a logistic regression): ``coef * (x - mean)`` with the training means of the training profile
  (``base_value = intercept + coef . mean``); without a profile, ``coef * x`` with
  ``base_value = intercept`` (``reference`` says which).
- scikit-learn tree ensembles (decision trees, random forests, extra trees, gradient boosting):
  Saabas-style path contributions. Along each tree's decision path, the change of the node value
  from a parent to its child is credited to the parent's split feature. Gradient boosting is
  explained in raw (log-odds) units, forests and single trees in probability of the positive
  class.
- XGBoost and LightGBM: their own exact TreeSHAP (``pred_contribs`` / ``pred_contrib``).

For every row, ``base_value + sum(contributions) == output`` (up to float rounding).
"""

from __future__ import annotations

from typing import Any

from loopline.errors import InvalidArgumentError

__all__ = ["Explanation", "explain", "explainable"]

Explanation = dict[str, Any]


def _kind(model: Any) -> str | None:
    module = type(model).__module__
    if module.startswith("xgboost"):
        return "xgboost"
    if module.startswith("lightgbm"):
        return "lightgbm"
    if (
        hasattr(model, "estimators_")
        and hasattr(model, "learning_rate")
        and hasattr(model, "init_")
    ):
        return "gradient_boosting"
    if hasattr(model, "estimators_") and all(
        hasattr(t, "tree_") for t in list(getattr(model, "estimators_", []))[:1]
    ):
        return "forest"
    if hasattr(model, "tree_"):
        return "tree"
    if hasattr(model, "coef_") and hasattr(model, "intercept_"):
        return "linear"
    return None


def explainable(model: Any) -> bool:
    """Whether :func:`explain` knows how to explain ``model``."""
    return _kind(model) is not None


def explain(
    model: Any,
    array: Any,
    columns: tuple[str, ...],
    means: dict[str, float] | None = None,
    *,
    explainer: str = "builtin",
) -> list[Explanation]:
    """One explanation per row of ``array`` (float64, columns in ``columns`` order).

    ``explainer="shap"`` answers the ``shap`` library's values instead
    (:mod:`loopline.serving.shap_explain`, extra ``loopline[shap]``).

    Examples:
        >>> import numpy as np
        >>> from sklearn.linear_model import LinearRegression
        >>> X = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 5.0]])
        >>> model = LinearRegression().fit(X, 2 * X[:, 0] - X[:, 1] + 1)
        >>> found = explain(model, X[:1], ("a", "b"), {"a": 2.0, "b": 2.0})[0]
        >>> {k: round(v, 6) for k, v in found["contributions"].items()}
        {'a': -2.0, 'b': 2.0}
        >>> round(found["base_value"] + sum(found["contributions"].values()), 6)  # the prediction
        3.0
    """
    import numpy as np

    kind = _kind(model)
    if kind is None:
        raise InvalidArgumentError(
            f"Explanations are not available for {type(model).__name__} models (linear models, "
            "scikit-learn tree ensembles, XGBoost and LightGBM are).",
            field="explain",
        )
    if explainer == "shap":
        from loopline.serving.shap_explain import explain_shap

        return explain_shap(model, array, columns, kind, means)
    output = "probability"
    reference = None
    if kind == "linear":
        contributions, base, output, reference = _linear(np, model, array, columns, means or {})
    elif kind == "gradient_boosting":
        contributions, base = _boosting(np, model, array)
        output = "log_odds"
    elif kind in ("forest", "tree"):
        trees = list(model.estimators_) if kind == "forest" else [model]
        contributions, base = _forest(np, trees, array)
    else:
        contributions, base = _native(np, model, array, kind)
        output = "log_odds"
    explanations = []
    for i in range(array.shape[0]):
        item: Explanation = {
            "base_value": float(base[i]),
            "output": output,
            "contributions": {c: float(v) for c, v in zip(columns, contributions[i], strict=True)},
        }
        if reference is not None:
            item["reference"] = reference
        explanations.append(item)
    return explanations


def _positive(np: Any, coef: Any) -> Any:
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim == 2:
        if coef.shape[0] != 1:
            raise InvalidArgumentError(
                "Explanations of multi-class linear models are not supported yet.", field="explain"
            )
        coef = coef[0]
    return coef


def _linear(
    np: Any, model: Any, array: Any, columns: tuple[str, ...], means: dict[str, float]
) -> tuple[Any, Any, str, str]:
    coef = _positive(np, model.coef_)
    intercept = float(np.ravel(np.asarray(model.intercept_, dtype=np.float64))[0])
    output = "log_odds" if hasattr(model, "predict_proba") else "prediction"
    if means and all(c in means for c in columns):
        mean = np.asarray([means[c] for c in columns], dtype=np.float64)
        contributions = coef * (array - mean)
        base = np.full(array.shape[0], intercept + float(coef @ mean))
        return contributions, base, output, "training_mean"
    return coef * array, np.full(array.shape[0], intercept), output, "zero"


def _parents(tree: Any) -> Any:
    import numpy as np

    parent = np.full(tree.node_count, -1, dtype=np.int64)
    for children in (tree.children_left, tree.children_right):
        nodes = np.nonzero(children >= 0)[0]
        parent[children[nodes]] = nodes
    return parent


def _path_contributions(np: Any, estimator: Any, array: Any, values: Any) -> tuple[Any, Any]:
    """Per-feature path contributions and the root value of one fitted sklearn tree."""
    tree = estimator.tree_
    parent = _parents(tree)
    paths = estimator.decision_path(array).tocoo()
    keep = paths.col != 0
    rows, nodes = paths.row[keep], paths.col[keep]
    parents = parent[nodes]
    contributions = np.zeros(array.shape, dtype=np.float64)
    np.add.at(contributions, (rows, tree.feature[parents]), values[nodes] - values[parents])
    return contributions, values[0]


def _boosting(np: Any, model: Any, array: Any) -> tuple[Any, Any]:
    if model.estimators_.shape[1] != 1:
        raise InvalidArgumentError(
            "Explanations of multi-class gradient boosting are not supported yet.", field="explain"
        )
    total = np.zeros(array.shape, dtype=np.float64)
    leaves = np.zeros(array.shape[0], dtype=np.float64)
    for estimator in model.estimators_[:, 0]:
        values = estimator.tree_.value[:, 0, 0]
        contributions, _ = _path_contributions(np, estimator, array, values)
        total += contributions
        leaves += values[estimator.apply(array)]
    total *= model.learning_rate
    raw = np.ravel(model.decision_function(array))
    # raw = init + lr * sum(leaf values) and leaf = root + path contributions, so the base
    # value is raw minus the contributions: init (the prior log-odds) + lr * sum(root values).
    base = raw - total.sum(axis=1)
    return total, base


def _forest(np: Any, trees: list[Any], array: Any) -> tuple[Any, Any]:
    total = np.zeros(array.shape, dtype=np.float64)
    base = 0.0
    for estimator in trees:
        value = estimator.tree_.value[:, 0, :]
        sums = value.sum(axis=1, keepdims=True)
        fractions = value / np.where(sums == 0, 1, sums)
        positive = fractions[:, -1]
        contributions, root = _path_contributions(np, estimator, array, positive)
        total += contributions
        base += float(root)
    count = len(trees)
    return total / count, np.full(array.shape[0], base / count)


def _native(np: Any, model: Any, array: Any, kind: str) -> tuple[Any, Any]:
    if kind == "xgboost":
        import xgboost

        matrix = xgboost.DMatrix(array)
        found = model.get_booster().predict(matrix, pred_contribs=True)
    else:
        found = model.predict(array, pred_contrib=True)
    found = np.asarray(found, dtype=np.float64)
    if found.ndim != 2 or found.shape[1] != array.shape[1] + 1:
        raise InvalidArgumentError(
            "Explanations of multi-output boosted models are not supported yet.", field="explain"
        )
    return found[:, :-1], found[:, -1]
