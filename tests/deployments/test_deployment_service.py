"""DeploymentService on SQLite and PostgreSQL: revisions, compare-and-set, kill switch, audit,
resolving, and bad inputs that store nothing."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopline.audit import AuditLog
from loopline.deploy import DeploymentService
from loopline.deploy.checks import _decision_policy_class, check_policy
from loopline.entities import Challenger, Deployment
from loopline.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
)
from loopline.store import SqlTrackingStore

pytestmark = pytest.mark.usefixtures("models")

CANARY = {"model_uri": "models:/churn@challenger", "mode": "canary", "share": 0.2,
          "sticky_key": "customer_id"}  # fmt: skip
POLICY = {"name": "churn", "thresholds": {"bands": [{"min": 0.8, "action": "reject"}],
                                          "default": "approve"}}  # fmt: skip
STORED = check_policy(POLICY, "create_deployment")  # DecisionPolicy.to_dict() of it


def _events(audit: AuditLog) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.object_id) for e in audit.list(object_type="deployment")]


def test_create_then_get_holds_the_whole_config(service: DeploymentService) -> None:
    made = service.create_deployment(
        "churn-api", "models:/churn@champion", policy=POLICY, logging="durable",
        challenger=CANARY, description="Churn scoring", tags={"team": "risk"}, actor="ana",
    )  # fmt: skip
    assert made.revision == 1
    assert made.enabled
    assert made.kill_reason is None
    assert made.challenger == Challenger("models:/churn@challenger", "canary", 0.2, "customer_id")
    assert (made.logging, made.tags, made.created_by, made.updated_by) == (
        "durable", {"team": "risk"}, "ana", "ana",
    )  # fmt: skip
    assert service.get_deployment("churn-api") == made
    assert service.get_deployment("churn-api", revision=1) == made


def test_update_makes_a_revision_and_keeps_fields_not_given(
    service: DeploymentService, audit: AuditLog
) -> None:
    service.create_deployment("churn-api", "models:/churn@champion", policy=POLICY,
                              challenger=CANARY, actor="ana")  # fmt: skip
    updated = service.update_deployment("churn-api", logging="off", actor="bob", reason="cost")
    assert updated.revision == 2
    assert updated.logging == "off"
    assert updated.policy == STORED
    assert updated.challenger is not None
    assert (updated.created_by, updated.updated_by) == ("ana", "bob")
    removed = service.update_deployment("churn-api", challenger=None, policy=None, actor="bob")
    assert (removed.revision, removed.challenger, removed.policy) == (3, None, None)
    revisions = service.list_revisions("churn-api")
    assert [(r.revision, r.created_by, r.reason) for r in revisions] == [
        (1, "ana", None), (2, "bob", "cost"), (3, "bob", None),
    ]  # fmt: skip
    assert revisions[1].deployment.challenger is not None  # the policy is versioned with it
    assert service.get_deployment("churn-api", revision=1).policy == STORED
    assert _events(audit) == [
        ("ana", "deployment.create", "churn-api"), ("bob", "deployment.update", "churn-api"),
        ("bob", "deployment.update", "churn-api"),
    ]  # fmt: skip
    changes = audit.list(object_type="deployment")[1].details["changes"]
    assert changes == {"logging": {"from": "async", "to": "off"}}


def test_an_update_that_changes_nothing_stores_nothing(
    service: DeploymentService, audit: AuditLog
) -> None:
    service.create_deployment("churn-api", "models:/churn@champion", actor="ana")
    same = service.update_deployment("churn-api", logging="async", actor="bob")
    assert same.revision == 1
    assert len(service.list_revisions("churn-api")) == 1
    assert len(_events(audit)) == 1


def test_compare_and_set_refuses_a_stale_revision(service: DeploymentService) -> None:
    service.create_deployment("churn-api", "models:/churn@champion", actor="ana")
    service.update_deployment("churn-api", logging="off", expected_revision=1, actor="ana")
    with pytest.raises(ConflictError, match="at revision 2, not the expected revision 1"):
        service.update_deployment("churn-api", logging="durable", expected_revision=1, actor="b")
    assert service.get_deployment("churn-api").logging == "off"


def test_concurrent_updates_get_consecutive_revisions(
    service: DeploymentService, store: SqlTrackingStore
) -> None:
    service.create_deployment("churn-api", "models:/churn@champion", actor="ana")
    errors: list[BaseException] = []

    def change(i: int) -> None:
        try:
            service.update_deployment("churn-api", description=f"d{i}", actor=f"u{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=change, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [r.revision for r in service.list_revisions("churn-api")] == list(range(1, 8))


def test_kill_and_enable_are_revisions_and_audited(
    service: DeploymentService, audit: AuditLog
) -> None:
    service.create_deployment("churn-api", "models:/churn@champion", actor="ana")
    killed = service.kill("churn-api", reason="drift alert", actor="oncall")
    assert (killed.enabled, killed.kill_reason, killed.revision) == (False, "drift alert", 2)
    assert service.resolve("churn-api").deployment.enabled is False
    enabled = service.enable("churn-api", actor="ana")
    assert (enabled.enabled, enabled.kill_reason, enabled.revision) == (True, None, 3)
    assert service.enable("churn-api", actor="ana").revision == 3  # already enabled
    assert _events(audit)[1:] == [
        ("oncall", "deployment.kill", "churn-api"), ("ana", "deployment.enable", "churn-api"),
    ]  # fmt: skip
    assert audit.list(object_type="deployment")[1].details["reason"] == "drift alert"
    with pytest.raises(
        InvalidArgumentError, match=r"'reason' parameter of DeploymentService\.kill"
    ):
        service.kill("churn-api", reason=" ", actor="oncall")


def test_delete_removes_it_and_audits_the_last_config(
    service: DeploymentService, audit: AuditLog
) -> None:
    service.create_deployment("churn-api", "models:/churn@champion", actor="ana")
    service.delete_deployment("churn-api", actor="bob")
    with pytest.raises(NotFoundError, match="No deployment named 'churn-api'"):
        service.get_deployment("churn-api")
    with pytest.raises(NotFoundError):
        service.delete_deployment("churn-api", actor="bob")
    last = audit.list(object_type="deployment")[-1]
    assert (last.actor, last.action, last.details["config"]["model_uri"]) == (
        "bob", "deployment.delete", "models:/churn@champion",
    )  # fmt: skip
    again = service.create_deployment("churn-api", "models:/fraud/1", actor="ana")
    assert again.revision == 1  # the name is free again, its history starts over


def test_resolve_follows_the_alias(service: DeploymentService, store: SqlTrackingStore) -> None:
    service.create_deployment("churn-api", "models:/churn@champion", challenger=CANARY,
                              actor="ana")  # fmt: skip
    resolved = service.resolve("churn-api")
    assert resolved.champion is not None
    assert resolved.challenger is not None
    assert (resolved.champion.version, resolved.challenger.version) == (1, 2)
    assert resolved.champion.aliases == ["champion"]
    assert resolved.errors == {}
    store.set_model_alias("churn", "champion", 2, now=5)  # a promotion moves the alias
    moved = service.resolve("churn-api")
    assert moved.champion is not None
    assert moved.champion.version == 2
    assert moved.champion.aliases == ["challenger", "champion"]
    store.delete_model_alias("churn", "challenger", now=6)
    gone = service.resolve("churn-api")
    assert gone.challenger is None
    assert "models:/churn@challenger" in gone.errors["challenger"]
    assert gone.champion is not None  # the champion still serves


@pytest.mark.parametrize("uri", ["models:/churn/latest", "models:/churn/1"])
def test_resolve_fixed_versions_and_latest(service: DeploymentService, uri: str) -> None:
    service.create_deployment("d", uri, actor="ana")
    champion = service.resolve("d").champion
    assert champion is not None
    assert champion.version == (2 if uri.endswith("latest") else 1)


def test_duplicate_name_is_refused(service: DeploymentService) -> None:
    service.create_deployment("churn-api", "models:/churn@champion", actor="ana")
    with pytest.raises(AlreadyExistsError, match="'churn-api' already exists"):
        service.create_deployment("churn-api", "models:/fraud/1", actor="ana")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"model_uri": "models:/nope@champion"}, NotFoundError, "No registered model named 'nope'"),
        ({"model_uri": "models:/churn@prod"}, NotFoundError, "has no alias 'prod'"),
        ({"model_uri": "models:/churn/9"}, NotFoundError, "has no version 9"),
        ({"challenger": {**CANARY, "model_uri": "models:/churn/7"}}, NotFoundError, "version 7"),
        ({"model_uri": "s3://bucket/model"}, InvalidArgumentError, "'model_uri'"),
        ({"model_uri": "models:/churn@NOPE"}, InvalidArgumentError, "malformed"),
        ({"name": "churn/api"}, InvalidArgumentError, "'name' parameter"),
        ({"name": ".."}, InvalidArgumentError, "not only dots"),
        ({"name": "x" * 129}, InvalidArgumentError, "'name' parameter"),
        ({"logging": "sync"}, InvalidArgumentError, "'logging' .* one of off, async, durable"),
        ({"challenger": {**CANARY, "share": 1.0}}, InvalidArgumentError, "challenger.share"),
        ({"challenger": {**CANARY, "share": 0}}, InvalidArgumentError, "challenger.share"),
        ({"challenger": {**CANARY, "share": None}}, InvalidArgumentError, "challenger.share"),
        ({"challenger": {**CANARY, "mode": "split"}}, InvalidArgumentError, "challenger.mode"),
        ({"challenger": {**CANARY, "extra": 1}}, InvalidArgumentError, "'challenger'"),
        ({"challenger": {**CANARY, "sticky_key": "a b"}}, InvalidArgumentError, "sticky_key"),
        ({"challenger": {"model_uri": "models:/churn@champion", "mode": "shadow"}},
         InvalidArgumentError, "another URI than the champion's"),
        ({"policy": ["not", "a", "mapping"]}, InvalidArgumentError, "'policy'"),
        ({"policy": {"x": float("nan")}}, InvalidArgumentError, "'policy'"),
        ({"tags": {"k": object()}}, InvalidArgumentError, "tag"),
        ({"actor": ""}, InvalidArgumentError, "'actor'"),
    ],
)  # fmt: skip
def test_bad_creates_store_nothing(
    service: DeploymentService,
    audit: AuditLog,
    kwargs: dict[str, Any],
    error: type[Exception],
    match: str,
) -> None:
    arguments: dict[str, Any] = {"name": "churn-api", "model_uri": "models:/churn@champion",
                                 "actor": "ana", **kwargs}  # fmt: skip
    before = len(audit.list())
    with pytest.raises(error, match=match):
        service.create_deployment(**arguments)
    assert list(service.list_deployments()) == []
    assert len(audit.list()) == before


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"model_uri": "models:/churn/9"}, NotFoundError),
        ({"model_uri": "models:/churn@challenger"}, InvalidArgumentError),  # = the challenger
        ({"challenger": {"model_uri": "models:/churn@champion", "mode": "shadow"}},
         InvalidArgumentError),
        ({"logging": None}, InvalidArgumentError),
        ({"expected_revision": 0}, InvalidArgumentError),
        ({"expected_revision": True}, InvalidArgumentError),
    ],
)  # fmt: skip
def test_bad_updates_store_nothing(
    service: DeploymentService, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    service.create_deployment("churn-api", "models:/churn@champion", challenger=CANARY,
                              actor="ana")  # fmt: skip
    with pytest.raises(error):
        service.update_deployment("churn-api", actor="bob", **kwargs)
    assert len(service.list_revisions("churn-api")) == 1


def test_unknown_names_and_revisions(service: DeploymentService) -> None:
    with pytest.raises(NotFoundError, match="No deployment named 'ghost'"):
        service.update_deployment("ghost", logging="off", actor="ana")
    with pytest.raises(NotFoundError):
        service.kill("ghost", reason="x", actor="ana")
    with pytest.raises(NotFoundError):
        service.resolve("ghost")
    with pytest.raises(NotFoundError):
        service.list_revisions("ghost")
    service.create_deployment("churn-api", "models:/churn@champion", actor="ana")
    with pytest.raises(NotFoundError, match="has no revision 4"):
        service.get_deployment("churn-api", revision=4)


def test_list_pages_by_name(service: DeploymentService) -> None:
    for name in ("c", "a", "b"):
        service.create_deployment(name, "models:/fraud/1", actor="ana")
    first = service.list_deployments(max_results=2)
    assert [d.name for d in first] == ["a", "b"]
    assert first.next_token
    rest = service.list_deployments(max_results=2, page_token=first.next_token)
    assert [d.name for d in rest] == ["c"]
    assert rest.next_token is None
    assert [d.name for d in service.list_deployments(name_contains="b")] == ["b"]


@pytest.mark.skipif(
    _decision_policy_class() is None, reason="loopline.policies has no DecisionPolicy"
)
def test_a_policy_decision_policy_refuses_names_its_path(service: DeploymentService) -> None:
    bad = {"thresholds": {"bands": [{"min": "high", "action": "reject"}]}}
    with pytest.raises(InvalidArgumentError, match="not a valid decision policy") as caught:
        service.create_deployment("churn-api", "models:/churn@champion", policy=bad, actor="a")
    assert caught.value.details["field"].startswith("policy.thresholds.bands[0]")
    assert list(service.list_deployments()) == []
    made = service.create_deployment("churn-api", "models:/churn@champion", policy=POLICY,
                                     actor="a")  # fmt: skip
    assert made.policy == _decision_policy_class().from_dict(POLICY).to_dict()


@given(
    st.builds(
        Deployment,
        name=st.from_regex(r"[a-z0-9_.-]{1,20}", fullmatch=True),
        revision=st.integers(1, 10**6),
        model_uri=st.just("models:/churn@champion"),
        policy=st.none() | st.dictionaries(st.text(max_size=5), st.integers() | st.text()),
        logging=st.sampled_from(["off", "async", "durable"]),
        challenger=st.none()
        | st.builds(
            Challenger,
            model_uri=st.just("models:/churn/2"),
            mode=st.just("canary"),
            share=st.floats(0.01, 0.99),
            sticky_key=st.none() | st.just("customer_id"),
        ),
        enabled=st.booleans(),
        kill_reason=st.none() | st.text(max_size=20),
        description=st.none() | st.text(max_size=20),
        tags=st.dictionaries(st.text(max_size=5), st.text(max_size=5)),
        created_by=st.text(min_size=1, max_size=5),
        created_at=st.integers(0, 2**50),
        updated_by=st.text(min_size=1, max_size=5),
        updated_at=st.integers(0, 2**50),
    )
)
def test_deployments_round_trip_through_json(deployment: Deployment) -> None:
    assert Deployment.from_dict(json.loads(json.dumps(deployment.to_dict()))) == deployment
