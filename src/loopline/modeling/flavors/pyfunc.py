"""The Python-function flavor: any object with a ``predict`` method, saved with cloudpickle.

Loading a pickle runs whatever code its author put in it, with your permissions: opening a file
from someone else is the same as running their script. So the flavor refuses to load unless the
caller passes ``trusted=True``; the registry does so only for artifacts whose digest belongs to an
approved version. Listing type names does not count: a pickle cannot be inspected safely.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopline.errors import InvalidStateError
from loopline.modeling.flavors.base import Flavor, LoadedModel, Trust

__all__ = ["PyfuncFlavor"]

_FILE = "model.pkl"


class PyfuncFlavor(Flavor):
    """The fallback: any Python object with a callable ``predict``, in a cloudpickle file."""

    name = "pyfunc"
    extra = "pyfunc"
    fallback = True

    def can_save(self, model: Any) -> bool:
        return not isinstance(model, type) and callable(getattr(model, "predict", None))

    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        if not self.can_save(model):
            raise self._refuse(model, "it has no predict method.")
        cloudpickle = self._import("cloudpickle")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / _FILE).write_bytes(cloudpickle.dumps(model))
        versions = {"cloudpickle": cloudpickle.__version__}
        return self._meta(model, files=[_FILE], versions=versions)

    def load(self, folder: Path, meta: Mapping[str, Any], *, trusted: Trust = False) -> LoadedModel:
        path = self._file(folder, meta)
        if trusted is not True:
            raise InvalidStateError(
                f"Refusing to load {path.name} ({meta.get('model_class')}): it is a pickle, and "
                "loading a pickle runs arbitrary code from the file with your permissions. "
                "Pass trusted=True only if you know who wrote it and that it was not changed "
                "since (the registry trusts artifacts of approved versions).",
                flavor=self.name,
                untrusted_types=[str(meta.get("model_class"))],
            )
        cloudpickle = self._import("cloudpickle")
        model = cloudpickle.loads(path.read_bytes())
        proba = model.predict_proba if callable(getattr(model, "predict_proba", None)) else None
        return LoadedModel(
            model, flavor=self.name, meta=meta, predict=model.predict, predict_proba=proba
        )
