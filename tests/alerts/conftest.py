"""Real receivers on 127.0.0.1 for the alert sinks: an HTTP server and an SMTP server.

- ``store``: an alert store over ``db_url`` (a SQLite file, then PostgreSQL).
- ``receiver``: a threaded HTTP server that records each POSTed JSON body and its headers, and
  answers ``receiver.status`` (200 unless a test changes it).
- ``smtp``: an aiosmtpd server that collects each message; ``smtp.stop()`` and ``smtp.start()``
  take it down and bring it back on the same port.
- ``make_receiver``: starts more receivers, for example on a port that was closed before.
- ``smtp_factory``: starts more SMTP servers with aiosmtpd options (TLS, authentication).
- ``closed_port``: a port on 127.0.0.1 where nothing listens.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session

from loopline.store.alerts import AlertTables

collect_ignore = ["conftest.py"]


class _Store(AlertTables):
    pass


@pytest.fixture
def store(db_url: str) -> AlertTables:
    return _Store(db_url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    return free_port()


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: Any


class Receiver:
    """A webhook receiver: a ThreadingHTTPServer in a thread, recording what it is sent."""

    def __init__(self, port: int = 0) -> None:
        self.posts: list[Posted] = []
        self.status = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.posts.append(Posted(self.path, dict(self.headers), json.loads(raw)))
                    status = receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def bodies(self) -> list[Any]:
        with self._lock:
            return [p.body for p in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    """A factory: ``make_receiver(port=0)`` starts a receiver, closed at the end of the test."""
    started: list[Receiver] = []

    def make(port: int = 0) -> Receiver:
        started.append(Receiver(port))
        return started[-1]

    yield make
    for server in started:
        server.close()


@pytest.fixture
def receiver(make_receiver: Callable[..., Receiver]) -> Receiver:
    return make_receiver()


@dataclass
class _Collect:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    reject_with: str | None = None

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.reject_with is not None:
            return self.reject_with
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content or b""))
        return "250 Message accepted for delivery"


class Smtp:
    """An aiosmtpd server on a fixed free port, which tests can stop and start again."""

    def __init__(self, **server_kwargs: Any) -> None:
        self.handler = _Collect()
        self.port = free_port()
        self._kwargs = server_kwargs
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages

    def start(self) -> None:
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **self._kwargs
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_factory() -> Iterator[Callable[..., Smtp]]:
    """A factory: ``smtp_factory(**aiosmtpd_options)`` starts a server, stopped after the test."""
    started: list[Smtp] = []

    def make(**server_kwargs: Any) -> Smtp:
        started.append(Smtp(**server_kwargs))
        started[-1].start()
        return started[-1]

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def smtp(smtp_factory: Callable[..., Smtp]) -> Smtp:
    return smtp_factory()
