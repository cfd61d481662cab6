"""log_model, register and load_model through the SDK: signatures enforced, tampering refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import loopline
from loopline.errors import InvalidArgumentError, InvalidStateError, NotFoundError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    loopline.set_uri(str(tmp_path))
    yield tmp_path
    loopline.set_uri(None)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    frame, target = load_breast_cancer(return_X_y=True, as_frame=True)
    return frame, target.to_numpy()


def test_log_register_and_load_by_version_and_alias(
    store: Path, data: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, target = data
    model = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(frame, target)

    with loopline.start_run() as run:
        info = loopline.log_model(
            model, "model", input_example=frame.head(50), registered_model_name="cancer"
        )

    assert info.model_version is not None
    assert info.model_version.version == 1
    assert info.flavor == "sklearn"
    assert info.run_id == run.id
    client = loopline.get_client()
    client.registry.set_alias("cancer", "prod", 1, actor="tester")
    for uri in ("models:/cancer/1", "models:/cancer@prod", info.model_uri):
        loaded = loopline.load_model(uri)
        np.testing.assert_allclose(loaded.predict_proba(frame), model.predict_proba(frame))
    assert client.registry.audit.verify().ok


def test_predict_enforces_the_signature(store: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, target = data
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(frame, target)
    with loopline.start_run():
        loopline.log_model(model, input_example=frame, registered_model_name="lr")

    loaded = loopline.load_model("models:/lr/latest")

    assert list(loaded.predict(frame.head(3))) == list(model.predict(frame.head(3)))
    with pytest.raises(InvalidArgumentError, match="lacks the column"):
        loaded.predict(frame.drop(columns=["mean radius"]).head(3))
    with pytest.raises(InvalidArgumentError, match="Column 'mean area' must hold float"):
        loaded.predict(frame.head(3).assign(**{"mean area": "big"}))


def test_a_tampered_artifact_is_refused(store: Path, data: tuple[pd.DataFrame, np.ndarray]) -> None:
    frame, target = data
    model = LogisticRegression(max_iter=500).fit(StandardScaler().fit_transform(frame), target)
    with loopline.start_run():
        info = loopline.log_model(model, registered_model_name="np-model")
    files = loopline.get_client().backend.artifact_files(info.run_id, "model")
    model_blob = next(f for f in files if not f.path.endswith(".json"))
    hexdigest = (model_blob.digest or "").removeprefix("sha256:")
    blob = store / "artifacts" / "blobs" / "sha256" / hexdigest[:2] / hexdigest[2:]
    blob.write_bytes(blob.read_bytes()[:-10] + b"0123456789")

    with pytest.raises(InvalidStateError, match="tampered"):
        loopline.load_model("models:/np-model/1")
    assert info.digest.startswith("sha256:")


def test_bad_uris_and_unknown_models(store: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="models:/name"):
        loopline.load_model("s3://bucket/model")
    with pytest.raises(NotFoundError):
        loopline.load_model("models:/nope/1")
