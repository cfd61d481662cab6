"""Serving deployments (DeploymentService): the champion, the kill switch, the event log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving_support import Models, Running, row, settings

from loopline.deploy import DeploymentService
from loopline.eventlog import EventLog
from loopline.serving.server import deployments_app


@pytest.fixture
def deployments(models: Models) -> Iterator[DeploymentService]:
    registry = models.client.registry
    service = DeploymentService(registry.store, registry, registry.audit)
    yield service
    for deployment in list(service.list_deployments()):
        service.delete_deployment(deployment.name, actor="tester")


def _wait(condition: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_deployment_is_served_followed_killed_and_logged(
    deployments: DeploymentService, models: Models, tmp_path: Path
) -> None:
    policy = {
        "score": "proba[1]",
        "thresholds": {"bands": [{"min": 0.5, "action": "call"}], "default": "wait"},
    }
    deployments.create_deployment("gbc-api", "models:/gbc/1", logging="async", policy=policy,
                                  actor="tester")  # fmt: skip
    config = settings(serve_poll_interval=0.05, eventlog_root=tmp_path / "events")
    app = deployments_app(models.client, config)

    with Running(app) as server, httpx.Client(base_url=server.url) as client:
        body = {"rows": [row(models.X, 0), row(models.X, 1)], "request_keys": ["k1", "k2"]}
        answer = client.post("/deployments/gbc-api/predict", json=body).json()
        ids = [p["prediction_id"] for p in answer["predictions"]]
        lone = client.post("/deployments/gbc-api/predict", json={"rows": [row(models.X, 0)]})
        deployments.update_deployment("gbc-api", model_uri="models:/gbc/2", actor="tester")
        _wait(lambda: app.endpoints["gbc-api"].runtime.version == 2, "no swap to version 2")
        swapped = client.post("/deployments/gbc-api/predict", json=body).json()
        deployments.kill("gbc-api", reason="Drift on f3 (alice)", actor="tester")
        _wait(lambda: app.endpoints["gbc-api"].disabled is not None, "the kill was not seen")
        killed = client.post("/deployments/gbc-api/predict", json=body)

    assert answer["model_version"] == 1
    decisions = [p["decision"] for p in answer["predictions"]]
    scores = [p["score"] for p in answer["predictions"]]
    assert [d["action"] for d in decisions] == ["call" if s >= 0.5 else "wait" for s in scores]
    assert decisions[0]["policy_version"]
    assert lone.json()["predictions"][0]["decision"] == {**decisions[0], "score": scores[0]}
    assert swapped["model_version"] == 2
    assert killed.status_code == 503
    assert killed.json() == {"error": "Drift on f3 (alice)"}
    logged = EventLog(tmp_path / "events").read_predictions("gbc-api", as_="pandas")
    first = logged[logged["prediction_id"] == ids[0]]
    assert len(logged) == 5
    assert first["request_key"].tolist() == ["k1"]
    assert first["model_version"].tolist() == [1]
    assert first["action"].tolist() == [decisions[0]["action"]]
    assert first["policy_version"].tolist() == [decisions[0]["policy_version"]]
