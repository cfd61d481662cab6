"""Hot swap under load, the kill switch and micro-batching, on a real server."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import numpy as np
import pytest
from serving_support import Models, Running, Serve, expected_proba, row


def test_moving_the_alias_under_load_fails_no_request(serve: Serve, models: Models) -> None:
    server = serve("models:/gbc@prod", serve_poll_interval=0.05)
    body = {"rows": [row(models.X, 0)]}
    expected = {1: expected_proba(models.gbc, models.X[:1])[0, 1],
                2: expected_proba(models.gbc2, models.X[:1])[0, 1]}  # fmt: skip
    stop = threading.Event()
    seen: list[tuple[int, int, float]] = []
    failures: list[str] = []

    def hammer() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                response = client.post("/deployments/gbc/predict", json=body)
                if response.status_code != 200:
                    failures.append(response.text)
                    continue
                p = response.json()["predictions"][0]
                seen.append((response.status_code, p["model_version"], p["score"]))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for version in (2, 1, 2):
            time.sleep(0.4)
            models.client.registry.set_alias("gbc", "prod", version, actor="tester")
        deadline = time.monotonic() + 10
        while server.app.endpoints["gbc"].runtime.version != 2:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the server never swapped to version 2"
            time.sleep(0.02)
        time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join()
        models.client.registry.set_alias("gbc", "prod", 1, actor="tester")

    assert failures == []
    versions = Counter(v for _, v, _ in seen)
    assert versions[1] > 0
    assert versions[2] > 0
    for _, version, score in seen:
        assert score == pytest.approx(expected[version])  # each answer is the version it names
    assert server.app.endpoints["gbc"].swaps >= 3


def test_kill_switch_answers_503_with_the_reason(serve: Serve, models: Models) -> None:
    server = serve("models:/gbc/1")
    endpoint = server.app.endpoints["gbc"]
    endpoint.disable("Disabled by alice: drift on f3")
    with httpx.Client(base_url=server.url) as client:
        predict = client.post("/deployments/gbc/predict", json={"rows": [row(models.X)]})
        infer = client.post("/v2/models/gbc/infer", json={"inputs": []})
        invocations = client.post("/invocations", json={"dataframe_records": [row(models.X)]})
        ready = client.get("/v2/models/gbc/ready")
        endpoint.enable()
        again = client.post("/deployments/gbc/predict", json={"rows": [row(models.X)]})

    assert predict.status_code == infer.status_code == invocations.status_code == 503
    assert predict.json() == {"error": "Disabled by alice: drift on f3"}
    assert infer.json() == {"error": "Disabled by alice: drift on f3"}
    assert invocations.json()["message"] == "Disabled by alice: drift on f3"
    assert ready.status_code == 400
    assert again.status_code == 200


def test_concurrent_requests_are_scored_in_batches(serve: Serve, models: Models) -> None:
    server = serve("models:/gbc/1")
    batcher = server.app.endpoints["gbc"].batcher
    batcher.inline_below = 0  # never on the event loop, however cheap the model is here
    before = (batcher.batches, batcher.requests)
    results: dict[int, float] = {}

    def one(i: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for _ in range(10):
                p = client.post("/deployments/gbc/predict", json={"rows": [row(models.X, i)]})
                results[i] = p.json()["predictions"][0]["score"]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    batches, requests = batcher.batches - before[0], batcher.requests - before[1]
    assert requests == 80
    assert batches < requests  # some requests shared a predict_proba call
    np.testing.assert_allclose([results[i] for i in range(8)],
                               expected_proba(models.gbc, models.X[:8])[:, 1])  # fmt: skip


def test_a_lone_request_does_not_wait(serve: Serve, models: Models) -> None:
    server = serve("models:/gbc/1", serve_max_batch_wait=0.5)
    with httpx.Client(base_url=server.url) as client:
        client.post("/deployments/gbc/predict", json={"rows": [row(models.X)]})
        started = time.perf_counter()
        for _ in range(5):
            client.post("/deployments/gbc/predict", json={"rows": [row(models.X)]})
        elapsed = time.perf_counter() - started

    assert elapsed < 0.5  # five sequential requests, none waited the 0.5 s batch window


def test_a_cheap_model_is_scored_on_the_event_loop_when_idle(
    logit_server: Running, models: Models
) -> None:
    endpoint = logit_server.app.endpoints["logit"]
    before = endpoint.batcher.inline
    runtime = endpoint.runtime
    assert runtime is not None
    assert runtime.fast  # the checked direct computation of a logistic regression
    cheap = runtime.cost < endpoint.batcher.inline_below

    body = {"rows": [row(models.X, 3)]}
    answer = httpx.post(f"{logit_server.url}/deployments/logit/predict", json=body).json()

    assert answer["predictions"][0]["score"] == pytest.approx(
        expected_proba(models.logit, models.X[3:4])[0, 1], rel=1e-12
    )
    assert endpoint.batcher.inline - before == (1 if cheap else 0)
