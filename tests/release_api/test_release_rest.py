"""Separation of duties and the release flow over REST, with real users and tokens (auth on).

Every request below is a real HTTP request to uvicorn; the actor is always the token's user.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from loopline.cli.main import app

Frames = tuple[pd.DataFrame, pd.DataFrame]
ReleaseServer = Any  # the conftest's server: call, ok, path, evaluation, status, train, tokens


def _fit(train: pd.DataFrame, *, invert: bool = False) -> Any:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    target = 1 - train["y"] if invert else train["y"]
    return model.fit(train.drop(columns=["y"]), target)


def _pending(
    server: ReleaseServer,
    name: str,
    cancer: Frames,
    *,
    trainer: str = "alice",
    registrant: str = "alice",
    approvals: int = 1,
) -> int:
    """A version trained by ``trainer``, registered, evaluated, validated and sent for review."""
    train, test = cancer
    example = train.drop(columns=["y"]).head(20)
    if trainer == registrant:
        server.train(trainer, _fit(train), example, name=name)
        version = server.ok(registrant, "GET", f"{server.path(name)}/versions")["versions"][-1]
    else:
        run_id = server.train(trainer, _fit(train), example, name=None)
        version = server.ok(registrant, "POST", f"{server.path(name)}/versions",
                            json={"run_id": run_id, "artifact_path": "model"})  # fmt: skip
    number = int(version["version"])
    path = server.path(name, number)
    server.ok("ana", "PUT", f"{server.path(name)}/policy",
              json={"required_approvals": approvals})  # fmt: skip
    server.ok(registrant, "POST", f"{path}/evaluations", json=server.evaluation(test, train))
    server.ok(registrant, "POST", f"{path}/validate", json={"reason": "gates pass"})
    server.ok(registrant, "POST", f"{path}/request-approval", json={"reason": "please review"})
    return number


def _decide(server: ReleaseServer, user: str | None, name: str, version: int,
            decision: str = "approve") -> Any:  # fmt: skip
    body = {"decision": decision, "reason": f"{user} looked at it"}
    return server.call(user, "POST", f"{server.path(name, version)}/approvals", json=body)


def _error(response: Any, status_code: int) -> dict[str, Any]:
    assert response.status_code == status_code, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def test_two_approvers_release_alice_s_model(
    server: ReleaseServer, name: str, cancer: Frames
) -> None:
    version = _pending(server, name, cancer, approvals=2)
    path = server.path(name, version)

    assert _error(_decide(server, None, name, version), 401)["code"] == "UNAUTHENTICATED"
    for user, required in (("dave", "editor"), ("eve", "approver"), ("alice", "approver")):
        error = _error(_decide(server, user, name, version), 403)
        assert (error["details"]["user"], error["details"]["required"]) == (user, required)
    _error(server.call("dave", "POST", f"{path}/validate", json={}), 403)
    _error(server.call("dave", "PUT", f"{server.path(name)}/policy", json={}), 403)
    lowered = server.call("alice", "PUT", f"{server.path(name)}/policy", json={})
    assert _error(lowered, 403)["details"]["required"] == "approver"  # a registrant can't relax it

    approval = _decide(server, "bob", name, version).json()
    assert (approval["approver"], approval["decision"], approval["valid"]) == (
        "bob", "approve", True,
    )  # fmt: skip
    assert server.status(name, version) == "pending_approval"
    again = _error(_decide(server, "bob", name, version), 409)
    assert "one vote per approver" in again["message"]
    early = _error(server.call("alice", "POST", f"{path}/promote", json={"reason": "now"}), 409)
    assert "promote needs" in early["message"]

    assert _decide(server, "carol", name, version).status_code == 201
    assert server.status(name, version) == "approved"
    promoted = server.ok("alice", "POST", f"{path}/promote", json={"reason": "ship it"})
    assert promoted["aliases"] == ["champion"]

    approvals = server.ok("dave", "GET", f"{path}/approvals")["approvals"]
    assert [(a["approver"], a["valid"]) for a in approvals] == [("bob", True), ("carol", True)]
    history = server.ok("dave", "GET", f"{path}/history")["transitions"]
    assert [(t["to_status"], t["actor"]) for t in history] == [
        ("validated", "alice"), ("pending_approval", "alice"), ("approved", "carol"),
        ("approved", "alice"),
    ]  # fmt: skip
    assert history[-1]["details"]["action"] == "promote"


def test_an_approver_may_not_approve_what_they_registered_or_trained(
    server: ReleaseServer, name: str, cancer: Frames
) -> None:
    version = _pending(server, name, cancer, trainer="ana", registrant="ana")
    for decision in ("approve", "reject"):
        error = _error(_decide(server, "ana", name, version, decision), 403)
        assert error["details"]["rule"] == "registrant"
        assert "separation of duties" in error["message"]

    other = f"{name}-b"
    version = _pending(server, other, cancer, trainer="carol", registrant="alice")
    error = _error(_decide(server, "carol", other, version), 403)
    assert error["details"]["rule"] == "run_author", error
    assert "authored run" in error["message"]
    assert server.ok("dave", "GET", f"{server.path(other, version)}/approvals")["approvals"] == []
    assert _decide(server, "bob", other, version).status_code == 201
    assert server.status(other, version) == "approved"


def test_a_run_s_author_is_the_token_s_user_not_a_claim(server: ReleaseServer) -> None:
    experiment = server.ok("alice", "POST", "/api/experiments", json={"name": "claims"})
    body = {"experiment_id": experiment["experiment_id"], "user_id": "bob"}
    run = server.ok("alice", "POST", "/api/runs", json=body)
    assert run["info"]["user_id"] == "alice"


def _blob(server: ReleaseServer, name: str, version: int) -> Path:
    """The stored file of the version's model weights in the server's artifact store."""
    found = server.ok("dave", "GET", server.path(name, version))
    files = server.tracking.artifact_files(found["run_id"], found["artifact_path"])
    weights = next(f for f in files if not f.path.endswith("loopline-model.json"))
    local = server.tracking.artifacts.local_path(weights.digest or "")
    assert local is not None
    return Path(local)


def test_changed_artifact_or_gate_results_void_the_approvals(
    server: ReleaseServer, name: str, cancer: Frames
) -> None:
    train, test = cancer
    version = _pending(server, name, cancer)
    path = server.path(name, version)
    assert _decide(server, "bob", name, version).status_code == 201

    server.ok("alice", "POST", f"{path}/evaluations", json=server.evaluation(test.head(120), train))
    approvals = server.ok("dave", "GET", f"{path}/approvals")["approvals"]
    assert [(a["valid"], a["void_reason"]) for a in approvals] == [(False, "gate results changed")]
    refused = _error(server.call("alice", "POST", f"{path}/promote", json={"reason": "go"}), 409)
    assert "gate results changed" in refused["message"]
    server.ok("alice", "POST", f"{path}/request-approval", json={"reason": "re-evaluated"})
    assert _decide(server, "carol", name, version).status_code == 201

    blob = _blob(server, name, version)
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes() + b"tampered")
    approvals = server.ok("dave", "GET", f"{path}/approvals")["approvals"]
    assert [a["void_reason"] for a in approvals] == ["artifact changed", "artifact changed"]
    refused = _error(server.call("alice", "POST", f"{path}/promote", json={"reason": "go"}), 409)
    assert "its artifact changed since registration" in refused["message"]
    assert re.search(r"approval \d+ by 'carol' is void: artifact changed", refused["message"])
    assert server.status(name, version) == "approved"
    assert server.ok("dave", "GET", path)["aliases"] == []


def test_a_model_that_does_not_beat_its_baseline_is_not_released(
    server: ReleaseServer, name: str, cancer: Frames
) -> None:
    train, test = cancer
    server.train("alice", _fit(train, invert=True), train.drop(columns=["y"]).head(5), name=name)
    path = server.path(name, 1)
    server.ok("alice", "POST", f"{path}/evaluations", json=server.evaluation(test, train))
    gates = server.ok("dave", "GET", f"{path}/gates")
    assert gates["passed"] is False
    assert "beats_baseline" in [g["name"] for g in gates["gates"] if not g["passed"]]
    refused = _error(server.call("alice", "POST", f"{path}/validate", json={}), 409)
    assert refused["details"]["failed_gates"] == ["beats_baseline"]
    for step in ("request-approval", "promote"):
        _error(server.call("alice", "POST", f"{path}/{step}", json={"reason": "try"}), 409)
    assert server.status(name, 1) == "registered"


def test_rollback_moves_the_champion_back(server: ReleaseServer, name: str, cancer: Frames) -> None:
    for _ in range(2):
        version = _pending(server, name, cancer)
        assert _decide(server, "bob", name, version).status_code == 201
        server.ok("alice", "POST", f"{server.path(name, version)}/promote",
                  json={"alias": "champion", "reason": f"v{version}"})  # fmt: skip
    champion = f"{server.path(name)}/aliases/champion"
    assert server.ok("dave", "GET", champion)["version"] == 2
    _error(server.call("dave", "POST", f"{champion}/rollback", json={"reason": "x"}), 403)
    back = server.ok("alice", "POST", f"{champion}/rollback", json={"reason": "v2 misbehaves"})
    assert (back["version"], back["aliases"]) == (1, ["champion"])
    retired = server.ok("alice", "POST", f"{server.path(name, 1)}/retire", json={"reason": "old"})
    assert (retired["status"], retired["aliases"]) == ("retired", [])


def test_bad_requests_are_4xx_and_change_nothing(
    server: ReleaseServer, name: str, cancer: Frames
) -> None:
    train, test = cancer
    server.train("alice", _fit(train), train.drop(columns=["y"]).head(5), name=name)
    policy = f"{server.path(name)}/policy"
    cases = [
        ("PUT", policy, {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
        ("PUT", policy, {"json": {"required_approvals": 0}}),
        ("PUT", policy, {"json": {"approvals": 2}}),
        ("PUT", policy, {"json": {"fairness_thresholds": {"accuracy": 0.8}}}),
        ("POST", f"{server.path(name, 1)}/evaluations", {"json": {"target": "y", "data": {}}}),
        ("POST", f"{server.path(name, 1)}/evaluations",
         {"json": server.evaluation(test, train, target="nope")}),
        ("POST", f"{server.path(name, 1)}/evaluations",
         {"json": {"target": "y", "data": {"columns": ["a"], "data": [[1, 2]]}}}),
        ("POST", f"{server.path(name, 1)}/evaluations",
         {"json": {"target": "y", "data": "datasets:/nope/1", "train_data": "datasets:/x/1"}}),
        ("POST", f"{server.path(name, 1)}/evaluations", {"json": {**server.evaluation(test, train),
                                                                 "trusted": True}}),
        ("POST", f"{server.path(name, 1)}/promote", {"json": {"alias": "prod", "reason": "x"}}),
        ("POST", f"{server.path(name, 1)}/request-approval", {"json": {"reason": ""}}),
        ("POST", f"{server.path(name, 9)}/validate", {"json": {}}),
        ("POST", f"{server.path(name, 'x')}/validate", {"json": {}}),
        ("POST", f"{server.path(name)}/aliases/staging/rollback", {"json": {"reason": "x"}}),
        ("GET", f"{server.path('nope')}/versions/1/gates", {}),
    ]  # fmt: skip
    for method, path, kwargs in cases:
        response = server.call("ana" if path == policy else "alice", method, path, **kwargs)
        assert 400 <= response.status_code < 500, (path, response.text)
        assert response.json()["error"]["message"], response.text
    assert server.ok("dave", "GET", policy)["required_approvals"] == 1
    assert server.ok("dave", "GET", f"{server.path(name, 1)}/evaluations")["evaluations"] == []
    assert server.status(name, 1) == "registered"


def test_every_step_is_audited_with_its_actor_and_the_chain_holds(
    server: ReleaseServer, name: str, cancer: Frames
) -> None:
    version = _pending(server, name, cancer)
    assert _decide(server, "bob", name, version).status_code == 201
    server.ok("alice", "POST", f"{server.path(name, version)}/promote", json={"reason": "go"})

    runner = CliRunner()
    listed = runner.invoke(app, ["audit", "list", "--object-id", f"{name}/{version}",
                                 "--uri", server.store_uri, "--json"])  # fmt: skip
    assert listed.exit_code == 0, listed.output

    events = [(e["actor"], e["action"]) for e in json.loads(listed.output)["events"]]
    assert events == [
        ("alice", "model_version.create"), ("alice", "model_version.evaluate"),
        ("alice", "model_version.validate"), ("alice", "model_version.request_approval"),
        ("bob", "model_version.approve"), ("alice", "model_version.promote"),
    ]  # fmt: skip
    policy = runner.invoke(app, ["audit", "list", "--object-type", "registered_model",
                                 "--object-id", name, "--uri", server.store_uri,
                                 "--json"])  # fmt: skip
    actions = [(e["actor"], e["action"]) for e in json.loads(policy.output)["events"]]
    assert ("ana", "release_policy.set") in actions
    alias = runner.invoke(app, ["audit", "list", "--object-type", "alias", "--object-id",
                                f"{name}@champion", "--uri", server.store_uri,
                                "--json"])  # fmt: skip
    events = json.loads(alias.output)["events"]
    assert [(e["actor"], e["action"], e["details"]["to"]) for e in events] == [
        ("alice", "alias.set", version)
    ]
    verified = runner.invoke(app, ["audit", "verify", "--uri", server.store_uri])
    assert verified.exit_code == 0, verified.output


def test_reads_need_a_token_and_any_role(server: ReleaseServer, name: str, cancer: Frames) -> None:
    train, _ = cancer
    server.train("eve", _fit(train), train.drop(columns=["y"]).head(5), name=name)
    policy = f"{server.path(name)}/policy"
    assert server.call(None, "GET", policy).status_code == 401
    bad = server.http(None).get(policy, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    for user in ("dave", "eve", "bob"):
        assert server.ok(user, "GET", policy)["required_approvals"] == 1
        assert server.ok(user, "GET", f"{server.path(name, 1)}/gates")["passed"] is False
    assert server.call("dave", "GET", f"{server.path('nope')}/policy").status_code == 404


def test_hostile_bodies_are_never_a_5xx(server: ReleaseServer, name: str, cancer: Frames) -> None:
    train, test = cancer
    server.train("alice", _fit(train), train.drop(columns=["y"]).head(5), name=name)
    one, policy = server.path(name, 1), f"{server.path(name)}/policy"
    table = server.evaluation(test.head(5), train)["data"]
    bodies: list[tuple[str, str, Any]] = [
        ("POST", f"{one}/evaluations", {"target": "y", "data": {**table, "dtypes": {"y": "foo"}}}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": {**table, "dtypes": {"z": "int"}}}),
        ("POST", f"{one}/evaluations",
         {"target": "y", "data": {**table, "dtypes": {"mean radius": "int64"}}}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": {**table, "data": [[{"a": 1}]]}}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": {**table, "columns": []}}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": {**table, "extra": 1}}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": "datasets:/"}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": table, "threshold": "abc"}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": table, "threshold": 7}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": table, "baseline": "nope"}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": table, "positive_label": [1]}),
        ("POST", f"{one}/evaluations",
         {"target": "y", "data": table, "train_data": train.head(3).to_dict()}),
        ("POST", f"{one}/evaluations", {"target": "y", "data": table, "sensitive_features": "n"}),
        ("POST", f"{one}/evaluations", [1, 2]),
        ("POST", f"{one}/approvals", {"decision": "maybe", "reason": "x"}),
        ("POST", f"{one}/promote", {"alias": None, "reason": "x"}),
        ("POST", f"{one}/retire", {"reason": "x" * 5000}),
        ("PUT", policy, {"fairness_thresholds": {"demographic_parity_ratio": -1}}),
        ("PUT", policy, {"required_approvals": True}),
        ("PUT", policy, {"baseline_margin": "NaN"}),
        ("PUT", policy, []),
        ("GET", f"{server.path(name)}/versions/99999999999999999999/gates", None),
        ("GET", f"{server.path(name)}/versions/-1/history", None),
        ("POST", f"{server.path(name)}/aliases/Champion/rollback", {"reason": "x"}),
    ]  # fmt: skip
    for method, path, body in bodies:
        user = "bob" if path.endswith("approvals") else "alice"
        response = server.call(user, method, path, json=body)
        assert 400 <= response.status_code < 500, (path, body, response.text)
    assert server.ok("dave", "GET", f"{one}/evaluations")["evaluations"] == []
    assert server.ok("dave", "GET", policy)["required_approvals"] == 1
