"""Declaring a policy: YAML, dict and Python agree; versions are stable; errors name a path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loopline.errors import InvalidArgumentError
from loopline.policies import (
    Band,
    CandidateAction,
    ControlGroup,
    DecisionPolicy,
    NextBestAction,
    Outliers,
    Route,
    Routing,
    Thresholds,
)

YAML = """
name: retention
score: proba[1]
inputs: [segment, tenure, monthly_value, country]
thresholds:
  bands:
    - {min: 0.8, action: call}
    - {min: 0.5, action: email}
  default: nothing
routing:
  rules:
    - name: vip
      when:
        segment: vip
        score: {">=": 0.5}
      queue: senior-agents
    - when:
        or:
          - country: {in: [FR, DE]}
          - tenure: {"<": 3}
      queue: eu-or-new
  default: general
next_best_action:
  top_k: 2
  actions:
    - {name: discount, value: monthly_value, when: {tenure: {">=": 6}}}
    - {name: upgrade, value: 30}
outliers:
  action: review
  features:
    tenure: {low: 0, high: 240}
    country: {categories: [DE, FR, US]}
control:
  share: 0.1
  action: nothing
"""

PYTHON = DecisionPolicy(
    name="retention",
    score="proba[1]",
    inputs=["segment", "tenure", "monthly_value", "country"],
    thresholds=Thresholds([Band(0.8, "call"), Band(0.5, "email")], default="nothing"),
    routing=Routing(
        [
            Route(name="vip", when={"segment": "vip", "score": {">=": 0.5}}, queue="senior-agents"),
            Route(
                when={"or": [{"country": {"in": ["FR", "DE"]}}, {"tenure": {"<": 3}}]},
                queue="eu-or-new",
            ),
        ],
        default="general",
    ),
    next_best_action=NextBestAction(
        [
            CandidateAction("discount", "monthly_value", when={"tenure": {">=": 6}}),
            CandidateAction("upgrade", 30),
        ],
        top_k=2,
    ),
    outliers=Outliers(
        {"tenure": {"low": 0, "high": 240}, "country": {"categories": ["US", "FR", "DE"]}},
        action="review",
    ),
    control=ControlGroup(share=0.1, action="nothing"),
)


def test_yaml_and_python_declare_the_same_policy() -> None:
    from_yaml = DecisionPolicy.from_yaml(YAML)
    assert from_yaml == PYTHON
    assert from_yaml.version == PYTHON.version
    assert from_yaml.to_dict() == PYTHON.to_dict()


def test_round_trips_through_dict_and_yaml(tmp_path: Path) -> None:
    assert DecisionPolicy.from_dict(PYTHON.to_dict()) == PYTHON
    assert DecisionPolicy.from_yaml(PYTHON.to_yaml()) == PYTHON
    path = tmp_path / "policy.yaml"
    path.write_text(YAML)
    assert DecisionPolicy.from_yaml(path) == PYTHON
    assert DecisionPolicy.from_yaml(str(path)) == PYTHON


def _reversed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed(v) for k, v in reversed(list(value.items()))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value


def test_version_is_sha256_and_stable_across_key_order() -> None:
    spec = PYTHON.to_dict()
    assert DecisionPolicy.from_dict(_reversed(spec)).version == PYTHON.version
    assert len(PYTHON.version) == 64
    assert int(PYTHON.version, 16) >= 0


def test_a_change_changes_the_version() -> None:
    spec = PYTHON.to_dict()
    spec["thresholds"]["bands"][0]["min"] = 0.81
    assert DecisionPolicy.from_dict(spec).version != PYTHON.version


def test_shorthand_and_integers_normalise_to_the_same_version() -> None:
    short = DecisionPolicy(
        thresholds={"bands": [{"min": 1, "action": "a"}]},
        routing={"rules": [{"when": {"x": "v"}, "queue": "q"}]},
    )
    explicit = DecisionPolicy(
        thresholds={"bands": [{"action": "a", "min": 1.0}], "default": None},
        routing={"rules": [{"when": {"x": {"==": "v"}}, "queue": "q", "name": None}]},
    )
    assert short == explicit


def test_to_dict_is_a_copy() -> None:
    spec = PYTHON.to_dict()
    spec["name"] = "changed"
    assert PYTHON.name == "retention"


def test_empty_policy() -> None:
    assert DecisionPolicy.from_dict(None) == DecisionPolicy.from_dict({}) == DecisionPolicy()
    assert DecisionPolicy().is_empty
    assert not PYTHON.is_empty
    assert DecisionPolicy.from_yaml("") == DecisionPolicy()


def test_control_salt_defaults_to_the_policy_name() -> None:
    assert PYTHON.to_dict()["control"]["salt"] == "retention"
    anonymous = DecisionPolicy(control={"share": 0.5, "action": "x"})
    assert anonymous.to_dict()["control"]["salt"] == "loopline"


def test_fields_and_check_inputs_name_the_declaration_path() -> None:
    assert PYTHON.fields() == {
        "segment": "routing.rules[0].when.segment",
        "country": "routing.rules[1].when.or[0].country",
        "tenure": "routing.rules[1].when.or[1].tenure",
        "monthly_value": "next_best_action.actions[0].value",
    }
    PYTHON.check_inputs(["segment", "tenure", "monthly_value", "country", "extra"])
    with pytest.raises(InvalidArgumentError, match=r"^next_best_action\.actions\[0\]\.value: "):
        PYTHON.check_inputs(["segment", "tenure", "country"])


GOOD_BANDS = {"bands": [{"min": 0.8, "action": "reject"}], "default": "approve"}

BAD = [
    (
        {"routing": {"rules": [{"when": {"x": {"=~": 1}}, "queue": "q"}]}},
        r"routing\.rules\[0\]\.when\.x: unknown operator '=~'",
    ),
    (
        {
            "routing": {
                "rules": [
                    {"when": {"x": 1}, "queue": "a"},
                    {"when": {"x": 2}, "queue": "b"},
                    {"when": {"score": {">=": "high"}}, "queue": "c"},
                ]
            }
        },
        r"routing\.rules\[2\]\.when\.score\.>=: the score is a number",
    ),
    (
        {"thresholds": {"bands": [{"min": "0.8", "action": "reject"}]}},
        r"thresholds\.bands\[0\]\.min: expected a finite number, got '0\.8'",
    ),
    (
        {"thresholds": {"bands": [{"min": True, "action": "reject"}]}},
        r"thresholds\.bands\[0\]\.min: expected a finite number",
    ),
    (
        {"thresholds": {"bands": [{"min": 0.5, "action": "a"}, {"min": 0.8, "action": "b"}]}},
        r"thresholds\.bands\[1\]\.min: 0\.8 is not below the band before it \(0\.5\)",
    ),
    (
        {"thresholds": {"bands": [{"min": 0.5, "action": "a"}, {"min": 0.5, "action": "b"}]}},
        r"thresholds\.bands\[1\]\.min: 0\.5 is not below",
    ),
    ({"thresholds": {"bands": [{"action": "a"}]}}, r"thresholds\.bands\[0\]\.min: required"),
    ({"thresholds": {"bands": []}}, r"thresholds: give at least one band or a default"),
    ({"control": {"share": 1.5, "action": "a"}}, r"control\.share: expected a share in \[0, 1\]"),
    ({"control": {"share": -0.1, "action": "a"}}, r"control\.share: expected a share in \[0, 1\]"),
    ({"control": {"share": 0.1}}, r"control\.action: expected a non-empty name"),
    (
        {"inputs": ["a"], "routing": {"rules": [{"when": {"b": 1}, "queue": "q"}]}},
        r"routing\.rules\[0\]\.when\.b: unknown field 'b' \(inputs: a\)",
    ),
    (
        {
            "inputs": ["a"],
            "routing": {"rules": [{"when": {"and": [{"a": 1}, {"not": {"zz": 1}}]}, "queue": "q"}]},
        },
        r"routing\.rules\[0\]\.when\.and\[1\]\.not\.zz: unknown field 'zz'",
    ),
    (
        {"next_best_action": {"actions": [{"name": "a", "value": 1}, {"name": "b"}]}},
        r"next_best_action\.actions\[1\]\.value: required",
    ),
    (
        {"inputs": ["a"], "next_best_action": {"actions": [{"name": "n", "value": "zz"}]}},
        r"next_best_action\.actions\[0\]\.value: unknown field 'zz'",
    ),
    (
        {"next_best_action": {"actions": [{"name": "n", "value": 1}], "top_k": 0}},
        r"next_best_action\.top_k: expected an integer >= 1",
    ),
    (
        {"next_best_action": {"actions": [{"name": "n", "value": 1}, {"name": "n", "value": 2}]}},
        r"next_best_action\.actions\[1\]\.name: 'n' is listed twice",
    ),
    (
        {"routing": {"rules": [{"when": {"x": {"in": "abc"}}, "queue": "q"}]}},
        r"routing\.rules\[0\]\.when\.x\.in: expected a list of values",
    ),
    (
        {"routing": {"rules": [{"when": {"x": {"is_null": "yes"}}, "queue": "q"}]}},
        r"routing\.rules\[0\]\.when\.x\.is_null: expected true or false",
    ),
    (
        {"routing": {"rules": [{"when": {}, "queue": "q"}]}},
        r"routing\.rules\[0\]\.when: expected a non-empty mapping",
    ),
    ({"routing": {"rules": [{"when": {"x": 1}}]}}, r"routing\.rules\[0\]\.queue: expected"),
    ({"routing": {"rules": [{"queue": "q"}]}}, r"routing\.rules\[0\]\.when: required"),
    ({"thresholds": GOOD_BANDS, "treshold": 1}, r"^treshold: unknown key"),
    ({"thresholds": {**GOOD_BANDS, "bnds": []}}, r"^thresholds\.bnds: unknown key"),
    ({"score": "proba[1"}, r"^score: expected 'auto'"),
    (
        {"outliers": {"features": {"x": {"low": 5, "high": 1}}}},
        r"outliers\.features\.x: low 5\.0 is above high 1\.0",
    ),
    (
        {"outliers": {"features": {"x": {"low": 1, "categories": ["a"]}}}},
        r"outliers\.features\.x: give either low/high or categories",
    ),
    ({"outliers": {"features": {}}}, r"outliers\.features: expected a non-empty mapping"),
]


@pytest.mark.parametrize(("spec", "message"), BAD)
def test_bad_declarations_name_the_path(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as raised:
        DecisionPolicy.from_dict(spec)
    assert raised.value.details["path"] == raised.value.message.split(":")[0]


def test_bad_yaml_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgumentError, match="does not parse"):
        DecisionPolicy.from_yaml("thresholds: [unclosed")
    with pytest.raises(InvalidArgumentError, match="expected a YAML mapping"):
        DecisionPolicy.from_yaml("- a\n- b\n")
    with pytest.raises(InvalidArgumentError, match="no YAML file"):
        DecisionPolicy.from_yaml("missing-policy.yaml")


def test_a_declaration_is_not_changed_by_construction() -> None:
    spec = {"routing": {"rules": [{"when": {"x": "v"}, "queue": "q"}]}}
    DecisionPolicy.from_dict(spec)
    assert spec == {"routing": {"rules": [{"when": {"x": "v"}, "queue": "q"}]}}


def test_a_policy_pickles_by_its_declaration_even_after_deciding() -> None:
    import pickle

    row = {"segment": "vip", "tenure": 1, "monthly_value": 2.0, "country": "FR"}
    before = PYTHON.decide([[0.8, 0.2]], row, request_keys=["k"]).to_rows()
    copy = pickle.loads(pickle.dumps(PYTHON))
    assert copy == PYTHON
    assert copy.decide([[0.8, 0.2]], row, request_keys=["k"]).to_rows() == before


def test_a_yaml_policy_file_without_pyyaml_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from loopline.errors import MissingDependencyError
    from loopline.policies.loading import read_policy_file

    path = tmp_path / "policy.yaml"
    path.write_text("name: loans\n", encoding="utf-8")
    assert read_policy_file(path) == {"name": "loans"}
    monkeypatch.setitem(sys.modules, "yaml", None)  # as if pyyaml were not installed
    with pytest.raises(MissingDependencyError, match=r"loopline\[data\]"):
        read_policy_file(path)
