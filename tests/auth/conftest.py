"""Fixtures of the auth tests.

- ``clock``: a settable clock (epoch ms); ``store``/``audit``/``auth``: the service over
  ``db_url`` (SQLite, then PostgreSQL) with that clock.
- ``AuthServer``: the shared ``ApiServer`` (uvicorn on 127.0.0.1 in a thread) over a folder
  store, with auth on or off; ``secured`` (auth on, with users of every role and their tokens)
  and ``open_server`` (auth off) are one per module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api_server_support import ApiServer
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


class AuthServer(ApiServer):
    """The API over a folder store, auth on or off; ``auth`` is the same store's service."""

    def __init__(self, folder: Path, *, auth_on: bool) -> None:
        settings = Settings(uri=str(folder), auth=auth_on)
        self.tracking = tracking_service(settings)
        self.auth = AuthService(self.tracking.store, AuditLog(self.tracking.store))
        self.tokens: dict[str, str] = {}
        super().__init__(create_app(self.tracking, settings))

    def stop(self) -> None:
        super().stop()
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
