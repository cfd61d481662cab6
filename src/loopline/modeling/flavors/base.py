"""What a flavor is: a small class that saves one kind of model to a folder and loads it back.

A flavor writes plain files into a folder and returns JSON-ready metadata (file names, library
versions, model class); the registry stores that metadata and hands it back on load. Loading never
executes code from a file unless the caller trusts it: each flavor decides what that means for
its format (skops checks types against an allow-list, pickle is refused outright without trust).
"""

from __future__ import annotations

import importlib
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

from loopline.errors import (
    InvalidArgumentError,
    InvalidStateError,
    MissingDependencyError,
    UnsafePathError,
)

__all__ = [
    "Flavor",
    "LoadedModel",
    "Trust",
    "comes_from",
    "distribution_version",
    "import_optional",
    "model_class_name",
    "trusted_names",
]

Trust = bool | Sequence[str]
"""``True`` trusts everything in the files; a sequence trusts exactly those type names."""


def import_optional(module: str, *, flavor: str, extra: str) -> Any:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"The {flavor!r} flavor needs the {module!r} module: pip install 'loopline[{extra}]'.",
            module=module,
            extra=extra,
        ) from None


def trusted_names(trusted: Trust) -> frozenset[str]:
    """The type names a ``trusted`` argument names (none for a bool; a lone string is one name)."""
    if isinstance(trusted, bool):
        return frozenset()
    if isinstance(trusted, str):
        return frozenset({trusted})
    return frozenset(trusted)


def distribution_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, for flavor metadata; None when not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def model_class_name(model: Any) -> str:
    """``module.QualName`` of the model's class, as stored in flavor metadata."""
    kind = type(model)
    return f"{kind.__module__}.{kind.__qualname__}"


def comes_from(model: Any, package: str) -> bool:
    """Whether the model's class or one of its bases comes from ``package``.

    Reads ``type(model).__mro__`` only, so asking never imports the library.
    """
    return any(cls.__module__.split(".")[0] == package for cls in type(model).__mro__)


class LoadedModel:
    """A model loaded by a flavor, with one calling convention whatever its library.

    ``model`` is the library's own object (an estimator, a booster, an inference session...), for
    callers that need more than ``predict``.
    """

    def __init__(
        self,
        model: Any,
        *,
        flavor: str,
        meta: Mapping[str, Any],
        predict: Callable[[Any], Any],
        predict_proba: Callable[[Any], Any] | None = None,
    ) -> None:
        self.model = model
        self.flavor = flavor
        self.meta = dict(meta)
        self._predict = predict
        self._predict_proba = predict_proba

    def __repr__(self) -> str:
        return f"LoadedModel(flavor={self.flavor!r}, model_class={self.meta.get('model_class')!r})"

    @property
    def has_predict_proba(self) -> bool:
        """Whether :meth:`predict_proba` is available for this model."""
        return self._predict_proba is not None

    def predict(self, data: Any) -> Any:
        """The model's predictions for ``data``."""
        return self._predict(data)

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities for ``data``; raises when the model has none."""
        if self._predict_proba is None:
            raise InvalidStateError(
                f"The {self.flavor!r} model {self.meta.get('model_class')!r} has no "
                "predict_proba: it is not a probabilistic classifier.",
                flavor=self.flavor,
            )
        return self._predict_proba(data)


class Flavor(ABC):
    """Saves one kind of model to a local folder and loads it back.

    Subclasses set ``name`` (unique in the registry) and ``extra`` (the ``loopline[...]`` extra
    that installs their library), import that library inside their methods, and leave
    ``fallback`` False unless they accept almost anything (like ``pyfunc``): fallbacks are tried
    only after every other flavor declined a model.
    """

    name: ClassVar[str]
    extra: ClassVar[str]
    fallback: ClassVar[bool] = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    @abstractmethod
    def can_save(self, model: Any) -> bool:
        """Whether this flavor handles ``model``; cheap, and never imports the library."""

    @abstractmethod
    def save(self, model: Any, folder: Path) -> dict[str, Any]:
        """Write ``model`` into ``folder`` (created if needed); return JSON-ready metadata."""

    @abstractmethod
    def load(self, folder: Path, meta: Mapping[str, Any], *, trusted: Trust = False) -> LoadedModel:
        """Read the model that :meth:`save` wrote into ``folder``, given its metadata."""

    def _import(self, module: str) -> Any:
        return import_optional(module, flavor=self.name, extra=self.extra)

    def _refuse(self, model: Any, why: str) -> InvalidArgumentError:
        return InvalidArgumentError(
            f"The {self.name!r} flavor cannot save a {model_class_name(model)}: {why}",
            flavor=self.name,
            model_class=model_class_name(model),
        )

    def _meta(self, model: Any, *, files: Sequence[str], **fields: Any) -> dict[str, Any]:
        """The metadata every flavor returns, plus its own ``fields``."""
        python = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
        return {
            "flavor": self.name,
            "model_class": model_class_name(model),
            "files": list(files),
            "python_version": python,
            **fields,
        }

    def _file(self, folder: Path, meta: Mapping[str, Any], index: int = 0) -> Path:
        """The path of a file named in ``meta``, refusing names that could leave ``folder``."""
        files = meta.get("files")
        if not isinstance(files, list) or len(files) <= index:
            raise InvalidArgumentError(
                f"The {self.name!r} flavor metadata must list its files under 'files'; "
                f"got {files!r}.",
                flavor=self.name,
            )
        name = files[index]
        if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name:
            raise UnsafePathError(
                f"A flavor file name must be a plain file name; got {name!r}.", flavor=self.name
            )
        path = folder / name
        if not path.is_file():
            raise InvalidStateError(
                f"The {self.name!r} model file {name!r} is missing from {folder}.",
                flavor=self.name,
                file=name,
            )
        return path
