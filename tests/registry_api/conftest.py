"""Fixtures of the registry API tests: one real uvicorn server on 127.0.0.1 for the session.

- ``server``: the server; each test plugs a fresh folder store into it (``app.state.tracking``).
- ``served``: that fresh store's tracking service; ``http``: an httpx client to the server.
- ``mode``: ``"local"`` or ``"remote"``, with the SDK pointed at a fresh store of that kind.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

import loopline
from loopline.config import Settings
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service
from loopline.tracking.service import TrackingService

collect_ignore = ["conftest.py"]


class Server:
    """uvicorn in a daemon thread, serving whatever tracking service is plugged into its app."""

    def __init__(self, folder: Path) -> None:
        self.app = create_app(tracking_service(Settings(uri=str(folder))))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port: int = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="critical",
                                access_log=False, lifespan="off", ws="none")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="registry-api", daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"the test server on {self.url} did not come up")

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("registry-api-boot")) as running:
        yield running


@pytest.fixture
def served(server: Server, tmp_path: Path) -> Iterator[TrackingService]:
    """A fresh, empty store that the server answers with during this test."""
    fresh = tracking_service(Settings(uri=str(tmp_path / "srv")))
    server.app.state.tracking = fresh
    yield fresh
    fresh.store.engine.dispose()


@pytest.fixture
def http(server: Server, served: TrackingService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOOPLINE_HOME", str(tmp_path / "home"))


@pytest.fixture(params=["local", "remote"])
def mode(
    request: pytest.FixtureRequest,
    server: Server,
    served: TrackingService,
    tmp_path: Path,
    clean_env: None,
) -> Iterator[str]:
    """The SDK pointed at a fresh store: a local folder, or the server (over ``served``)."""
    loopline.set_uri(str(tmp_path / "local") if request.param == "local" else server.url)
    yield request.param
    while loopline.active_run() is not None:
        loopline.end_run()
    loopline.set_uri(None)
