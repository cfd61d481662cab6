"""Aliases: set, move, delete, refusals that change nothing, and the audit trail."""

from __future__ import annotations

import pytest

from loopline.audit import AuditLog
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.registry import RegistryService

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def three(registry: RegistryService, run_id: str) -> RegistryService:
    for _ in range(3):
        registry.create_model_version(
            "churn", run_id=run_id, artifact_path="m", flavor="sklearn", digest=DIGEST, actor="ana"
        )
    return registry


def test_set_move_and_delete_an_alias(three: RegistryService, audit: AuditLog) -> None:
    assert three.set_alias("churn", "prod", 1, actor="bob").aliases == ["prod"]
    three.set_alias("churn", "staging", 2, actor="bob")
    assert three.get_model_version_by_alias("churn", "prod").version == 1
    three.set_alias("churn", "prod", 3, actor="cy")
    assert three.get_model_version_by_alias("churn", "prod").version == 3
    assert three.get_registered_model("churn").aliases == {"staging": 2, "prod": 3}
    assert three.get_model_version("churn", 1).aliases == []
    three.delete_alias("churn", "staging", actor="cy")
    assert three.get_registered_model("churn").aliases == {"prod": 3}
    with pytest.raises(NotFoundError, match="no alias 'staging'"):
        three.get_model_version_by_alias("churn", "staging")

    events = audit.list(object_type="alias")
    moves = [(e.action, e.object_id, e.details["from"], e.details["to"]) for e in events]
    assert moves == [
        ("alias.set", "churn@prod", None, 1),
        ("alias.set", "churn@staging", None, 2),
        ("alias.set", "churn@prod", 1, 3),
        ("alias.delete", "churn@staging", 2, None),
    ]
    assert [e.actor for e in events] == ["bob", "bob", "cy", "cy"]
    assert audit.verify().ok


def test_an_alias_to_a_missing_version_changes_nothing(
    three: RegistryService, audit: AuditLog
) -> None:
    three.set_alias("churn", "prod", 2, actor="bob")
    before = (three.get_registered_model("churn"), len(audit.list(max_results=1000)))
    with pytest.raises(NotFoundError, match="'churn' has no version 9"):
        three.set_alias("churn", "prod", 9, actor="bob")
    with pytest.raises(NotFoundError, match="No registered model named 'fraud'"):
        three.set_alias("fraud", "prod", 1, actor="bob")
    with pytest.raises(NotFoundError, match="no alias 'canary'"):
        three.delete_alias("churn", "canary", actor="bob")
    after = (three.get_registered_model("churn"), len(audit.list(max_results=1000)))
    assert after == before
    assert three.get_model_version_by_alias("churn", "prod").version == 2


@pytest.mark.parametrize("alias", ["", "Champion", "latest", "42", "a b", "x" * 65, "é", None])
def test_bad_alias_names_are_refused(three: RegistryService, alias: object) -> None:
    with pytest.raises(InvalidArgumentError, match="alias must be"):
        three.set_alias("churn", alias, 1, actor="bob")  # type: ignore[arg-type]
    assert three.get_registered_model("churn").aliases == {}


def test_alias_names_may_use_digits_dashes_and_underscores(three: RegistryService) -> None:
    for alias in ["v2-canary", "canary_1", "a"]:
        three.set_alias("churn", alias, 1, actor="bob")
    assert three.get_model_version("churn", 1).aliases == ["a", "canary_1", "v2-canary"]
