"""Fixtures of the model card tests: a real registered scikit-learn model with a stored evaluation.

- ``tracking``: a tracking service over ``db_url`` (SQLite, then PostgreSQL) and a temp folder.
- ``cards``: the card service over it (with datasets and release); ``registry``, ``audit``.
- ``registered``: ``cancer`` v1, a LogisticRegression trained on a dataset version recorded as
  the run's training input; ``evaluated`` adds an evaluation stored by the release module
  (``evaluate_model``: metrics, the prior baseline, importance, coefficients, fairness by group).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loopline.artifacts import ArtifactStore
from loopline.audit import AuditLog
from loopline.cards import CardService
from loopline.registry import RegistryService
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService

collect_ignore = ["conftest.py"]

FEATURES = ["mean radius", "mean texture", "mean smoothness", "worst area"]


@dataclass
class Registered:
    name: str
    version: int
    frame: Any
    model: Any


@pytest.fixture(scope="session")
def cancer() -> Any:
    """Breast cancer rows: 4 features, the target, and a ``size`` group (``tiny`` has 12 rows)."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame[[*FEATURES, "target"]].copy()
    frame["size"] = ["large" if r > 13.4 else "small" for r in frame["mean radius"]]
    frame.loc[frame.index[:12], "size"] = "tiny <b>"
    return frame


@pytest.fixture
def tracking(db_url: str, tmp_path: Path) -> TrackingService:
    return TrackingService(SqlTrackingStore(db_url), ArtifactStore(str(tmp_path / "artifacts")))


@pytest.fixture
def audit(tracking: TrackingService) -> AuditLog:
    return AuditLog(tracking.store)


@pytest.fixture
def registry(tracking: TrackingService, audit: AuditLog) -> RegistryService:
    return RegistryService(tracking.store, audit)


@pytest.fixture
def cards(tracking: TrackingService, registry: RegistryService, audit: AuditLog) -> CardService:
    """The card service as the server and the SDK build it: with datasets and release."""
    from loopline.data.factory import dataset_service
    from loopline.release.service import ReleaseService

    datasets = dataset_service(tracking.store, tracking.artifacts)
    release = ReleaseService(tracking, registry, datasets, audit)
    return CardService(tracking.store, registry, audit, datasets, release=release)


def register_model(tracking: TrackingService, registry: RegistryService, cancer: Any) -> Registered:
    """Train on a recorded dataset version and register the model as ``cancer`` v1."""
    from sklearn.linear_model import LogisticRegression

    from loopline.data.factory import dataset_service
    from loopline.modeling.logged import log_model

    datasets = dataset_service(tracking.store, tracking.artifacts)
    train = datasets.create("cancer-train", cancer[[*FEATURES, "target"]])
    run = tracking.create_run(tracking.create_experiment("cards"))
    datasets.log_input(run.info.run_id, train, "training")
    model = LogisticRegression(max_iter=2000).fit(cancer[FEATURES], cancer["target"])
    info = log_model(
        tracking, registry, run.info.run_id, model, "model",
        input_example=cancer[FEATURES].head(20), registered_model_name="cancer", actor="ana",
    )  # fmt: skip
    assert info.model_version is not None
    return Registered("cancer", info.model_version.version, cancer, model)


def store_evaluation(
    tracking: TrackingService, registry: RegistryService, found: Registered
) -> dict[str, Any]:
    """Evaluate with the release module and store the result on the version."""
    from loopline.entities.release import ReleasePolicy
    from loopline.modeling.logged import load_logged_model
    from loopline.release.evaluate import evaluate_model

    loaded = load_logged_model(tracking, registry, f"models:/{found.name}/{found.version}")
    data = found.frame[[*FEATURES, "target"]]
    result = evaluate_model(
        loaded, data, target="target", train=data, policy=ReleasePolicy(min_group_size=30),
        sensitive_features=found.frame["size"],
    )  # fmt: skip
    tracking.store.insert_model_evaluation(
        found.name, found.version, result, created_by="eve", now=1_700_000_000_000
    )
    return result


@pytest.fixture
def registered(tracking: TrackingService, registry: RegistryService, cancer: Any) -> Registered:
    return register_model(tracking, registry, cancer)


@pytest.fixture
def evaluated(
    tracking: TrackingService, registry: RegistryService, registered: Registered
) -> dict[str, Any]:
    return store_evaluation(tracking, registry, registered)
