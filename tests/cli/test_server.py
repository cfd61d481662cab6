"""``loopline server`` as a real process, and the CLI talking to it with ``--uri http://...``."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

import loopline
from loopline.cli.main import app

Invoke = Callable[..., Result]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 30) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"loopline server exited with {process.returncode}:\n{out}\n{err}")
        try:
            return httpx.get(f"{url}/api/health", timeout=1).raise_for_status()
        except httpx.HTTPError:
            time.sleep(0.1)
    pytest.fail(f"loopline server did not answer on {url} within {timeout}s")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    """``loopline server`` on a free port over a store in tmp_path; stopped after the test."""
    executable = shutil.which("loopline")
    assert executable, "the loopline console script is not installed"
    store, port = str(tmp_path / "served"), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    env["LOOPLINE_URI"] = store
    process = subprocess.Popen(
        [executable, "server", "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}", store, process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_server_answers_health_and_says_where_the_store_is(
    served: tuple[str, str, subprocess.Popen[str]],
) -> None:
    url, store, process = served
    response = _wait_healthy(url, process)
    assert response.json() == {"status": "ok", "version": loopline.__version__}
    process.terminate()
    out, _ = process.communicate(timeout=15)
    assert f"sqlite:///{store}/loopline.db" in out
    assert f"http://127.0.0.1:{url.rsplit(':', 1)[1]}" in out


def test_cli_against_a_remote_server(served: tuple[str, str, subprocess.Popen[str]]) -> None:
    url, store, process = served
    _wait_healthy(url, process)
    local = loopline.Client(store)
    run = local.create_run(local.create_experiment("remote-exp"), run_name="over-http")
    runner = CliRunner()
    got = runner.invoke(app, ["runs", "get", run.id, "--uri", url, "--json"])
    assert got.exit_code == 0, got.output
    assert '"run_name": "over-http"' in got.stdout
    missing = runner.invoke(app, ["runs", "get", "nope", "--uri", url])
    assert missing.exit_code == 1
    assert missing.stderr == "error: No run with id 'nope'.\n"


def test_server_refuses_a_remote_uri(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["server", "--uri", "http://127.0.0.1:1"])
    assert result.exit_code == 1
    assert "serves a local store" in result.stderr


def test_server_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["server", "--port", "70000"]).exit_code == 2
    assert runner.invoke(app, ["server", "--log-level", "loud"]).exit_code == 2


def test_demo_against_a_remote_server(served: tuple[str, str, subprocess.Popen[str]]) -> None:
    url, store, process = served
    _wait_healthy(url, process)
    result = CliRunner().invoke(app, ["demo", "--folds", "2", "--uri", url, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["database_url"] == url
    runs = loopline.Client(store).search_runs("loopline-demo", filter="tags.baseline = 'true'")
    assert [run.id for run in runs if run.info.parent_run_id is None] == [
        m["run_id"] for m in body["models"] if m["is_baseline"]
    ]
