"""Fixtures of the deployment tests: a deployment service over ``db_url`` (SQLite, PostgreSQL).

- ``store``, ``audit``, ``registry``, ``service`` (its clock ticks 1 ms per call).
- ``models``: ``churn`` versions 1 and 2 (``champion`` names 1, ``challenger`` names 2) and
  ``fraud`` version 1, registered from one run (the artifact is never loaded here).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from loopline.artifacts import ArtifactStore
from loopline.audit import AuditLog
from loopline.deploy import DeploymentService
from loopline.registry import RegistryService
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService

collect_ignore = ["conftest.py"]

DIGEST = "sha256:" + "ab" * 32


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
def service(
    store: SqlTrackingStore, registry: RegistryService, audit: AuditLog
) -> DeploymentService:
    ticks = itertools.count(1_000)
    return DeploymentService(store, registry, audit, clock=lambda: next(ticks))


def register_models(store: SqlTrackingStore, registry: RegistryService, root: Path) -> None:
    """``churn`` v1 (champion), v2 (challenger) and ``fraud`` v1."""
    tracking = TrackingService(store, ArtifactStore(str(root / "artifacts")))
    run_id = tracking.create_run(tracking.create_experiment("deployments")).info.run_id
    for name in ("churn", "churn", "fraud"):
        registry.create_model_version(
            name, run_id=run_id, artifact_path="model", flavor="sklearn", digest=DIGEST,
            actor="ana",
        )  # fmt: skip
    store.set_model_alias("churn", "champion", 1, now=1)  # release aliases: the release's job
    store.set_model_alias("churn", "challenger", 2, now=1)


@pytest.fixture(scope="session")
def registrar() -> Callable[[SqlTrackingStore, RegistryService, Path], None]:
    """:func:`register_models`, for fixtures of other scopes (tests do not import conftest)."""
    return register_models


@pytest.fixture
def models(store: SqlTrackingStore, registry: RegistryService, tmp_path: Path) -> None:
    register_models(store, registry, tmp_path)
