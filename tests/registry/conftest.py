"""Fixtures of the registry tests: a registry over ``db_url`` (SQLite, then PostgreSQL).

- ``store``: a fresh metadata store; ``audit``: its audit log; ``registry``: the service.
- ``run_id``: an existing run to register versions from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loopline.artifacts import ArtifactStore
from loopline.audit import AuditLog
from loopline.registry import RegistryService
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService

collect_ignore = ["conftest.py"]


@pytest.fixture
def store(db_url: str) -> SqlTrackingStore:
    return SqlTrackingStore(db_url)


@pytest.fixture
def audit(store: SqlTrackingStore) -> AuditLog:
    return AuditLog(store)


@pytest.fixture
def registry(store: SqlTrackingStore, audit: AuditLog) -> RegistryService:
    return RegistryService(store, audit)


@pytest.fixture
def run_id(store: SqlTrackingStore, tmp_path: Path) -> str:
    tracking = TrackingService(store, ArtifactStore(str(tmp_path / "artifacts")))
    experiment_id = tracking.create_experiment("registry-tests")
    return tracking.create_run(experiment_id).info.run_id
