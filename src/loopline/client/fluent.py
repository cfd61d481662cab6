"""The fluent SDK: ``loopline.start_run``, ``loopline.log_metric`` and friends.

The active run lives on a per-thread stack. Params and tags are written at once, so a conflicting
param fails where it is logged. Metric values are checked at once and buffered: a background thread
flushes them every ``metric_flush_interval`` seconds or every ``metric_buffer_size`` values, and
``end_run`` (or leaving the ``with`` block) flushes before it returns, so everything logged is
durable and visible to other processes when it does.

This module gathers the fluent functions in one place; they live by concern in
``fluent_runs`` (the active run and its lifecycle), ``fluent_logging`` (``log_*`` and ``set_tag*``)
and ``fluent_models`` (``log_model``, ``load_model``, ``evaluate``).
"""

from __future__ import annotations

from loopline.client.fluent_logging import (
    delete_tag as delete_tag,
)
from loopline.client.fluent_logging import (
    log_artifact,
    log_artifacts,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_text,
    set_tag,
    set_tags,
)
from loopline.client.fluent_models import evaluate, load_model, log_model
from loopline.client.fluent_runs import (
    ActiveRun,
    active_run,
    end_run,
    flush,
    get_client,
    get_run,
    get_uri,
    search_runs,
    set_experiment,
    set_uri,
    start_run,
)

__all__ = [
    "ActiveRun",
    "active_run",
    "end_run",
    "evaluate",
    "flush",
    "get_client",
    "get_run",
    "get_uri",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_uri",
    "start_run",
]
