"""Every SDK test runs twice: against the local store and against a real loopline server.

The server is one uvicorn process-thread for the whole session; each test still gets a fresh,
empty store, because the fixture swaps the service the app serves (``app.state.tracking``) for one
over the test's own temporary folder. The local mode points the SDK at a folder of its own.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

import loopline
from loopline.config import Settings
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service
from loopline.tracking.service import TrackingService

MODES = ["local", "remote"]


class LiveServer:
    """A uvicorn server on 127.0.0.1 in a daemon thread, serving whatever store is plugged in."""

    def __init__(self, service: TrackingService) -> None:
        self.app = create_app(service)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="loopline-test-server")
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"the test server on {self.url} did not come up")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def plug(self, service: TrackingService) -> None:
        """Serve ``service`` from now on (requests read ``app.state.tracking`` each time)."""
        self.app.state.tracking = service


def _service(folder: Path) -> TrackingService:
    return tracking_service(Settings(uri=str(folder)))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(_service(tmp_path_factory.mktemp("boot")))
    server.start()
    yield server
    server.stop()


def _end_active_runs() -> None:
    while loopline.active_run() is not None:
        loopline.end_run()


@pytest.fixture(params=MODES)
def mode(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The SDK pointed at a fresh store: ``"local"`` (in-process) or ``"remote"`` (a server)."""
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOOPLINE_HOME", str(tmp_path / "home"))  # never ./.loopline of the repo
    service: TrackingService | None = None
    if request.param == "local":
        uri = str(tmp_path / "store")
    else:
        server: LiveServer = request.getfixturevalue("live_server")
        service = _service(tmp_path / "srv")
        server.plug(service)
        uri = server.url
    loopline.set_uri(uri)
    yield request.param
    _end_active_runs()
    local = loopline.get_client().backend
    loopline.set_uri(None)
    for backend in (local, service):
        if isinstance(backend, TrackingService):
            backend.store.engine.dispose()


@pytest.fixture
def uri(mode: str) -> str:
    """The URI the SDK talks to in this test (a folder or ``http://127.0.0.1:<port>``)."""
    return loopline.get_client().settings.uri or ""


@pytest.fixture
def client(uri: str) -> loopline.Client:
    """A ``loopline.Client`` for the same store as the fluent SDK."""
    return loopline.Client(uri)


@pytest.fixture
def experiment(mode: str, request: pytest.FixtureRequest) -> Any:
    """A fresh current experiment, named after the test."""
    return loopline.set_experiment(f"exp-{request.node.name}")
