"""Decision columns as Arrow: the coded (dictionary) ones hold exactly the engine's values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from loopline.policies import DecisionPolicy
from loopline.scoring.columns import decision_columns, plain

BANDS = {
    "bands": [{"min": 0.8, "action": "reject"}, {"min": 0.5, "action": "review"}],
    "default": "approve",
}
NBA = {
    "top_k": 2,
    "actions": [
        {"name": "discount", "value": "monthly_value", "when": {"tenure": {">=": 6}}},
        {"name": "upgrade", "value": 30},
        {"name": "call", "value": 50, "when": {"segment": "vip"}},
    ],
    "default": "nothing",
}
POLICIES: dict[str, dict[str, Any]] = {
    "thresholds": {"thresholds": BANDS},
    "thresholds + outliers + control": {
        "thresholds": BANDS,
        "outliers": {"features": {"monthly_value": {"high": 150.0}}, "action": "review"},
        "control": {"share": 0.3, "action": "approve"},
        "routing": {
            "rules": [{"when": {"action": "review"}, "queue": "manual"}],
            "default": "auto",
        },
    },
    "next best action + control": {
        "next_best_action": NBA,
        "control": {"share": 0.2, "action": "nothing"},
    },
    "model labels": {"outliers": {"features": {"tenure": {"low": 1}}, "action": "hold"}},
}


@pytest.mark.parametrize("name", list(POLICIES))
def test_coded_columns_equal_the_engines_values(name: str) -> None:
    rng = np.random.default_rng(7)
    n = 5_000
    inputs = pa.table({
        "monthly_value": rng.uniform(0, 200, n),
        "tenure": rng.integers(0, 24, n),
        "segment": rng.choice(["vip", "std"], n),
    })  # fmt: skip
    scores = rng.uniform(0, 1, n)
    scores[::97] = np.nan
    labels = np.where(scores > 0.5, "churn", "stay")
    policy = DecisionPolicy(**POLICIES[name])
    batch = policy.decide(scores, inputs, labels=labels)
    made = decision_columns(batch)
    expected = batch.to_columns()
    for field in ("action", "rule", "model_action", "queue", "route"):
        assert plain(made[field]).to_pylist() == expected[field], field
    coded = {k for k in ("action", "rule", "model_action") if pa.types.is_dictionary(made[k].type)}
    assert "rule" in coded  # every policy's rules come from the policy itself
    assert ("action" in coded) == (name != "model labels")  # model labels are not known ahead
    assert plain(made["policy_version"]).to_pylist() == [policy.version] * n
