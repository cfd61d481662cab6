"""Racing writers, made deterministic: another connection holds an uncommitted write while the
service writes the same thing, then commits.

On SQLite the service waits for the write lock and then sees the other write; on PostgreSQL it
runs into the other transaction's unique key. Both must end with the same loopline error (or the
same no-op), never a raw database error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import insert

from loopline.errors import AlreadyExistsError, ConflictError
from loopline.store.schema import ExperimentRow, ParamRow
from loopline.tracking.service import TrackingService

RACER_HEAD_START = 0.3  # seconds for the racing call to reach its write and wait there


@contextmanager
def held_write(service: TrackingService, statement: Any) -> Iterator[None]:
    """Run ``statement`` in a write transaction that commits when the block ends."""
    with service.store.engine.connect().execution_options(loopline_write=True) as conn:
        transaction = conn.begin()
        conn.execute(statement)
        yield
        transaction.commit()


def race(service: TrackingService, statement: Any, call: Callable[[], Any]) -> Future[Any]:
    """Start ``call`` while ``statement`` is uncommitted; returns its outcome after the commit."""
    with ThreadPoolExecutor(1) as pool:
        with held_write(service, statement):
            future = pool.submit(call)
            time.sleep(RACER_HEAD_START)
            assert not future.done(), future.exception() or future.result()
        future.exception(timeout=60)
        return future


def _experiment(name: str) -> Any:
    return insert(ExperimentRow).values(
        name=name, artifact_location="x", lifecycle_stage="active", creation_time=1,
        last_update_time=1,
    )  # fmt: skip


def test_racing_create_experiment(service: TrackingService) -> None:
    future = race(service, _experiment("same"), lambda: service.create_experiment("same"))
    with pytest.raises(AlreadyExistsError):
        future.result()
    assert [e.name for e in service.list_experiments()] == ["same"]


def test_racing_rename_experiment(service: TrackingService) -> None:
    experiment_id = service.create_experiment("before")
    future = race(
        service, _experiment("after"), lambda: service.rename_experiment(experiment_id, "after")
    )
    with pytest.raises(AlreadyExistsError):
        future.result()
    assert service.get_experiment(experiment_id).name == "before"


@pytest.fixture
def run_id(service: TrackingService, experiment_id: str) -> str:
    return service.create_run(experiment_id).info.run_id


def test_racing_param_with_the_same_value_is_a_noop(service: TrackingService, run_id: str) -> None:
    param = insert(ParamRow).values(run_id=run_id, key="lr", value="0.1")
    future = race(service, param, lambda: service.log_batch(run_id, params={"lr": 0.1, "b": 2}))
    future.result()
    assert service.get_run(run_id).data.params == {"lr": "0.1", "b": "2"}


def test_racing_param_with_another_value_is_a_conflict(
    service: TrackingService, run_id: str
) -> None:
    param = insert(ParamRow).values(run_id=run_id, key="lr", value="0.1")
    future = race(service, param, lambda: service.log_batch(run_id, params={"lr": 0.2, "b": 2}))
    with pytest.raises(ConflictError) as caught:
        future.result()
    assert caught.value.details["old_value"] == "0.1"
    assert service.get_run(run_id).data.params == {"lr": "0.1"}
