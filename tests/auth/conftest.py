"""Fixtures of the auth tests.

- ``clock``: a settable clock (epoch ms); ``store``/``audit``/``auth``: the service over
  ``db_url`` (SQLite, then PostgreSQL) with that clock.
- ``AuthServer``: a real uvicorn server on 127.0.0.1 in a thread, over a folder store, with auth
  on or off; ``secured`` (auth on, with users of every role and their tokens) and ``open_server``
  (auth off) are one per module.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from loopline.audit import AuditLog
from loopline.auth import AuthService, Role
from loopline.config import Settings
from loopline.server.app import create_app
from loopline.store import SqlTrackingStore
from loopline.tracking.factory import tracking_service

collect_ignore = ["conftest.py"]

START_MS = 1_800_000_000_000


class Clock:
    """Epoch milliseconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = START_MS

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url: str) -> SqlTrackingStore:
    return SqlTrackingStore(db_url)


@pytest.fixture
def audit(store: SqlTrackingStore) -> AuditLog:
    return AuditLog(store)


@pytest.fixture
def auth(store: SqlTrackingStore, audit: AuditLog, clock: Clock) -> AuthService:
    return AuthService(store, audit, clock=clock)


@dataclass
class AuthServer:
    """uvicorn in a daemon thread over a folder store; ``auth`` is the same store's service."""

    folder: Path
    auth_on: bool
    tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        settings = Settings(uri=str(self.folder), auth=self.auth_on)
        self.tracking = tracking_service(settings)
        self.auth = AuthService(self.tracking.store, AuditLog(self.tracking.store))
        self.app = create_app(self.tracking, settings)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port: int = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="critical",
                                access_log=False, lifespan="off", ws="none")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="auth-server", daemon=True)

    def __enter__(self) -> AuthServer:
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
        self.tracking.store.engine.dispose()

    def headers(self, user: str) -> dict[str, str]:
        """The Authorization header of ``user``'s token."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    """Auth on; users ``viewer``, ``editor``, ``approver`` and ``admin`` (role = name), each
    with a token in ``tokens``."""
    with AuthServer(tmp_path_factory.mktemp("secured"), auth_on=True) as server:
        for role in Role:
            server.auth.create_user(role.value, role, actor="setup")
            server.tokens[role.value] = server.auth.create_token(role.value, actor="setup")[1]
        yield server


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    """Auth off, as every server before auth existed."""
    with AuthServer(tmp_path_factory.mktemp("open"), auth_on=False) as server:
        yield server
