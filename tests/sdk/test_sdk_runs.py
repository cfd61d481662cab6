"""Runs, params and tags through the fluent SDK, locally and against a server."""

from __future__ import annotations

from typing import Any

import pytest

import loopline
from loopline.entities import LifecycleStage, RunStatus
from loopline.errors import (
    ConflictError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
)


class Boom(Exception):
    pass


def test_start_run_context_manager_finishes_the_run(
    experiment: Any, client: loopline.Client
) -> None:
    with loopline.start_run() as run:
        assert loopline.active_run() is run
        assert client.get_run(run.id).info.status is RunStatus.RUNNING
        assert client.get_run(run.id).info.end_time is None

    stored = client.get_run(run.id)
    assert loopline.active_run() is None
    assert stored.id == run.id
    assert stored.info.experiment_id == experiment.experiment_id
    assert stored.info.status is RunStatus.FINISHED
    assert stored.info.end_time is not None
    assert stored.info.end_time >= stored.info.start_time


def test_exception_inside_the_block_fails_the_run_and_propagates(
    experiment: Any, client: loopline.Client
) -> None:
    with pytest.raises(Boom), loopline.start_run() as run:
        raise Boom("training blew up")

    assert client.get_run(run.id).info.status is RunStatus.FAILED
    assert client.get_run(run.id).info.end_time is not None
    assert loopline.active_run() is None


def test_keyboard_interrupt_kills_the_run(experiment: Any, client: loopline.Client) -> None:
    with pytest.raises(KeyboardInterrupt), loopline.start_run() as run:
        raise KeyboardInterrupt

    assert client.get_run(run.id).info.status is RunStatus.KILLED
    assert loopline.active_run() is None


@pytest.mark.parametrize("status", ["finished", "failed", "killed", RunStatus.KILLED])
def test_end_run_with_status(
    experiment: Any, client: loopline.Client, status: str | RunStatus
) -> None:
    run = loopline.start_run()
    loopline.end_run(status)

    assert client.get_run(run.id).info.status is RunStatus(status)
    assert loopline.active_run() is None
    loopline.end_run()  # nothing active: nothing to do


def test_a_run_ended_inside_its_with_block_keeps_its_status(
    experiment: Any, client: loopline.Client
) -> None:
    with loopline.start_run() as run:
        loopline.end_run("killed")
    assert client.get_run(run.id).info.status is RunStatus.KILLED
    with loopline.start_run() as failed:
        loopline.end_run("failed")
        assert loopline.active_run() is None
    assert client.get_run(failed.id).info.status is RunStatus.FAILED


def test_run_name_and_tags(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run(run_name="baseline", tags={"team": "risk", "epoch_count": 3}) as run:
        pass
    with loopline.start_run() as unnamed:
        pass

    stored = client.get_run(run.id)
    assert stored.info.run_name == "baseline"
    assert stored.data.tags["team"] == "risk"
    assert stored.data.tags["epoch_count"] == "3"
    assert client.get_run(unnamed.id).info.run_name  # a generated name, never empty


def test_description_is_stored_as_note(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run(description="tries a deeper tree") as run:
        pass

    assert "tries a deeper tree" in client.get_run(run.id).data.tags.values()


def test_nested_runs_record_their_parent(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run(run_name="parent") as parent:
        with loopline.start_run(run_name="child", nested=True) as child:
            assert loopline.active_run() is child
            with loopline.start_run(nested=True) as grandchild:
                pass
        assert loopline.active_run() is parent

    assert client.get_run(parent.id).info.parent_run_id is None
    assert client.get_run(child.id).info.parent_run_id == parent.id
    assert client.get_run(grandchild.id).info.parent_run_id == child.id
    assert all(
        client.get_run(r.id).info.status is RunStatus.FINISHED for r in (parent, child, grandchild)
    )


def test_second_run_without_nested_is_invalid_state(
    experiment: Any, client: loopline.Client
) -> None:
    with loopline.start_run() as first:
        with pytest.raises(InvalidStateError, match=first.id):
            loopline.start_run()
        assert loopline.active_run() is first
        loopline.log_param("still", "works")

    assert client.get_run(first.id).data.params == {"still": "works"}
    assert len(loopline.search_runs()) == 1


def test_resume_a_run_by_id(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        loopline.log_param("a", 1)
    with loopline.start_run(run.id) as resumed:
        assert client.get_run(run.id).info.status is RunStatus.RUNNING
        loopline.log_param("b", 2)

    assert resumed.id == run.id
    stored = client.get_run(run.id)
    assert stored.data.params == {"a": "1", "b": "2"}
    assert stored.info.status is RunStatus.FINISHED


def test_start_run_unknown_id_is_not_found(experiment: Any) -> None:
    with pytest.raises(NotFoundError):
        loopline.start_run("0" * 32)
    assert loopline.active_run() is None


def test_logging_without_a_run_starts_one(experiment: Any, client: loopline.Client) -> None:
    loopline.log_param("auto", "yes")
    run = loopline.active_run()
    assert run is not None
    loopline.end_run()

    assert client.get_run(run.id).data.params == {"auto": "yes"}


def test_log_param_same_value_twice_is_fine(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        assert loopline.log_param("lr", 0.1) == 0.1
        loopline.log_param("lr", 0.1)
        loopline.log_param("lr", "0.1")
        loopline.log_params({"lr": 0.1, "depth": 3})

    assert client.get_run(run.id).data.params == {"lr": "0.1", "depth": "3"}


def test_log_param_different_value_is_conflict(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        loopline.log_param("lr", 0.1)
        with pytest.raises(ConflictError, match="lr") as caught:
            loopline.log_param("lr", 0.2)
        assert caught.value.details["old_value"] == "0.1"
        assert caught.value.details["new_value"] == "0.2"

    assert client.get_run(run.id).data.params == {"lr": "0.1"}


def test_log_params_conflict_writes_nothing_of_the_batch(
    experiment: Any, client: loopline.Client
) -> None:
    with loopline.start_run() as run:
        loopline.log_params({"lr": 0.1})
        with pytest.raises(ConflictError):
            loopline.log_params({"fresh": "x", "lr": 0.5})
        with pytest.raises(ConflictError):
            client.log_batch(
                run.id, metrics=[("m", 1.0, 1, 0)], params={"lr": 0.9}, tags={"t": "v"}
            )

    stored = client.get_run(run.id)
    assert stored.data.params == {"lr": "0.1"}
    assert "t" not in stored.data.tags
    assert client.get_metric_history(run.id, "m") == []


@pytest.mark.parametrize(
    "key",
    ["", "a" * 251, "bad*char", "../up", "/abs", 5],
    ids=["empty", "long", "*", "..", "/", "int"],
)
def test_bad_param_key_is_invalid_argument(experiment: Any, key: Any) -> None:
    with loopline.start_run(), pytest.raises(InvalidArgumentError):
        loopline.log_param(key, "v")


def test_too_long_param_value_is_invalid_argument(experiment: Any) -> None:
    with loopline.start_run(), pytest.raises(InvalidArgumentError, match="6000"):
        loopline.log_param("big", "x" * 6001)


def test_set_tags_and_delete_tag(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        loopline.set_tag("stage", "dev")
        loopline.set_tag("stage", "prod")  # tags, unlike params, may change
        loopline.set_tags({"owner": "ana", "priority": 2})
        loopline.delete_tag("owner")
        with pytest.raises(NotFoundError):
            loopline.delete_tag("owner")
        tags = loopline.get_run(run.id).data.tags

    assert tags["stage"] == "prod"
    assert tags["priority"] == "2"
    assert "owner" not in tags
    assert client.get_run(run.id).data.tags == tags


KEYS = ["val/loss", "a.b", "m 1", "t:1", "ключ", "x-y_z", "deep/er/key", "..."]


def test_keys_with_slashes_dots_and_unicode(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        for index, key in enumerate(KEYS):
            loopline.log_metric(key, float(index))
            loopline.log_param(key, index)
            loopline.set_tag(key, index)
        loopline.delete_tag(KEYS[0])

    stored = client.get_run(run.id)
    for index, key in enumerate(KEYS):
        assert [m.value for m in client.get_metric_history(run.id, key)] == [float(index)]
        assert stored.data.metrics[key] == float(index)
        assert stored.data.params[key] == str(index)
    assert KEYS[0] not in stored.data.tags
    assert all(stored.data.tags[key] == str(i) for i, key in enumerate(KEYS) if i)


def test_unknown_run_is_not_found(client: loopline.Client) -> None:
    unknown = "f" * 32
    calls = [
        lambda: client.get_run(unknown),
        lambda: client.log_param(unknown, "k", "v"),
        lambda: client.log_metric(unknown, "k", 1.0),
        lambda: client.set_tag(unknown, "k", "v"),
        lambda: client.delete_tag(unknown, "k"),
        lambda: client.set_terminated(unknown),
        lambda: client.delete_run(unknown),
        lambda: client.restore_run(unknown),
        lambda: client.get_metric_history(unknown, "loss"),
        lambda: client.list_artifacts(unknown),
    ]
    for call in calls:
        with pytest.raises(NotFoundError, match=unknown):
            call()


def test_delete_and_restore_run(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as kept:
        pass
    with loopline.start_run() as dropped:
        pass

    client.delete_run(dropped.id)
    assert client.get_run(dropped.id).info.lifecycle_stage is LifecycleStage.DELETED
    assert [r.id for r in loopline.search_runs()] == [kept.id]
    assert [r.id for r in loopline.search_runs(view="deleted_only")] == [dropped.id]
    assert {r.id for r in loopline.search_runs(view="all")} == {kept.id, dropped.id}
    with pytest.raises(InvalidStateError):
        client.log_param(dropped.id, "late", "x")

    client.restore_run(dropped.id)
    assert client.get_run(dropped.id).info.lifecycle_stage is LifecycleStage.ACTIVE
    assert {r.id for r in loopline.search_runs()} == {kept.id, dropped.id}
    assert list(loopline.search_runs(view="deleted_only")) == []


def test_client_create_and_update_run(experiment: Any, client: loopline.Client) -> None:
    parent = client.create_run(experiment.experiment_id, run_name="p", start_time=1_000)
    child = client.create_run(
        experiment.experiment_id, run_name="c", parent_run_id=parent.id, tags={"k": "v"}
    )

    assert parent.info.start_time == 1_000
    assert parent.info.status is RunStatus.RUNNING
    assert child.info.parent_run_id == parent.id
    assert child.data.tags["k"] == "v"
    info = client.update_run(parent.id, run_name="renamed", status="failed")
    assert info.run_name == "renamed"
    assert info.status is RunStatus.FAILED
    assert info.end_time is not None
    with pytest.raises(InvalidArgumentError):
        client.update_run(parent.id, status="exploded")
    with pytest.raises(NotFoundError):
        client.create_run(experiment.experiment_id, parent_run_id="0" * 32)


def test_update_run_with_nothing_to_change_is_a_no_op(
    experiment: Any, client: loopline.Client
) -> None:
    run = client.create_run(experiment.experiment_id)

    info = client.update_run(run.id, end_time=5)

    assert info == client.get_run(run.id).info


def test_active_run_data_sees_buffered_metrics(experiment: Any) -> None:
    with loopline.start_run() as run:
        loopline.log_metric("loss", 0.5)
        loopline.log_param("p", "v")
        assert run.data.metrics == {"loss": 0.5}
        assert run.data.params == {"p": "v"}


def test_buffered_metric_that_cannot_be_written_fails_end_run(
    experiment: Any, client: loopline.Client
) -> None:
    run = loopline.start_run()
    client.delete_run(run.id)
    loopline.log_metric("late", 1.0)  # buffered: checked now, written later

    with pytest.raises(InvalidStateError, match="deleted"):
        loopline.end_run()

    assert client.get_metric_history(run.id, "late") == []
    assert loopline.active_run() is None


def test_runs_of_a_deleted_experiment_are_hidden_with_it(
    experiment: Any, client: loopline.Client
) -> None:
    with loopline.start_run() as run:
        pass
    client.delete_experiment(experiment.experiment_id)

    assert list(client.search_runs(experiment.experiment_id)) == []
    hidden = client.search_runs(experiment.experiment_id, view="deleted_only")
    assert [r.id for r in hidden] == [run.id]
    assert client.get_run(run.id).info.status is RunStatus.FINISHED
