"""Loading refuses what it cannot trust, and the registry finds flavors, plugins included."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from loopline.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidStateError,
    MissingDependencyError,
    NotFoundError,
    UnsafePathError,
)
from loopline.modeling.flavors import (
    ENTRY_POINT_GROUP,
    Flavor,
    FlavorRegistry,
    LoadedModel,
    Trust,
    flavor_for,
    get_flavor,
    list_flavors,
    load_model,
    register_flavor,
    save_model,
)
from loopline.modeling.flavors.pyfunc import PyfuncFlavor
from loopline.modeling.flavors.sklearn import SklearnFlavor

X, Y = load_breast_cancer(return_X_y=True)


def clip_outliers(x: np.ndarray) -> np.ndarray:
    """A custom step: skops cannot know whether this function is safe to import."""
    return np.clip(x, -5, 5)


UNTRUSTED = f"{__name__}.clip_outliers"


def _custom_pipeline() -> Any:
    steps = (StandardScaler(), FunctionTransformer(clip_outliers), LogisticRegression())
    return make_pipeline(*steps).fit(X, Y)


def test_skops_file_with_custom_function_is_refused_naming_it(tmp_path: Path) -> None:
    meta = save_model(_custom_pipeline(), tmp_path)

    with pytest.raises(InvalidStateError, match="clip_outliers") as info:
        load_model(tmp_path, meta)

    assert info.value.details["untrusted_types"] == [UNTRUSTED]
    assert "trusted=" in info.value.message


@pytest.mark.parametrize("trusted", [True, [UNTRUSTED], UNTRUSTED])
def test_skops_file_loads_when_its_types_are_trusted(tmp_path: Path, trusted: Trust) -> None:
    model = _custom_pipeline()
    loaded = load_model(tmp_path, save_model(model, tmp_path), trusted=trusted)

    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


def test_trusting_other_names_does_not_unlock_the_file(tmp_path: Path) -> None:
    meta = save_model(_custom_pipeline(), tmp_path)

    with pytest.raises(InvalidStateError, match="clip_outliers"):
        load_model(tmp_path, meta, trusted=["numpy.clip"])


class Constant:
    def predict(self, x: Any) -> list[int]:
        return [7] * len(x)


def test_pickle_is_refused_without_trust(tmp_path: Path) -> None:
    meta = save_model(Constant(), tmp_path)

    for trusted in (False, [f"{__name__}.Constant"]):
        with pytest.raises(InvalidStateError, match="runs arbitrary code") as info:
            load_model(tmp_path, meta, trusted=trusted)
        assert "trusted=True" in info.value.message
    assert load_model(tmp_path, meta, trusted=True).predict([1, 2]) == [7, 7]


def test_pickle_refusal_does_not_read_the_file(tmp_path: Path) -> None:
    meta = save_model(Constant(), tmp_path)
    (tmp_path / meta["files"][0]).write_bytes(b"not a pickle at all")

    with pytest.raises(InvalidStateError, match="pickle"):
        load_model(tmp_path, meta)


def test_file_names_in_metadata_cannot_leave_the_folder(tmp_path: Path) -> None:
    meta = save_model(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y), tmp_path)

    with pytest.raises(UnsafePathError, match="plain file name"):
        load_model(tmp_path / "sub", {**meta, "files": ["../model.skops"]})


def test_missing_model_file_is_reported(tmp_path: Path) -> None:
    meta = save_model(LogisticRegression().fit(X[:, :3], Y), tmp_path / "a")

    with pytest.raises(InvalidStateError, match="missing"):
        load_model(tmp_path / "b", meta)


@pytest.mark.parametrize("model", [object(), 42, "model", LogisticRegression])
def test_unsupported_objects_are_refused(model: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="No flavor can save"):
        save_model(model, tmp_path)


def test_a_named_flavor_refuses_what_it_cannot_save(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="'sklearn' flavor cannot save"):
        save_model(Constant(), tmp_path, flavor="sklearn")
    with pytest.raises(InvalidArgumentError, match="onnxruntime cannot run it"):
        save_model(b"not an onnx graph", tmp_path)


def test_predict_proba_is_refused_when_the_model_has_none(tmp_path: Path) -> None:
    loaded = load_model(tmp_path, save_model(Constant(), tmp_path), trusted=True)

    with pytest.raises(InvalidStateError, match="no predict_proba"):
        loaded.predict_proba([1])


@pytest.mark.parametrize(
    ("blocked", "build", "extra"),
    [
        (("skops", "skops.io"), lambda: LogisticRegression().fit(X[:, :3], Y), "sklearn"),
        (("xgboost",), lambda: _xgb(), "xgboost"),
        (("lightgbm",), lambda: _lgbm(), "lightgbm"),
        (("onnxruntime",), lambda: b"\x08\x07", "onnx"),
        (("cloudpickle",), lambda: Constant(), "pyfunc"),
    ],
)
def test_missing_library_names_the_extra(
    blocked: tuple[str, ...], build: Any, extra: str, tmp_path: Path, monkeypatch: Any
) -> None:
    model = build()
    for module in blocked:
        monkeypatch.setitem(sys.modules, module, None)

    with pytest.raises(MissingDependencyError, match=rf"pip install 'loopline\[{extra}\]'"):
        save_model(model, tmp_path)


def _xgb() -> Any:
    from xgboost import XGBRegressor

    return XGBRegressor(n_estimators=2, n_jobs=1).fit(X, Y)


def _lgbm() -> Any:
    from lightgbm import LGBMRegressor

    return LGBMRegressor(n_estimators=2, verbose=-1, n_jobs=1).fit(X, Y)


def test_unfitted_wrappers_are_refused(tmp_path: Path) -> None:
    from lightgbm import LGBMClassifier
    from xgboost import XGBClassifier

    for model in (XGBClassifier(), LGBMClassifier()):
        with pytest.raises(InvalidArgumentError, match="not fitted"):
            save_model(model, tmp_path)


def test_builtin_flavors_and_lookup() -> None:
    assert list_flavors()[:5] == ["xgboost", "lightgbm", "onnx", "sklearn", "pyfunc"]
    assert isinstance(get_flavor("sklearn"), SklearnFlavor)
    with pytest.raises(NotFoundError, match="No flavor named 'catboost'; known flavors: xgboost"):
        get_flavor("catboost")


class EchoFlavor(Flavor):
    """A third-party flavor for objects that say so."""

    name = "echo"
    extra = "echo"

    def can_save(self, model: Any) -> bool:
        return getattr(model, "echo", False) is True

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "echo.txt").write_text("echo")
        return self._meta(model, files=["echo.txt"])

    def load(self, folder: Path, meta: Mapping[str, Any], *, trusted: Trust = False) -> LoadedModel:
        self._file(folder, meta)
        return LoadedModel(None, flavor=self.name, meta=meta, predict=lambda data: data)


class Echoing(Constant):
    echo = True


def test_register_flavor_takes_precedence_over_the_fallback(tmp_path: Path) -> None:
    registry = FlavorRegistry((PyfuncFlavor(),))
    registry.register(EchoFlavor())

    assert registry.flavor_for(Echoing()).name == "echo"
    assert registry.flavor_for(Constant()).name == "pyfunc"
    with pytest.raises(AlreadyExistsError, match="'echo' is already registered"):
        registry.register(EchoFlavor())
    registry.register(EchoFlavor(), replace=True)
    with pytest.raises(InvalidArgumentError, match="Flavor instance"):
        registry.register(EchoFlavor)  # type: ignore[arg-type]


def test_register_flavor_in_the_default_registry(tmp_path: Path, monkeypatch: Any) -> None:
    from loopline.modeling.flavors import registry as module

    monkeypatch.setattr(
        module, "_DEFAULT", FlavorRegistry(tuple(module._DEFAULT._flavors.values()))
    )
    register_flavor(EchoFlavor())

    assert flavor_for(Echoing()).name == "echo"
    meta = save_model(Echoing(), tmp_path)
    assert load_model(tmp_path, meta).predict("hi") == "hi"


def _install_fake_plugin(site: Path, body: str, *, entry: str = "echo") -> None:
    """A distribution on sys.path with a ``loopline.flavors`` entry point, as pip would leave it."""
    (site / "loopline_echo_plugin.py").write_text(textwrap.dedent(body))
    info = site / "loopline_echo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: loopline-echo-plugin\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n{entry} = loopline_echo_plugin:EchoFlavor\n"
    )


PLUGIN = f"""
    from {__name__} import EchoFlavor as _Echo

    class EchoFlavor(_Echo):
        pass
"""


def test_entry_point_plugins_are_found_and_imported_lazily(
    tmp_path: Path, monkeypatch: Any
) -> None:
    _install_fake_plugin(tmp_path, PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "loopline_echo_plugin", raising=False)
    registry = FlavorRegistry((SklearnFlavor(), PyfuncFlavor()), group=ENTRY_POINT_GROUP)

    assert "echo" in registry.names()
    assert registry.flavor_for(LogisticRegression().fit(X[:, :3], Y)).name == "sklearn"
    assert "loopline_echo_plugin" not in sys.modules

    assert registry.flavor_for(Echoing()).name == "echo"
    assert "loopline_echo_plugin" in sys.modules
    assert type(registry.get("echo")).__module__ == "loopline_echo_plugin"


def test_a_broken_plugin_is_named(tmp_path: Path, monkeypatch: Any) -> None:
    _install_fake_plugin(tmp_path, "raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "loopline_echo_plugin", raising=False)
    registry = FlavorRegistry((), group=ENTRY_POINT_GROUP)

    with pytest.raises(InvalidStateError, match=r"flavor plugin 'echo'.*RuntimeError: boom"):
        registry.get("echo")


def test_a_plugin_must_name_its_flavor_like_its_entry_point(
    tmp_path: Path, monkeypatch: Any
) -> None:
    _install_fake_plugin(tmp_path, PLUGIN, entry="parrot")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "loopline_echo_plugin", raising=False)
    registry = FlavorRegistry((), group=ENTRY_POINT_GROUP)

    with pytest.raises(InvalidStateError, match="must name a Flavor called 'parrot'"):
        registry.get("parrot")
