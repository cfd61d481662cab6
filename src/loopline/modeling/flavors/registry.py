"""Flavors by name: the built-in ones, those registered in code, and third-party plugins.

A plugin declares its flavor in the ``loopline.flavors`` entry-point group (the entry point's name
is the flavor's name, its value a :class:`Flavor` subclass or instance)::

    [project.entry-points."loopline.flavors"]
    catboost = "loopline_catboost:CatBoostFlavor"

Entry points are read on first need and loaded one by one: :func:`get_flavor` imports only the
plugin it is asked for, and :func:`flavor_for` imports plugins only when no built-in flavor
claims the model. A name already registered wins over an entry point of the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from loopline.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
)
from loopline.modeling.flavors.base import Flavor, LoadedModel, Trust, model_class_name
from loopline.modeling.flavors.lightgbm import LightGBMFlavor
from loopline.modeling.flavors.onnx import OnnxFlavor
from loopline.modeling.flavors.pyfunc import PyfuncFlavor
from loopline.modeling.flavors.sklearn import SklearnFlavor
from loopline.modeling.flavors.xgboost import XGBoostFlavor

__all__ = [
    "ENTRY_POINT_GROUP",
    "FlavorRegistry",
    "flavor_for",
    "get_flavor",
    "list_flavors",
    "load_model",
    "register_flavor",
    "save_model",
]

ENTRY_POINT_GROUP = "loopline.flavors"


class FlavorRegistry:
    """Flavors by name, in registration order, with plugins read lazily from entry points."""

    def __init__(self, flavors: tuple[Flavor, ...] = (), *, group: str | None = None) -> None:
        self._flavors: dict[str, Flavor] = {}
        self._group = group
        self._pending: dict[str, metadata.EntryPoint] | None = None if group else {}
        for flavor in flavors:
            self.register(flavor)

    def register(self, flavor: Flavor, *, replace: bool = False) -> None:
        """Add ``flavor`` under its name; ``replace=True`` swaps out one already there."""
        if not isinstance(flavor, Flavor):
            raise InvalidArgumentError(
                f"A flavor must be a loopline Flavor instance; got {type(flavor).__name__}.",
                field="flavor",
            )
        if flavor.name in self._flavors and not replace:
            raise AlreadyExistsError(
                f"A flavor named {flavor.name!r} is already registered "
                f"({self._flavors[flavor.name]!r}); pass replace=True to swap it.",
                name=flavor.name,
            )
        self._flavors[flavor.name] = flavor

    def get(self, name: str) -> Flavor:
        """The flavor called ``name``, importing its plugin if that is where it lives."""
        if name not in self._flavors and name in self._entry_points():
            self._load_entry_point(name)
        try:
            return self._flavors[name]
        except KeyError:
            raise NotFoundError(
                f"No flavor named {name!r}; known flavors: {', '.join(self.names())}.",
                name=name,
            ) from None

    def names(self) -> list[str]:
        """Every flavor's name, plugins included (not imported), in the order flavor_for tries."""
        flavors = self._flavors.values()
        first = [flavor.name for flavor in flavors if not flavor.fallback]
        last = [flavor.name for flavor in flavors if flavor.fallback]
        return [*first, *self._entry_points(), *last]

    def flavor_for(self, model: Any) -> Flavor:
        """The first flavor that can save ``model``; fallbacks (pyfunc) only after the rest."""
        found = self._first(model, fallback=False)
        if found is None:
            for name in list(self._entry_points()):
                self._load_entry_point(name)
            found = self._first(model, fallback=False) or self._first(model, fallback=True)
        if found is not None:
            return found
        raise InvalidArgumentError(
            f"No flavor can save a {model_class_name(model)}: loopline saves scikit-learn, "
            "XGBoost and LightGBM models, ONNX graphs, and any object with a predict method "
            f"(known flavors: {', '.join(self.names())}).",
            model_class=model_class_name(model),
        )

    def _first(self, model: Any, *, fallback: bool) -> Flavor | None:
        candidates = (f for f in self._flavors.values() if f.fallback is fallback)
        return next((flavor for flavor in candidates if flavor.can_save(model)), None)

    def _entry_points(self) -> dict[str, metadata.EntryPoint]:
        if self._pending is None:
            found = metadata.entry_points(group=str(self._group))
            self._pending = {ep.name: ep for ep in found}
        return {n: ep for n, ep in self._pending.items() if n not in self._flavors}

    def _load_entry_point(self, name: str) -> None:
        assert self._pending is not None
        entry_point = self._pending.pop(name)
        try:
            target = entry_point.load()
            flavor = target() if isinstance(target, type) else target
        except Exception as exc:
            raise InvalidStateError(
                f"The flavor plugin {name!r} ({entry_point.value}) failed to load: "
                f"{type(exc).__name__}: {exc}",
                name=name,
            ) from exc
        if not isinstance(flavor, Flavor) or flavor.name != name:
            raise InvalidStateError(
                f"The entry point {name!r} ({entry_point.value}) in group {self._group!r} must "
                f"name a Flavor called {name!r}; got {flavor!r}.",
                name=name,
            )
        self.register(flavor)


_DEFAULT = FlavorRegistry(
    (XGBoostFlavor(), LightGBMFlavor(), OnnxFlavor(), SklearnFlavor(), PyfuncFlavor()),
    group=ENTRY_POINT_GROUP,
)
"""XGBoost and LightGBM come before scikit-learn: their wrappers subclass its BaseEstimator."""


def register_flavor(flavor: Flavor, *, replace: bool = False) -> None:
    """Add a flavor to the default registry (plugins can use the entry-point group instead)."""
    _DEFAULT.register(flavor, replace=replace)


def get_flavor(name: str) -> Flavor:
    """The flavor called ``name``; raises :class:`NotFoundError` listing the known ones."""
    return _DEFAULT.get(name)


def list_flavors() -> list[str]:
    """The names of every known flavor, in the order :func:`flavor_for` tries them."""
    return _DEFAULT.names()


def flavor_for(model: Any) -> Flavor:
    """The flavor that saves ``model``; raises :class:`InvalidArgumentError` when none can."""
    return _DEFAULT.flavor_for(model)


def save_model(model: Any, folder: Path, *, flavor: str | None = None) -> dict[str, Any]:
    """Save ``model`` into ``folder`` with the named flavor, or the first that accepts it."""
    chosen = flavor_for(model) if flavor is None else get_flavor(flavor)
    return chosen.save(model, folder)


def load_model(folder: Path, meta: Mapping[str, Any], *, trusted: Trust = False) -> LoadedModel:
    """Load what :func:`save_model` wrote, with the flavor its metadata names."""
    name = meta.get("flavor")
    if not isinstance(name, str):
        raise InvalidArgumentError(
            f"Flavor metadata must name its flavor under 'flavor'; got {name!r}.", field="meta"
        )
    return get_flavor(name).load(folder, meta, trusted=trusted)
