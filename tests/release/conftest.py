"""Fixtures of the release tests: tracking, registry and release services over ``db_url``.

``db_url`` (tests/conftest.py) runs each test on a new SQLite file and on PostgreSQL.

- ``store``, ``tracking``, ``audit``, ``registry``, ``datasets``: services over one store.
- ``release``: the ReleaseService over them, with a clock that ticks one millisecond per call.
- ``cancer``: the breast-cancer data split into train and test frames, target column ``y``.
- ``log_version``: logs a fitted model in a new run by ``author`` and registers it by
  ``registrant``; returns the version.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from loopline.artifacts import ArtifactStore
from loopline.audit import AuditLog
from loopline.data.service import DatasetService
from loopline.entities import ModelVersion
from loopline.modeling.logged import log_model
from loopline.registry import RegistryService
from loopline.release import ReleaseService
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService

collect_ignore = ["conftest.py"]

LogVersion = Callable[..., ModelVersion]


@pytest.fixture
def store(db_url: str) -> SqlTrackingStore:
    return SqlTrackingStore(db_url)


@pytest.fixture
def tracking(store: SqlTrackingStore, tmp_path: Path) -> TrackingService:
    return TrackingService(store, ArtifactStore(str(tmp_path / "artifacts")))


@pytest.fixture
def audit(store: SqlTrackingStore) -> AuditLog:
    return AuditLog(store)


@pytest.fixture
def registry(store: SqlTrackingStore, audit: AuditLog) -> RegistryService:
    return RegistryService(store, audit)


@pytest.fixture
def datasets(store: SqlTrackingStore, tracking: TrackingService) -> DatasetService:
    return DatasetService(store, tracking.artifacts)


@pytest.fixture
def release(
    tracking: TrackingService, registry: RegistryService, datasets: DatasetService, audit: AuditLog
) -> ReleaseService:
    ticks = itertools.count(1_800_000_000_000)
    return ReleaseService(tracking, registry, datasets, audit, clock=lambda: next(ticks))


@pytest.fixture(scope="session")
def cancer() -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    train, test = train_test_split(frame, test_size=0.4, random_state=0, stratify=frame["y"])
    return train.reset_index(drop=True), test.reset_index(drop=True)


@pytest.fixture
def log_version(tracking: TrackingService, registry: RegistryService) -> LogVersion:
    def log(
        model: Any,
        example: pd.DataFrame | None,
        *,
        name: str = "cancer",
        author: str = "alice",
        registrant: str = "alice",
    ) -> ModelVersion:
        experiment_id = tracking.get_or_create_experiment("release-tests").experiment_id
        run_id = tracking.create_run(experiment_id, user_id=author).info.run_id
        info = log_model(
            tracking, registry, run_id, model, "model", input_example=example,
            registered_model_name=name, actor=registrant,
        )  # fmt: skip
        assert info.model_version is not None
        return info.model_version

    return log
