"""Runs: lifecycle, status and end time, names, nested runs, soft delete and restore."""

from __future__ import annotations

import pytest

from loopline.entities import LifecycleStage, RunStatus, ViewType
from loopline.errors import InvalidArgumentError, InvalidStateError, NotFoundError
from loopline.tracking.service import TrackingService


def test_create_run(service: TrackingService, experiment_id: str) -> None:
    run = service.create_run(
        experiment_id, run_name="first", tags={"team": "a"}, start_time=1_000, user_id="ann"
    )
    info = run.info
    assert len(info.run_id) == 32
    assert info.experiment_id == experiment_id
    assert info.run_name == "first"
    assert info.status is RunStatus.RUNNING
    assert info.start_time == 1_000
    assert info.end_time is None
    assert info.lifecycle_stage is LifecycleStage.ACTIVE
    assert info.parent_run_id is None
    assert info.user_id == "ann"
    assert info.run_id in info.artifact_uri
    assert run.data.tags == {"team": "a"}
    assert run.data.params == {}
    assert run.data.metrics == {}
    assert service.get_run(info.run_id) == run


def test_run_gets_a_name_and_a_start_time(service: TrackingService, experiment_id: str) -> None:
    info = service.create_run(experiment_id).info
    assert info.run_name
    assert info.start_time > 1_600_000_000_000


def test_unknown_ids(service: TrackingService, experiment_id: str) -> None:
    with pytest.raises(NotFoundError):
        service.create_run("424242")
    with pytest.raises(NotFoundError):
        service.get_run("0" * 32)
    with pytest.raises(NotFoundError):
        service.update_run("0" * 32, status="finished")
    with pytest.raises(NotFoundError):
        service.create_run(experiment_id, parent_run_id="f" * 32)


@pytest.mark.parametrize("status", [RunStatus.FINISHED, "failed", "KILLED"])
def test_end_run_sets_status_and_end_time(
    service: TrackingService, experiment_id: str, status: RunStatus | str
) -> None:
    run = service.create_run(experiment_id, start_time=5)
    info = service.end_run(run.info.run_id, status)
    assert info.status is RunStatus(str(status).lower())
    assert info.end_time is not None
    assert info.end_time >= run.info.start_time
    assert service.get_run(run.info.run_id).info == info


def test_explicit_end_time_and_resume(service: TrackingService, experiment_id: str) -> None:
    run_id = service.create_run(experiment_id).info.run_id
    info = service.update_run(run_id, status="finished", end_time=123)
    assert (info.status, info.end_time) == (RunStatus.FINISHED, 123)
    info = service.update_run(run_id, status="running")
    assert (info.status, info.end_time) == (RunStatus.RUNNING, None)


def test_invalid_status(service: TrackingService, experiment_id: str) -> None:
    run_id = service.create_run(experiment_id).info.run_id
    with pytest.raises(InvalidArgumentError, match="status"):
        service.update_run(run_id, status="done")


def test_rename_run(service: TrackingService, experiment_id: str) -> None:
    run_id = service.create_run(experiment_id, run_name="a").info.run_id
    assert service.update_run(run_id, run_name="b").run_name == "b"
    with pytest.raises(InvalidArgumentError):
        service.update_run(run_id, run_name=" ")


def test_nested_runs(service: TrackingService, experiment_id: str) -> None:
    parent = service.create_run(experiment_id).info.run_id
    children = {service.create_run(experiment_id, parent_run_id=parent).info.run_id for _ in "ab"}
    grandchild = service.create_run(experiment_id, parent_run_id=min(children)).info.run_id
    for child in children:
        assert service.get_run(child).info.parent_run_id == parent
    assert service.get_run(grandchild).info.parent_run_id == min(children)
    assert set(service.store.child_run_ids(parent)) == children
    found = service.search_runs([experiment_id], filter=f"attributes.parent_run_id = '{parent}'")
    assert {r.info.run_id for r in found} == children
    roots = service.search_runs([experiment_id], filter="attributes.parent_run_id IS NULL")
    assert [r.info.run_id for r in roots] == [parent]


def test_soft_delete_and_restore(service: TrackingService, experiment_id: str) -> None:
    keep = service.create_run(experiment_id, start_time=2).info.run_id
    gone = service.create_run(experiment_id, start_time=1).info.run_id
    service.delete_run(gone)
    assert service.get_run(gone).info.lifecycle_stage is LifecycleStage.DELETED

    def ids(view: ViewType) -> list[str]:
        return [r.info.run_id for r in service.search_runs([experiment_id], view=view)]

    assert ids(ViewType.ACTIVE_ONLY) == [keep]
    assert ids(ViewType.DELETED_ONLY) == [gone]
    assert ids(ViewType.ALL) == [keep, gone]
    with pytest.raises(InvalidStateError):
        service.log_metric(gone, "m", 1.0)
    with pytest.raises(InvalidStateError):
        service.log_param(gone, "p", 1)
    with pytest.raises(InvalidStateError):
        service.set_tag(gone, "t", 1)
    service.restore_run(gone)
    assert ids(ViewType.ACTIVE_ONLY) == [keep, gone]
    service.log_metric(gone, "m", 1.0)
    with pytest.raises(NotFoundError):
        service.delete_run("e" * 32)


def test_runs_of_a_deleted_experiment_are_hidden(
    service: TrackingService, experiment_id: str
) -> None:
    run_id = service.create_run(experiment_id).info.run_id
    service.delete_experiment(experiment_id)
    assert service.search_runs([experiment_id]) == []
    for view in (ViewType.DELETED_ONLY, ViewType.ALL):
        found = service.search_runs([experiment_id], view=view)
        assert [r.info.run_id for r in found] == [run_id]
    service.restore_experiment(experiment_id)
    assert [r.info.run_id for r in service.search_runs([experiment_id])] == [run_id]
    assert service.search_runs([experiment_id], view=ViewType.DELETED_ONLY) == []
