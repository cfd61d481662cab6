"""``DecisionPolicy.decide``: every part, every input shape, the errors, and the speed."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest

from loopline.errors import InvalidArgumentError
from loopline.policies import DecisionPolicy

THRESHOLDS = {
    "bands": [{"min": 0.8, "action": "reject"}, {"min": 0.5, "action": "review"}],
    "default": "approve",
}


def test_thresholds_map_bands_to_actions_and_name_the_rule() -> None:
    policy = DecisionPolicy(thresholds=THRESHOLDS)
    batch = policy.decide([0.95, 0.8, 0.79, 0.5, 0.1, float("nan")])
    columns = batch.to_columns()
    assert columns["action"] == ["reject", "reject", "review", "review", "approve", "approve"]
    assert columns["rule"][:3] == [
        "thresholds[0]: score >= 0.8 -> reject",
        "thresholds[0]: score >= 0.8 -> reject",
        "thresholds[1]: score >= 0.5 -> review",
    ]
    assert columns["rule"][4] == "thresholds.default: score < 0.5 -> approve"
    assert columns["model_action"] == columns["action"]
    assert columns["score"][-1] is None
    assert batch.policy_version == policy.version


def test_score_picks_the_positive_class_a_column_or_a_named_class() -> None:
    policy = DecisionPolicy(thresholds=THRESHOLDS)
    proba = np.array([[0.1, 0.9], [0.7, 0.3]])
    assert policy.decide(proba).to_columns()["action"] == ["reject", "approve"]
    by_index = DecisionPolicy(score="proba[0]", thresholds=THRESHOLDS)
    assert by_index.decide(proba).to_columns()["action"] == ["approve", "review"]
    by_name = DecisionPolicy(score="proba[churn]", thresholds=THRESHOLDS)
    decided = by_name.decide(proba, classes=["churn", "stay"])
    assert decided.to_columns()["action"] == ["approve", "review"]
    with pytest.raises(InvalidArgumentError, match=r"^score: unknown class 'churn'"):
        by_name.decide(proba)
    three = np.array([[0.2, 0.3, 0.5]])
    with pytest.raises(InvalidArgumentError, match=r"^score: the model gives 3 scores per row"):
        policy.decide(three)


def test_named_outputs() -> None:
    policy = DecisionPolicy(score="risk", thresholds=THRESHOLDS)
    outputs = {"proba": [[0.5, 0.5]], "risk": [0.9]}
    assert policy.decide(outputs).to_columns()["action"] == ["reject"]
    with pytest.raises(InvalidArgumentError, match=r"^score: no output 'risk'"):
        policy.decide({"proba": [[0.5, 0.5]]})


def test_an_empty_policy_decides_the_models_label() -> None:
    empty = DecisionPolicy()
    proba = np.array([[0.1, 0.6, 0.3], [0.8, 0.1, 0.1]])
    assert empty.decide(proba).to_columns()["action"] == ["1", "0"]
    assert empty.decide(proba, classes=["a", "b", "c"]).to_columns()["action"] == ["b", "a"]
    assert empty.decide([0.3], labels=[7]).to_rows()[0]["action"] == "7"
    assert empty.decide([0.3]).to_rows()[0]["action"] is None
    assert empty.decide([0.3]).to_rows()[0]["rule"] == "model.label"


def test_input_shapes_columns_one_row_and_rows_agree() -> None:
    policy = DecisionPolicy(
        thresholds=THRESHOLDS,
        routing={"rules": [{"when": {"segment": "vip"}, "queue": "vip"}], "default": "general"},
    )
    as_columns = policy.decide([0.9, 0.2], {"segment": ["vip", "std"]}).to_rows()
    as_rows = policy.decide([0.9, 0.2], [{"segment": "vip"}, {"segment": "std"}]).to_rows()
    assert as_columns == as_rows
    as_array = policy.decide([0.9, 0.2], {"segment": np.array(["vip", "std"])}).to_rows()
    assert as_array == as_rows
    one = policy.decide([0.9], {"segment": "vip"}).to_rows()
    assert one == as_rows[:1]
    assert [r["queue"] for r in as_rows] == ["vip", "general"]


def test_tables_are_inputs_too() -> None:
    import pyarrow as pa

    policy = DecisionPolicy(
        routing={"rules": [{"when": {"s": "a", "x": {">": 1}}, "queue": "q"}], "default": "d"},
        outliers={"features": {"x": {"high": 2.5}}},
    )
    table = pa.table({"s": ["a", "b", None], "x": [2, 3, None]})
    expected = {"queue": ["q", "d", "d"], "outlier": [False, True, False]}
    for inputs in (table, table.to_pandas()):
        columns = policy.decide([0.1, 0.2, 0.3], inputs).to_columns()
        assert {k: columns[k] for k in expected} == expected


def _route(when: dict[str, Any], inputs: Any, scores: Any = None) -> list[bool]:
    policy = DecisionPolicy(routing={"rules": [{"when": when, "queue": "hit"}]})
    n = len(next(iter(inputs.values())))
    scores = [0.5] * n if scores is None else scores
    return [q == "hit" for q in policy.decide(scores, inputs).to_columns()["queue"]]


NUMBERS = {"x": [1.0, 2.0, 3.0, None, float("nan")]}
TEXT = {"s": ["a", "b", None, "c", "a"]}


@pytest.mark.parametrize(
    ("when", "inputs", "expected"),
    [
        ({"x": {"==": 2}}, NUMBERS, [False, True, False, False, False]),
        ({"x": {"!=": 2}}, NUMBERS, [True, False, True, False, False]),
        ({"x": {"<": 2}}, NUMBERS, [True, False, False, False, False]),
        ({"x": {"<=": 2}}, NUMBERS, [True, True, False, False, False]),
        ({"x": {">": 2}}, NUMBERS, [False, False, True, False, False]),
        ({"x": {">=": 2}}, NUMBERS, [False, True, True, False, False]),
        ({"x": {"in": [1, 3]}}, NUMBERS, [True, False, True, False, False]),
        ({"x": {"not_in": [1, 3]}}, NUMBERS, [False, True, False, False, False]),
        ({"x": {"is_null": True}}, NUMBERS, [False, False, False, True, True]),
        ({"x": {"is_null": False}}, NUMBERS, [True, True, True, False, False]),
        ({"x": {">": 1, "<": 3}}, NUMBERS, [False, True, False, False, False]),
        ({"s": "a"}, TEXT, [True, False, False, False, True]),
        ({"s": {"!=": "a"}}, TEXT, [False, True, False, True, False]),
        ({"s": {"in": ["a", "c"]}}, TEXT, [True, False, False, True, True]),
        ({"s": {"not_in": ["a", "c"]}}, TEXT, [False, True, False, False, False]),
        ({"s": {"is_null": True}}, TEXT, [False, False, True, False, False]),
        ({"s": {">=": "b"}}, TEXT, [False, True, False, True, False]),
        ({"not": {"s": "a"}}, TEXT, [False, True, True, True, False]),
        ({"or": [{"s": "a"}, {"s": "c"}]}, TEXT, [True, False, False, True, True]),
        ({"and": [{"s": {"!=": "b"}}, {"s": {"is_null": False}}]}, TEXT, [1, 0, 0, 1, 1]),
    ],
)
def test_condition_operators_and_missing_values(
    when: dict[str, Any], inputs: Any, expected: list[Any]
) -> None:
    assert _route(when, inputs) == [bool(e) for e in expected]


def test_operators_agree_on_large_columns() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 10, 500).astype(float)
    s = rng.choice(["a", "b", "c"], 500)
    big = _route({"x": {"in": [1, 3]}, "s": {"not_in": ["a"]}}, {"x": x, "s": s})
    small = [
        b
        for i in range(0, 500, 50)
        for b in _route(
            {"x": {"in": [1, 3]}, "s": {"not_in": ["a"]}},
            {"x": x[i : i + 50].tolist(), "s": s[i : i + 50].tolist()},
        )
    ]
    assert big == small == [bool(v in (1, 3) and t != "a") for v, t in zip(x, s, strict=True)]


def test_routing_first_match_wins_and_sees_score_and_action() -> None:
    policy = DecisionPolicy(
        thresholds=THRESHOLDS,
        routing={
            "rules": [
                {"name": "rejects", "when": {"action": "reject"}, "queue": "fraud"},
                {"when": {"score": {">=": 0.3}}, "queue": "watch"},
                {"when": {"score": {">=": 0.0}}, "queue": "never-first"},
            ],
            "default": "general",
        },
    )
    columns = policy.decide([0.9, 0.4, 0.1, float("nan")]).to_columns()
    assert columns["queue"] == ["fraud", "watch", "never-first", "general"]
    assert columns["route"] == [
        "routing.rules[0] (rejects)",
        "routing.rules[1]",
        "routing.rules[2]",
        "routing.default",
    ]


def test_reserved_names_reach_inputs_with_the_input_prefix() -> None:
    policy = DecisionPolicy(routing={"rules": [{"when": {"input.score": "A"}, "queue": "a"}]})
    assert policy.decide([0.1], {"score": "A"}).to_rows()[0]["queue"] == "a"


def test_condition_errors_at_decide_time_name_the_path() -> None:
    policy = DecisionPolicy(
        routing={
            "rules": [{"when": {"x": 1}, "queue": "q"}, {"when": {"s": {"<": 3}}, "queue": "r"}]
        }
    )
    with pytest.raises(
        InvalidArgumentError, match=r"^routing\.rules\[0\]\.when\.x: unknown field 'x'"
    ):
        policy.decide([0.1], {"y": 1})
    with pytest.raises(
        InvalidArgumentError, match=r"^routing\.rules\[1\]\.when\.s\.<: cannot compare"
    ):
        policy.decide([0.1], {"x": 2, "s": "text"})
    with pytest.raises(InvalidArgumentError, match=r"^inputs\.x: expected 2 values"):
        policy.decide([0.1, 0.2], {"x": [1, 2, 3], "s": [1, 2]})
    with pytest.raises(InvalidArgumentError, match=r"^inputs: 1 rows for 2 rows of scores"):
        policy.decide([0.1, 0.2], [{"x": 1}])
    with pytest.raises(InvalidArgumentError, match=r"^scores: expected numbers"):
        policy.decide(["high"])
    with pytest.raises(InvalidArgumentError, match=r"^request_keys: 1 keys for 2 rows"):
        policy.decide([0.1, 0.2], {"x": [1, 2], "s": [1, 2]}, request_keys=["a"])


NBA = {
    "top_k": 2,
    "actions": [
        {"name": "discount", "value": "monthly_value", "when": {"tenure": {">=": 6}}},
        {"name": "upgrade", "value": 30},
        {"name": "call", "value": 50, "when": {"segment": "vip"}},
    ],
    "default": "nothing",
}


def test_next_best_action_ranks_eligible_actions_by_score_times_value() -> None:
    policy = DecisionPolicy(next_best_action=NBA)
    inputs = {
        "monthly_value": [100.0, 10.0, 100.0],
        "tenure": [12, 12, 1],
        "segment": ["vip", "std", "std"],
    }
    rows = policy.decide([0.5, 0.5, 0.5], inputs).to_rows()
    assert rows[0]["ranked"] == [
        {"action": "discount", "value": 50.0},
        {"action": "call", "value": 25.0},
    ]
    assert rows[0]["action"] == "discount"
    assert rows[0]["rule"] == "next_best_action.actions[0] -> discount"
    assert rows[1]["ranked"] == [
        {"action": "upgrade", "value": 15.0},
        {"action": "discount", "value": 5.0},
    ]
    assert rows[2]["ranked"] == [{"action": "upgrade", "value": 15.0}]


def test_next_best_action_default_when_none_is_eligible() -> None:
    policy = DecisionPolicy(
        next_best_action={
            "actions": [{"name": "a", "value": 1, "when": {"ok": True}}],
            "default": "nothing",
        }
    )
    row = policy.decide([0.9], {"ok": False}).to_rows()[0]
    assert (row["action"], row["ranked"]) == ("nothing", [])
    assert row["rule"] == "next_best_action.default: none eligible -> nothing"


def test_next_best_action_on_a_multiclass_model_uses_each_actions_class() -> None:
    policy = DecisionPolicy(
        next_best_action={
            "top_k": 3,
            "actions": [
                {"name": "email", "value": 10},
                {"name": "call", "value": 25},
                {"name": "visit", "value": 40, "class": 0},
            ],
        }
    )
    proba = np.array([[0.1, 0.6, 0.3]])
    row = policy.decide(proba, classes=["nothing", "email", "call"]).to_rows()[0]
    assert row["ranked"] == [
        {"action": "call", "value": pytest.approx(7.5)},
        {"action": "email", "value": pytest.approx(6.0)},
        {"action": "visit", "value": pytest.approx(4.0)},
    ]
    values = [r["value"] for r in row["ranked"]]
    assert values == sorted(values, reverse=True)
    with pytest.raises(InvalidArgumentError, match=r"^next_best_action\.actions\[0\]\.name"):
        policy.decide(proba)


def test_thresholds_keep_the_action_and_nba_ranks_offers() -> None:
    policy = DecisionPolicy(
        thresholds=THRESHOLDS,
        next_best_action={"actions": [{"name": "offer", "value": 2, "when": {"action": "review"}}]},
    )
    rows = policy.decide([0.6, 0.9]).to_rows()
    assert [r["action"] for r in rows] == ["review", "reject"]
    assert rows[0]["ranked"] == [{"action": "offer", "value": 1.2}]
    assert rows[1]["ranked"] == []


def test_outliers_flag_features_and_override_the_action() -> None:
    policy = DecisionPolicy(
        thresholds=THRESHOLDS,
        outliers={
            "features": {"age": {"low": 18, "high": 100}, "country": {"categories": ["FR", "US"]}},
            "action": "review",
        },
    )
    rows = policy.decide(
        [0.1, 0.1, 0.1, 0.1],
        {"age": [30, 150, None, 5], "country": ["FR", "XX", None, "US"]},
    ).to_rows()
    assert [r["outlier"] for r in rows] == [False, True, False, True]
    assert [r["outlier_features"] for r in rows] == [[], ["age", "country"], [], ["age"]]
    assert [r["action"] for r in rows] == ["approve", "review", "approve", "review"]
    assert [r["model_action"] for r in rows] == ["approve"] * 4
    assert rows[1]["rule"] == "outliers: outside the training profile -> review"


def test_routing_can_send_outliers_to_a_queue() -> None:
    policy = DecisionPolicy(
        outliers={"features": {"age": {"high": 100}}},
        routing={"rules": [{"when": {"outlier": True}, "queue": "manual"}], "default": "auto"},
    )
    columns = policy.decide([0.2, 0.2], {"age": [120, 20]}).to_columns()
    assert columns["queue"] == ["manual", "auto"]
    assert columns["outlier"] == [True, False]


def test_to_rows_is_json_ready_and_matches_rows_by_index() -> None:
    policy = DecisionPolicy(thresholds=THRESHOLDS, next_best_action=NBA)
    inputs = {"monthly_value": [100.0, 10.0], "tenure": [12, 12], "segment": ["vip", "std"]}
    batch = policy.decide(np.array([0.9, 0.2]), inputs)
    rows = batch.to_rows()
    assert json.loads(json.dumps(rows)) == rows
    assert len(batch) == 2
    assert batch[1].to_dict() == rows[1]
    assert batch[-1].to_dict() == rows[1]
    assert [d.to_dict() for d in batch] == rows
    with pytest.raises(IndexError):
        batch[2]


def test_zero_rows() -> None:
    policy = DecisionPolicy(thresholds=THRESHOLDS, control={"share": 0.5, "action": "approve"})
    assert policy.decide(np.empty(0)).to_rows() == []


FULL = DecisionPolicy(
    thresholds=THRESHOLDS,
    routing={
        "rules": [
            {"when": {"segment": "vip", "score": {">=": 0.5}}, "queue": "senior"},
            {"when": {"country": {"in": ["FR", "DE"]}}, "queue": "eu"},
        ],
        "default": "general",
    },
    outliers={"features": {"age": {"low": 0, "high": 100}}, "action": "review"},
    control={"share": 0.1, "action": "approve"},
)


def _per_call_us(call: Any, repeat: int = 3000) -> float:
    call()
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat * 1e6


def test_speed_of_one_row_and_a_million_rows() -> None:
    proba = np.array([[0.3, 0.7]])
    row = {"segment": "vip", "age": 40, "country": "FR"}
    thresholds = DecisionPolicy(thresholds=THRESHOLDS)
    one_thresholds = _per_call_us(lambda: thresholds.decide(proba).to_rows())
    one_full = _per_call_us(lambda: FULL.decide(proba, row, request_keys=["c-1"]).to_rows())
    scores = np.random.default_rng(0).random(1_000_000)
    start = time.perf_counter()
    batch = thresholds.decide(scores)
    million = time.perf_counter() - start
    print(
        f"\n1 row, thresholds, decide+to_rows: {one_thresholds:.1f} us"
        f"\n1 row, thresholds+routing+outliers+control, decide+to_rows: {one_full:.1f} us"
        f"\n1,000,000 rows, thresholds, decide: {million * 1000:.0f} ms"
    )
    assert len(batch) == 1_000_000
