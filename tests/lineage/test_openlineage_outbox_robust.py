"""The outbox survives a torn line, shares its locks per file, keeps its backlog on 401/403.

Real files, real threads and a real HTTP endpoint on 127.0.0.1; Windows (no ``flock``) is
played by giving the outbox module a ``sys`` whose platform is ``win32``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from loopline.errors import LineageDeliveryError, LooplineError
from loopline.openlineage import FlushResult, Outbox, ReliableHttpTransport
from loopline.openlineage import outbox as outbox_module
from loopline.openlineage.retry import delivery_error


class Endpoint:
    """Answers each POST with the next status of ``script`` (then 201); keeps what it accepts."""

    def __init__(self, script: list[int]) -> None:
        self.script = list(script)
        self.accepted: list[dict[str, Any]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                status = endpoint.script.pop(0) if endpoint.script else 201
                if status == 201:
                    endpoint.accepted.append(event)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint() -> Iterator[Callable[[list[int]], Endpoint]]:
    started: list[Endpoint] = []

    def start(script: list[int]) -> Endpoint:
        started.append(Endpoint(script))
        return started[-1]

    yield start
    for each in started:
        each.http.shutdown()
        each.http.server_close()


def fill(outbox: Outbox, count: int) -> None:
    for n in range(count):
        outbox.append({"eventType": "OTHER", "n": n})


# -- a torn last line --------------------------------------------------------------------------


def test_an_event_appended_after_a_torn_line_is_delivered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.jsonl"
    path.write_bytes(b'{"eventType":"START","n":0}\n{"eventType":"COMP')  # killed mid-write
    outbox = Outbox(path)
    outbox.append({"eventType": "COMPLETE", "n": 1})
    sent: list[dict[str, Any]] = []
    with caplog.at_level(logging.WARNING, logger="loopline.openlineage"):
        assert outbox.flush(sent.append) == FlushResult(delivered=2, dropped=1, remaining=0)
    assert [e["n"] for e in sent] == [0, 1]
    assert "Unreadable line dropped" in caplog.text


def test_appending_to_a_whole_file_adds_no_blank_line(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.jsonl")
    fill(outbox, 2)
    assert outbox.path.read_bytes().count(b"\n") == 2
    assert b"\n\n" not in outbox.path.read_bytes()


# -- thread locks shared by every Outbox of one file ---------------------------------------------


def test_two_outboxes_of_one_file_never_flush_together_without_flock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "sys", SimpleNamespace(platform="win32"))
    path = tmp_path / "outbox.jsonl"
    fill(Outbox(path), 3)
    first, second = Outbox(path), Outbox(tmp_path / "." / "outbox.jsonl")  # same file resolved
    sending, release = threading.Event(), threading.Event()
    sent: list[int] = []

    def slow_send(event: dict[str, Any]) -> None:
        sending.set()
        assert release.wait(10)
        sent.append(event["n"])

    worker = threading.Thread(target=first.flush, args=(slow_send,))
    worker.start()
    try:
        assert sending.wait(10)
        assert second.flush(lambda e: sent.append(e["n"])) == FlushResult(0, 0, 3)
    finally:
        release.set()
        worker.join()
    assert sent == [0, 1, 2]
    assert second.pending() == 0


def test_appends_from_two_outboxes_of_one_file_in_threads_all_arrive(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    outboxes = [Outbox(path), Outbox(path)]
    threads = [
        threading.Thread(target=lambda o=o, k=k: [o.append({"k": k, "n": n}) for n in range(50)])
        for k, o in enumerate(outboxes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent: list[dict[str, Any]] = []
    assert outboxes[0].flush(sent.append) == FlushResult(delivered=100, dropped=0, remaining=0)
    for k in (0, 1):
        assert [e["n"] for e in sent if e["k"] == k] == list(range(50))


# -- 401/403 keep the backlog; answers about the event drop it ---------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_credential_stops_the_flush_and_keeps_the_backlog(
    tmp_path: Path, endpoint: Callable[[list[int]], Endpoint], status: int
) -> None:
    answers = endpoint([201, status])
    outbox = Outbox(tmp_path / "outbox.jsonl")
    fill(outbox, 4)
    transport = ReliableHttpTransport(answers.url, outbox=outbox)
    result = transport.flush()
    assert (result.delivered, result.dropped, result.remaining) == (1, 0, 3)
    assert f"HTTP {status}" in (result.error or "")
    assert transport.flush() == FlushResult(delivered=3, dropped=0, remaining=0)  # key rotated
    assert [e["n"] for e in answers.accepted] == [0, 1, 2, 3]


@pytest.mark.parametrize("status", [400, 404, 413, 422])
def test_an_answer_about_the_event_drops_it_and_the_flush_goes_on(
    tmp_path: Path, endpoint: Callable[[list[int]], Endpoint], status: int
) -> None:
    answers = endpoint([201, status])
    outbox = Outbox(tmp_path / "outbox.jsonl")
    fill(outbox, 3)
    transport = ReliableHttpTransport(answers.url, outbox=outbox)
    assert transport.flush() == FlushResult(delivered=2, dropped=1, remaining=0)
    assert [e["n"] for e in answers.accepted] == [0, 2]


def test_what_a_delivery_error_says_to_do_with_the_event() -> None:
    import httpx

    request = httpx.Request("POST", "http://lineage.example/api/v1/lineage")

    def answer(status: int) -> LineageDeliveryError:
        response = httpx.Response(status, request=request)
        return delivery_error(httpx.HTTPStatusError("x", request=request, response=response))

    assert [(s, answer(s).retryable, answer(s).keep) for s in (401, 403, 400, 503)] == [
        (401, False, True),
        (403, False, True),
        (400, False, False),
        (503, True, True),
    ]


# -- the error lives in the one error tree ------------------------------------------------------


def test_the_delivery_error_is_in_the_error_tree_and_still_importable_from_openlineage() -> None:
    from loopline import openlineage
    from loopline.openlineage import retry

    assert openlineage.LineageDeliveryError is retry.LineageDeliveryError is LineageDeliveryError
    assert issubclass(LineageDeliveryError, LooplineError)
    error = LineageDeliveryError("HTTP 429", retry_after=3.0)
    assert (error.retryable, error.keep, error.retry_after, error.code) == (
        True,
        True,
        3.0,
        "LINEAGE_DELIVERY_FAILED",
    )
