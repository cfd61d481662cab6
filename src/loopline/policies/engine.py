"""Evaluating a policy over n rows at once: numpy columns in, a DecisionBatch out.

The order of a decision: the model's action (thresholds band, else the best next action, else the
model's label) -> the outlier override -> the control group -> queue routing on the final action.
``model_action`` keeps the first step. Rule labels are computed once per policy, never per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from loopline.policies.batch import Coded, DecisionBatch
from loopline.policies.conditions import (
    Predicate,
    RowPredicate,
    compile_condition,
    compile_row_condition,
    invalid,
)
from loopline.policies.control import in_control
from loopline.policies.inputs import Columns, is_row
from loopline.policies.outliers import evaluate_outliers
from loopline.policies.rows import decide_row
from loopline.policies.scores import Outputs

__all__ = ["CompiledPolicy", "compile_policy", "decide"]


def _objects(values: Sequence[Any]) -> Any:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


@dataclass
class CompiledPolicy:
    spec: dict[str, Any]
    band_mins: Any = None  # ascending, for searchsorted
    band_list: list[float] = field(default_factory=list)  # descending, for one row
    band_actions: Any = None  # object array: bands high -> low, then the default
    band_rules: Any = None
    routes: list[tuple[Predicate, str, str]] = field(default_factory=list)
    row_routes: list[tuple[RowPredicate, str, str]] = field(default_factory=list)
    candidates: tuple[str, ...] = ()
    candidate_rules: Any = None  # object array: one per candidate, then the default
    eligibility: list[Predicate | None] = field(default_factory=list)
    row_eligibility: list[RowPredicate | None] = field(default_factory=list)
    category_sets: dict[str, frozenset[Any]] = field(default_factory=dict)
    outlier_rule: str = ""
    control_rule: str = ""


def compile_policy(spec: dict[str, Any]) -> CompiledPolicy:
    """Precompute what every call needs: band arrays, rule labels, compiled conditions."""
    compiled = CompiledPolicy(spec=spec)
    thresholds = spec.get("thresholds")
    if thresholds is not None:
        bands = thresholds["bands"]
        default = thresholds["default"]
        compiled.band_list = [b["min"] for b in bands]
        compiled.band_mins = np.array(compiled.band_list[::-1], dtype=np.float64)
        compiled.band_actions = _objects([b["action"] for b in bands] + [default])
        rules = [
            f"thresholds[{i}]: score >= {b['min']:g} -> {b['action']}" for i, b in enumerate(bands)
        ]
        low = f": score < {bands[-1]['min']:g}" if bands else ""
        rules.append(f"thresholds.default{low} -> {default}")
        compiled.band_rules = _objects(rules)
    for i, rule in enumerate(spec.get("routing", {}).get("rules", [])):
        where = f"routing.rules[{i}]"
        label = f"{where} ({rule['name']})" if rule["name"] else where
        when = rule["when"]
        compiled.routes.append((compile_condition(when, f"{where}.when"), rule["queue"], label))
        compiled.row_routes.append(
            (compile_row_condition(when, f"{where}.when"), rule["queue"], label)
        )
    nba = spec.get("next_best_action")
    if nba is not None:
        compiled.candidates = tuple(a["name"] for a in nba["actions"])
        labels = [
            f"next_best_action.actions[{i}] -> {name}" for i, name in enumerate(compiled.candidates)
        ]
        labels.append(f"next_best_action.default: none eligible -> {nba['default']}")
        compiled.candidate_rules = _objects(labels)
        for i, action in enumerate(nba["actions"]):
            where = f"next_best_action.actions[{i}].when"
            when = action["when"]
            compiled.eligibility.append(compile_condition(when, where) if when else None)
            compiled.row_eligibility.append(compile_row_condition(when, where) if when else None)
    outliers = spec.get("outliers")
    if outliers is not None:
        compiled.category_sets = {
            name: frozenset(bound["categories"])
            for name, bound in outliers["features"].items()
            if "categories" in bound
        }
        compiled.outlier_rule = f"outliers: outside the training profile -> {outliers['action']}"
    if "control" in spec:
        compiled.control_rule = f"control: baseline -> {spec['control']['action']}"
    return compiled


def decide(
    compiled: CompiledPolicy,
    version: str,
    scores: Any,
    inputs: Any,
    *,
    request_keys: Sequence[Any] | None,
    rng: Any,
    classes: Sequence[Any] | None,
    labels: Sequence[Any] | None,
) -> DecisionBatch:
    spec = compiled.spec
    outputs = Outputs(scores, classes)
    n = outputs.n
    score = outputs.score(spec["score"], required="thresholds" in spec)
    if request_keys is not None and len(request_keys) != n:
        raise invalid("request_keys", f"{len(request_keys)} keys for {n} rows of scores")
    row = _single_row(inputs) if n == 1 else _NOT_ONE_ROW
    if row is not _NOT_ONE_ROW:
        return _decide_one(compiled, version, outputs, score, row, request_keys, rng, labels)
    columns = Columns(inputs, n)
    if score is not None:
        columns.reserved["score"] = score
    coded_action: Coded | None = None
    coded_rule: Coded | None = None
    if compiled.band_mins is not None:
        band = _bands(compiled.band_mins, score)
        action, rule = compiled.band_actions[band], compiled.band_rules[band]
        coded_action = Coded(band, tuple(compiled.band_actions))
        coded_rule = Coded(band, tuple(compiled.band_rules))
    else:
        action = _labels(outputs, labels, n)
        rule = np.full(n, "model.label", dtype=object)
        coded_rule = Coded(np.zeros(n, dtype=np.intp), ("model.label",))
    columns.reserved["action"] = action
    ranked_index = ranked_value = None
    if compiled.candidates:
        ranked_index, ranked_value = _rank(compiled, outputs, columns, score, n)
        if compiled.band_mins is None:
            top = ranked_index[:, 0]
            default = spec["next_best_action"]["default"]
            action = np.where(top >= 0, _objects(compiled.candidates)[top], default)
            rule = compiled.candidate_rules[top]  # -1 is the default's label, the last one
            chosen = np.where(top >= 0, top, len(compiled.candidates))
            coded_action = Coded(chosen, (*compiled.candidates, default))
            coded_rule = Coded(chosen, tuple(compiled.candidate_rules))
    model_action = action
    coded_model_action = coded_action
    outlier = np.zeros(n, bool)
    outlier_features: list[tuple[str, ...]] = [()] * n
    if "outliers" in spec:
        outlier, outlier_features = evaluate_outliers(
            spec["outliers"]["features"], columns, n, "outliers"
        )
        override = spec["outliers"]["action"]
        if override is not None and outlier.any():
            action = np.where(outlier, override, action)
            rule = np.where(outlier, compiled.outlier_rule, rule)
            coded_action = coded_action and coded_action.where(outlier, override)
            coded_rule = coded_rule.where(outlier, compiled.outlier_rule)
    columns.reserved["outlier"] = outlier
    control = _control(spec.get("control"), request_keys, n, rng)
    if control.any():
        baseline = spec["control"]["action"]
        action = np.where(control, baseline, action)
        rule = np.where(control, compiled.control_rule, rule)
        coded_action = coded_action and coded_action.where(control, baseline)
        coded_rule = coded_rule.where(control, compiled.control_rule)
    queue = route = None
    if "routing" in spec:
        columns.reserved["action"] = action
        queue, route = _route(compiled, spec["routing"]["default"], columns, n)
    coded = {"rule": coded_rule}
    if coded_action is not None and coded_model_action is not None:
        coded.update(action=coded_action, model_action=coded_model_action)
    return DecisionBatch(
        policy_version=version,
        action=action,
        rule=rule,
        model_action=model_action,
        control=control,
        outlier=outlier,
        outlier_features=outlier_features,
        queue=queue,
        route=route,
        score=score,
        ranked_index=ranked_index,
        ranked_value=ranked_value,
        candidates=compiled.candidates,
        coded=coded,
    )


_NOT_ONE_ROW: Any = object()


def _single_row(inputs: Any) -> Any:
    """The one dict row of ``inputs`` (None for no inputs), or ``_NOT_ONE_ROW``."""
    if inputs is None:
        return None
    if isinstance(inputs, Mapping):
        return inputs if is_row(inputs) else _NOT_ONE_ROW
    if isinstance(inputs, list | tuple) and len(inputs) == 1 and isinstance(inputs[0], Mapping):
        return inputs[0]
    return _NOT_ONE_ROW


def _decide_one(
    compiled: CompiledPolicy,
    version: str,
    outputs: Outputs,
    score: Any,
    row: Mapping[str, Any] | None,
    request_keys: Sequence[Any] | None,
    rng: Any,
    labels: Sequence[Any] | None,
) -> DecisionBatch:
    label = _labels(outputs, labels, 1)[0] if compiled.band_mins is None else None
    probabilities = None
    if compiled.candidates:
        actions = compiled.spec["next_best_action"]["actions"]
        probabilities = [
            float(
                outputs.class_score(a["class"], a["name"], score, f"next_best_action.actions[{j}]")[
                    0
                ]
            )
            for j, a in enumerate(actions)
        ]
    return decide_row(
        compiled,
        version,
        float(score[0]) if score is not None else None,
        probabilities,
        label,
        row,
        key=request_keys[0] if request_keys is not None else None,
        rng=rng,
    )


def _bands(mins_ascending: Any, score: Any) -> Any:
    count = len(mins_ascending)
    band = count - np.searchsorted(mins_ascending, score, side="right")
    missing = np.isnan(score)
    if missing.any():
        band[missing] = count
    return band


def _labels(outputs: Outputs, labels: Sequence[Any] | None, n: int) -> Any:
    if labels is not None:
        values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
        if len(values) != n:
            raise invalid("labels", f"{len(values)} labels for {n} rows of scores")
        return _objects([None if v is None else str(v) for v in values])
    names = outputs.argmax_labels()
    return names if names is not None else np.full(n, None, dtype=object)


def _rank(
    compiled: CompiledPolicy, outputs: Outputs, columns: Columns, score: Any, n: int
) -> tuple[Any, Any]:
    nba = compiled.spec["next_best_action"]
    m = len(nba["actions"])
    expected = np.empty((n, m), dtype=np.float64)
    for j, candidate in enumerate(nba["actions"]):
        where = f"next_best_action.actions[{j}]"
        probability = outputs.class_score(candidate["class"], candidate["name"], score, where)
        value = candidate["value"]
        if isinstance(value, str):
            value = columns.numbers(value, f"{where}.value")
        expected[:, j] = probability * value
        eligible = compiled.eligibility[j]
        if eligible is not None:
            expected[~eligible(columns), j] = np.nan
    order = np.argsort(np.where(np.isnan(expected), np.inf, -expected), axis=1, kind="stable")
    order = order[:, : nba["top_k"]]
    values = np.take_along_axis(expected, order, axis=1)
    ineligible = np.isnan(values)
    order[ineligible] = -1
    return order, values


def _control(spec: Mapping[str, Any] | None, keys: Sequence[Any] | None, n: int, rng: Any) -> Any:
    if spec is None:
        return np.zeros(n, bool)
    return in_control(keys, share=spec["share"], salt=spec["salt"], n=n, rng=rng)


def _route(
    compiled: CompiledPolicy, default: str | None, columns: Columns, n: int
) -> tuple[Any, Any]:
    queue = np.full(n, default, dtype=object)
    route = np.full(n, "routing.default" if default is not None else None, dtype=object)
    left = np.ones(n, bool)
    for predicate, name, label in compiled.routes:
        hit = predicate(columns) & left
        queue[hit] = name
        route[hit] = label
        left &= ~hit
        if not left.any():
            break
    return queue, route
