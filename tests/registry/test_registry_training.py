"""A version records the dataset versions its run read; its training profile is the reference."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loopline.artifacts import ArtifactStore
from loopline.data.factory import dataset_service
from loopline.data.service import DatasetService
from loopline.entities import TrainingDataset
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.registry import RegistryService
from loopline.store import SqlTrackingStore

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def datasets(store: SqlTrackingStore, tmp_path: Path) -> DatasetService:
    return dataset_service(store, ArtifactStore(str(tmp_path / "artifacts")))


def _register(registry: RegistryService, run_id: str) -> int:
    return registry.create_model_version(
        "churn", run_id=run_id, artifact_path="m", flavor="sklearn", digest=DIGEST, actor="ana"
    ).version


def test_a_version_records_its_runs_inputs(
    registry: RegistryService, datasets: DatasetService, run_id: str
) -> None:
    train = datasets.create("customers", pd.DataFrame({"age": [31, 45, 27], "paid": [1, 0, 1]}))
    holdout = datasets.create("holdout", pd.DataFrame({"age": [50, 22]}))
    datasets.log_input(run_id, train, "training")
    datasets.log_input(run_id, holdout, "evaluation")

    version = registry.get_model_version("churn", _register(registry, run_id))

    assert sorted(version.training_datasets, key=lambda d: d.name) == [
        TrainingDataset("customers", 1, train.digest, "training"),
        TrainingDataset("holdout", 1, holdout.digest, "evaluation"),
    ]
    reference = registry.training_profile("churn", version.version)
    assert (reference.name, reference.version, reference.digest) == ("customers", 1, train.digest)
    assert reference.profile == train.profile
    assert reference.profile["age"]  # the stored per-column profile, ready for drift checks
    created = registry.audit.list(object_type="model_version")[-1]
    assert created.details["training_datasets"][0]["name"] in ("customers", "holdout")


def test_later_inputs_do_not_change_a_registered_version(
    registry: RegistryService, datasets: DatasetService, run_id: str
) -> None:
    number = _register(registry, run_id)
    datasets.log_input(run_id, datasets.create("late", pd.DataFrame({"x": [1]})), "training")
    assert registry.get_model_version("churn", number).training_datasets == []
    with pytest.raises(NotFoundError, match="no training data on record"):
        registry.training_profile("churn", number)
    assert registry.get_model_version("churn", _register(registry, run_id)).training_datasets


def test_several_training_datasets_need_a_choice(
    registry: RegistryService, datasets: DatasetService, run_id: str
) -> None:
    for name in ("a", "b"):
        datasets.log_input(run_id, datasets.create(name, pd.DataFrame({name: [1, 2]})))
    number = _register(registry, run_id)
    with pytest.raises(InvalidArgumentError, match=r"trained on 2 dataset versions \(a, b\)"):
        registry.training_profile("churn", number)
    assert registry.training_profile("churn", number, dataset="b").name == "b"
    with pytest.raises(NotFoundError, match="from dataset 'c'"):
        registry.training_profile("churn", number, dataset="c")
    with pytest.raises(NotFoundError, match="has no version 9"):
        registry.training_profile("churn", 9)
