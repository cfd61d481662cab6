"""Properties: bands partition the score line; the one-row path equals the vectorised one."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.errors import InvalidArgumentError
from loopline.policies import DecisionPolicy

finite = st.floats(-10, 10, allow_nan=False)


@given(
    mins=st.lists(finite, min_size=1, max_size=6, unique=True),
    scores=st.lists(st.one_of(finite, st.just(math.nan)), min_size=1, max_size=40),
)
def test_bands_partition_the_score_line(mins: list[float], scores: list[float]) -> None:
    mins = sorted(mins, reverse=True)
    bands = [{"min": m, "action": f"band{i}"} for i, m in enumerate(mins)]
    policy = DecisionPolicy(thresholds={"bands": bands, "default": "below"})
    decided = policy.decide(np.array(scores)).to_columns()["action"]
    for score, action in zip(scores, decided, strict=True):
        fired = [i for i, m in enumerate(mins) if score >= m and (i == 0 or score < mins[i - 1])]
        assert fired == ([] if action == "below" else [int(action[4:])])
        assert action != "below" or math.isnan(score) or score < mins[-1]
    single = [policy.decide([s]).to_rows()[0]["action"] for s in scores]
    assert single == decided


numbers = st.one_of(st.none(), st.just(math.nan), st.integers(-3, 3), st.floats(-3, 3))
texts = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null"]


@st.composite
def leaf(draw: Any) -> dict[str, Any]:
    field = draw(st.sampled_from(["x", "s", "score", "action"]))
    op = draw(st.sampled_from(OPS))
    if op == "is_null":
        return {field: {op: draw(st.booleans())}}
    value: Any
    if field in ("x", "score"):
        value = draw(st.integers(-3, 3) | st.floats(-3, 3, allow_nan=False))
    else:
        value = draw(st.sampled_from(["a", "b", "c", "reject", "approve"]))
    if op in ("in", "not_in"):
        value = [value, draw(st.sampled_from([1, "b", 0.5]))] if field != "score" else [value]
    return {field: {op: value}}


conditions = st.recursive(
    leaf(),
    lambda inner: st.one_of(
        st.builds(lambda parts: {"and": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: {"or": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda part: {"not": part}, inner),
    ),
    max_leaves=5,
)


@st.composite
def policies(draw: Any) -> DecisionPolicy:
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        spec["thresholds"] = {
            "bands": [{"min": 0.7, "action": "reject"}, {"min": 0.3, "action": "review"}],
            "default": "approve",
        }
    rules = draw(st.lists(conditions, max_size=3))
    spec["routing"] = {
        "rules": [{"when": w, "queue": f"q{i}"} for i, w in enumerate(rules)],
        "default": draw(st.sampled_from([None, "general"])) if rules else "general",
    }
    if draw(st.booleans()):
        spec["next_best_action"] = {
            "top_k": draw(st.integers(1, 3)),
            "actions": [
                {"name": "offer", "value": "x", "when": draw(st.none() | conditions)},
                {"name": "call", "value": 2.0},
                {"name": "mail", "value": 0.5, "when": draw(st.none() | conditions)},
            ],
            "default": "nothing",
        }
    if draw(st.booleans()):
        spec["outliers"] = {
            "features": {"x": {"low": -2.0, "high": 2.0}, "s": {"categories": ["a", "b"]}},
            "action": draw(st.sampled_from([None, "review"])),
        }
    if draw(st.booleans()):
        spec["control"] = {"share": draw(st.sampled_from([0.0, 0.5, 1.0])), "action": "approve"}
    return DecisionPolicy.from_dict(spec)


def _outcome(policy: DecisionPolicy, score: float, inputs: Any, key: str) -> Any:
    try:
        return policy.decide([score], inputs, request_keys=[key]).to_rows()
    except InvalidArgumentError as error:
        return ("error", error.message.split(":")[0])


@settings(max_examples=300, deadline=None)
@given(
    policy=policies(),
    score=st.one_of(st.floats(0, 1), st.just(math.nan)),
    x=numbers,
    s=texts,
    key=st.text(min_size=1, max_size=5),
)
def test_one_row_in_python_equals_the_vectorised_path(
    policy: DecisionPolicy, score: float, x: Any, s: Any, key: str
) -> None:
    as_row = _outcome(policy, score, {"x": x, "s": s}, key)
    as_columns = _outcome(policy, score, {"x": [x], "s": [s]}, key)
    assert _same(as_row, as_columns)


def _same(left: Any, right: Any) -> bool:
    """Equality where NaN equals NaN (a NaN input can make a NaN expected value)."""
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(
            _same(a, b) for a, b in zip(left, right, strict=True)
        )
    return bool(left == right)


@settings(max_examples=50, deadline=None)
@given(
    policy=policies(),
    rows=st.lists(st.tuples(st.floats(0, 1), numbers, texts), min_size=2, max_size=20),
)
def test_a_batch_equals_its_rows_decided_one_by_one(
    policy: DecisionPolicy, rows: list[tuple[float, Any, Any]]
) -> None:
    keys = [f"k{i}" for i in range(len(rows))]
    scores = [r[0] for r in rows]
    inputs = [{"x": r[1], "s": r[2]} for r in rows]
    try:
        batch = policy.decide(scores, inputs, request_keys=keys).to_rows()
    except InvalidArgumentError:
        return
    one_by_one = [
        policy.decide([r[0]], {"x": r[1], "s": r[2]}, request_keys=[k]).to_rows()[0]
        for r, k in zip(rows, keys, strict=True)
    ]
    assert _same(batch, one_by_one)


@settings(max_examples=100, deadline=None)
@given(policy=policies())
def test_declarations_round_trip(policy: DecisionPolicy) -> None:
    assert DecisionPolicy.from_dict(policy.to_dict()) == policy
    assert DecisionPolicy.from_yaml(policy.to_yaml()) == policy
