"""Explanations by the ``shap`` library (``pip install 'loopline[shap]'``).

``explainer="shap"`` on ``/deployments/{name}/predict`` answers SHAP values instead of the
built-in contributions of :mod:`loopline.serving.explain`, in the same units and shape:

- tree models (scikit-learn trees, forests, gradient boosting; XGBoost, LightGBM):
  ``shap.TreeExplainer`` (path-dependent TreeSHAP, the trees' own training cover). Gradient
  boosting, XGBoost and LightGBM in raw (log-odds) units, forests and single trees in
  probability of the positive class.
- linear models: ``shap.LinearExplainer`` against the training means of the training profile
  (``reference: "training_mean"``), else against zeros (``reference: "zero"``); for a linear
  model this equals the built-in ``coef * (x - mean)``.

TreeSHAP and the built-in (Saabas) path contributions add up to the same output for every row
but share the output differently between the features (SHAP averages over the order of the
splits). Explainers are kept per model object, so a served model builds its explainer once.
"""

from __future__ import annotations

import weakref
from typing import Any

from loopline.errors import InvalidArgumentError, MissingDependencyError

__all__ = ["explain_shap", "import_shap"]

INSTALL_HINT = "pip install 'loopline[shap]'"

_EXPLAINERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def import_shap() -> Any:
    """The ``shap`` module, or a MissingDependencyError naming the extra that brings it.

    Examples:
        >>> import sys
        >>> saved = sys.modules.get("shap")
        >>> sys.modules["shap"] = None  # type: ignore[assignment]
        >>> try:
        ...     import_shap()
        ... except MissingDependencyError as exc:
        ...     print(exc.message[:60])
        explainer='shap' needs the shap library: pip install 'loopli
        >>> if saved is None:
        ...     del sys.modules["shap"]
        ... else:
        ...     sys.modules["shap"] = saved
    """
    try:
        import shap  # type: ignore[import-untyped]
    except ImportError:
        raise MissingDependencyError(
            f"explainer='shap' needs the shap library: {INSTALL_HINT} "
            "(or use the built-in explainer).",
            extra="shap",
        ) from None
    return shap


def explain_shap(
    model: Any,
    array: Any,
    columns: tuple[str, ...],
    kind: str,
    means: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """One SHAP explanation per row of ``array`` (float64, columns in ``columns`` order).

    ``kind`` is :func:`loopline.serving.explain`'s model family (``linear``,
    ``gradient_boosting``, ``forest``, ``tree``, ``xgboost``, ``lightgbm``).
    """
    import numpy as np

    shap = import_shap()
    reference = None
    if kind == "linear":
        mean = None
        if means and all(c in means for c in columns):
            mean = np.asarray([[means[c] for c in columns]], dtype=np.float64)
            reference = "training_mean"
        else:
            reference = "zero"
        background = mean if mean is not None else np.zeros((1, len(columns)))
        coef = np.asarray(model.coef_, dtype=np.float64)
        if coef.ndim == 2 and coef.shape[0] != 1:
            raise InvalidArgumentError(
                "Explanations of multi-class linear models are not supported yet.", field="explain"
            )
        explainer = shap.LinearExplainer(model, background)
        output = "log_odds" if hasattr(model, "predict_proba") else "prediction"
    else:
        explainer = _EXPLAINERS.get(model)
        if explainer is None:
            explainer = shap.TreeExplainer(model)
            _EXPLAINERS[model] = explainer
        output = "probability" if kind in ("forest", "tree") else "log_odds"
    values = np.asarray(explainer.shap_values(array), dtype=np.float64)
    expected = np.ravel(np.asarray(explainer.expected_value, dtype=np.float64))
    if values.ndim == 3:  # (rows, features, classes): the positive class of a classifier
        if values.shape[2] > 2:
            raise InvalidArgumentError(
                "SHAP explanations of multi-class models are not supported yet.", field="explain"
            )
        values, expected = values[:, :, -1], expected[-1:]
    if values.ndim != 2 or values.shape[1] != len(columns) or expected.size != 1:
        raise InvalidArgumentError(
            "SHAP explanations of multi-output models are not supported yet.", field="explain"
        )
    base = float(expected[0])
    explanations = []
    for row in values:
        item: dict[str, Any] = {
            "base_value": base,
            "output": output,
            "contributions": {c: float(v) for c, v in zip(columns, row, strict=True)},
            "explainer": "shap",
        }
        if reference is not None:
            item["reference"] = reference
        explanations.append(item)
    return explanations
