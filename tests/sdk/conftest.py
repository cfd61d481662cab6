"""Every SDK test runs twice: against the local store and against a real loopline server.

The server is one uvicorn server, in a thread, for the whole session; each test still gets a fresh,
empty store, because the fixture swaps the service the app serves (``app.state.tracking``) for one
over the test's own temporary folder. The local mode points the SDK at a folder of its own.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import loopline
from api_server_support import ApiServer
from loopline.config import Settings
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service
from loopline.tracking.service import TrackingService

MODES = ["local", "remote"]


class LiveServer(ApiServer):
    """The API, serving whatever store is plugged in."""

    def __init__(self, service: TrackingService) -> None:
        super().__init__(create_app(service), log_level="warning")

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


@dataclass
class Target:
    """A fresh store the SDK can point at: a local folder, or a service the live server serves."""

    mode: str
    uri: str
    service: TrackingService | None = None
    server: LiveServer | None = None

    def use(self) -> None:
        """Point the fluent SDK (and, remotely, the live server) at this store."""
        if self.server is not None and self.service is not None:
            self.server.plug(self.service)
        loopline.set_uri(self.uri)

    @staticmethod
    def release() -> None:
        """End whatever runs a test left active and forget the SDK's URI and experiment."""
        while loopline.active_run() is not None:
            with contextlib.suppress(Exception):  # the test has failed already if this fails
                loopline.end_run()
        loopline.set_uri(None)

    def close(self) -> None:
        """Close the store's pooled database connections."""
        local = None if self.service else loopline.Client(self.uri).backend
        for backend in (self.service, local):
            if isinstance(backend, TrackingService):
                backend.store.engine.dispose()


@pytest.fixture(scope="session")
def new_target(live_server: LiveServer) -> Callable[[str, Path], Target]:
    """A factory of fresh, empty stores: ``new_target(mode, folder)``."""

    def make(mode: str, folder: Path) -> Target:
        if mode == "local":
            return Target(mode, str(folder / "store"))
        return Target(mode, live_server.url, service=_service(folder / "srv"), server=live_server)

    return make


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No LOOPLINE_* variable from the caller's shell; the embedded default under tmp_path."""
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOOPLINE_HOME", str(tmp_path / "home"))  # never ./.loopline of the repo


@pytest.fixture(params=MODES)
def mode(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clean_env: None,
    new_target: Callable[[str, Path], Target],
) -> Iterator[str]:
    """The SDK pointed at a fresh store: ``"local"`` (in-process) or ``"remote"`` (a server)."""
    target = new_target(request.param, tmp_path)
    target.use()
    yield request.param
    target.release()
    target.close()


@pytest.fixture
def uri(mode: str) -> str:
    """The URI the SDK talks to in this test (a folder or ``http://127.0.0.1:<port>``)."""
    return loopline.get_client().settings.uri or ""


@pytest.fixture
def client(uri: str) -> loopline.Client:
    """A ``loopline.Client`` for the same store as the fluent SDK."""
    return loopline.Client(uri)


@pytest.fixture
def experiment(mode: str) -> Any:
    """The current experiment of the test (its store is fresh, so the experiment is too)."""
    return loopline.set_experiment("sdk-tests")
