"""Tracking entities: experiments, runs (info and data), metrics and artifact file infos.

The tracking model maps one to one onto MLflow's: experiments, runs, params, metrics, tags and
artifacts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "Experiment",
    "FileInfo",
    "LifecycleStage",
    "Metric",
    "Page",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "ViewType",
]

T = TypeVar("T")


class RunStatus(enum.StrEnum):
    """Where a run is in its life: it starts running and ends finished, failed or killed."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


class LifecycleStage(enum.StrEnum):
    """Soft deletion: deleted objects are hidden from default views and can be restored."""

    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    """Which lifecycle stages a list or search returns."""

    ACTIVE_ONLY = "active_only"
    DELETED_ONLY = "deleted_only"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    creation_time: int
    last_update_time: int
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.experiment_id


@dataclass(frozen=True, slots=True)
class Metric:
    """One value of a metric series. NaN and infinities are kept as values."""

    key: str
    value: float
    timestamp: int
    step: int


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The attributes of a run (MLflow's RunInfo)."""

    run_id: str
    experiment_id: str
    run_name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    artifact_uri: str
    parent_run_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class RunData:
    """What was logged to a run: params, the latest value of each metric, and tags."""

    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Run:
    """A run: its info and its data."""

    info: RunInfo
    data: RunData

    @property
    def id(self) -> str:
        return self.info.run_id

    @property
    def name(self) -> str:
        return self.info.run_name

    @property
    def status(self) -> RunStatus:
        return self.info.status

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (non-finite metric values stay Python floats)."""
        info = {
            "run_id": self.info.run_id,
            "experiment_id": self.info.experiment_id,
            "run_name": self.info.run_name,
            "status": self.info.status.value,
            "start_time": self.info.start_time,
            "end_time": self.info.end_time,
            "lifecycle_stage": self.info.lifecycle_stage.value,
            "artifact_uri": self.info.artifact_uri,
            "parent_run_id": self.info.parent_run_id,
            "user_id": self.info.user_id,
        }
        data = {
            "params": dict(self.data.params),
            "metrics": dict(self.data.metrics),
            "tags": dict(self.data.tags),
        }
        return {"info": info, "data": data}


@dataclass(frozen=True, slots=True)
class FileInfo:
    """An artifact (or a folder of artifacts) of a run."""

    path: str
    is_dir: bool
    size: int | None = None
    digest: str | None = None


class Page(list[T], Generic[T]):
    """A list of results with the token of the next page (``None`` on the last page)."""

    def __init__(self, items: Any = (), next_token: str | None = None) -> None:
        super().__init__(items)
        self.next_token = next_token

    def __repr__(self) -> str:
        return f"Page({list.__repr__(self)}, next_token={self.next_token!r})"
