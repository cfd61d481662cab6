"""``models:/`` URIs: every form resolves, malformed ones and unknown targets fail precisely."""

from __future__ import annotations

import pytest

from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.registry import RegistryService

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def registry_with_versions(registry: RegistryService, run_id: str) -> RegistryService:
    for name in ["churn", "churn", "team/fraud@eu", "team/fraud@eu"]:
        registry.create_model_version(
            name, run_id=run_id, artifact_path="m", flavor="sklearn", digest=DIGEST, actor="ana"
        )
    registry.set_alias("churn", "prod", 1, actor="bob")
    registry.set_alias("team/fraud@eu", "prod", 2, actor="bob")
    return registry


@pytest.mark.parametrize(
    ("uri", "name", "version"),
    [
        ("models:/churn/1", "churn", 1),
        ("models:/churn/2", "churn", 2),
        ("models:/churn/latest", "churn", 2),
        ("models:/churn@prod", "churn", 1),
        ("models:/team/fraud@eu/1", "team/fraud@eu", 1),
        ("models:/team/fraud@eu/latest", "team/fraud@eu", 2),
        ("models:/team/fraud@eu@prod", "team/fraud@eu", 2),
    ],
)
def test_every_uri_form_resolves(
    registry_with_versions: RegistryService, uri: str, name: str, version: int
) -> None:
    found = registry_with_versions.resolve(uri)
    assert (found.name, found.version) == (name, version)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("churn/1", "must be 'models:/"),
        ("models:churn/1", "must be 'models:/"),
        (None, "must be 'models:/"),
        ("models:/", "names no version"),
        ("models:/churn", "names no version"),
        ("models:/churn/", "names no version"),
        ("models:/churn/one", "names no version"),
        ("models:/churn/0", "not from 1"),
        ("models:/churn/99999999999", "not from 1"),
        ("models:/churn@", "alias must be"),
        ("models:/@prod", "names no version"),
        ("models:/churn@Champion", "alias must be"),
        ("models:/churn@latest", "alias must be"),
        ("models:/ /1", "must not be empty"),
    ],
)
def test_malformed_uris_are_refused(
    registry_with_versions: RegistryService, uri: object, message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        registry_with_versions.resolve(uri)  # type: ignore[arg-type]
    assert caught.value.details == {"field": "uri"}


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("models:/fraud/1", "No registered model named 'fraud'"),
        ("models:/fraud/latest", "No registered model named 'fraud'"),
        ("models:/fraud@prod", "No registered model named 'fraud'"),
        ("models:/churn/3", "'churn' has no version 3"),
        ("models:/churn@canary", "'churn' has no alias 'canary'"),
    ],
)
def test_unknown_targets_are_not_found(
    registry_with_versions: RegistryService, uri: str, message: str
) -> None:
    with pytest.raises(NotFoundError, match=message):
        registry_with_versions.resolve(uri)


def test_latest_of_a_model_without_versions(registry: RegistryService) -> None:
    registry.create_registered_model("empty", actor="ana")
    with pytest.raises(NotFoundError, match="'empty' has no versions yet"):
        registry.resolve("models:/empty/latest")
