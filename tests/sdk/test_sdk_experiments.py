"""Experiments through the fluent SDK and ``loopline.Client``, locally and against a server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import loopline
from loopline.entities import LifecycleStage, ViewType
from loopline.errors import (
    AlreadyExistsError,
    ConnectionFailedError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
)


def test_set_experiment_creates_then_reuses(client: loopline.Client) -> None:
    created = loopline.set_experiment("churn")
    again = loopline.set_experiment("churn")

    assert again.experiment_id == created.experiment_id
    assert client.get_experiment_by_name("churn").experiment_id == created.experiment_id
    with loopline.start_run() as run:
        pass
    assert client.get_run(run.id).info.experiment_id == created.experiment_id


def test_set_experiment_by_id(client: loopline.Client) -> None:
    experiment_id = client.create_experiment("by-id")

    assert loopline.set_experiment(experiment_id=experiment_id).name == "by-id"


def test_set_experiment_name_with_slash_is_reusable(client: loopline.Client) -> None:
    first = loopline.set_experiment("team/churn model")
    second = loopline.set_experiment("team/churn model")

    assert second.experiment_id == first.experiment_id
    assert client.get_experiment_by_name("team/churn model").name == "team/churn model"


def test_set_experiment_on_deleted_experiment_is_invalid_state(client: loopline.Client) -> None:
    experiment = loopline.set_experiment("gone")
    client.delete_experiment(experiment.experiment_id)

    with pytest.raises(InvalidStateError, match="restore"):
        loopline.set_experiment("gone")
    with pytest.raises(InvalidStateError):
        loopline.set_experiment(experiment_id=experiment.experiment_id)

    client.restore_experiment(experiment.experiment_id)
    assert loopline.set_experiment("gone").experiment_id == experiment.experiment_id


def test_set_experiment_needs_a_name_or_id(mode: str) -> None:
    with pytest.raises(InvalidArgumentError):
        loopline.set_experiment()


def test_runs_without_set_experiment_go_to_default(client: loopline.Client) -> None:
    with loopline.start_run() as run:
        pass

    default = client.get_experiment_by_name("Default")
    assert client.get_run(run.id).info.experiment_id == default.experiment_id


def test_create_and_get_experiment(client: loopline.Client) -> None:
    experiment_id = client.create_experiment("fraud", tags={"team": "risk", "tier": 1})

    experiment = client.get_experiment(experiment_id)
    assert experiment.experiment_id == experiment_id
    assert experiment.name == "fraud"
    assert experiment.tags == {"team": "risk", "tier": "1"}
    assert experiment.lifecycle_stage is LifecycleStage.ACTIVE
    assert experiment.creation_time <= experiment.last_update_time
    assert client.get_experiment_by_name("fraud") == experiment


def test_create_experiment_twice_is_already_exists(client: loopline.Client) -> None:
    client.create_experiment("twice")

    with pytest.raises(AlreadyExistsError, match="twice"):
        client.create_experiment("twice")


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 257, "tab\there", 42], ids=["empty", "blank", "long", "tab", "int"]
)
def test_create_experiment_bad_name(client: loopline.Client, name: object) -> None:
    with pytest.raises(InvalidArgumentError):
        client.create_experiment(name)  # type: ignore[arg-type]


def test_unknown_experiment_is_not_found(client: loopline.Client) -> None:
    with pytest.raises(NotFoundError):
        client.get_experiment("424242")
    with pytest.raises(NotFoundError):
        client.get_experiment("not-a-number")
    with pytest.raises(NotFoundError):
        client.get_experiment_by_name("never created")
    with pytest.raises(NotFoundError):
        client.rename_experiment("424242", "x")
    with pytest.raises(NotFoundError):
        client.delete_experiment("424242")
    with pytest.raises(NotFoundError):
        client.restore_experiment("424242")


def test_list_experiments_pages_and_views(client: loopline.Client) -> None:
    ids = [client.create_experiment(f"e{i}") for i in range(5)]
    client.delete_experiment(ids[1])

    seen: list[str] = []
    token = None
    while True:
        page = client.list_experiments(max_results=2, page_token=token)
        assert len(page) <= 2
        seen.extend(e.experiment_id for e in page)
        token = page.next_token
        if token is None:
            break
    assert sorted(seen) == sorted(set(ids) - {ids[1]})
    assert len(seen) == len(set(seen))

    deleted = client.list_experiments(view=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [ids[1]]
    assert deleted.next_token is None
    every = {e.experiment_id for e in client.list_experiments(view="all")}
    assert set(ids) <= every


def test_rename_experiment(client: loopline.Client) -> None:
    experiment_id = client.create_experiment("old")
    client.create_experiment("taken")

    client.rename_experiment(experiment_id, "new")
    assert client.get_experiment(experiment_id).name == "new"
    with pytest.raises(NotFoundError):
        client.get_experiment_by_name("old")
    with pytest.raises(AlreadyExistsError):
        client.rename_experiment(experiment_id, "taken")
    with pytest.raises(InvalidArgumentError):
        client.rename_experiment(experiment_id, "")


def test_delete_and_restore_experiment(client: loopline.Client) -> None:
    experiment_id = client.create_experiment("soft")
    client.delete_experiment(experiment_id)

    assert client.get_experiment(experiment_id).lifecycle_stage is LifecycleStage.DELETED
    assert experiment_id not in {e.experiment_id for e in client.list_experiments()}
    with pytest.raises(InvalidStateError):
        client.create_run(experiment_id)

    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage is LifecycleStage.ACTIVE
    assert client.create_run(experiment_id).info.experiment_id == experiment_id


def test_set_experiment_tag(client: loopline.Client) -> None:
    experiment_id = client.create_experiment("tagged")

    client.set_experiment_tag(experiment_id, "owner", "ana")
    client.set_experiment_tag(experiment_id, "owner", "bo")
    assert client.get_experiment(experiment_id).tags == {"owner": "bo"}


def test_unreachable_server_is_connection_failed(clean_env: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens on it once closed

    client = loopline.Client(f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectionFailedError, match=str(port)):
        client.get_experiment("1")


class _NotLoopline(BaseHTTPRequestHandler):
    """Answers every request like a web site that is not a loopline server."""

    def do_GET(self) -> None:
        status = 404 if "missing" in self.path else 200
        body = b"<html>a web site</html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def not_loopline() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotLoopline)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("prefix", ["", "/missing"])
def test_something_that_is_not_a_loopline_server_is_connection_failed(
    clean_env: None, not_loopline: str, prefix: str
) -> None:
    client = loopline.Client(not_loopline + prefix)

    with pytest.raises(ConnectionFailedError, match="loopline server"):
        client.get_experiment("1")
    with pytest.raises(ConnectionFailedError, match="loopline server"):
        client.list_experiments()


def test_each_mode_uses_the_backend_it_names(mode: str, client: loopline.Client) -> None:
    assert client.is_remote is (mode == "remote")
    assert loopline.get_client().is_remote is (mode == "remote")
    assert loopline.get_uri().startswith("http://") is (mode == "remote")
