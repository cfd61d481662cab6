"""The XGBoost flavor: boosters and the scikit-learn wrappers, in XGBoost's own UBJSON format.

The native format holds trees and parameters only, so loading it runs no code from the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopline.errors import InvalidArgumentError
from loopline.modeling.flavors.base import (
    Flavor,
    LoadedModel,
    Trust,
    comes_from,
    distribution_version,
)

__all__ = ["XGBoostFlavor"]

_FILE = "model.ubj"
_CLASSES = ("XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")
"""The wrappers the flavor rebuilds by name; anything else loads as a plain Booster."""


class XGBoostFlavor(Flavor):
    """``xgboost.Booster`` and its scikit-learn wrappers (``XGBClassifier``...)."""

    name = "xgboost"
    extra = "xgboost"

    def can_save(self, model: Any) -> bool:
        return comes_from(model, "xgboost") and (
            type(model).__name__ == "Booster" or callable(getattr(model, "get_booster", None))
        )

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        if not self.can_save(model):
            raise self._refuse(model, "it is neither an xgboost Booster nor a fitted wrapper.")
        xgb = self._import("xgboost")
        if not isinstance(model, xgb.Booster):
            try:
                model.get_booster()
            except Exception as exc:
                raise self._refuse(model, f"it is not fitted ({exc}).") from None
        folder.mkdir(parents=True, exist_ok=True)
        model.save_model(folder / _FILE)
        wrapper = type(model).__name__ if type(model).__name__ in _CLASSES else "Booster"
        versions = {"xgboost": xgb.__version__, "distribution": _distribution()}
        return self._meta(model, files=[_FILE], wrapper=wrapper, versions=versions)

    def load(self, folder: Path, meta: Mapping[str, Any], *, trusted: Trust = False) -> LoadedModel:
        xgb = self._import("xgboost")
        path = self._file(folder, meta)
        wrapper = meta.get("wrapper", "Booster")
        if wrapper == "Booster":
            booster = xgb.Booster()
            booster.load_model(path)

            def predict(data: Any) -> Any:
                return booster.predict(xgb.DMatrix(data))

            return LoadedModel(booster, flavor=self.name, meta=meta, predict=predict)
        if wrapper not in _CLASSES:
            raise InvalidArgumentError(
                f"The xgboost flavor metadata names an unknown wrapper {wrapper!r}; expected "
                f"one of {', '.join(('Booster', *_CLASSES))}.",
                flavor=self.name,
            )
        model = getattr(xgb, wrapper)()
        model.load_model(path)
        proba = model.predict_proba if hasattr(model, "predict_proba") else None
        return LoadedModel(
            model, flavor=self.name, meta=meta, predict=model.predict, predict_proba=proba
        )


def _distribution() -> str:
    """Which wheel provides the module: ``xgboost-cpu`` on CPU machines, else ``xgboost``."""
    return "xgboost-cpu" if distribution_version("xgboost-cpu") else "xgboost"
