"""A serving process's start-up: the app built the way the process starts fastest.

Start-up imports ~2,500 modules (the store, scikit-learn, skops, pyarrow): the cyclic GC would
scan them again and again for no garbage (~0.45 s). :func:`prepared` collects once at the end
and freezes what start-up made, so later collections skip it too. scikit-learn and skops (the
sklearn flavor's loader) are imported first: measured ~0.25 s faster than after the store
(decision 44). This module imports nothing heavy itself, so callers can use it first.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
from collections.abc import Callable
from typing import TypeVar

__all__ = ["prepared", "warm_up_sklearn"]

T = TypeVar("T")

# skops walks every sklearn package once (``all_estimators``), which imports scikit-learn's
# vendored ``sklearn.externals.array_api_compat.dask`` and with it dask.array (~0.25 s). Nothing
# served needs it and the walk skips a package whose import fails, so dask is hidden while it
# runs (the trusted-types list is the same: 208 names). Only dask: array_api_compat's checks
# look up "dask.array" (never set here); hiding torch this way breaks scipy's
# ``is_torch_array``, which reads ``sys.modules["torch"]``.
_ARRAY_LIBRARIES = ("dask",)


def warm_up_sklearn() -> None:
    """Import scikit-learn and skops first, without the optional array libraries.

    Examples:
        >>> import sys
        >>> warm_up_sklearn()
        >>> "skops.io" in sys.modules and sys.modules.get("dask", "unset") is not None
        True
    """
    import sys

    hidden = [name for name in _ARRAY_LIBRARIES if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import fails: ImportError
    try:
        for module in ("sklearn.base", "skops.io"):  # a warm-up, not a use: by name
            importlib.import_module(module)
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


def prepared(build: Callable[[], T]) -> T:
    """``build()``'s result (the serving app), built with the cyclic GC off, scikit-learn and
    skops imported first (when skops is installed), then one collection and a freeze.

    Examples:
        >>> prepared(lambda: "app")
        'app'
    """
    gc.disable()
    try:
        if importlib.util.find_spec("skops") is not None:
            warm_up_sklearn()
        built = build()
    finally:
        gc.enable()
    gc.collect()
    gc.freeze()
    return built
