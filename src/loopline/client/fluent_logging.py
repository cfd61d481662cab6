"""The fluent SDK's logging functions: ``log_metric``, ``log_param``, ``set_tag`` and friends.

Each logs to the active run, starting one if there is none. Params and tags are written at once, so
a conflicting param fails where it is logged. Metric values are checked at once and buffered on the
run, which flushes them (see ``loopline.client.fluent_runs``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from loopline.client.fluent_runs import _run_for_logging, _state
from loopline.entities import DatasetVersion
from loopline.tracking import validation as v

__all__ = [
    "delete_tag",
    "log_artifact",
    "log_artifacts",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "set_tag",
    "set_tags",
]


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: int | None = None
) -> None:
    """Log one value of a metric series to the active run (started if there is none)."""
    stack = getattr(_state.local, "stack", None)
    run = stack[-1] if stack else _run_for_logging()
    point = v.check_metric(key, value, timestamp, step)
    buffer = run.buffer
    buffer.items.append(point)
    if len(buffer.items) >= buffer.limit or buffer.error is not None:
        buffer.flush()


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Log several metrics at one step (and one timestamp)."""
    timestamp = int(time.time() * 1000)
    for key, value in metrics.items():
        log_metric(key, value, step=step, timestamp=timestamp)


def log_param(key: str, value: Any) -> Any:
    """Log a param; logging it again with another value raises ConflictError."""
    run = _run_for_logging()
    run.client.log_param(run.id, key, value)
    return value


def log_params(params: Mapping[str, Any]) -> None:
    run = _run_for_logging()
    run.client.log_batch(run.id, params=params)


def set_tag(key: str, value: Any) -> None:
    run = _run_for_logging()
    run.client.set_tag(run.id, key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    run = _run_for_logging()
    run.client.log_batch(run.id, tags=tags)


def delete_tag(key: str) -> None:
    run = _run_for_logging()
    run.client.delete_tag(run.id, key)


def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
    """Store a file as an artifact of the active run; returns its artifact path."""
    run = _run_for_logging()
    return run.client.log_artifact(run.id, local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> list[str]:
    """Store every file of a folder as artifacts of the active run."""
    run = _run_for_logging()
    return run.client.log_artifacts(run.id, local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> str:
    run = _run_for_logging()
    return run.client.log_text(run.id, text, artifact_file)


def log_input(
    dataset_version: DatasetVersion, context: str = "training", *, run_id: str | None = None
) -> None:
    """Record that the active run (or ``run_id``) read a dataset version, in a role."""
    if run_id is None:
        run_id = _run_for_logging().id
    _state.get_client().datasets.log_input(run_id, dataset_version, context)
