"""Each built-in flavor saves a real model to a folder and loads it back, predicting the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loopline.modeling.flavors import flavor_for, load_model, save_model

CANCER = load_breast_cancer(return_X_y=True)
DIABETES = load_diabetes(return_X_y=True)


def _scaled(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=0)) / x.std(axis=0)


def _logistic() -> tuple[Any, np.ndarray]:
    x, y = _scaled(CANCER[0]), CANCER[1]
    return LogisticRegression().fit(x, y), x


def _pipeline() -> tuple[Any, np.ndarray]:
    x, y = CANCER
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y), x


def _gradient_boosting() -> tuple[Any, np.ndarray]:
    x, y = CANCER
    return GradientBoostingClassifier(n_estimators=20, random_state=0).fit(x, y), x


def _random_forest() -> tuple[Any, np.ndarray]:
    x, y = DIABETES
    return RandomForestRegressor(n_estimators=20, random_state=0).fit(x, y), x


def _xgboost() -> tuple[Any, np.ndarray]:
    from xgboost import XGBClassifier

    x, y = CANCER
    return XGBClassifier(n_estimators=20, max_depth=3, n_jobs=1).fit(x, y), x


def _xgboost_booster() -> tuple[Any, np.ndarray]:
    from xgboost import XGBRegressor

    x, y = DIABETES
    return XGBRegressor(n_estimators=20, max_depth=3, n_jobs=1).fit(x, y).get_booster(), x


def _lightgbm() -> tuple[Any, np.ndarray]:
    from lightgbm import LGBMClassifier

    x, y = CANCER
    return LGBMClassifier(n_estimators=20, verbose=-1, n_jobs=1).fit(x, y), x


def _lightgbm_regressor() -> tuple[Any, np.ndarray]:
    from lightgbm import LGBMRegressor

    x, y = DIABETES
    return LGBMRegressor(n_estimators=20, verbose=-1, n_jobs=1).fit(x, y), x


CASES: dict[str, tuple[Callable[[], tuple[Any, np.ndarray]], str, bool]] = {
    "logistic": (_logistic, "sklearn", True),
    "pipeline": (_pipeline, "sklearn", True),
    "gradient_boosting": (_gradient_boosting, "sklearn", True),
    "random_forest": (_random_forest, "sklearn", False),
    "xgb_classifier": (_xgboost, "xgboost", True),
    "xgb_booster": (_xgboost_booster, "xgboost", False),
    "lgbm_classifier": (_lightgbm, "lightgbm", True),
    "lgbm_regressor": (_lightgbm_regressor, "lightgbm", False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_keeps_predictions(case: str, tmp_path: Path) -> None:
    build, flavor_name, probabilistic = CASES[case]
    model, x = build()
    assert flavor_for(model).name == flavor_name

    meta = save_model(model, tmp_path)
    meta = json.loads(json.dumps(meta))  # what the registry stores is plain JSON
    loaded = load_model(tmp_path, meta)

    assert meta["flavor"] == flavor_name
    assert meta["model_class"].endswith(type(model).__name__)
    assert all((tmp_path / name).is_file() for name in meta["files"])
    expected = model.predict(x) if case != "xgb_booster" else _booster_predict(model, x)
    np.testing.assert_allclose(loaded.predict(x), expected)
    assert loaded.has_predict_proba is probabilistic
    if probabilistic:
        np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x))


def _booster_predict(booster: Any, x: np.ndarray) -> Any:
    from xgboost import DMatrix

    return booster.predict(DMatrix(x))


def test_lightgbm_keeps_string_class_labels(tmp_path: Path) -> None:
    from lightgbm import LGBMClassifier

    x, y = CANCER
    labels = np.where(y == 1, "benign", "malignant")
    model = LGBMClassifier(n_estimators=10, verbose=-1, n_jobs=1).fit(x, labels)

    loaded = load_model(tmp_path, save_model(model, tmp_path))

    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_gradient_boosting_needs_no_trust_argument(tmp_path: Path) -> None:
    """skops does not trust sklearn's Tree by default; loopline's allow-list does."""
    import skops.io

    model, _ = _gradient_boosting()
    meta = save_model(model, tmp_path)

    assert skops.io.get_untrusted_types(file=tmp_path / meta["files"][0]) == [
        "sklearn.tree._tree.Tree"
    ]
    assert load_model(tmp_path, meta).model.n_estimators_ == 20


@pytest.fixture(scope="module")
def onnx_pipeline() -> tuple[Any, Any, np.ndarray]:
    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestClassifier

    x, y = CANCER
    x = x.astype(np.float32)
    pipe = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=10, random_state=0))
    pipe.fit(x, y)
    proto = to_onnx(pipe, x[:1], options={RandomForestClassifier: {"zipmap": False}})
    return pipe, proto, x


def test_onnx_round_trip(onnx_pipeline: tuple[Any, Any, np.ndarray], tmp_path: Path) -> None:
    import onnxruntime

    pipe, proto, x = onnx_pipeline
    assert flavor_for(proto).name == "onnx"
    session = onnxruntime.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    label, proba = session.run(None, {"X": x})

    meta = json.loads(json.dumps(save_model(proto, tmp_path)))
    loaded = load_model(tmp_path, meta)

    assert meta["inputs"][0]["name"] == "X"
    np.testing.assert_array_equal(loaded.predict(x), label)
    np.testing.assert_allclose(loaded.predict_proba(x), proba)
    np.testing.assert_array_equal(loaded.predict(x), pipe.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), pipe.predict_proba(x), atol=1e-5)


def test_onnx_accepts_bytes_frames_and_mappings(
    onnx_pipeline: tuple[Any, Any, np.ndarray], tmp_path: Path
) -> None:
    import pandas as pd

    pipe, proto, x = onnx_pipeline
    loaded = load_model(tmp_path, save_model(proto.SerializeToString(), tmp_path))
    frame = pd.DataFrame(x.astype(np.float64))

    np.testing.assert_array_equal(loaded.predict(frame), pipe.predict(x))
    np.testing.assert_array_equal(loaded.predict({"X": x.tolist()}), pipe.predict(x))


class MeanModel:
    """A custom model: predicts the training mean, shifted by a constant."""

    def __init__(self, shift: float) -> None:
        self.shift = shift

    def fit(self, y: np.ndarray) -> MeanModel:
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(len(x), self.mean_ + self.shift)


def test_pyfunc_round_trip_with_trust(tmp_path: Path) -> None:
    x, y = DIABETES
    model = MeanModel(shift=1.5).fit(y)
    assert flavor_for(model).name == "pyfunc"

    meta = json.loads(json.dumps(save_model(model, tmp_path)))
    loaded = load_model(tmp_path, meta, trusted=True)

    np.testing.assert_allclose(loaded.predict(x), model.predict(x))
    assert not loaded.has_predict_proba
