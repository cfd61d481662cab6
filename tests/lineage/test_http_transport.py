"""The HTTP transport against real servers on 127.0.0.1: delivered, authenticated, never fatal."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import loopline
from loopline.config import Settings
from loopline.tracking.service import TrackingService


def client_for(folder: Path, **settings: Any) -> loopline.Client:
    return loopline.Client(str(folder), settings=Settings(home=folder / "home", **settings))


def train_and_register(client: loopline.Client) -> str:
    version = client.datasets.create("scores", pd.DataFrame({"x": [1, 2, 3]}))
    run = client.create_run(client.create_experiment("http"), run_name="fit")
    client.datasets.log_input(run.id, version)
    client.registry.create_model_version(
        "scorer", run_id=run.id, artifact_path="model", flavor="sklearn",
        digest="sha256:" + "1" * 64, actor="ana",
    )  # fmt: skip
    client.set_terminated(run.id)
    return run.id


def dispose(client: loopline.Client) -> None:
    if isinstance(client.backend, TrackingService):
        client.backend.store.engine.dispose()


def test_events_are_posted_with_the_bearer_key(
    tmp_path: Path, recorder: Callable[..., Any], validate_event: Any
) -> None:
    endpoint = recorder()
    client = client_for(tmp_path, openlineage_transport="http", openlineage_url=endpoint.url + "/",
                        openlineage_api_key="s3cret")  # fmt: skip
    run_id = train_and_register(client)
    dispose(client)

    assert [path for path, _, _ in endpoint.requests] == ["/api/v1/lineage"] * 4
    for _, headers, _ in endpoint.requests:
        assert headers["Authorization"] == "Bearer s3cret"
        assert headers["Content-Type"] == "application/json"
    events = endpoint.events()
    for event in events:
        validate_event(event)
    assert [e["eventType"] for e in events] == ["START", "START", "COMPLETE", "COMPLETE"]
    assert events[-1]["run"]["facets"]["loopline"]["runId"] == run_id
    assert [d["name"] for d in events[-1]["inputs"]] == ["datasets/scores"]
    assert [d["name"] for d in events[-1]["outputs"]] == ["models/scorer"]
    assert not (tmp_path / "openlineage.jsonl").exists()


def test_a_down_endpoint_never_breaks_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = client_for(tmp_path, openlineage_transport="http",
                        openlineage_url=f"http://127.0.0.1:{port}")  # fmt: skip
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        run_id = train_and_register(client)
    elapsed = time.monotonic() - started
    assert client.get_run(run_id).info.status == "finished"
    assert client.registry.get_model_version("scorer", 1).run_id == run_id
    dispose(client)
    warnings = [r for r in caplog.records if r.name == "loopline.openlineage"]
    assert len(warnings) == 4
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert "not delivered" in warnings[0].getMessage()
    assert elapsed < 20  # connection refused is immediate; nothing retries


def test_an_error_status_is_a_warning(
    tmp_path: Path, recorder: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = recorder(status=500)
    client = client_for(tmp_path, openlineage_transport="http", openlineage_url=endpoint.url)
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        run = client.create_run(client.create_experiment("e"))
        client.set_terminated(run.id, "failed")
    assert client.get_run(run.id).info.status == "failed"
    dispose(client)
    assert [json.loads(b)["eventType"] for _, _, b in endpoint.requests] == ["START", "FAIL"]
    assert caplog.text.count("500") >= 2
