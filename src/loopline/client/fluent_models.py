"""The fluent SDK's model functions: ``loopline.log_model``, ``load_model`` and ``evaluate``.

``log_model`` saves to the active run (started if there is none); ``load_model`` and ``evaluate``
flush buffered metrics first, then go through the fluent client's release service.
"""

from __future__ import annotations

from typing import Any

from loopline.client import environment
from loopline.client.fluent_runs import _run_for_logging, _state, flush

__all__ = ["evaluate", "load_model", "log_model"]


def log_model(
    model: Any,
    name: str = "model",
    *,
    input_example: Any = None,
    signature: Any = None,
    registered_model_name: str | None = None,
) -> Any:
    """Save a model as artifacts of the active run (its flavor chosen by type); register it.

    The signature is inferred from ``input_example`` unless given. Returns a ModelInfo.
    """
    from loopline.modeling.logged import log_model as log

    run = _run_for_logging()
    client = run.client
    backend = client.backend  # local or remote: both store artifacts and list their digests
    actor = environment.environment_tags().get("loopline.user", "unknown")
    return log(
        backend, client.registry, run.id, model, name, input_example=input_example,
        signature=signature, registered_model_name=registered_model_name, actor=actor,
    )  # fmt: skip


def load_model(model_uri: str, *, trusted: Any = False) -> Any:
    """Load ``models:/name/<version>``, ``models:/name@alias`` or ``runs:/<run_id>/<path>``.

    ``predict`` enforces the model's signature. Pickled models load only with ``trusted=True``
    or when their digest belongs to an approved version; a model whose stored bytes changed
    since registration is refused.
    """
    flush()  # pickles of approved versions are trusted: the release service (or its twin) knows
    return _state.get_client().release.load_model(model_uri, trusted=trusted)


def evaluate(
    model_uri: str,
    data: Any,
    *,
    target: str,
    baseline: Any = "auto",
    sensitive_features: Any = None,
    train_data: Any = None,
    threshold: float = 0.5,
    positive_label: Any = None,
    importance: bool = True,
    trusted: Any = False,
) -> Any:
    """Evaluate a registered version on ``data`` against its non-ML baseline; store the result.

    ``data`` and ``train_data`` are DataFrames or dataset versions (``datasets:/name/3``).
    The baseline is fitted on the version's recorded training data, else on ``train_data``.
    With ``sensitive_features`` (column names), fairness by group is computed with fairlearn.
    Returns the StoredEvaluation (``.result`` holds metrics, baseline, comparison, importance
    and fairness; see docs/release.md).
    """
    flush()
    actor = environment.environment_tags().get("loopline.user", "unknown")
    return _state.get_client().release.evaluate(
        model_uri, data, target=target, baseline=baseline, sensitive_features=sensitive_features,
        train_data=train_data, threshold=threshold, positive_label=positive_label,
        importance=importance, trusted=trusted, actor=actor,
    )  # fmt: skip
