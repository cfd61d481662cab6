"""loopline: the whole loop around a model, in one package.

``import loopline`` is cheap: the SDK's functions and classes are imported on first use.

Examples:
    >>> import loopline
    >>> callable(loopline.start_run)
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

_LAZY = {
    "ActiveRun": "loopline.client.fluent",
    "Client": "loopline.client.client",
    "DecisionPolicy": "loopline.policies",
    "Experiment": "loopline.entities",
    "Metric": "loopline.entities",
    "Run": "loopline.entities",
    "RunStatus": "loopline.entities",
    "Settings": "loopline.config",
    "active_run": "loopline.client.fluent",
    "delete_tag": "loopline.client.fluent",
    "end_run": "loopline.client.fluent",
    "evaluate": "loopline.client.fluent",
    "errors": "loopline.errors",
    "flush": "loopline.client.fluent",
    "get_client": "loopline.client.fluent",
    "get_run": "loopline.client.fluent",
    "get_uri": "loopline.client.fluent",
    "lineage": "loopline.client.lineage",
    "datasets": "loopline.client.datasets",
    "deployments": "loopline.client.deployments",
    "log_artifact": "loopline.client.fluent",
    "log_artifacts": "loopline.client.fluent",
    "log_input": "loopline.client.fluent",
    "log_model": "loopline.client.fluent",
    "load_model": "loopline.client.fluent",
    "models": "loopline.client.models",
    "log_outcomes": "loopline.client.eventlog",
    "log_metric": "loopline.client.fluent",
    "log_metrics": "loopline.client.fluent",
    "log_param": "loopline.client.fluent",
    "log_params": "loopline.client.fluent",
    "log_text": "loopline.client.fluent",
    "read_predictions": "loopline.client.eventlog",
    "rescore": "loopline.client.scoring",
    "score": "loopline.client.scoring",
    "search_runs": "loopline.client.fluent",
    "set_experiment": "loopline.client.fluent",
    "set_tag": "loopline.client.fluent",
    "set_tags": "loopline.client.fluent",
    "set_uri": "loopline.client.fluent",
    "start_run": "loopline.client.fluent",
}

__all__ = [
    "ActiveRun",
    "Client",
    "DecisionPolicy",
    "Experiment",
    "Metric",
    "Run",
    "RunStatus",
    "Settings",
    "__version__",
    "active_run",
    "datasets",
    "delete_tag",
    "deployments",
    "end_run",
    "errors",
    "evaluate",
    "flush",
    "get_client",
    "get_run",
    "get_uri",
    "lineage",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_outcomes",
    "log_param",
    "log_params",
    "log_text",
    "models",
    "read_predictions",
    "rescore",
    "score",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_uri",
    "start_run",
]

if TYPE_CHECKING:
    from loopline import errors
    from loopline.client import datasets, deployments, models
    from loopline.client.client import Client
    from loopline.client.eventlog import log_outcomes, read_predictions
    from loopline.client.fluent import (
        ActiveRun,
        active_run,
        delete_tag,
        end_run,
        evaluate,
        flush,
        get_client,
        get_run,
        get_uri,
        load_model,
        log_artifact,
        log_artifacts,
        log_input,
        log_metric,
        log_metrics,
        log_model,
        log_param,
        log_params,
        log_text,
        search_runs,
        set_experiment,
        set_tag,
        set_tags,
        set_uri,
        start_run,
    )
    from loopline.client.lineage import lineage
    from loopline.client.scoring import rescore, score
    from loopline.config import Settings
    from loopline.entities import Experiment, Metric, Run, RunStatus
    from loopline.policies import DecisionPolicy


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'loopline' has no attribute {name!r}")
    value = importlib.import_module(module)
    if name not in ("errors", "datasets", "deployments", "models"):
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
