"""``DecisionPolicy``: the declaration, its canonical form and version, and ``decide``."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidArgumentError
from loopline.policies.conditions import condition_fields, invalid
from loopline.policies.loading import canonical_json, dump_yaml, load_yaml, read_policy_file
from loopline.policies.validation import normalize_policy

if TYPE_CHECKING:
    from loopline.policies.batch import DecisionBatch
    from loopline.policies.parts import (
        ControlGroup,
        NextBestAction,
        Outliers,
        Routing,
        Thresholds,
    )

__all__ = ["DecisionPolicy", "resolve_policy"]

_PARTS = ("thresholds", "routing", "next_best_action", "outliers", "control")


def _plain(part: Any) -> Any:
    return part.to_dict() if hasattr(part, "to_dict") else part


class DecisionPolicy:
    """Declarative rules that turn model scores (and inputs) into actions.

    Every part is optional; an empty policy decides the model's label. Validated on construction
    (``InvalidArgumentError`` naming the field path), immutable afterwards.

    Examples:
        >>> from loopline.policies import DecisionPolicy, Thresholds, Band, ControlGroup
        >>> policy = DecisionPolicy(
        ...     name="loans",
        ...     thresholds=Thresholds([Band(0.8, "reject"), Band(0.5, "review")], "approve"),
        ...     control=ControlGroup(share=0.1, action="approve"),
        ... )
        >>> policy == DecisionPolicy.from_yaml(policy.to_yaml())
        True
        >>> row = policy.decide([0.65], request_keys=["customer-7"]).to_rows()[0]
        >>> (row["action"], row["rule"], row["control"])
        ('review', 'thresholds[1]: score >= 0.5 -> review', False)
        >>> DecisionPolicy(thresholds={"bands": [{"min": "high", "action": "x"}]})
        Traceback (most recent call last):
        ...
        loopline.errors.InvalidArgumentError: thresholds.bands[0].min: expected a finite number, ...
    """

    __slots__ = ("_compiled", "_spec", "_version")

    def __init__(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        score: str = "auto",
        inputs: Sequence[str] | None = None,
        thresholds: Thresholds | Mapping[str, Any] | None = None,
        routing: Routing | Mapping[str, Any] | None = None,
        next_best_action: NextBestAction | Mapping[str, Any] | None = None,
        outliers: Outliers | Mapping[str, Any] | None = None,
        control: ControlGroup | Mapping[str, Any] | None = None,
    ) -> None:
        declared = {
            "name": name,
            "description": description,
            "score": score,
            "inputs": list(inputs) if inputs is not None else None,
            "thresholds": _plain(thresholds),
            "routing": _plain(routing),
            "next_best_action": _plain(next_best_action),
            "outliers": _plain(outliers),
            "control": _plain(control),
        }
        self._spec = normalize_policy(copy.deepcopy(declared))
        self._version = hashlib.sha256(canonical_json(self._spec).encode()).hexdigest()
        self._compiled: Any = None

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any] | None) -> DecisionPolicy:
        """A policy from its dict form (``None`` or ``{}``: the empty policy)."""
        if spec is None:
            return cls()
        if not isinstance(spec, Mapping):
            raise InvalidArgumentError(f"policy: expected a mapping, got {type(spec).__name__}")
        keys = ("name", "description", "score", "inputs", *_PARTS)
        for key in spec:
            if key not in keys:
                raise invalid(str(key), f"unknown key (use {', '.join(keys)})")
        return cls(**dict(spec))

    @classmethod
    def from_yaml(cls, text_or_path: str | Path) -> DecisionPolicy:
        """A policy from YAML text or a ``.yaml``/``.yml`` file (pyyaml: ``loopline[data]``)."""
        return cls.from_dict(load_yaml(text_or_path))

    def to_dict(self) -> dict[str, Any]:
        """The canonical declaration (a deep copy): ``from_dict(to_dict())`` is the same policy."""
        return copy.deepcopy(self._spec)

    def to_yaml(self) -> str:
        return dump_yaml(self.to_dict())

    @property
    def version(self) -> str:
        """sha256 (hex) of the canonical JSON: the same rules give the same version."""
        return self._version

    @property
    def name(self) -> str | None:
        return self._spec.get("name")

    @property
    def is_empty(self) -> bool:
        """No part declared: decisions are the model's labels."""
        return not any(key in self._spec for key in _PARTS)

    def fields(self) -> dict[str, str]:
        """Every input column the policy reads -> the first declaration path reading it."""
        found: dict[str, str] = {}
        spec = self._spec
        for i, rule in enumerate(spec.get("routing", {}).get("rules", [])):
            for name, where in condition_fields(rule["when"], f"routing.rules[{i}].when"):
                found.setdefault(name, where)
        for i, action in enumerate(spec.get("next_best_action", {}).get("actions", [])):
            where = f"next_best_action.actions[{i}]"
            if isinstance(action["value"], str):
                found.setdefault(action["value"], f"{where}.value")
            for name, path in condition_fields(action["when"] or {}, f"{where}.when"):
                found.setdefault(name, path)
        for name in spec.get("outliers", {}).get("features", {}):
            found.setdefault(name, f"outliers.features.{name}")
        return found

    def check_inputs(self, columns: Iterable[str]) -> None:
        """Raise naming the declaration path of the first field ``columns`` lacks."""
        available = set(columns)
        for name, where in self.fields().items():
            if name not in available:
                raise invalid(
                    where, f"unknown field {name!r} (inputs: {', '.join(sorted(available))})"
                )

    def with_outliers(
        self,
        source: Any,
        *,
        k: float = 1.5,
        action: str | None = None,
        columns: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
    ) -> DecisionPolicy:
        """A copy whose ``outliers`` part holds bounds from a DatasetVersion or profile.

        With no ``columns``, the policy's declared ``inputs`` (if any) limit the features.
        """
        from loopline.policies.outliers import outlier_bounds

        if columns is None and "inputs" in self._spec:
            columns = self._spec["inputs"]
        features = outlier_bounds(source, k=k, columns=columns, exclude=exclude)
        spec = self.to_dict()
        spec["outliers"] = {"features": features, "action": action}
        return DecisionPolicy.from_dict(spec)

    def decide(
        self,
        scores: Any,
        inputs: Any = None,
        *,
        request_keys: Sequence[Any] | None = None,
        rng: Any = None,
        classes: Sequence[Any] | None = None,
        labels: Sequence[Any] | None = None,
    ) -> DecisionBatch:
        """Decisions for n rows of model output, vectorised (numpy, no pandas).

        ``scores``: an (n,) or (n, k) array or list, or a mapping of named outputs.
        ``inputs``: a mapping column -> sequence, one dict row, or a list of dict rows.
        ``request_keys``: per-row keys that make control-group membership sticky; ``rng``: a
        numpy Generator or seed for keyless draws. ``classes`` names the columns of (n, k) scores
        (``proba[<class name>]``); ``labels``, the model's own predictions, is the action when the
        policy has neither thresholds nor next-best-action.
        """
        from loopline.policies.engine import compile_policy, decide

        if self._compiled is None:
            self._compiled = compile_policy(self._spec)
        return decide(
            self._compiled,
            self._version,
            scores,
            inputs,
            request_keys=request_keys,
            rng=rng,
            classes=classes,
            labels=labels,
        )

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # By declaration: compiled conditions are closures, and workers (Dask) recompile anyway.
        return (DecisionPolicy.from_dict, (self.to_dict(),))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DecisionPolicy):
            return NotImplemented
        return self._version == other._version

    def __hash__(self) -> int:
        return hash(self._version)

    def __repr__(self) -> str:
        parts = [k for k in _PARTS if k in self._spec]
        label = f" {self.name!r}" if self.name else ""
        return f"<DecisionPolicy{label} {'+'.join(parts) or 'empty'} version={self._version[:12]}>"


def resolve_policy(policy: Any) -> DecisionPolicy | None:
    """A DecisionPolicy from a policy, a dict, a ``.json``/``.yaml`` file path or YAML text; or
    None for None (what the SDK, bulk scoring and the CLI accept as ``policy``).

    Examples:
        >>> policy = resolve_policy({"name": "loans"})
        >>> policy.to_dict()["name"]
        'loans'
        >>> resolve_policy(None) is None
        True
    """
    if policy is None or isinstance(policy, DecisionPolicy):
        return policy
    if isinstance(policy, Mapping):
        return DecisionPolicy.from_dict(policy)
    if isinstance(policy, Path) or (
        isinstance(policy, str)
        and "\n" not in policy
        and policy.lower().endswith((".json", ".yaml", ".yml"))
    ):
        return DecisionPolicy.from_dict(read_policy_file(Path(policy)))
    if isinstance(policy, str):
        return DecisionPolicy.from_yaml(policy)
    raise InvalidArgumentError(
        "The 'policy' parameter must be a DecisionPolicy, a dict, or a YAML or JSON file. "
        f"Got {type(policy).__name__} instead.",
        field="policy",
    )
