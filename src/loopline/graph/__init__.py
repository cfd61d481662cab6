"""The lineage graph around a dataset version, run or model version.

The service behind ``loopline.lineage(obj)``; the package has its own name so that importing it
never shadows that SDK function (as ``loopline.data`` serves ``loopline.datasets``).
"""

from __future__ import annotations

from loopline.graph.refs import Ref, parse_ref, ref_of
from loopline.graph.service import DEFAULT_DEPTH, LineageService

__all__ = ["DEFAULT_DEPTH", "LineageService", "Ref", "parse_ref", "ref_of"]
