"""Import scikit-learn and numpy when an evaluation needs them, with the install hint.

They are optional (``loopline[sklearn]``), so evaluation and explanation import them lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

from loopline.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str) -> Any:
    """Import ``module``, or raise :class:`MissingDependencyError` naming the extra to install.

    Examples:
        >>> require("math").sqrt(4.0)
        2.0
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"Evaluation needs {module!r}: pip install 'loopline[sklearn]'.",
            module=module,
            extra="sklearn",
        ) from None
