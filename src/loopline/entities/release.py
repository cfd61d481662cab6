"""Release entities: a model's release policy, stored evaluations, transitions, approvals, gates.

A version moves registered -> validated -> pending_approval -> approved | rejected -> retired
(see ``docs/release.md``). Each move is a :class:`Transition`; each reviewer's decision an
:class:`Approval` bound to the artifact digest and the :class:`GateReport` digest it saw.

Examples:
    >>> policy = ReleasePolicy(fairness_thresholds={"demographic_parity_ratio": 0.8})
    >>> policy.metric_for("regression"), policy.fairness_operators()
    ('rmse', {'demographic_parity_ratio': ('>=', 0.8)})
    >>> report = GateReport((Gate("signature_present", True, "the version has a signature"),))
    >>> report.passed, report.digest[:7]
    (True, 'sha256:')
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from loopline.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_PRIMARY_METRICS",
    "FAIRNESS_DIRECTIONS",
    "Approval",
    "Gate",
    "GateReport",
    "ReleasePolicy",
    "StoredEvaluation",
    "Transition",
]

DEFAULT_PRIMARY_METRICS = {"classification": "auc", "regression": "rmse"}
"""The primary metric of a policy that names none, by task."""

FAIRNESS_DIRECTIONS = {
    "demographic_parity_difference": "<=",
    "demographic_parity_ratio": ">=",
    "equalized_odds_difference": "<=",
}
"""How each fairness threshold reads: a ratio must be at least its limit, a difference at most."""

_METRICS = frozenset(
    {"accuracy", "auc", "brier_score", "f1", "log_loss", "precision", "recall"}
    | {"mae", "mape", "r2", "rmse"}
)


def _invalid(argument: str, constraint: str, value: object) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"The {argument!r} parameter of ReleasePolicy must be {constraint}. "
        f"Got {str(value)[:80]!r} instead.",
        field=argument,
    )


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ReleasePolicy:
    """The release rules of one registered model; checked when built.

    ``primary_metric`` ``None`` means ``auc`` for classification and ``rmse`` for regression.
    The model must beat its baseline on it by at least ``baseline_margin`` (direction-aware:
    for ``rmse`` the model's value must be that much lower). ``fairness_thresholds`` maps a
    disparity to its limit, read with :data:`FAIRNESS_DIRECTIONS`; groups smaller than
    ``min_group_size`` are reported but not scored.
    """

    required_approvals: int = 1
    primary_metric: str | None = None
    baseline_margin: float = 0.0
    fairness_thresholds: dict[str, float] = field(default_factory=dict)
    min_group_size: int = 30
    require_signature: bool = True

    def __post_init__(self) -> None:
        approvals = self.required_approvals
        if (
            isinstance(approvals, bool)
            or not isinstance(approvals, int)
            or not 1 <= approvals <= 20
        ):
            raise _invalid("required_approvals", "an integer from 1 to 20", approvals)
        if self.primary_metric is not None and self.primary_metric not in _METRICS:
            raise _invalid(
                "primary_metric", f"None or one of {sorted(_METRICS)}", self.primary_metric
            )
        if not _number(self.baseline_margin) or self.baseline_margin < 0:
            raise _invalid("baseline_margin", "a finite number >= 0", self.baseline_margin)
        if not isinstance(self.fairness_thresholds, Mapping):
            raise _invalid("fairness_thresholds", "a mapping", self.fairness_thresholds)
        for metric, limit in self.fairness_thresholds.items():
            if metric not in FAIRNESS_DIRECTIONS:
                raise _invalid(
                    "fairness_thresholds", f"keyed by {sorted(FAIRNESS_DIRECTIONS)}", metric
                )
            if not _number(limit) or limit < 0:
                raise _invalid(
                    "fairness_thresholds", f"finite numbers >= 0 (for {metric!r})", limit
                )
        object.__setattr__(
            self, "fairness_thresholds",
            {k: float(v) for k, v in sorted(self.fairness_thresholds.items())},
        )  # fmt: skip
        size = self.min_group_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise _invalid("min_group_size", "an integer >= 1", size)
        if not isinstance(self.require_signature, bool):
            raise _invalid("require_signature", "True or False", self.require_signature)
        object.__setattr__(self, "baseline_margin", float(self.baseline_margin))

    def metric_for(self, task: str) -> str:
        """The primary metric for ``task`` ("classification" or "regression")."""
        return self.primary_metric or DEFAULT_PRIMARY_METRICS[task]

    def fairness_operators(self) -> dict[str, tuple[str, float]]:
        """The thresholds as ``{metric: (operator, limit)}``, as ``check_thresholds`` takes them."""
        return {m: (FAIRNESS_DIRECTIONS[m], v) for m, v in self.fairness_thresholds.items()}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReleasePolicy:
        """A policy from :meth:`to_dict` output; unknown keys are refused."""
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise InvalidArgumentError(
                f"A release policy has the fields {sorted(cls.__dataclass_fields__)}. "
                f"Got the unknown field(s) {unknown} instead.",
                field=unknown[0],
            )
        return cls(**dict(data))


@dataclass(frozen=True, slots=True)
class StoredEvaluation:
    """One evaluation stored on a model version; ``result`` is the JSON document of
    ``docs/release.md`` (model and baseline metrics, comparison, importance, fairness)."""

    id: int
    name: str
    version: int
    created_by: str
    created_at: int
    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what the REST API answers); :meth:`from_dict` reverses it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredEvaluation:
        return cls(**{**data, "result": dict(data["result"])})


@dataclass(frozen=True, slots=True)
class Transition:
    """One release move of a version: who, when, why, from which status to which.

    ``from_status`` equals ``to_status`` for moves that change aliases only (``details``
    then holds ``action`` promote or rollback, and the ``alias``).
    """

    name: str
    version: int
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    at: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what the REST API answers); :meth:`from_dict` reverses it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transition:
        return cls(**{**data, "details": dict(data["details"])})


@dataclass(frozen=True, slots=True)
class Approval:
    """A reviewer's decision, bound to the artifact digest and gates digest it saw.

    ``valid`` is False, with ``void_reason``, once either digest no longer matches the version's
    current one ("artifact changed" or "gate results changed").
    """

    id: int
    name: str
    version: int
    approver: str
    decision: str
    reason: str
    artifact_digest: str
    gates_digest: str
    at: int
    valid: bool = True
    void_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what the REST API answers); :meth:`from_dict` reverses it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approval:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Gate:
    """One automatic release check and why it passed or failed."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class GateReport:
    """The automatic gates of a version; ``digest`` is sha256 over their canonical JSON."""

    gates: tuple[Gate, ...]
    evaluation_id: int | None = None

    @property
    def passed(self) -> bool:
        return all(gate.passed for gate in self.gates)

    @property
    def failed(self) -> list[Gate]:
        return [gate for gate in self.gates if not gate.passed]

    @property
    def digest(self) -> str:
        body = json.dumps(
            [asdict(gate) for gate in self.gates], sort_keys=True, separators=(",", ":")
        )
        return "sha256:" + hashlib.sha256(body.encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (``passed`` and ``digest`` included); :meth:`from_dict` reverses it.

        Examples:
            >>> report = GateReport((Gate("signature_present", False, "no signature"),), 3)
            >>> GateReport.from_dict(report.to_dict()) == report
            True
        """
        return {
            "passed": self.passed,
            "digest": self.digest,
            "evaluation_id": self.evaluation_id,
            "gates": [asdict(gate) for gate in self.gates],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateReport:
        gates = tuple(Gate(g["name"], g["passed"], g["detail"]) for g in data["gates"])
        return cls(gates, data.get("evaluation_id"))
