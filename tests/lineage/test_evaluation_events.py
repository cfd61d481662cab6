"""Evaluations by the ReleaseService emit START and COMPLETE or FAIL through the emitter's hook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from loopline.artifacts import ArtifactStore
from loopline.audit import AuditLog
from loopline.data.service import DatasetService
from loopline.errors import InvalidArgumentError
from loopline.modeling.logged import log_model
from loopline.openlineage import FileTransport, LineageEmitter
from loopline.registry.service import RegistryService
from loopline.release import ReleaseService
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService


def test_an_evaluation_emits_start_then_complete_or_fail(
    tmp_path: Path, validate_event: Any
) -> None:
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'l.db'}")
    events = tmp_path / "events.jsonl"
    emitter = LineageEmitter(FileTransport(events))
    tracking = TrackingService(store, ArtifactStore(str(tmp_path / "a")), lineage=emitter)
    datasets = DatasetService(store, tracking.artifacts)
    registry = RegistryService(store, AuditLog(store), lineage=emitter)
    release = ReleaseService(tracking, registry, datasets, AuditLog(store),
                             lineage=emitter.evaluation_event)  # fmt: skip
    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    frame = frame[["mean radius", "mean texture", "y"]]
    train = datasets.create("cancer-train", frame.iloc[::2])
    test = datasets.create("cancer-test", frame.iloc[1::2])
    run_id = tracking.create_run(tracking.create_experiment("eval")).info.run_id
    datasets.log_input(run_id, train)
    features = frame.iloc[::2].drop(columns=["y"])
    model = LogisticRegression(max_iter=500).fit(features, frame.iloc[::2]["y"])
    log_model(tracking, registry, run_id, model, "model", input_example=features.head(2),
              registered_model_name="cancer", actor="alice")  # fmt: skip
    tracking.end_run(run_id)
    already = len(events.read_text().splitlines())

    release.evaluate("models:/cancer/1", test.uri, target="y", importance=False, actor="bob")
    with pytest.raises(InvalidArgumentError, match="no target column"):
        release.evaluate("models:/cancer/1", test.uri, target="nope", actor="bob")

    mine = [json.loads(line) for line in events.read_text().splitlines()[already:]]
    assert [(e["eventType"], e["job"]["name"]) for e in mine] == [
        ("START", "models/cancer/evaluate"),
        ("COMPLETE", "models/cancer/evaluate"),
        ("START", "models/cancer/evaluate"),
        ("FAIL", "models/cancer/evaluate"),
    ]
    for event in mine:
        validate_event(event)
    assert mine[0]["run"]["runId"] == mine[1]["run"]["runId"] != mine[2]["run"]["runId"]
    assert mine[2]["run"]["runId"] == mine[3]["run"]["runId"]
    assert [d["name"] for d in mine[1]["inputs"]] == [
        "models/cancer", "datasets/cancer-test", "datasets/cancer-train",
    ]  # fmt: skip
    assert "no target column" in mine[3]["run"]["facets"]["errorMessage"]["message"]
    store.engine.dispose()


def test_the_sdk_evaluate_emits_events(sdk_store: Path, validate_event: Any) -> None:
    import loopline

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    frame = frame[["mean radius", "y"]]
    train = loopline.datasets.create("train", frame.iloc[::2])
    features = frame.iloc[::2][["mean radius"]]
    with loopline.start_run():
        loopline.log_input(train)
        model = LogisticRegression().fit(features, frame.iloc[::2]["y"])
        loopline.log_model(model, input_example=features.head(2), registered_model_name="c")
    loopline.evaluate("models:/c/1", frame.iloc[1::2], target="y", importance=False)

    lines = (sdk_store / "openlineage.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    evaluation = [e for e in events if e["job"]["name"] == "models/c/evaluate"]
    assert [e["eventType"] for e in evaluation] == ["START", "COMPLETE"]
    for event in evaluation:
        validate_event(event)
    assert [d["name"] for d in evaluation[1]["inputs"]] == ["models/c", "datasets/train"]
