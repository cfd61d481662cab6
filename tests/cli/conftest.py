"""Fixtures of the CLI tests: a temporary store, a CliRunner bound to it, a few seeded runs.

Every test runs in its own temporary working directory with no ``LOOPLINE_*`` variable set, so
nothing a test does can reach the developer's ``./.loopline`` store.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import loopline
from loopline.cli.main import app

Invoke = Callable[..., Result]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A folder for a fresh local store (created on first use)."""
    return str(tmp_path / "store")


@pytest.fixture
def client(store: str) -> loopline.Client:
    return loopline.Client(store)


@pytest.fixture
def invoke(store: str) -> Invoke:
    """Run ``loopline <args>`` in-process against the test's store (``--uri`` appended)."""
    runner = CliRunner()

    def run(*args: str, uri: bool = True) -> Result:
        argv = [*args, "--uri", store] if uri else list(args)
        return runner.invoke(app, argv, catch_exceptions=False)

    return run


@pytest.fixture
def seeded(client: loopline.Client) -> dict[str, Any]:
    """Experiment ``exp`` with two finished runs that differ in one param and one metric."""
    experiment_id = client.create_experiment("exp", tags={"team": "risk"})
    runs = []
    for name, lr, auc in (("alpha", "0.1", 0.9), ("beta", "0.2", float("nan"))):
        run = client.create_run(experiment_id, run_name=name, tags={"kind": "model"})
        client.log_batch(
            run.id,
            params={"lr": lr, "depth": "3"},
            metrics=[("auc", auc, None, 0), ("loss", float("inf"), None, 0)],
        )
        client.log_text(run.id, "hello", "notes/readme.txt")
        client.set_terminated(run.id)
        runs.append(run.id)
    return {"experiment_id": experiment_id, "run_ids": runs}
