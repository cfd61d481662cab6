"""The tracking service over a fresh metadata store, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopline.artifacts import ArtifactStore
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService


@pytest.fixture
def service(db_url: str, tmp_path: Path) -> TrackingService:
    return TrackingService(SqlTrackingStore(db_url), ArtifactStore(str(tmp_path / "a")))


@pytest.fixture
def experiment_id(service: TrackingService) -> str:
    return service.create_experiment("exp")
