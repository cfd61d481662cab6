"""Fixtures of the audit tests: an audit log over ``db_url`` and raw SQL to tamper with it.

- ``log``: an :class:`AuditLog` over a fresh store (a SQLite file, then PostgreSQL), with a clock
  that starts at 1000 ms and steps 10 ms per event.
- ``seeded``: five events (seq 1-5) recorded in ``log``.
- ``sql``: runs raw SQL on the store's database in its own transaction, as an attacker would.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from loopline.audit import AuditEvent, AuditLog
from loopline.store import SqlTrackingStore

collect_ignore = ["conftest.py"]

RawSql = Callable[..., None]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store(db_url: str) -> SqlTrackingStore:
    return SqlTrackingStore(db_url)


@pytest.fixture
def log(store: SqlTrackingStore) -> AuditLog:
    ticks = itertools.count(1000, 10)
    return AuditLog(store, clock=lambda: next(ticks))


@pytest.fixture
def seeded(log: AuditLog) -> list[AuditEvent]:
    return [
        log.record("ana", "model.create", "model", "churn", {"n": 1}),
        log.record("bob", "alias.set", "model", "churn", {"alias": "champion", "version": 1}),
        log.record("ana", "token.create", "token", "t-1", {"role": "editor"}),
        log.record("cy", "approval.approve", "model_version", "churn/1", {"reason": "ok"}),
        log.record("bob", "alias.set", "model", "fraud", {"alias": "challenger"}),
    ]


@pytest.fixture
def sql(store: SqlTrackingStore) -> RawSql:
    def run(statement: str, **params: Any) -> None:
        with store.engine.begin() as conn:
            conn.execute(text(statement), params)

    return run
