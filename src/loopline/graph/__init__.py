"""The lineage graph around a dataset version, run or model version.

``loopline.lineage(obj)`` is the SDK's door to it. Importing this package (the server does) makes
Python bind ``loopline.lineage`` to the package, so the package is callable too and does the same.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

from loopline.entities import LineageGraph
from loopline.lineage.refs import Ref, parse_ref, ref_of
from loopline.lineage.service import DEFAULT_DEPTH, LineageService

__all__ = ["LineageService", "Ref", "parse_ref", "ref_of"]


class _CallablePackage(types.ModuleType):
    def __call__(
        self, obj: Any, *, depth: int = DEFAULT_DEPTH, direction: str = "both", client: Any = None
    ) -> LineageGraph:
        # The SDK sits above this package; it is named at run time, as loopline/__init__ does.
        sdk = importlib.import_module("loopline.client.lineage")
        graph: LineageGraph = sdk.lineage(obj, depth=depth, direction=direction, client=client)
        return graph


sys.modules[__name__].__class__ = _CallablePackage
