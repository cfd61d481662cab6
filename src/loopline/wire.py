"""JSON encoding shared by the server and the remote client.

JSON has no NaN or infinity, and metric series keep them as values: they travel as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (as in protobuf's JSON mapping, which MLflow uses).
"""

from __future__ import annotations

import math
from typing import Any

from loopline.entities import (
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunStatus,
)

__all__ = [
    "decode_experiment",
    "decode_file_info",
    "decode_float",
    "decode_metric",
    "decode_run",
    "decode_run_info",
    "encode_experiment",
    "encode_file_info",
    "encode_float",
    "encode_metric",
    "encode_run",
    "encode_run_info",
]


def encode_float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def decode_float(value: float | str) -> float:
    return float(value)


def encode_experiment(experiment: Experiment) -> dict[str, Any]:
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage.value,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "tags": experiment.tags,
    }


def decode_experiment(data: dict[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=data["experiment_id"],
        name=data["name"],
        artifact_location=data["artifact_location"],
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        creation_time=data["creation_time"],
        last_update_time=data["last_update_time"],
        tags=data.get("tags") or {},
    )


def encode_run_info(info: RunInfo) -> dict[str, Any]:
    return {
        "run_id": info.run_id,
        "experiment_id": info.experiment_id,
        "run_name": info.run_name,
        "status": info.status.value,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "lifecycle_stage": info.lifecycle_stage.value,
        "artifact_uri": info.artifact_uri,
        "parent_run_id": info.parent_run_id,
        "user_id": info.user_id,
    }


def decode_run_info(data: dict[str, Any]) -> RunInfo:
    return RunInfo(
        run_id=data["run_id"],
        experiment_id=data["experiment_id"],
        run_name=data["run_name"],
        status=RunStatus(data["status"]),
        start_time=data["start_time"],
        end_time=data.get("end_time"),
        lifecycle_stage=LifecycleStage(data["lifecycle_stage"]),
        artifact_uri=data["artifact_uri"],
        parent_run_id=data.get("parent_run_id"),
        user_id=data.get("user_id"),
    )


def encode_run(run: Run) -> dict[str, Any]:
    return {
        "info": encode_run_info(run.info),
        "data": {
            "params": run.data.params,
            "metrics": {k: encode_float(v) for k, v in run.data.metrics.items()},
            "tags": run.data.tags,
        },
    }


def decode_run(data: dict[str, Any]) -> Run:
    body = data.get("data") or {}
    return Run(
        info=decode_run_info(data["info"]),
        data=RunData(
            params=body.get("params") or {},
            metrics={k: float(v) for k, v in (body.get("metrics") or {}).items()},
            tags=body.get("tags") or {},
        ),
    )


def encode_metric(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": encode_float(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }


def decode_metric(data: dict[str, Any]) -> Metric:
    return Metric(data["key"], float(data["value"]), data["timestamp"], data["step"])


def encode_file_info(info: FileInfo) -> dict[str, Any]:
    return {"path": info.path, "is_dir": info.is_dir, "size": info.size, "digest": info.digest}


def decode_file_info(data: dict[str, Any]) -> FileInfo:
    return FileInfo(data["path"], data["is_dir"], data.get("size"), data.get("digest"))
