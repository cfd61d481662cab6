"""Request bodies of the REST API (responses are built by ``loopline.wire``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from loopline.entities import RunStatus, ViewType

__all__ = [
    "ExperimentCreate",
    "ExperimentUpdate",
    "LogBatch",
    "MetricIn",
    "RunCreate",
    "RunSearch",
    "RunUpdate",
    "TagSet",
]

Key = Annotated[str, Field(min_length=1, max_length=250)]
Int64 = Annotated[int, Field(ge=-(2**63), lt=2**63)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExperimentCreate(_Body):
    name: str = Field(min_length=1, max_length=256)
    tags: dict[str, str] | None = None


class ExperimentUpdate(_Body):
    name: str | None = Field(default=None, min_length=1, max_length=256)


class TagSet(_Body):
    key: Key
    value: str


class RunCreate(_Body):
    experiment_id: str
    run_name: str | None = None
    tags: dict[str, str] | None = None
    parent_run_id: str | None = None
    start_time: Int64 | None = None
    user_id: str | None = None


class RunUpdate(_Body):
    status: RunStatus | None = None
    end_time: Int64 | None = None
    run_name: str | None = None


class MetricIn(_Body):
    key: Key
    value: float = Field(description='A number, or "NaN", "Infinity", "-Infinity".')
    timestamp: Int64 | None = None
    step: Int64 | None = None


class LogBatch(_Body):
    metrics: list[MetricIn] = Field(default_factory=list)
    params: dict[str, str] | None = None
    tags: dict[str, str] | None = None


class RunSearch(_Body):
    experiment_ids: list[str]
    filter: str | None = None
    order_by: list[str] = Field(default_factory=list)
    view: ViewType = ViewType.ACTIVE_ONLY
    max_results: int = Field(default=1000, ge=1, le=50_000)
    page_token: str | None = None
