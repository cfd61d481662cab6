"""Reliable OpenLineage delivery against real HTTP servers on 127.0.0.1 (no mocked HTTP).

Retries with backoff for connection drops, timeouts, 408/429/502/503/504 (``Retry-After``
honoured); no retry for other answers; what still fails waits in the outbox and is re-sent in
order, exactly once, by the next emission or by ``flush_outbox``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import loopline
from loopline.config import Settings
from loopline.openlineage import (
    FlushResult,
    LineageDeliveryError,
    LineageEmitter,
    Outbox,
    ReliableHttpTransport,
    RetryPolicy,
    default_outbox_path,
    emitter_from_settings,
    flush_outbox,
)
from loopline.openlineage.retry import delivery_error, retry_after_seconds
from loopline.tracking.service import TrackingService

DROP = "drop"  # close the connection without an answer
Answer = int | str | tuple[int, dict[str, str]]


class Receiver:
    """An OpenLineage endpoint that answers from ``script`` (then 201) and keeps what it accepts."""

    def __init__(self, script: list[Answer], port: int = 0, delay: float = 0.0) -> None:
        self.script = list(script)
        self.delay = delay
        self.attempts: list[tuple[float, str]] = []  # (monotonic time, eventType) of every POST
        self.accepted: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(receiver.delay)
                event = json.loads(body)
                with receiver.lock:
                    receiver.attempts.append((time.monotonic(), event["eventType"]))
                    answer = receiver.script.pop(0) if receiver.script else 201
                    if answer == 201:
                        receiver.accepted.append(event)
                if answer == DROP:
                    return  # HTTP/1.0: the server closes the connection, no status line sent
                status, headers = answer if isinstance(answer, tuple) else (int(answer), {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self.http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.http.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(script: list[Answer] = [], *, port: int = 0, delay: float = 0.0) -> Receiver:  # noqa: B006
        started.append(Receiver(script, port, delay))
        return started[-1]

    yield start
    for each in started:
        each.close()


def unused_port() -> int:
    """A port nobody listens on (yet): connections to it are refused."""
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        return int(server.server_address[1])


def client_for(folder: Path, url: str, **settings: Any) -> loopline.Client:
    options: dict[str, Any] = {
        "home": folder / "home",
        "capture_environment": False,
        "openlineage_transport": "http",
        "openlineage_url": url,
        "openlineage_retry_backoff": 0.01,
        **settings,
    }
    return loopline.Client(str(folder), settings=Settings(**options))


def dispose(client: loopline.Client) -> None:
    if isinstance(client.backend, TrackingService):
        client.backend.store.engine.dispose()


def train_and_register(client: loopline.Client) -> str:
    """Four events: the run's START, the registration's START and COMPLETE, the run's COMPLETE."""
    version = client.datasets.create("scores", pd.DataFrame({"x": [1, 2, 3]}))
    run = client.create_run(client.create_experiment("retry"), run_name="fit")
    client.datasets.log_input(run.id, version)
    client.registry.create_model_version(
        "scorer", run_id=run.id, artifact_path="model", flavor="sklearn",
        digest="sha256:" + "1" * 64, actor="ana",
    )  # fmt: skip
    client.set_terminated(run.id)
    return run.id


def outbox_events(client: loopline.Client) -> list[dict[str, Any]]:
    path = default_outbox_path(client.settings)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "loopline.openlineage" and r.levelno >= logging.WARNING]  # fmt: skip


# -- retries ---------------------------------------------------------------------------------


def test_503_then_a_dropped_connection_then_201_delivers_once(
    tmp_path: Path, receiver: Callable[..., Receiver], validate_event: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    endpoint = receiver([503, DROP, 201])
    client = client_for(tmp_path, endpoint.url)
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        run = client.create_run(client.create_experiment("e"))
        client.set_terminated(run.id)
    dispose(client)
    assert [kind for _, kind in endpoint.attempts] == ["START"] * 3 + ["COMPLETE"]
    assert [e["eventType"] for e in endpoint.accepted] == ["START", "COMPLETE"]
    for event in endpoint.accepted:
        validate_event(event)
        assert event["run"]["facets"]["loopline"]["runId"] == run.id
    assert warnings_of(caplog) == []
    assert not default_outbox_path(client.settings).exists()


@pytest.mark.parametrize("status", [408, 429, 502, 504])
def test_each_retryable_status_is_retried(
    tmp_path: Path, receiver: Callable[..., Receiver], status: int
) -> None:
    endpoint = receiver([status, status])
    client = client_for(tmp_path, endpoint.url)
    client.create_run(client.create_experiment("e"))
    dispose(client)
    assert len(endpoint.attempts) == 3
    assert len(endpoint.accepted) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 413, 500])
def test_other_answers_are_not_retried_nor_kept(
    tmp_path: Path, recorder: Callable[..., Any], status: int, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = recorder(status=status)
    client = client_for(tmp_path, endpoint.url)
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        client.create_run(client.create_experiment("e"))
    dispose(client)
    assert len(endpoint.requests) == 1
    (warning,) = warnings_of(caplog)
    assert "not delivered" in warning
    assert f"HTTP {status}" in warning
    assert not default_outbox_path(client.settings).exists()


def test_retry_after_is_honoured(tmp_path: Path, receiver: Callable[..., Receiver]) -> None:
    endpoint = receiver([(429, {"Retry-After": "1"})])
    client = client_for(tmp_path, endpoint.url)
    client.create_run(client.create_experiment("e"))
    dispose(client)
    (first, _), (second, _) = endpoint.attempts
    assert second - first >= 0.95
    assert len(endpoint.accepted) == 1


def test_a_wait_past_the_budget_keeps_the_event_and_pauses_the_endpoint(
    tmp_path: Path, receiver: Callable[..., Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = receiver([(503, {"Retry-After": "30"})])
    client = client_for(tmp_path, endpoint.url)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        run = client.create_run(client.create_experiment("e"))
        client.set_terminated(run.id)
    elapsed = time.monotonic() - started
    dispose(client)
    assert elapsed < 5  # no 30 s sleep, and no attempt during the pause the server asked for
    assert [kind for _, kind in endpoint.attempts] == ["START"]
    assert [e["eventType"] for e in outbox_events(client)] == ["START", "COMPLETE"]
    first, second = warnings_of(caplog)
    assert "HTTP 503" in first
    assert "kept in" in first
    assert "paused" in second
    assert "kept in" in second
    assert flush_outbox(client.settings) == FlushResult(delivered=2, dropped=0, remaining=0)
    assert [e["eventType"] for e in endpoint.accepted] == ["START", "COMPLETE"]


def test_the_budget_bounds_one_emission(tmp_path: Path, receiver: Callable[..., Receiver]) -> None:
    endpoint = receiver([503] * 100)
    policy = RetryPolicy(retries=50, backoff=0.05, budget=0.5)
    transport = ReliableHttpTransport(endpoint.url, outbox=Outbox(tmp_path / "o.jsonl"),
                                      policy=policy)  # fmt: skip
    started = time.monotonic()
    with pytest.raises(LineageDeliveryError, match="HTTP 503"):
        transport.emit({"eventType": "START"})
    elapsed = time.monotonic() - started
    assert elapsed < 0.9
    assert 2 <= len(endpoint.attempts) < 50
    assert transport.outbox.pending() == 1
    started = time.monotonic()
    with pytest.raises(LineageDeliveryError, match="paused"):  # the next one does not wait
        transport.emit({"eventType": "COMPLETE"})
    assert time.monotonic() - started < 0.1
    assert transport.outbox.pending() == 2


def test_a_timeout_is_retried(tmp_path: Path, receiver: Callable[..., Receiver]) -> None:
    slow = receiver(delay=0.6)
    transport = ReliableHttpTransport(slow.url, outbox=Outbox(tmp_path / "outbox.jsonl"),
                                      timeout=0.2, policy=RetryPolicy(retries=1, budget=1.0,
                                                                      backoff=0.01))  # fmt: skip
    with pytest.raises(LineageDeliveryError, match=r"Timeout.*kept in"):
        transport.emit({"eventType": "START"})
    deadline = time.monotonic() + 10
    while len(slow.attempts) < 2 and time.monotonic() < deadline:  # the server is still asleep
        time.sleep(0.05)
    assert [kind for _, kind in slow.attempts] == ["START", "START"]
    assert transport.outbox.pending() == 1


# -- the outbox ------------------------------------------------------------------------------


def test_a_down_endpoint_spools_then_flush_sends_in_order_once(
    tmp_path: Path, receiver: Callable[..., Receiver], validate_event: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    port = unused_port()
    client = client_for(tmp_path, f"http://127.0.0.1:{port}")
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        run_id = train_and_register(client)
    assert client.get_run(run_id).info.status == "finished"
    kept = outbox_events(client)
    assert [(e["eventType"], e["job"]["name"]) for e in kept] == [
        ("START", f"experiments/{client.get_run(run_id).info.experiment_id}"),
        ("START", "models/scorer/register"),
        ("COMPLETE", "models/scorer/register"),
        ("COMPLETE", f"experiments/{client.get_run(run_id).info.experiment_id}"),
    ]
    assert len(warnings_of(caplog)) == 4  # one per event, none lost silently
    dispose(client)

    endpoint = receiver(port=port)
    assert flush_outbox(client.settings) == FlushResult(delivered=4, dropped=0, remaining=0)
    assert endpoint.accepted == kept
    for event in endpoint.accepted:
        validate_event(event)
    assert not default_outbox_path(client.settings).exists()
    assert flush_outbox(client.settings) == FlushResult(0, 0, 0)
    assert len(endpoint.attempts) == 4


def test_the_next_emission_sends_the_waiting_events_first(
    tmp_path: Path, receiver: Callable[..., Receiver], validate_event: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    port = unused_port()
    client = client_for(tmp_path, f"http://127.0.0.1:{port}")
    experiment = client.create_experiment("e")
    first = client.create_run(experiment, run_name="first")
    second = client.create_run(experiment, run_name="second")
    assert len(outbox_events(client)) == 2
    endpoint = receiver(port=port)
    time.sleep(0.2)  # past the pause after the failure (backoff 0.01 s)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        client.set_terminated(first.id)
    dispose(client)
    names = [(e["eventType"], e["run"]["facets"]["loopline"]["runName"]) for e in endpoint.accepted]
    assert names == [("START", "first"), ("START", "second"), ("COMPLETE", "first")]
    assert [e["run"]["runId"].replace("-", "") for e in endpoint.accepted] == [
        first.id,
        second.id,
        first.id,
    ]
    for event in endpoint.accepted:
        validate_event(event)
    assert warnings_of(caplog) == []
    assert outbox_events(client) == []


def test_a_refused_event_in_the_outbox_is_dropped_and_the_rest_go_on(
    tmp_path: Path, receiver: Callable[..., Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = receiver([201, 400, 201])
    outbox = Outbox(tmp_path / "outbox.jsonl")
    for kind in ("START", "RUNNING", "COMPLETE"):
        outbox.append({"eventType": kind})
    transport = ReliableHttpTransport(endpoint.url, outbox=outbox)
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        assert transport.flush() == FlushResult(delivered=2, dropped=1, remaining=0)
    assert [e["eventType"] for e in endpoint.accepted] == ["START", "COMPLETE"]
    assert "HTTP 400" in caplog.text


def test_concurrent_flushes_never_send_an_event_twice(
    tmp_path: Path, receiver: Callable[..., Receiver]
) -> None:
    endpoint = receiver(delay=0.002)
    path = tmp_path / "outbox.jsonl"
    for n in range(120):
        Outbox(path).append({"eventType": "OTHER", "n": n})
    # separate transports and outboxes, as in separate processes: only the file locks are shared
    flushers = [ReliableHttpTransport(endpoint.url, outbox=Outbox(path)) for _ in range(3)]
    threads = [threading.Thread(target=f.flush) for f in flushers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for flusher in flushers:  # a flush that found another running left the rest to it
        flusher.flush()
    assert [e["n"] for e in endpoint.accepted] == list(range(120))
    assert Outbox(path).pending() == 0


def test_an_event_emitted_during_a_flush_waits_its_turn(
    tmp_path: Path, receiver: Callable[..., Receiver]
) -> None:
    endpoint = receiver(delay=0.01)
    path = tmp_path / "outbox.jsonl"
    for n in range(30):
        Outbox(path).append({"eventType": "OTHER", "n": n})
    flusher = ReliableHttpTransport(endpoint.url, outbox=Outbox(path))
    thread = threading.Thread(target=flusher.flush)
    thread.start()
    time.sleep(0.05)
    ReliableHttpTransport(endpoint.url, outbox=Outbox(path)).emit({"eventType": "OTHER", "n": 30})
    thread.join()
    assert [e["n"] for e in endpoint.accepted] == list(range(31))


# -- settings and helpers --------------------------------------------------------------------


def test_settings_configure_retries_and_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPLINE_OPENLINEAGE_TRANSPORT", "http")
    monkeypatch.setenv("LOOPLINE_OPENLINEAGE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("LOOPLINE_OPENLINEAGE_RETRIES", "5")
    monkeypatch.setenv("LOOPLINE_OPENLINEAGE_RETRY_BACKOFF", "0.5")
    monkeypatch.setenv("LOOPLINE_OPENLINEAGE_RETRY_BUDGET", "4")
    monkeypatch.setenv("LOOPLINE_OPENLINEAGE_OUTBOX_PATH", str(tmp_path / "spool.jsonl"))
    transport = emitter_from_settings(Settings()).transport
    assert isinstance(transport, ReliableHttpTransport)
    assert transport.policy == RetryPolicy(retries=5, backoff=0.5, budget=4.0)
    assert transport.outbox.path == tmp_path / "spool.jsonl"
    store = Settings(uri=str(tmp_path / "store"), openlineage_outbox_path=None)
    assert default_outbox_path(store) == tmp_path / "store" / "openlineage-outbox.jsonl"
    assert LineageEmitter.disabled().flush() == FlushResult(0, 0, 0)


def test_retry_after_dates_and_what_is_retryable() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: now
    assert 50 < (retry_after_seconds(time.strftime(
        "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 60))) or 0) <= 60  # fmt: skip
    assert retry_after_seconds(None) is None
    assert not delivery_error(ValueError("Out of range float values")).retryable
    assert RetryPolicy(backoff=1, max_backoff=5).delay(10, jitter=1.0) == 5.0
    assert 0.5 <= RetryPolicy(backoff=1).delay(0) <= 1.0
