"""``loopline models policy|evaluate|gates|validate|...`` and ``loopline approvals ...`` locally.

The CLI's actor is the OS user; the model is trained and registered by ``alice`` through the SDK,
so the OS user may review it (and may not review what the OS user registered).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import Result

import loopline
from loopline.client.environment import os_user
from loopline.modeling.logged import log_model

Invoke = Callable[..., Result]


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _fails(result: Result, *words: str) -> str:
    assert result.exit_code == 1, result.output
    for word in words:
        assert word in result.output, result.output
    return result.output


@pytest.fixture
def registered(client: loopline.Client) -> str:
    """``cancer`` v1 trained by alice on dataset ``cancer-train`` v1; ``cancer-test`` v1 too."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    train, test = frame.iloc[::2].reset_index(drop=True), frame.iloc[1::2].reset_index(drop=True)
    train_version = client.datasets.create("cancer-train", train)
    client.datasets.create("cancer-test", test)
    run = client.create_run(client.create_experiment("cli-release"), user_id="alice")
    client.datasets.log_input(run.info.run_id, train_version)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train.drop(columns=["y"]), train["y"])
    backend: Any = client.backend
    log_model(backend, client.registry, run.info.run_id, model, "model",
              input_example=train.drop(columns=["y"]).head(10), registered_model_name="cancer",
              actor="alice")  # fmt: skip
    return "cancer"


def test_policy_get_and_set_keep_the_other_fields(invoke: Invoke, registered: str) -> None:
    assert _json(invoke("models", "policy", "get", "cancer", "--json"))["required_approvals"] == 1
    changed = _json(invoke("models", "policy", "set", "cancer", "--required-approvals", "2",
                           "--fairness", "demographic_parity_ratio>=0.8", "--json"))  # fmt: skip
    assert changed["required_approvals"] == 2
    assert changed["fairness_thresholds"] == {"demographic_parity_ratio": 0.8}
    again = _json(invoke("models", "policy", "set", "cancer", "--baseline-margin", "0.01",
                         "--json"))  # fmt: skip
    assert (again["required_approvals"], again["baseline_margin"]) == (2, 0.01)
    assert again["fairness_thresholds"] == {"demographic_parity_ratio": 0.8}
    table = invoke("models", "policy", "get", "cancer")
    assert "demographic_parity_ratio >= 0.8" in table.stdout
    _fails(invoke("models", "policy", "set", "cancer", "--fairness", "demographic_parity_ratio<=1"),
           "demographic_parity_ratio >= LIMIT")  # fmt: skip
    _fails(invoke("models", "policy", "set", "cancer", "--required-approvals", "0"),
           "required_approvals")  # fmt: skip
    _fails(invoke("models", "policy", "set", "nope", "--required-approvals", "2"), "nope")
    assert _json(invoke("models", "policy", "get", "cancer", "--json"))["baseline_margin"] == 0.01


def test_the_whole_release_from_the_command_line(invoke: Invoke, registered: str) -> None:
    _fails(invoke("models", "gates", "cancer", "1"), "NO")
    _fails(invoke("models", "validate", "cancer", "1"), "cannot be validated", "evaluation")
    evaluated = _json(invoke("models", "evaluate", "cancer", "1", "--data",
                             "datasets:/cancer-test/1", "--target", "y", "--no-importance",
                             "--json"))  # fmt: skip
    model, baseline = (evaluated["result"][k]["metrics"]["auc"] for k in ("model", "baseline"))
    assert model > baseline
    assert _json(invoke("models", "gates", "cancer", "1", "--json"))["passed"] is True
    assert _json(invoke("models", "validate", "cancer", "1", "--json"))["status"] == "validated"
    missing = invoke("models", "request-approval", "cancer", "1")
    assert (missing.exit_code, "Missing option '--reason'" in missing.output) == (2, True)
    pending = invoke("models", "request-approval", "cancer", "1", "--reason", "please")
    assert "pending_approval" in pending.stdout

    approved = invoke("approvals", "approve", "cancer", "1", "--reason", "fine")
    assert approved.exit_code == 0, approved.output
    assert f"{os_user()} approved cancer v1" in approved.stdout
    assert "the version is approved" in approved.stdout
    _fails(invoke("approvals", "approve", "cancer", "1", "--reason", "again"), "approved")
    listed = _json(invoke("approvals", "list", "cancer", "1", "--json"))
    assert [(a["approver"], a["decision"], a["valid"]) for a in listed] == [
        (os_user(), "approve", True)
    ]
    assert "yes" in invoke("approvals", "list", "cancer", "1").stdout

    promoted = _json(invoke("models", "promote", "cancer", "1", "--reason", "go", "--json"))
    assert promoted["aliases"] == ["champion"]
    _fails(invoke("models", "promote", "cancer", "1", "--alias", "prod", "--reason", "x"),
           "champion")  # fmt: skip
    _fails(invoke("models", "rollback", "cancer", "--reason", "x"), "No earlier approved version")
    history = _json(invoke("models", "history", "cancer", "1", "--json"))
    assert [t["to_status"] for t in history] == [
        "validated", "pending_approval", "approved", "approved",
    ]  # fmt: skip
    assert "promote champion" in invoke("models", "history", "cancer", "1").stdout
    retired = invoke("models", "retire", "cancer", "1", "--reason", "replaced")
    assert "is retired" in retired.stdout


def test_the_os_user_may_not_approve_what_they_registered(
    invoke: Invoke, registered: str, client: loopline.Client
) -> None:
    version = client.registry.get_model_version("cancer", 1)
    client.registry.create_model_version(
        "cancer", run_id=version.run_id, artifact_path="model", flavor=version.flavor,
        digest=version.digest, signature=version.signature, actor=os_user(),
    )  # fmt: skip
    _json(invoke("models", "evaluate", "cancer", "2", "--data", "datasets:/cancer-test/1",
                 "--target", "y", "--no-importance", "--json"))  # fmt: skip
    invoke("models", "validate", "cancer", "2")
    invoke("models", "request-approval", "cancer", "2", "--reason", "mine")
    for command in ("approve", "reject"):
        _fails(invoke("approvals", command, "cancer", "2", "--reason", "self"),
               "separation of duties")  # fmt: skip
    assert _json(invoke("approvals", "list", "cancer", "2", "--json")) == []
    rejected = invoke("approvals", "reject", "cancer", "1", "--reason", "not pending")
    _fails(rejected, "registered")
