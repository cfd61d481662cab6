"""The inference server's use of compiled tree ensembles (:mod:`loopline.modeling.compiled`)."""

from __future__ import annotations

from typing import Any

from loopline.modeling.compiled import compile_model, guarded

__all__ = ["accelerate"]


def accelerate(runtime: Any) -> None:
    """Give a :class:`~loopline.serving.runtime.ModelRuntime` a compiled tree predictor.

    Only for an all-numeric signature whose estimator takes arrays without warnings; replaces
    the runtime's ``predict_proba`` (or a regressor's ``predict``) by a checked compiled one
    that sends any batch holding NaN or infinity to the previous callable, and sets
    ``runtime.fast``. Does nothing when the model is not a supported tree ensemble.
    """
    if not getattr(runtime, "numeric", False) or not getattr(runtime, "_quiet", False):
        return
    proba_slow = runtime._predict_proba
    slow = proba_slow if proba_slow is not None else runtime._predict
    compiled = compile_model(runtime.estimator, len(runtime.columns), slow)
    if compiled is None or (proba_slow is not None) != compiled.is_classifier:
        return
    if compiled.is_classifier:
        runtime._predict_proba = guarded(compiled, slow)
    else:
        runtime._predict = guarded(compiled, slow)
    runtime.fast = True
    runtime.compiled = compiled
