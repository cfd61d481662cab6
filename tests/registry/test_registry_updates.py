"""Descriptions, tags, deletes, release aliases, reserved names: refusals change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from loopline.audit import AuditLog
from loopline.errors import InvalidArgumentError, InvalidStateError, NotFoundError
from loopline.registry import RegistryService
from loopline.store import SqlTrackingStore
from loopline.store.schema import ModelTransitionRow, ModelVersionRow

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def two(registry: RegistryService, run_id: str) -> RegistryService:
    for _ in range(2):
        registry.create_model_version(
            "churn", run_id=run_id, artifact_path="m", flavor="sklearn", digest=DIGEST, actor="ana"
        )
    return registry


def _state(registry: RegistryService, audit: AuditLog) -> tuple[object, ...]:
    model = registry.get_registered_model("churn")
    return model, registry.list_model_versions("churn"), len(audit.list(max_results=1000))


def test_update_a_model_and_a_version_audited(two: RegistryService, audit: AuditLog) -> None:
    model = two.update_registered_model(
        "churn", description="Who leaves", tags={"team": "risk"}, actor="bob"
    )
    assert (model.description, model.tags) == ("Who leaves", {"team": "risk"})
    assert two.update_registered_model("churn", tags={"team": "risk"}, actor="bob") == model
    version = two.update_model_version("churn", 2, tags={"stage": "dev"}, actor="bob")
    assert version.tags == {"stage": "dev"}
    assert two.get_model_version("churn", 1).tags == {}
    events = audit.list(object_type="registered_model")
    updates = [e for e in events if e.action == "registered_model.update"]
    assert len(updates) == 1  # the unchanged second update recorded nothing
    assert updates[0].details == {
        "description": {"from": None, "to": "Who leaves"},
        "tags": {"from": {}, "to": {"team": "risk"}},
    }
    assert audit.verify().ok


def test_bad_updates_change_nothing(two: RegistryService, audit: AuditLog) -> None:
    before = _state(two, audit)
    with pytest.raises(InvalidArgumentError, match="tag"):
        two.update_registered_model("churn", tags={"": "x"}, actor="bob")
    with pytest.raises(InvalidArgumentError, match="description"):
        two.update_registered_model("churn", description=3, actor="bob")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="No registered model named 'fraud'"):
        two.update_registered_model("fraud", description="x", actor="bob")
    with pytest.raises(NotFoundError, match="has no version 7"):
        two.update_model_version("churn", 7, description="x", actor="bob")
    assert _state(two, audit) == before


@pytest.mark.parametrize("alias", ["champion", "challenger", "shadow"])
def test_release_aliases_are_refused(two: RegistryService, audit: AuditLog, alias: str) -> None:
    before = _state(two, audit)
    with pytest.raises(InvalidStateError, match=f"'{alias}' is moved by the release process"):
        two.set_alias("churn", alias, 1, actor="bob")
    with pytest.raises(InvalidStateError, match="loopline models promote"):
        two.delete_alias("churn", alias, actor="bob")
    assert _state(two, audit) == before
    assert two.set_alias("churn", f"{alias}-2", 1, actor="bob").aliases == [f"{alias}-2"]


def test_delete_a_version_takes_its_aliases_along(two: RegistryService, audit: AuditLog) -> None:
    two.set_alias("churn", "candidate", 2, actor="bob")
    two.delete_model_version("churn", 2, actor="cy")
    assert [v.version for v in two.list_model_versions("churn")] == [1]
    assert two.get_registered_model("churn").aliases == {}
    with pytest.raises(NotFoundError, match="has no version 2"):
        two.get_model_version("churn", 2)
    actions = [(e.action, e.object_id, e.actor) for e in audit.list(max_results=1000)[-2:]]
    assert actions == [
        ("model_version.delete", "churn/2", "cy"),
        ("alias.delete", "churn@candidate", "cy"),
    ]
    # the next version is numbered after the highest that remains
    assert audit.verify().ok


def test_a_version_with_a_release_alias_or_record_is_not_deleted(
    two: RegistryService, store: SqlTrackingStore, audit: AuditLog
) -> None:
    store.set_model_alias("churn", "champion", 1, now=1)  # as the release process does
    with store.engine.begin() as conn:
        version_id = conn.execute(
            select(ModelVersionRow.version_id).where(ModelVersionRow.version == 2)
        ).scalar_one()
        conn.execute(
            insert(ModelTransitionRow).values(
                version_id=version_id, from_status="registered", to_status="validated",
                actor="gate", reason=None, at=1, details_json="{}",
            )
        )  # fmt: skip
    before = _state(two, audit)
    with pytest.raises(InvalidStateError, match="is the model's champion"):
        two.delete_model_version("churn", 1, actor="cy")
    with pytest.raises(InvalidStateError, match="retire it instead"):
        two.delete_model_version("churn", 2, actor="cy")
    with pytest.raises(NotFoundError, match="has no version 3"):
        two.delete_model_version("churn", 3, actor="cy")
    with pytest.raises(InvalidStateError, match="still has 2 version"):
        two.delete_registered_model("churn", actor="cy")
    assert _state(two, audit) == before


def test_delete_an_empty_model(registry: RegistryService, audit: AuditLog) -> None:
    registry.create_registered_model("empty", actor="ana")
    registry.delete_registered_model("empty", actor="bob")
    with pytest.raises(NotFoundError):
        registry.get_registered_model("empty")
    assert audit.list(max_results=1000)[-1].action == "registered_model.delete"
    with pytest.raises(NotFoundError):
        registry.delete_registered_model("empty", actor="bob")


@pytest.mark.parametrize(
    "name", ["resolve", "team/versions", "a/b/aliases", "a/versions/3", "", " ", "x" * 181, "a\nb"]
)
def test_names_that_would_break_paths_are_refused(registry: RegistryService, name: str) -> None:
    with pytest.raises(InvalidArgumentError, match="name"):
        registry.create_registered_model(name, actor="ana")


@pytest.mark.parametrize("name", ["versions", "versions/a", "team/churn", "a/resolve", "a@b"])
def test_other_names_with_slashes_are_fine(registry: RegistryService, name: str) -> None:
    assert registry.create_registered_model(name, actor="ana").name == name
    assert registry.get_registered_model(name).name == name
