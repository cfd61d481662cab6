"""Serving deployments (DeploymentService): the champion, the kill switch, the event log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def test_a_canary_answers_its_share_sticky_by_key(
    deployments: DeploymentService, models: Models
) -> None:
    challenger = {"model_uri": "models:/gbc/2", "mode": "canary", "share": 0.5,
                  "sticky_key": "customer"}  # fmt: skip
    deployments.create_deployment("gbc-canary", "models:/gbc/1", logging="off",
                                  challenger=challenger, actor="tester")  # fmt: skip
    app = deployments_app(models.client, settings(serve_poll_interval=0))

    with Running(app) as server, httpx.Client(base_url=server.url) as client:

        def side(customer: str) -> tuple[str, int]:
            body = {"rows": [{**row(models.X, 0), "customer": customer}]}
            p = client.post("/deployments/gbc-canary/predict", json=body).json()["predictions"][0]
            return p["variant"], p["model_version"]

        sides = {c: side(c) for c in (f"c{i}" for i in range(40))}
        again = {c: side(c) for c in list(sides)[:10]}

    assert set(sides.values()) == {("champion", 1), ("canary", 2)}
    assert again == {c: sides[c] for c in again}  # sticky


def test_a_shadow_is_scored_and_logged_never_returned(
    deployments: DeploymentService, models: Models, tmp_path: Path
) -> None:
    challenger = {"model_uri": "models:/gbc/2", "mode": "shadow"}
    deployments.create_deployment("gbc-shadow", "models:/gbc/1", logging="async",
                                  challenger=challenger, actor="tester")  # fmt: skip
    config = settings(serve_poll_interval=0, eventlog_root=tmp_path / "events")
    app = deployments_app(models.client, config)

    with Running(app) as server, httpx.Client(base_url=server.url) as client:
        body = {"rows": [row(models.X, i) for i in range(3)]}
        answers = [client.post("/deployments/gbc-shadow/predict", json=body).json()
                   for _ in range(2)]  # fmt: skip
        _wait(lambda: app.endpoints["gbc-shadow"].shadowed == 6, "the shadow was not scored")

    assert {p["variant"] for a in answers for p in a["predictions"]} == {"champion"}
    logged = EventLog(tmp_path / "events").read_predictions("gbc-shadow", as_="pandas")
    counts = logged.groupby(["variant", "model_version"]).size().to_dict()
    assert counts == {("champion", 1): 6, ("shadow", 2): 6}


def test_durable_logging_is_written_before_the_answer(
    deployments: DeploymentService, models: Models, tmp_path: Path
) -> None:
    deployments.create_deployment("gbc-durable", "models:/gbc/1", logging="durable",
                                  actor="tester")  # fmt: skip
    config = settings(serve_poll_interval=0, eventlog_root=tmp_path / "events")
    app = deployments_app(models.client, config)

    with Running(app) as server:
        body = {"rows": [row(models.X, 0)], "request_keys": ["durable-1"]}
        answer = httpx.post(f"{server.url}/deployments/gbc-durable/predict", json=body).json()
        journals = list((tmp_path / "events").rglob("*.jsonl"))
        written = "".join(path.read_text() for path in journals)

    assert answer["predictions"][0]["prediction_id"] in written  # on disk before the answer


def test_deployment_swaps_and_kill_switch_under_load(
    deployments: DeploymentService, models: Models, tmp_path: Path
) -> None:
    """Alias move and model URI change swap with no failed request; kill answers within a poll."""
    import threading

    interval = 0.25
    deployments.create_deployment("gbc-load", "models:/gbc@prod", logging="async",
                                  actor="tester")  # fmt: skip
    config = settings(serve_poll_interval=interval, eventlog_root=tmp_path / "events")
    app = deployments_app(models.client, config)
    registry = models.client.registry
    seen: list[tuple[float, int, Any]] = []
    stop = threading.Event()

    def load(url: str) -> None:
        with httpx.Client(base_url=url) as client:
            while not stop.is_set():
                answer = client.post("/deployments/gbc-load/predict",
                                     json={"rows": [row(models.X, 0)]})  # fmt: skip
                body = answer.json()
                seen.append((time.monotonic(), answer.status_code,
                             body.get("model_version", body.get("error"))))  # fmt: skip

    try:
        with Running(app) as server:
            threads = [threading.Thread(target=load, args=(server.url,)) for _ in range(3)]
            for thread in threads:
                thread.start()
            time.sleep(0.5)
            moved = time.monotonic()
            registry.set_alias("gbc", "prod", 2, actor="tester")
            _wait(lambda: seen[-1][2] == 2, "the alias move was not served")
            alias_swap = time.monotonic() - moved
            deployments.update_deployment("gbc-load", model_uri="models:/gbc/1", actor="tester")
            _wait(lambda: seen[-1][2] == 1, "the model URI change was not served")
            time.sleep(0.3)
            killed = time.monotonic()
            deployments.kill("gbc-load", reason="Bad outputs (bob)", actor="tester")
            _wait(lambda: seen[-1][1] == 503, "the kill was not served")
            kill_seen = min(t for t, status, _ in seen if status == 503) - killed
            deployments.enable("gbc-load", actor="tester")
            enabled = time.monotonic()
            _wait(lambda: seen[-1][1] == 200 and seen[-1][0] > enabled, "enable was not served")
            stop.set()
            for thread in threads:
                thread.join()
    finally:
        stop.set()
        registry.set_alias("gbc", "prod", 1, actor="tester")

    before_kill = [s for s in seen if s[0] < killed]
    assert len(before_kill) > 50
    assert {status for _, status, _ in before_kill} == {200}  # zero failed requests
    assert alias_swap < 3
    assert kill_seen < interval + 0.5
    assert {body for _, status, body in seen if status == 503} == {"Bad outputs (bob)"}
