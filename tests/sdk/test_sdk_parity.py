"""The same bad call raises the same exception, with the same message, locally and remotely.

Each case runs against two fresh stores set up the same way, one in-process and one behind the
live server, and compares the class, the message and the details of what each raised.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import loopline
from loopline.errors import ConnectionFailedError, LooplineError


@dataclass
class Side:
    """One store with the same objects in it, and the client that reaches it."""

    client: loopline.Client
    experiment_id: str
    deleted_experiment_id: str
    run_id: str
    deleted_run_id: str
    files: Path

    def normalise(self, text: str) -> str:
        return text.replace(self.run_id, "<run>").replace(self.deleted_run_id, "<deleted-run>")


def _setup(target: Any, files: Path) -> Side:
    target.use()
    client = loopline.Client(target.uri)
    experiment_id = client.create_experiment("parity")
    deleted_experiment_id = client.create_experiment("gone")
    client.delete_experiment(deleted_experiment_id)
    run = client.create_run(experiment_id, run_name="r")
    client.log_batch(run.id, params={"lr": "0.1"}, tags={"t": "v"})
    client.log_text(run.id, "content", "dir/f.txt")
    deleted = client.create_run(experiment_id)
    client.delete_run(deleted.id)
    return Side(client, experiment_id, deleted_experiment_id, run.id, deleted.id, files)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Local inputs shared by both sides: a file, a folder, a folder with an escaping symlink."""
    root = tmp_path_factory.mktemp("files")
    (root / "folder" / "sub").mkdir(parents=True)
    (root / "file.txt").write_text("x")
    (root / "folder" / "sub" / "g.txt").write_text("g")
    (root / "empty").mkdir()
    (root / "escaping" / "sub").mkdir(parents=True)
    os.symlink(root / "file.txt", root / "escaping" / "sub" / "link.txt")
    return root


@pytest.fixture(scope="module")
def stores(
    tmp_path_factory: pytest.TempPathFactory, files: Path, new_target: Callable[[str, Path], Any]
) -> Iterator[tuple[Any, Side, Side]]:
    """Both sides, set up once: bad calls change nothing (a call that does fails its test)."""
    local_target = new_target("local", tmp_path_factory.mktemp("local"))
    remote_target = new_target("remote", tmp_path_factory.mktemp("remote"))
    with pytest.MonkeyPatch.context() as env:
        for name in [n for n in os.environ if n.startswith("LOOPLINE_")]:
            env.delenv(name)
        local = _setup(local_target, files)
        remote = _setup(remote_target, files)
    loopline.set_uri(None)
    yield remote_target, local, remote
    local_target.close()
    remote_target.close()


@pytest.fixture
def fresh_sides(
    tmp_path: Path, files: Path, clean_env: None, new_target: Callable[[str, Path], Any]
) -> Iterator[tuple[Side, Side]]:
    """Both sides on stores of their own, for a test that changes them."""
    local_target = new_target("local", tmp_path / "local")
    remote_target = new_target("remote", tmp_path / "remote")
    local = _setup(local_target, files)
    remote = _setup(remote_target, files)  # the server now serves this side's store
    loopline.set_uri(None)
    yield local, remote
    remote_target.release()
    local_target.close()
    remote_target.close()


@pytest.fixture
def sides(stores: tuple[Any, Side, Side], clean_env: None) -> Iterator[tuple[Side, Side]]:
    """The local and the remote side, the live server serving the remote one."""
    remote_target, local, remote = stores
    remote_target.use()
    yield local, remote
    remote_target.release()


Call = Callable[[Side], Any]
UNKNOWN = "0123456789abcdef0123456789abcdef"

BAD_CALLS: dict[str, Call] = {
    # experiments
    "get unknown experiment": lambda s: s.client.get_experiment("424242"),
    "get experiment by non-numeric id": lambda s: s.client.get_experiment("abc"),
    "get experiment by empty id": lambda s: s.client.get_experiment(""),
    "get experiment by id '..'": lambda s: s.client.get_experiment(".."),
    "get experiment by id with slash": lambda s: s.client.get_experiment("1/2"),
    "get experiment by unknown name": lambda s: s.client.get_experiment_by_name("nope"),
    "get experiment by name with slash": lambda s: s.client.get_experiment_by_name("team/x"),
    "get experiment by name '..'": lambda s: s.client.get_experiment_by_name(".."),
    "get experiment by empty name": lambda s: s.client.get_experiment_by_name(""),
    "get experiment by long name": lambda s: s.client.get_experiment_by_name("x" * 300),
    "create duplicate experiment": lambda s: s.client.create_experiment("parity"),
    "create experiment with empty name": lambda s: s.client.create_experiment(" "),
    "create experiment with non-mapping tags": lambda s: s.client.create_experiment(
        "t",
        tags=[("a", "b")],  # type: ignore[arg-type]
    ),
    "rename experiment onto a taken name": lambda s: s.client.rename_experiment(
        s.experiment_id, "gone"
    ),
    "rename unknown experiment": lambda s: s.client.rename_experiment("424242", "x"),
    "delete experiment with empty id": lambda s: s.client.delete_experiment(""),
    "restore unknown experiment": lambda s: s.client.restore_experiment("nope"),
    "list experiments max_results=0": lambda s: s.client.list_experiments(max_results=0),
    "list experiments max_results='10'": lambda s: s.client.list_experiments(
        max_results="10"  # type: ignore[arg-type]
    ),
    "list experiments max_results too big": lambda s: s.client.list_experiments(max_results=10**6),
    "list experiments bad view": lambda s: s.client.list_experiments(view="bogus"),
    "list experiments bad token": lambda s: s.client.list_experiments(page_token="garbage"),
    # runs
    "get unknown run": lambda s: s.client.get_run(UNKNOWN),
    "get run with empty id": lambda s: s.client.get_run(""),
    "get run with slash in id": lambda s: s.client.get_run("a/b"),
    "get run '..'": lambda s: s.client.get_run(".."),
    "get run '.'": lambda s: s.client.get_run("."),
    "get run 'search'": lambda s: s.client.get_run("search"),
    "create run in unknown experiment": lambda s: s.client.create_run("424242"),
    "create run in deleted experiment": lambda s: s.client.create_run(s.deleted_experiment_id),
    "create run with blank name": lambda s: s.client.create_run(s.experiment_id, run_name=" "),
    "create run with unknown parent": lambda s: s.client.create_run(
        s.experiment_id, parent_run_id=UNKNOWN
    ),
    "create run with bad tag key": lambda s: s.client.create_run(
        s.experiment_id, tags={"bad*key": 1}
    ),
    "update run with bad status": lambda s: s.client.update_run(s.run_id, status="exploded"),
    "end unknown run": lambda s: s.client.set_terminated(UNKNOWN, "finished"),
    "end run with bad status": lambda s: s.client.set_terminated(s.run_id, "done"),
    "delete run with empty id": lambda s: s.client.delete_run(""),
    "restore unknown run": lambda s: s.client.restore_run(UNKNOWN),
    # logging
    "param conflict": lambda s: s.client.log_param(s.run_id, "lr", 0.2),
    "param with empty key": lambda s: s.client.log_param(s.run_id, "", 1),
    "param value too long": lambda s: s.client.log_param(s.run_id, "k", "x" * 7000),
    "param to deleted run": lambda s: s.client.log_param(s.deleted_run_id, "k", 1),
    "param to unknown run": lambda s: s.client.log_param(UNKNOWN, "k", 1),
    "metric string value": lambda s: s.client.log_metric(s.run_id, "m", "abc"),  # type: ignore[arg-type]
    "metric bool value": lambda s: s.client.log_metric(s.run_id, "m", True),
    "metric fractional step": lambda s: s.client.log_metric(s.run_id, "m", 1.0, step=1.5),  # type: ignore[arg-type]
    "metric timestamp past 64 bits": lambda s: s.client.log_metric(
        s.run_id, "m", 1.0, timestamp=2**64
    ),
    "metric bad key": lambda s: s.client.log_metric(s.run_id, "bad key!", 1.0),
    "metric to deleted run": lambda s: s.client.log_metric(s.deleted_run_id, "m", 1.0),
    "batch with malformed metric": lambda s: s.client.log_batch(
        s.run_id,
        metrics=[("m",)],  # type: ignore[list-item]
    ),
    "run name with a lone surrogate": lambda s: s.client.create_run(
        s.experiment_id, run_name="\ud800"
    ),
    "experiment name with a lone surrogate": lambda s: s.client.create_experiment("a\udfff"),
    "tag value with a lone surrogate": lambda s: s.client.set_tag(s.run_id, "k", "\udc80"),
    "param key with a lone surrogate": lambda s: s.client.log_param(s.run_id, "k\ud800", 1),
    "metric key with a lone surrogate": lambda s: s.client.log_metric(s.run_id, "\ud800", 1.0),
    "artifact path with a lone surrogate": lambda s: s.client.log_text(s.run_id, "x", "\ud800"),
    "tag value too long": lambda s: s.client.set_tag(s.run_id, "k", "x" * 9000),
    "delete missing tag": lambda s: s.client.delete_tag(s.run_id, "missing"),
    "delete tag '..'": lambda s: s.client.delete_tag(s.run_id, ".."),
    "history of unknown run": lambda s: s.client.get_metric_history(UNKNOWN, "m"),
    "history with run id '..'": lambda s: s.client.get_metric_history("..", "m"),
    "history with bad key": lambda s: s.client.get_metric_history(s.run_id, "../x"),
    "history with empty key": lambda s: s.client.get_metric_history(s.run_id, ""),
    # search
    "search with malformed filter": lambda s: s.client.search_runs(
        s.experiment_id, filter="metrics.auc > 0.8 and params.model = rf"
    ),
    "search with unterminated string": lambda s: s.client.search_runs(
        s.experiment_id, filter="params.model = 'rf"
    ),
    "search with end-of-input error": lambda s: s.client.search_runs(
        s.experiment_id, filter="(metrics.auc > 1"
    ),
    "search with bad order_by": lambda s: s.client.search_runs(
        s.experiment_id, order_by=["metrics.auc SIDEWAYS"]
    ),
    "search with string experiment id filter": lambda s: s.client.search_runs(
        s.experiment_id, filter="attributes.experiment_id = 'x'"
    ),
    "search max_results=0": lambda s: s.client.search_runs(s.experiment_id, max_results=0),
    "search bad token": lambda s: s.client.search_runs(s.experiment_id, page_token="garbage"),
    "search bad view": lambda s: s.client.search_runs(s.experiment_id, view="bogus"),
    "search unknown experiment": lambda s: s.client.search_runs("no such experiment"),
    # artifacts
    "log missing file": lambda s: s.client.log_artifact(s.run_id, s.files / "nope.txt"),
    "log file under '..'": lambda s: s.client.log_artifact(s.run_id, s.files / "file.txt", ".."),
    "log file under absolute path": lambda s: s.client.log_artifact(
        s.run_id, s.files / "file.txt", "/abs"
    ),
    "log file to unknown run": lambda s: s.client.log_artifact(UNKNOWN, s.files / "file.txt"),
    "log file to deleted run": lambda s: s.client.log_artifact(
        s.deleted_run_id, s.files / "file.txt"
    ),
    "log folder with escaping symlink": lambda s: s.client.log_artifacts(
        s.run_id, s.files / "escaping"
    ),
    "log missing folder": lambda s: s.client.log_artifacts(s.run_id, s.files / "nope"),
    "log empty folder to unknown run": lambda s: s.client.log_artifacts(UNKNOWN, s.files / "empty"),
    "log empty folder to deleted run": lambda s: s.client.log_artifacts(
        s.deleted_run_id, s.files / "empty"
    ),
    "log escaping folder to unknown run": lambda s: s.client.log_artifacts(
        UNKNOWN, s.files / "escaping"
    ),
    "log missing folder to unknown run": lambda s: s.client.log_artifacts(UNKNOWN, s.files / "x"),
    "log text without a file name": lambda s: s.client.log_text(s.run_id, "x", "."),
    "read missing artifact": lambda s: s.client.read_artifact(s.run_id, "missing.txt"),
    "read a folder": lambda s: s.client.read_artifact(s.run_id, "dir"),
    "read absolute path": lambda s: s.client.read_artifact(s.run_id, "/etc/passwd"),
    "read artifact of unknown run": lambda s: s.client.read_artifact(UNKNOWN, "dir/f.txt"),
    "list artifacts under '..'": lambda s: s.client.list_artifacts(s.run_id, "../x"),
    "list artifacts of unknown run": lambda s: s.client.list_artifacts(UNKNOWN),
    "download missing artifact": lambda s: s.client.download_artifacts(
        s.run_id, "missing", s.files / "dest"
    ),
}


def _raised(side: Side, call: Call) -> tuple[type[BaseException], str, Any]:
    with pytest.raises(LooplineError) as caught:
        call(side)
    error = caught.value
    assert not isinstance(error, ConnectionFailedError), error
    details = json.loads(side.normalise(json.dumps(error.details, default=str)))
    return type(error), side.normalise(str(error)), details


KNOWN_BUGS: dict[str, str] = {}  # name -> reason, for a bug reported with its failing test


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[n]))
        if n in KNOWN_BUGS
        else n
        for n in BAD_CALLS
    ],
)
def test_same_error_locally_and_remotely(sides: tuple[Side, Side], name: str) -> None:
    local, remote = sides
    call = BAD_CALLS[name]

    assert _raised(remote, call) == _raised(local, call)


def test_bad_fluent_calls_raise_the_same(fresh_sides: tuple[Side, Side]) -> None:
    def fluent_errors(side: Side) -> list[tuple[type[BaseException], str]]:
        loopline.set_uri(side.client.settings.uri)
        found = []
        calls: list[Callable[[], Any]] = [
            lambda: loopline.set_experiment("gone"),
            lambda: loopline.set_experiment(),
            lambda: loopline.start_run(experiment_id=side.deleted_experiment_id),
            lambda: loopline.start_run(UNKNOWN),
            lambda: loopline.log_metric("m", "high"),  # type: ignore[arg-type]
            lambda: loopline.log_metric("m", 1.0, step=2**63),
            lambda: loopline.start_run(run_name="second"),  # one is active by now
            lambda: loopline.log_param("lr", 1) and loopline.log_param("lr", 2),
            lambda: loopline.search_runs("parity", filter="params.x = 1"),
        ]
        for call in calls:
            with pytest.raises(LooplineError) as caught:
                call()
            found.append((type(caught.value), side.normalise(str(caught.value))))
        active = loopline.active_run()
        assert active is not None
        loopline.set_uri(None)
        return [(cls, text.replace(active.id, "<active>")) for cls, text in found]

    local, remote = fresh_sides
    assert fluent_errors(remote) == fluent_errors(local)
