"""Experiments: create, read, list with paging, rename, tags, soft delete and restore."""

from __future__ import annotations

import pytest

from loopline.entities import LifecycleStage, ViewType
from loopline.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
)
from loopline.tracking.service import TrackingService


def test_create_and_get(service: TrackingService) -> None:
    experiment_id = service.create_experiment("churn", tags={"team": "risk", "n": 3})
    experiment = service.get_experiment(experiment_id)
    assert experiment.experiment_id == experiment_id
    assert experiment.name == "churn"
    assert experiment.lifecycle_stage is LifecycleStage.ACTIVE
    assert experiment.tags == {"team": "risk", "n": "3"}
    assert experiment.creation_time == experiment.last_update_time > 0
    assert experiment.artifact_location.endswith(f"/{experiment_id}")
    assert service.get_experiment_by_name("churn") == experiment


def test_ids_are_distinct_and_increasing(service: TrackingService) -> None:
    ids = [int(service.create_experiment(f"e{i}")) for i in range(3)]
    assert ids == sorted(set(ids))


def test_names_are_unique(service: TrackingService) -> None:
    first = service.create_experiment("dup")
    with pytest.raises(AlreadyExistsError, match="dup"):
        service.create_experiment("dup")
    assert [e.experiment_id for e in service.list_experiments()] == [first]


def test_names_are_case_sensitive_and_unicode_safe(service: TrackingService) -> None:
    names = ["Exp", "exp", "expérience ✓", "名前"]
    ids = [service.create_experiment(name) for name in names]
    assert [service.get_experiment_by_name(n).experiment_id for n in names] == ids


@pytest.mark.parametrize("name", ["", "   ", "a\nb", "x" * 257, 5])
def test_invalid_names_are_refused(service: TrackingService, name: object) -> None:
    with pytest.raises(InvalidArgumentError):
        service.create_experiment(name)  # type: ignore[arg-type]


@pytest.mark.parametrize("experiment_id", ["999", "abc", "-1", str(2**63), "1.5", ""])
def test_unknown_experiment_is_not_found(service: TrackingService, experiment_id: str) -> None:
    service.create_experiment("exists")
    with pytest.raises(NotFoundError):
        service.get_experiment(experiment_id)


def test_unknown_name_is_not_found(service: TrackingService) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        service.get_experiment_by_name("nope")


def test_rename(service: TrackingService) -> None:
    experiment_id = service.create_experiment("old")
    service.create_experiment("taken")
    service.rename_experiment(experiment_id, "new")
    assert service.get_experiment(experiment_id).name == "new"
    with pytest.raises(NotFoundError):
        service.get_experiment_by_name("old")
    with pytest.raises(AlreadyExistsError):
        service.rename_experiment(experiment_id, "taken")
    service.rename_experiment(experiment_id, "new")  # to its own name: a no-op
    assert service.get_experiment(experiment_id).name == "new"
    with pytest.raises(NotFoundError):
        service.rename_experiment("12345", "other")


def test_experiment_tags_upsert(service: TrackingService) -> None:
    experiment_id = service.create_experiment("tagged", tags={"a": "1"})
    before = service.get_experiment(experiment_id).last_update_time
    service.set_experiment_tag(experiment_id, "a", "2")
    service.set_experiment_tag(experiment_id, "b", "x")
    experiment = service.get_experiment(experiment_id)
    assert experiment.tags == {"a": "2", "b": "x"}
    assert experiment.last_update_time >= before


def test_soft_delete_and_restore(service: TrackingService) -> None:
    keep = service.create_experiment("keep")
    gone = service.create_experiment("gone")
    service.delete_experiment(gone)
    assert service.get_experiment(gone).lifecycle_stage is LifecycleStage.DELETED
    assert [e.experiment_id for e in service.list_experiments()] == [keep]
    deleted = service.list_experiments(view=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [gone]
    assert [e.experiment_id for e in service.list_experiments(view="all")] == [keep, gone]
    with pytest.raises(AlreadyExistsError):
        service.create_experiment("gone")  # a deleted experiment keeps its name
    with pytest.raises(InvalidStateError):
        service.create_run(gone)
    service.restore_experiment(gone)
    assert service.get_experiment(gone).lifecycle_stage is LifecycleStage.ACTIVE
    assert [e.experiment_id for e in service.list_experiments()] == [keep, gone]
    with pytest.raises(NotFoundError):
        service.delete_experiment("4242")


def test_get_or_create(service: TrackingService) -> None:
    created = service.get_or_create_experiment("auto")
    assert service.get_or_create_experiment("auto") == created
    assert service.default_experiment().name == "Default"
    assert len(service.list_experiments()) == 2


def test_list_paging_is_complete_and_disjoint(service: TrackingService) -> None:
    ids = [service.create_experiment(f"e{i:02d}") for i in range(11)]
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = service.list_experiments(max_results=4, page_token=token)
        seen += [e.experiment_id for e in page]
        pages += 1
        token = page.next_token
        if token is None:
            break
    assert seen == ids
    assert pages == 3


@pytest.mark.parametrize("token", ["garbage", "eyJvZmZzZXQiOiAtMX0=", "W10=", "e30="])
def test_invalid_page_token(service: TrackingService, token: str) -> None:
    with pytest.raises(InvalidArgumentError, match="page_token"):
        service.list_experiments(page_token=token)


@pytest.mark.parametrize("max_results", [0, -1, True, 1.5, 50_001])
def test_invalid_max_results(service: TrackingService, max_results: object) -> None:
    with pytest.raises(InvalidArgumentError, match="max_results"):
        service.list_experiments(max_results=max_results)  # type: ignore[arg-type]
