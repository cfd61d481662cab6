"""The parts of a policy as Python objects, and their canonical dict forms.

Each part is a frozen dataclass whose ``to_dict()`` is the same shape a YAML declaration has, so
``DecisionPolicy(thresholds=Thresholds(...))`` and ``DecisionPolicy.from_dict({"thresholds": ...})``
are one policy with one version. Validation happens once, on the dict, in :mod:`.model`.
Conditions (``when``) are mappings in both (see :mod:`loopline.policies.conditions`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Band",
    "CandidateAction",
    "ControlGroup",
    "NextBestAction",
    "Outliers",
    "Route",
    "Routing",
    "Thresholds",
]


@dataclass(frozen=True)
class Band:
    """``score >= min -> action``."""

    min: float
    action: str

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.min, "action": self.action}


@dataclass(frozen=True)
class Thresholds:
    """Bands from the highest ``min`` down (the first that holds wins), else ``default``."""

    bands: Sequence[Band | Mapping[str, Any]] = ()
    default: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"bands": [_plain(b) for b in self.bands], "default": self.default}


@dataclass(frozen=True)
class Route:
    """``when`` the condition holds, send the row to ``queue``."""

    when: Mapping[str, Any]
    queue: str
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "when": dict(self.when), "queue": self.queue}


@dataclass(frozen=True)
class Routing:
    """Ordered routes, first match wins, else ``default``."""

    rules: Sequence[Route | Mapping[str, Any]] = ()
    default: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rules": [_plain(r) for r in self.rules], "default": self.default}


@dataclass(frozen=True)
class CandidateAction:
    """A candidate: its value (a number or an input field name), the class scoring it, when."""

    name: str
    value: float | str
    when: Mapping[str, Any] | None = None
    model_class: int | str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "when": self.when,
            "class": self.model_class,
        }


@dataclass(frozen=True)
class NextBestAction:
    """Rank eligible candidates by model score x value, keep ``top_k``; none eligible: default."""

    actions: Sequence[CandidateAction | Mapping[str, Any]] = ()
    top_k: int = 1
    default: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "actions": [_plain(a) for a in self.actions],
            "top_k": self.top_k,
            "default": self.default,
        }


@dataclass(frozen=True)
class Outliers:
    """Feature bounds (``{low, high}`` or ``{categories}``); a flagged row may get ``action``."""

    features: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    action: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"features": {k: dict(v) for k, v in self.features.items()}, "action": self.action}


@dataclass(frozen=True)
class ControlGroup:
    """``share`` of requests gets the baseline ``action``; ``salt`` (default: the policy name)."""

    share: float
    action: str
    salt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"share": self.share, "action": self.action, "salt": self.salt}


def _plain(part: Any) -> Any:
    return part.to_dict() if hasattr(part, "to_dict") else part
