"""The randomized control group: sticky by key, the configured share, recorded, seedable."""

from __future__ import annotations

import numpy as np
import pytest

from loopline.policies import DecisionPolicy

BANDS = {"bands": [{"min": 0.5, "action": "reject"}], "default": "approve"}


def _policy(share: float, salt: str | None = None) -> DecisionPolicy:
    control = {"share": share, "action": "approve", "salt": salt}
    return DecisionPolicy(name="loans", thresholds=BANDS, control=control)


def test_the_same_key_is_always_in_the_same_group() -> None:
    policy = _policy(0.3)
    keys = [f"customer-{i}" for i in range(2000)]
    first = policy.decide(np.full(2000, 0.9), request_keys=keys).to_columns()["control"]
    again = policy.decide(np.full(2000, 0.9), request_keys=keys).to_columns()["control"]
    one_by_one = [policy.decide([0.9], request_keys=[k]).to_rows()[0]["control"] for k in keys]
    rebuilt = DecisionPolicy.from_yaml(policy.to_yaml())
    from_copy = rebuilt.decide(np.full(2000, 0.9), request_keys=keys).to_columns()["control"]
    assert first == again == one_by_one == from_copy
    assert any(first)
    assert not all(first)


def test_the_share_holds_over_100k_keys_and_a_new_salt_draws_a_new_group() -> None:
    keys = [f"customer-{i}" for i in range(100_000)]
    scores = np.full(len(keys), 0.9)
    control = np.array(_policy(0.1).decide(scores, request_keys=keys).to_columns()["control"])
    assert abs(control.mean() - 0.1) < 0.005  # 5 standard deviations of a binomial share
    other = np.array(
        _policy(0.1, salt="2027").decide(scores, request_keys=keys).to_columns()["control"]
    )
    assert abs(other.mean() - 0.1) < 0.005
    overlap = (control & other).mean()
    assert abs(overlap - 0.01) < 0.003  # independent draws: 10% of 10%


def test_the_control_group_gets_the_baseline_and_keeps_the_model_action() -> None:
    policy = _policy(1.0)
    row = policy.decide([0.9], request_keys=["c"]).to_rows()[0]
    assert row["control"] is True
    assert (row["action"], row["model_action"]) == ("approve", "reject")
    assert row["rule"] == "control: baseline -> approve"
    columns = policy.decide([0.9, 0.9]).to_columns()
    assert columns["control"] == [True, True]
    assert columns["model_action"] == ["reject", "reject"]


def test_share_zero_never_and_share_one_always() -> None:
    keys = [str(i) for i in range(1000)]
    never = _policy(0.0).decide(np.full(1000, 0.9), request_keys=keys).to_columns()
    assert not any(never["control"])
    always = _policy(1.0).decide(np.full(1000, 0.9), request_keys=keys).to_columns()
    assert all(always["control"])


def test_without_keys_the_draw_is_random_and_seedable() -> None:
    policy = _policy(0.5)
    scores = np.full(10_000, 0.9)
    first = policy.decide(scores, rng=7).to_columns()["control"]
    again = policy.decide(scores, rng=np.random.default_rng(7)).to_columns()["control"]
    assert first == again
    assert abs(np.mean(first) - 0.5) < 0.03
    unseeded = [policy.decide(scores).to_columns()["control"] for _ in range(2)]
    assert unseeded[0] != unseeded[1]
    one = [policy.decide([0.9], rng=np.random.default_rng(s)).to_rows()[0] for s in range(5)]
    many = [policy.decide([0.9, 0.9], rng=np.random.default_rng(s)).to_rows()[0] for s in range(5)]
    assert [r["control"] for r in one] == [r["control"] for r in many]


def test_a_missing_key_draws_at_random() -> None:
    policy = _policy(0.5)
    columns = policy.decide(np.full(4000, 0.9), request_keys=[None] * 4000, rng=1).to_columns()
    assert 0.45 < np.mean(columns["control"]) < 0.55


@pytest.mark.parametrize("key", [7, "7"])
def test_keys_are_compared_as_text(key: object) -> None:
    policy = _policy(0.5)
    decided = policy.decide([0.9], request_keys=[key]).to_rows()[0]["control"]
    assert decided == policy.decide([0.9], request_keys=["7"]).to_rows()[0]["control"]
