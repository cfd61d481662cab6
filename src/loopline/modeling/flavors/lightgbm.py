"""The LightGBM flavor: boosters and the scikit-learn wrappers, in LightGBM's text model format.

The text format holds trees and parameters only, so loading it runs no code from the file. A
wrapper such as ``LGBMClassifier`` loads back as a ``lightgbm.Booster``; the flavor keeps the
classifier's classes in the metadata so that ``predict`` still returns labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopline.modeling.flavors.base import Flavor, LoadedModel, Trust, comes_from

__all__ = ["LightGBMFlavor"]

_FILE = "model.txt"


class LightGBMFlavor(Flavor):
    """``lightgbm.Booster`` and its scikit-learn wrappers (``LGBMClassifier``...)."""

    name = "lightgbm"
    extra = "lightgbm"

    def can_save(self, model: Any) -> bool:
        return comes_from(model, "lightgbm") and (
            type(model).__name__ == "Booster" or hasattr(type(model), "booster_")
        )

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        if not self.can_save(model):
            raise self._refuse(model, "it is neither a lightgbm Booster nor a fitted wrapper.")
        lgb = self._import("lightgbm")
        booster = model
        classes: list[Any] | None = None
        if not isinstance(model, lgb.Booster):
            try:
                booster = model.booster_
            except Exception as exc:
                raise self._refuse(model, f"it is not fitted ({exc}).") from None
            if hasattr(model, "classes_"):
                classes = model.classes_.tolist()
        folder.mkdir(parents=True, exist_ok=True)
        booster.save_model(folder / _FILE)
        versions = {"lightgbm": lgb.__version__}
        return self._meta(model, files=[_FILE], classes=classes, versions=versions)

    def load(self, folder: Path, meta: Mapping[str, Any], *, trusted: Trust = False) -> LoadedModel:
        lgb = self._import("lightgbm")
        path = self._file(folder, meta)
        booster = lgb.Booster(model_file=path)
        classes = meta.get("classes")
        if classes is None:
            return LoadedModel(booster, flavor=self.name, meta=meta, predict=booster.predict)
        np = self._import("numpy")
        labels = np.asarray(classes)

        def predict_proba(data: Any) -> Any:
            scores = np.asarray(booster.predict(data))
            if scores.ndim == 1:
                return np.column_stack([1.0 - scores, scores])
            return scores

        def predict(data: Any) -> Any:
            return labels[np.argmax(predict_proba(data), axis=1)]

        return LoadedModel(
            booster, flavor=self.name, meta=meta, predict=predict, predict_proba=predict_proba
        )
