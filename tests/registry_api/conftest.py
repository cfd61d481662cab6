"""Fixtures of the registry API tests: one real uvicorn server on 127.0.0.1 for the session.

- ``server``: the server (the shared ``ApiServer``); each test plugs a fresh folder store into it
  (``app.state.tracking``).
- ``served``: that fresh store's tracking service; ``http``: an httpx client to the server.
- ``mode``: ``"local"`` or ``"remote"``, with the SDK pointed at a fresh store of that kind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import loopline
from api_server_support import ApiServer
from loopline.config import Settings
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service
from loopline.tracking.service import TrackingService

collect_ignore = ["conftest.py"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    boot = tracking_service(Settings(uri=str(tmp_path_factory.mktemp("registry-api-boot"))))
    with ApiServer(create_app(boot)) as running:
        yield running


@pytest.fixture
def served(server: ApiServer, tmp_path: Path) -> Iterator[TrackingService]:
    """A fresh, empty store that the server answers with during this test."""
    fresh = tracking_service(Settings(uri=str(tmp_path / "srv")))
    server.app.state.tracking = fresh
    yield fresh
    fresh.store.engine.dispose()


@pytest.fixture
def http(server: ApiServer, served: TrackingService) -> Iterator[httpx.Client]:
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
    server: ApiServer,
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
