"""Registered models and versions: create, get, list and page, numbering, bad input, audit."""

from __future__ import annotations

import pytest

from loopline.audit import AuditLog
from loopline.entities import ModelVersionStatus
from loopline.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from loopline.registry import RegistryService

DIGEST = "sha256:" + "ab" * 32


def _version(registry: RegistryService, run_id: str, name: str = "churn", **extra: object) -> int:
    created = registry.create_model_version(
        name, run_id=run_id, artifact_path="model", flavor="sklearn", digest=DIGEST,
        actor="ana", **extra,  # type: ignore[arg-type]
    )  # fmt: skip
    return created.version


def test_create_and_get_a_registered_model(registry: RegistryService, audit: AuditLog) -> None:
    made = registry.create_registered_model(
        "churn", description="Who leaves", tags={"team": "growth"}, actor="ana"
    )
    got = registry.get_registered_model("churn")
    assert got == made
    assert (got.name, got.description, got.tags) == ("churn", "Who leaves", {"team": "growth"})
    assert (got.latest_version, got.aliases) == (None, {})
    [event] = audit.list(object_type="registered_model")
    assert (event.actor, event.action, event.object_id) == (
        "ana",
        "registered_model.create",
        "churn",
    )


def test_a_taken_name_and_an_unknown_name(registry: RegistryService, audit: AuditLog) -> None:
    registry.create_registered_model("churn", actor="ana")
    with pytest.raises(AlreadyExistsError, match="'churn' already exists"):
        registry.create_registered_model("churn", actor="bob")
    with pytest.raises(NotFoundError, match="No registered model named 'fraud'"):
        registry.get_registered_model("fraud")
    assert len(audit.list()) == 1


@pytest.mark.parametrize("name", ["", "   ", "x" * 181, "a\nb", 3])
def test_bad_names_are_refused(registry: RegistryService, name: object) -> None:
    with pytest.raises(InvalidArgumentError, match="registered model name"):
        registry.create_registered_model(name, actor="ana")  # type: ignore[arg-type]


def test_list_pages_through_models_by_name(registry: RegistryService) -> None:
    for name in ["delta", "alpha", "charlie", "bravo", "echo"]:
        registry.create_registered_model(name, actor="ana")
    first = registry.list_registered_models(max_results=2)
    assert [m.name for m in first] == ["alpha", "bravo"]
    second = registry.list_registered_models(max_results=2, page_token=first.next_token)
    third = registry.list_registered_models(max_results=2, page_token=second.next_token)
    assert [m.name for m in second] == ["charlie", "delta"]
    assert ([m.name for m in third], third.next_token) == (["echo"], None)
    found = registry.list_registered_models(name_contains="ha")
    assert [m.name for m in found] == ["alpha", "charlie"]
    assert [m.name for m in registry.list_registered_models(name_contains="%")] == []
    with pytest.raises(InvalidArgumentError, match="page_token"):
        registry.list_registered_models(page_token="nope")
    with pytest.raises(InvalidArgumentError, match="max_results"):
        registry.list_registered_models(max_results=0)


def test_versions_are_numbered_one_two_three(
    registry: RegistryService, run_id: str, audit: AuditLog
) -> None:
    assert [_version(registry, run_id) for _ in range(3)] == [1, 2, 3]
    model = registry.get_registered_model("churn")  # created by the first version
    assert model.latest_version == 3
    assert [v.version for v in registry.list_model_versions("churn")] == [1, 2, 3]
    assert _version(registry, run_id, "fraud") == 1  # numbering is per model
    got = registry.get_model_version("churn", 2)
    assert (got.run_id, got.artifact_path, got.flavor, got.digest) == (
        run_id,
        "model",
        "sklearn",
        DIGEST,
    )
    assert (got.status, got.created_by, got.uri) == (
        ModelVersionStatus.REGISTERED,
        "ana",
        "models:/churn/2",
    )
    created = [e.object_id for e in audit.list(object_type="model_version")]
    assert created == ["churn/1", "churn/2", "churn/3", "fraud/1"]
    assert [e.object_id for e in audit.list(object_type="registered_model")] == ["churn", "fraud"]
    assert audit.verify().ok


def test_a_version_keeps_its_signature_description_and_tags(
    registry: RegistryService, run_id: str
) -> None:
    signature = {"inputs": [{"name": "age", "type": "long"}], "outputs": None}
    _version(registry, run_id, signature=signature, description="first", tags={"k": "v"})
    got = registry.get_model_version("churn", 1)
    assert (got.signature, got.description, got.tags) == (signature, "first", {"k": "v"})


def test_an_unknown_run_is_refused_and_nothing_is_stored(
    registry: RegistryService, audit: AuditLog
) -> None:
    with pytest.raises(NotFoundError, match="No run with id 'f00'"):
        registry.create_model_version(
            "churn", run_id="f00", artifact_path="m", flavor="sklearn", digest=DIGEST, actor="a"
        )
    with pytest.raises(NotFoundError):
        registry.get_registered_model("churn")
    assert len(audit.list()) == 0


@pytest.mark.parametrize(
    ("argument", "value"),
    [("digest", "md5:00"), ("flavor", ""), ("artifact_path", None), ("signature", [1]),
     ("actor", ""), ("tags", {"bad key!": "v"})],
)  # fmt: skip
def test_bad_version_arguments_are_refused(
    registry: RegistryService, run_id: str, argument: str, value: object
) -> None:
    arguments: dict[str, object] = {
        "run_id": run_id, "artifact_path": "m", "flavor": "sklearn", "digest": DIGEST,
        "actor": "ana", argument: value,
    }  # fmt: skip
    with pytest.raises(InvalidArgumentError):
        registry.create_model_version("churn", **arguments)  # type: ignore[arg-type]
    assert registry.list_registered_models() == []


def test_unknown_versions(registry: RegistryService, run_id: str) -> None:
    _version(registry, run_id)
    with pytest.raises(NotFoundError, match="'churn' has no version 7"):
        registry.get_model_version("churn", 7)
    with pytest.raises(InvalidArgumentError, match="integer from 1"):
        registry.get_model_version("churn", 0)
    with pytest.raises(NotFoundError, match="No registered model named 'x'"):
        registry.get_model_version("x", 1)


def test_update_a_version_is_audited_with_what_changed(
    registry: RegistryService, run_id: str, audit: AuditLog
) -> None:
    _version(registry, run_id)
    updated = registry.update_model_version(
        "churn", 1, status="validated", description="gated", tags={"gate": "ok"}, actor="bob"
    )
    assert (updated.status, updated.description, updated.tags) == (
        ModelVersionStatus.VALIDATED,
        "gated",
        {"gate": "ok"},
    )
    assert registry.get_model_version("churn", 1) == updated
    event = audit.list(object_type="model_version").pop()
    assert (event.action, event.actor) == ("model_version.update", "bob")
    assert event.details["status"] == {"from": "registered", "to": "validated"}
    assert event.details["description"] == {"from": None, "to": "gated"}
    registry.update_model_version("churn", 1, status="validated", actor="bob")  # no change
    assert len(audit.list(object_type="model_version")) == 2
    with pytest.raises(InvalidArgumentError, match="'status'"):
        registry.update_model_version("churn", 1, status="shipped", actor="bob")
    with pytest.raises(NotFoundError):
        registry.update_model_version("churn", 2, status="approved", actor="bob")
    assert audit.verify().ok
