"""Several processes writing to one store at once: nothing is lost and no error surfaces.

Each test starts four worker processes (``concurrency_worker.py``) that meet at a barrier and then
open the store, create or look up the experiment and log at the same moment. A worker passes when
it exits 0 with an empty stderr (warnings other than ResourceWarning are errors there too); the
store must then hold exactly what the workers logged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loopline.entities import RunStatus
from loopline.store import SqlTrackingStore

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("concurrency_worker.py")
TIMEOUT = 120.0
PARTIES = 4


@dataclass
class Outcome:
    index: int
    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        return json.loads(self.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run_workers(
    folder: Path, mode: str, *args: object, env: Mapping[str, str] | None = None
) -> list[Outcome]:
    """Run ``PARTIES`` workers at once in ``folder``; returns when all have exited."""
    folder.mkdir(parents=True, exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    # A warning in a worker is a failure too, as in pytest's own configuration.
    environment["PYTHONWARNINGS"] = "error,ignore::ResourceWarning"
    environment.update(env or {})
    processes = []
    for index in range(PARTIES):
        command = [sys.executable, str(WORKER), mode, str(folder), str(index), str(PARTIES)]
        with (folder / f"out-{index}").open("w") as out, (folder / f"err-{index}").open("w") as err:
            processes.append(
                subprocess.Popen(
                    [*command, *map(str, args)], stdout=out, stderr=err, env=environment, cwd=folder
                )
            )
    try:
        deadline = time.monotonic() + TIMEOUT
        while len(list(folder.glob("ready-*"))) < PARTIES:
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                break
            time.sleep(0.005)
        (folder / "go").touch()
        codes = [p.wait(timeout=max(1.0, deadline - time.monotonic())) for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return [
        Outcome(i, code, (folder / f"out-{i}").read_text(), (folder / f"err-{i}").read_text())
        for i, code in enumerate(codes)
    ]


def assert_clean(outcomes: list[Outcome]) -> None:
    """Every worker exited 0 and wrote nothing to stderr."""
    problems = [
        f"worker {o.index}: exit code {o.returncode}\n{o.stderr}"
        for o in outcomes
        if o.returncode != 0 or o.stderr.strip()
    ]
    assert not problems, "\n".join(problems)


def assert_series(url: str, experiment: str, outcomes: list[Outcome], count: int) -> None:
    """One finished run per worker in the experiment, each with its full 0..count-1 series."""
    store = SqlTrackingStore(url)
    experiment_id = store.get_experiment_by_name(experiment).experiment_id
    run_ids = {o.result["run_id"] for o in outcomes}
    assert len(run_ids) == PARTIES
    for run_id in run_ids:
        info = store.get_run_info(run_id)
        assert info.experiment_id == experiment_id
        assert info.status is RunStatus.FINISHED
        assert store.count_metrics(run_id) == count
        history = store.get_metric_history(run_id, "value")
        assert [(m.step, m.value) for m in history] == [(i, float(i)) for i in range(count)]
        assert store.get_run(run_id).data.metrics == {"value": float(count - 1)}
    assert sum(store.count_metrics(r) for r in run_ids) == PARTIES * count


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(
    request: pytest.FixtureRequest, tmp_path: Path, new_pg_database: Callable[..., str]
) -> str:
    """A store nobody has opened yet, so the workers also race to create (migrate) it."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store/loopline.db"
    return new_pg_database()


def test_four_processes_log_10000_values_with_the_fluent_sdk(
    fresh_url: str, tmp_path: Path
) -> None:
    """The issue's must-show: 4 x 2,500 ``log_metric`` calls, one value per call."""
    env = {"LOOPLINE_ARTIFACT_ROOT": str(tmp_path / "artifacts")}
    outcomes = run_workers(tmp_path / "w", "fluent", fresh_url, "shared", 2_500, env=env)
    assert_clean(outcomes)
    assert_series(fresh_url, "shared", outcomes, 2_500)


def test_many_small_flushes_from_four_processes(fresh_url: str, tmp_path: Path) -> None:
    """Buffers of 50 values: each process commits 50 transactions while the others do too."""
    env = {
        "LOOPLINE_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
        "LOOPLINE_METRIC_BUFFER_SIZE": "50",
        "LOOPLINE_CAPTURE_ENVIRONMENT": "false",
    }
    outcomes = run_workers(tmp_path / "w", "fluent", fresh_url, "shared", 2_500, env=env)
    assert_clean(outcomes)
    assert_series(fresh_url, "shared", outcomes, 2_500)


def test_unbuffered_client_writers_never_see_database_is_locked(tmp_path: Path) -> None:
    """4 processes, one SQLite transaction per value, 300 values each."""
    url = f"sqlite:///{tmp_path}/store/loopline.db"
    env = {"LOOPLINE_DATABASE_URL": url, "LOOPLINE_ARTIFACT_ROOT": str(tmp_path / "artifacts")}
    outcomes = run_workers(tmp_path / "w", "client", "shared", 300, env=env)
    assert_clean(outcomes)
    assert_series(url, "shared", outcomes, 300)


def test_racing_set_experiment_creates_one_experiment(fresh_url: str, tmp_path: Path) -> None:
    env = {"LOOPLINE_ARTIFACT_ROOT": str(tmp_path / "artifacts")}
    outcomes = run_workers(tmp_path / "w", "set_experiment", fresh_url, "same name", env=env)
    assert_clean(outcomes)
    ids = {o.result["experiment_id"] for o in outcomes}
    assert len(ids) == 1
    experiments = SqlTrackingStore(fresh_url).list_experiments(
        view="all",  # type: ignore[arg-type]
        offset=0,
        limit=100,
    )[0]
    assert [(e.experiment_id, e.name) for e in experiments] == [(ids.pop(), "same name")]


def test_racing_create_experiment_has_one_winner(fresh_url: str, tmp_path: Path) -> None:
    """The others get AlreadyExistsError, never a raw database error."""
    env = {"LOOPLINE_DATABASE_URL": fresh_url, "LOOPLINE_ARTIFACT_ROOT": str(tmp_path / "a")}
    outcomes = run_workers(tmp_path / "w", "create_experiment", "same name", env=env)
    assert_clean(outcomes)
    results = [o.result for o in outcomes]
    winners = [r["experiment_id"] for r in results if "experiment_id" in r]
    assert len(winners) == 1
    assert sum(1 for r in results if r.get("already_exists")) == PARTIES - 1
