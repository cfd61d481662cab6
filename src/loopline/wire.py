"""JSON encoding shared by the server and the remote client, and the HTTP status of each
error code (the REST API's and the inference server's answers).

JSON has no NaN or infinity, and metric series keep them as values: they travel as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` (as in protobuf's JSON mapping, which MLflow uses).
"""

from __future__ import annotations

import math
from typing import Any

from loopline.entities import (
    Dataset,
    DatasetVersion,
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInput,
    RunStatus,
    VersionStatus,
)

__all__ = [
    "MAX_OUTCOMES",
    "PARQUET_MEDIA_TYPE",
    "PARQUET_META_DESCRIPTION",
    "PARQUET_META_TAGS",
    "STATUS_BY_CODE",
    "decode_dataset",
    "decode_dataset_version",
    "decode_experiment",
    "decode_file_info",
    "decode_float",
    "decode_metric",
    "decode_run",
    "decode_run_info",
    "decode_run_input",
    "encode_dataset",
    "encode_dataset_version",
    "encode_experiment",
    "encode_file_info",
    "encode_float",
    "encode_json",
    "encode_metric",
    "encode_run",
    "encode_run_info",
    "encode_run_input",
]


MAX_OUTCOMES = 10_000
"""Outcomes one ``POST /outcomes`` call takes (REST API and inference server; the SDK sends
longer lists in calls of this size)."""

STATUS_BY_CODE: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "INVALID_FILTER": 400,
    "UNSAFE_PATH": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "CONFLICT": 409,
    "INVALID_STATE": 409,
    "VALIDATION_FAILED": 409,
    "MISSING_DEPENDENCY": 501,
    "CONNECTION_FAILED": 502,
    "STORAGE_ERROR": 503,
}
"""The HTTP status answering each :class:`~loopline.errors.LooplineError` code."""


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


# -- datasets ---------------------------------------------------------------------------------

_NUMERIC_TYPES = ("integer", "float", "boolean")
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
# An uploaded version's description and tags (a JSON object) may travel in the Parquet file's
# key-value metadata: no URL length limit, and any Unicode.
PARQUET_META_DESCRIPTION = b"loopline.description"
PARQUET_META_TAGS = b"loopline.tags"
PARQUET_META_SOURCE = b"loopline.source"


def encode_json(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth, as its string (see the module)."""
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, dict):
        return {key: encode_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [encode_json(item) for item in value]
    return value


def _decode_bounds(stats: dict[str, Any]) -> dict[str, Any]:
    """A schema entry or a profile with its infinite ``min``/``max`` back as floats.

    Only numeric columns can hold them (the other statistics are over finite values), and only
    there is a string bound unambiguous: a text column's ``min`` may be the text ``"NaN"``.
    """
    if stats.get("type") not in _NUMERIC_TYPES:
        return stats
    return {k: float(x) if k in ("min", "max") and isinstance(x, str) else x
            for k, x in stats.items()}  # fmt: skip


def encode_dataset(dataset: Dataset) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "description": dataset.description,
        "created_at": dataset.created_at,
        "updated_at": dataset.updated_at,
        "latest_version": dataset.latest_version,
        "tags": dataset.tags,
    }


def decode_dataset(data: dict[str, Any]) -> Dataset:
    return Dataset(
        name=data["name"],
        description=data.get("description"),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        latest_version=data.get("latest_version"),
        tags=data.get("tags") or {},
    )


def encode_dataset_version(version: DatasetVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "uri": version.uri,
        "digest": version.digest,
        "data_digest": version.data_digest,
        "sample_digest": version.sample_digest,
        "num_rows": version.num_rows,
        "num_columns": version.num_columns,
        "num_bytes": version.num_bytes,
        "schema": encode_json(version.schema),
        "profile": encode_json(version.profile),
        "source": version.source,
        "created_at": version.created_at,
        "status": version.status.value,
        "description": version.description,
        "tags": version.tags,
        "validation": encode_json(version.validation),
    }


def decode_dataset_version(data: dict[str, Any]) -> DatasetVersion:
    return DatasetVersion(
        name=data["name"],
        version=data["version"],
        digest=data["digest"],
        data_digest=data["data_digest"],
        sample_digest=data.get("sample_digest"),
        num_rows=data["num_rows"],
        num_columns=data["num_columns"],
        num_bytes=data["num_bytes"],
        schema=[_decode_bounds(column) for column in data["schema"]],
        profile={name: _decode_bounds(stats) for name, stats in data["profile"].items()},
        source=data["source"],
        created_at=data["created_at"],
        status=VersionStatus(data.get("status") or VersionStatus.UNVALIDATED),
        description=data.get("description"),
        tags=data.get("tags") or {},
        validation=data.get("validation"),
    )


def encode_run_input(item: RunInput) -> dict[str, Any]:
    return {
        "run_id": item.run_id,
        "dataset": item.dataset,
        "version": item.version,
        "digest": item.digest,
        "context": item.context,
    }


def decode_run_input(data: dict[str, Any]) -> RunInput:
    return RunInput(
        data["run_id"], data["dataset"], data["version"], data["digest"], data["context"]
    )
