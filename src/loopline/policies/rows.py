"""One row in plain Python: the inference server's per-request path, a few microseconds of work.

numpy charges about a microsecond per operation whatever the size, so a policy evaluated
vectorised over a single row costs tens of operations for nothing. This module decides one row
with the same compiled policy and the same semantics; a property test checks it against the
vectorised engine on random policies and rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from loopline.policies.batch import DecisionBatch
from loopline.policies.conditions import invalid, is_missing
from loopline.policies.control import generator, key_unit, salted_hasher

if TYPE_CHECKING:
    from loopline.policies.engine import CompiledPolicy

__all__ = ["RowValues", "decide_row"]


class RowValues:
    """One row's input values, plus the reserved fields (score, action, outlier)."""

    __slots__ = ("reserved", "row")

    def __init__(self, row: Mapping[str, Any] | None) -> None:
        self.row = row
        self.reserved: dict[str, Any] = {}

    def get(self, name: str, path: str) -> Any:
        if self.row is None:
            raise invalid(path, f"unknown field {name!r}: no inputs were given")
        try:
            return self.row[name]
        except KeyError:
            raise invalid(path, f"unknown field {name!r}: inputs[0] has no such key") from None

    def reserved_value(self, name: str, path: str) -> Any:
        if name not in self.reserved:
            raise invalid(path, f"{name!r} is not available here")
        return self.reserved[name]

    def number(self, name: str, path: str) -> float:
        value = self.get(name, path)
        try:
            return math.nan if value is None else float(value)
        except (TypeError, ValueError):
            raise invalid(path, f"input {name!r} must hold numbers, got {[value]!r}") from None


def decide_row(
    compiled: CompiledPolicy,
    version: str,
    score: float | None,
    probabilities: Sequence[float] | None,
    label: str | None,
    row: Mapping[str, Any] | None,
    *,
    key: Any,
    rng: Any,
) -> DecisionBatch:
    """The decision for one row; ``probabilities``: the model score of each NBA candidate."""
    spec = compiled.spec
    values = RowValues(row)
    if score is not None:
        values.reserved["score"] = score
    values.reserved["action"] = label
    if compiled.band_mins is not None:
        band = _band(compiled.band_list, score)
        action, rule = compiled.band_actions[band], compiled.band_rules[band]
        values.reserved["action"] = action
    else:
        action, rule = label, "model.label"
    ranked: list[tuple[int, float]] | None = None
    if compiled.candidates:
        ranked = _rank(compiled, values, probabilities or ())
        if compiled.band_mins is None:
            top = ranked[0][0] if ranked else -1
            action = compiled.candidates[top] if top >= 0 else spec["next_best_action"]["default"]
            rule = compiled.candidate_rules[top]
    model_action = action
    outlier = False
    features: tuple[str, ...] = ()
    if "outliers" in spec:
        features = _outliers(spec["outliers"]["features"], compiled.category_sets, values)
        outlier = bool(features)
        override = spec["outliers"]["action"]
        if outlier and override is not None:
            action, rule = override, compiled.outlier_rule
    values.reserved["outlier"] = outlier
    control = False
    if "control" in spec and spec["control"]["share"] > 0:
        part = spec["control"]
        unit = (
            key_unit(key, salted_hasher(part["salt"]))
            if key is not None
            else generator(rng).random()
        )
        control = unit < part["share"]
        if control:
            action, rule = part["action"], compiled.control_rule
    queue = route = None
    if "routing" in spec:
        values.reserved["action"] = action
        queue, route = spec["routing"]["default"], None
        route = "routing.default" if queue is not None else None
        for row_predicate, name, label_ in compiled.row_routes:
            if row_predicate(values):
                queue, route = name, label_
                break
    return DecisionBatch(
        policy_version=version,
        action=[action],
        rule=[rule],
        model_action=[model_action],
        control=[control],
        outlier=[outlier],
        outlier_features=[features],
        queue=[queue] if "routing" in spec else None,
        route=[route] if "routing" in spec else None,
        score=[score] if score is not None else None,
        ranked_index=[[j for j, _ in ranked]] if ranked is not None else None,
        ranked_value=[[v for _, v in ranked]] if ranked is not None else None,
        candidates=compiled.candidates,
    )


def _band(mins_descending: list[float], score: float | None) -> int:
    if score is None or score != score:
        return len(mins_descending)
    for i, low in enumerate(mins_descending):
        if score >= low:
            return i
    return len(mins_descending)


def _rank(
    compiled: CompiledPolicy, values: RowValues, probabilities: Sequence[float]
) -> list[tuple[int, float]]:
    nba = compiled.spec["next_best_action"]
    scored: list[tuple[float, int]] = []
    for j, candidate in enumerate(nba["actions"]):
        where = f"next_best_action.actions[{j}]"
        probability = probabilities[j]
        value = candidate["value"]
        if isinstance(value, str):
            value = values.number(value, f"{where}.value")
        expected = probability * value
        eligible = compiled.row_eligibility[j]
        if expected == expected and (eligible is None or eligible(values)):
            scored.append((-expected, j))
    scored.sort()
    return [(j, -negative) for negative, j in scored[: nba["top_k"]]]


def _outliers(
    features: Mapping[str, Any], categories: Mapping[str, frozenset[Any]], values: RowValues
) -> tuple[str, ...]:
    flagged = []
    for name, bound in features.items():
        where = f"outliers.features.{name}"
        value = values.get(name, where)
        if "categories" in bound:
            try:
                unseen = not is_missing(value) and value not in categories[name]
            except TypeError:
                raise invalid(where, f"expected categories, got values like {[value]!r}") from None
            if unseen:
                flagged.append(name)
            continue
        try:
            number = math.nan if value is None else float(value)
        except (TypeError, ValueError):
            raise invalid(where, f"expected numbers, got values like {[value]!r}") from None
        if ("low" in bound and number < bound["low"]) or (
            "high" in bound and number > bound["high"]
        ):
            flagged.append(name)
    return tuple(flagged)
