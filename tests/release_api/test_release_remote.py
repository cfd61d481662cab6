"""The SDK and the CLI against a server with auth on: same methods, results and errors as local.

``Client(url).release`` is a RemoteRelease; its actor is the token's user whatever the SDK
claims, and an evaluation of a DataFrame runs in the server process.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

import loopline
from loopline.cli.main import app
from loopline.client.remote_release import RemoteRelease
from loopline.entities import Approval, GateReport, ModelVersionStatus, StoredEvaluation
from loopline.errors import (
    InvalidArgumentError,
    InvalidStateError,
    LooplineError,
    PermissionDeniedError,
)
from loopline.modeling.logged import log_model
from loopline.release import ReleaseService

Frames = tuple[pd.DataFrame, pd.DataFrame]
ReleaseServer = Any  # the conftest's server: sdk, train, tokens, url, ok, path
S = ModelVersionStatus


def _fit(train: pd.DataFrame) -> Any:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return model.fit(train.drop(columns=["y"]), train["y"])


def test_remote_release_has_the_service_s_methods_and_signatures() -> None:
    public = {n for n in dir(ReleaseService) if not n.startswith("_")}
    assert public <= set(dir(RemoteRelease))
    for name in public:
        local = getattr(ReleaseService, name)
        if callable(local):
            assert inspect.signature(getattr(RemoteRelease, name)) == inspect.signature(local), name


def test_the_sdk_releases_over_rest_as_the_token_s_user(
    server: ReleaseServer, name: str, cancer: Frames
) -> None:
    train, test = cancer
    server.train("alice", _fit(train), train.drop(columns=["y"]).head(10), name=name)
    alice, bob, eve = (server.sdk(user).release for user in ("alice", "bob", "eve"))
    assert isinstance(alice, RemoteRelease)

    with pytest.raises(PermissionDeniedError, match="approver"):
        alice.set_policy(name, {"required_approvals": 1}, actor="mallory")
    assert bob.set_policy(name, {"required_approvals": 1}, actor="mallory").required_approvals == 1
    stored = alice.evaluate(f"models:/{name}/1", test, target="y", train_data=train,
                            importance=False, actor="mallory")  # fmt: skip
    assert isinstance(stored, StoredEvaluation)
    assert (stored.created_by, stored.result["data"]["rows"]) == ("alice", len(test))
    assert alice.get_evaluation(name, 1) == stored == alice.list_evaluations(name, 1)[-1]
    report = alice.gates(name, 1)
    assert isinstance(report, GateReport)
    assert report.passed
    assert report.digest == server.ok("dave", "GET", f"{server.path(name, 1)}/gates")["digest"]
    assert alice.validate(name, 1, actor="mallory").status is S.VALIDATED
    alice.request_approval(name, 1, actor="mallory", reason="please")

    with pytest.raises(PermissionDeniedError, match="needs the 'approver' role"):
        eve.approve(name, 1, actor="bob", reason="I am bob, trust me")
    approval = bob.approve(name, 1, actor="someone-else", reason="good")
    assert isinstance(approval, Approval)
    assert (approval.approver, approval.valid) == ("bob", True)
    with pytest.raises(InvalidStateError, match="approve needs it to be 'pending_approval'"):
        bob.approve(name, 1, actor="bob", reason="again")
    assert bob.list_approvals(name, 1) == [approval]
    assert alice.is_approved_digest(alice.registry.get_model_version(name, 1).digest)
    assert not alice.is_approved_digest("sha256:" + "0" * 64)
    assert not alice.is_approved_digest("' OR 1=1 --")

    champion = alice.promote(name, 1, alias="champion", actor="x", reason="ship")
    assert champion.aliases == ["champion"]
    loaded = alice.load_model(f"models:/{name}@champion")
    assert loaded.predict(test.drop(columns=["y"]).head(3)).tolist() == [
        int(v) for v in _fit(train).predict(test.drop(columns=["y"]).head(3))
    ]
    assert [t.actor for t in alice.history(name, 1)] == ["alice", "alice", "bob", "alice"]
    with pytest.raises(InvalidStateError, match="No earlier approved version"):
        alice.rollback(name, actor="alice", reason="nothing to go back to")
    assert alice.retire(name, 1, actor="alice", reason="done").status is S.RETIRED


def test_a_dataset_version_is_sent_by_reference(
    server: ReleaseServer, name: str, cancer: Frames
) -> None:
    train, test = cancer
    server.train("alice", _fit(train), train.drop(columns=["y"]).head(10), name=name)
    client = server.sdk("alice")
    scored = client.datasets.create(f"{name.replace('/', '-')}-test", test)
    stored = client.release.evaluate(f"models:/{name}/latest", scored, target="y",
                                     train_data=train, importance=False, actor="alice")  # fmt: skip
    assert stored.result["data"]["source"] == scored.uri
    assert stored.result["data"]["rows"] == len(test)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"trusted": True}, "trusted"), ({"baseline": len}, "baseline"),
     ({"sensitive_features": [1, 2]}, "sensitive_features"), ({"data": [[1, 2]]}, "data")],
)  # fmt: skip
def test_what_cannot_travel_is_refused_before_sending(
    server: ReleaseServer, kwargs: dict[str, Any], field: str
) -> None:
    release = server.sdk("alice").release
    call = {"data": pd.DataFrame({"a": [1]}), "target": "a", "actor": "alice", **kwargs}
    with pytest.raises(InvalidArgumentError, match="Over REST") as caught:
        release.evaluate("models:/never-sent/1", **call)
    assert caught.value.details["field"] == field


def _errors(release: Any, name: str) -> list[tuple[str, str]]:
    """The errors of a few bad calls, as (class, message)."""
    found = []
    calls = [
        lambda: release.validate(name, 1, actor="alice"),
        lambda: release.request_approval(name, 1, actor="alice", reason="x"),
        lambda: release.promote(name, 1, alias="prod", actor="alice", reason="x"),
        lambda: release.set_policy(name, {"required_approvals": 0}, actor="alice"),
        lambda: release.get_evaluation(name, 1),
        lambda: release.gates(name, 7),
        lambda: release.retire(name, 1, actor="alice", reason=""),
        lambda: release.evaluate(
            f"models:/{name}/1", pd.DataFrame({"a": [1.0]}), target="y", actor="alice"
        ),
    ]
    for call in calls:
        with pytest.raises(LooplineError) as caught:
            call()
        found.append((type(caught.value).__name__, caught.value.message))
    return found


def test_errors_are_the_local_ones(
    server: ReleaseServer, name: str, cancer: Frames, tmp_path: Path
) -> None:
    train, _ = cancer
    model, example = _fit(train), train.drop(columns=["y"]).head(10)
    server.train("alice", model, example, name=name)
    local = loopline.Client(str(tmp_path / "local"))
    run_id = local.create_run(local.create_experiment("local"), user_id="alice").info.run_id
    backend: Any = local.backend
    log_model(backend, local.registry, run_id, model, "model", input_example=example,
              registered_model_name=name, actor="alice")  # fmt: skip
    remote_errors = _errors(server.sdk("ana").release, name)  # an approver may set policies
    assert remote_errors == _errors(local.release, name)
    assert [kind for kind, _ in remote_errors] == [
        "InvalidStateError", "InvalidStateError", "InvalidArgumentError", "InvalidArgumentError",
        "NotFoundError", "NotFoundError", "InvalidArgumentError", "InvalidArgumentError",
    ]  # fmt: skip


def test_the_sdk_functions_and_the_cli_with_a_token(
    server: ReleaseServer, name: str, cancer: Frames, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, test = cancer
    server.train("alice", _fit(train), train.drop(columns=["y"]).head(10), name=name)
    monkeypatch.setenv("LOOPLINE_TOKEN", server.tokens["bob"])
    loopline.set_uri(server.url)
    assert loopline.models.set_policy(name, baseline_margin=0.01).baseline_margin == 0.01
    monkeypatch.setenv("LOOPLINE_TOKEN", server.tokens["alice"])
    loopline.set_uri(server.url)
    try:
        loopline.evaluate(f"models:/{name}/1", test, target="y", train_data=train,
                          importance=False)  # fmt: skip
        assert loopline.models.gates(name, 1).passed
        assert loopline.models.validate(name, 1).status is S.VALIDATED
        loopline.models.request_approval(name, 1, reason="review please")
        with pytest.raises(PermissionDeniedError, match="approver"):
            loopline.models.approve(name, 1, reason="self")
    finally:
        loopline.set_uri(None)

    runner = CliRunner()
    argv = ["approvals", "approve", name, "1", "--reason", "fine", "--uri", server.url]
    refused = runner.invoke(app, argv, env={"LOOPLINE_TOKEN": server.tokens["eve"]})
    assert refused.exit_code == 1
    assert "needs the 'approver' role; 'eve' has 'editor'" in refused.output
    approved = runner.invoke(app, argv, env={"LOOPLINE_TOKEN": server.tokens["carol"]})
    assert approved.exit_code == 0, approved.output
    assert f"carol approved {name} v1" in approved.output
    listed = runner.invoke(app, ["approvals", "list", name, "1", "--uri", server.url, "--json"],
                           env={"LOOPLINE_TOKEN": server.tokens["dave"]})  # fmt: skip
    assert '"approver": "carol"' in listed.output
    promoted = runner.invoke(
        app,
        ["models", "promote", name, "1", "--reason", "go", "--uri", server.url],
        env={"LOOPLINE_TOKEN": server.tokens["alice"]},
    )
    assert "Promoted to champion" in promoted.output, promoted.output
    gates = runner.invoke(app, ["models", "gates", name, "1", "--uri", server.url],
                          env={"LOOPLINE_TOKEN": server.tokens["dave"]})  # fmt: skip
    assert (gates.exit_code, "beats_baseline" in gates.output) == (0, True)


class Threshold:
    """Custom code: logged as a pickle, loadable only when trusted or approved."""

    def __init__(self, model: Any) -> None:
        self.inner = model
        self.feature_names_in_ = model.feature_names_in_

    def predict(self, X: Any) -> Any:
        return self.inner.predict(X)

    def predict_proba(self, X: Any) -> Any:
        return self.inner.predict_proba(X)


def test_load_model_over_rest_trusts_a_pickle_only_once_approved(
    server: ReleaseServer, name: str, cancer: Frames, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopline.registry import RegistryService

    train, test = cancer
    features = test.drop(columns=["y"]).head(5)
    model = Threshold(_fit(train))
    server.train("alice", model, train.drop(columns=["y"]).head(10), name=name)
    monkeypatch.setenv("LOOPLINE_TOKEN", server.tokens["alice"])
    loopline.set_uri(server.url)
    try:
        with pytest.raises(InvalidStateError, match="pickle"):
            loopline.load_model(f"models:/{name}/1")
        # The server never unpickles on a caller's word: an operator with store access vouches.
        registry = RegistryService(server.tracking.store, server.audit)
        ReleaseService(server.tracking, registry, None, server.audit).evaluate(
            f"models:/{name}/1", test, target="y", train_data=train, importance=False,
            trusted=True, actor="alice",
        )  # fmt: skip
        path = server.path(name, 1)
        server.ok("alice", "POST", f"{path}/validate", json={"reason": "gates pass"})
        server.ok("alice", "POST", f"{path}/request-approval", json={"reason": "review"})
        server.ok("bob", "POST", f"{path}/approvals", json={"decision": "approve", "reason": "ok"})
        loaded = loopline.load_model(f"models:/{name}/1")
        assert list(loaded.predict(features)) == list(model.predict(features))
    finally:
        loopline.set_uri(None)
