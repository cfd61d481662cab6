"""Search of registered models and versions with the filter language, and paging."""

from __future__ import annotations

import pytest

from loopline.errors import InvalidArgumentError, InvalidFilterError
from loopline.registry import RegistryService

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def filled(registry: RegistryService, run_id: str) -> RegistryService:
    """churn-a (team risk, 2 versions), churn-b (team growth, 1), fraud (no tags, 1)."""
    for name, team in (("churn-a", "risk"), ("churn-b", "growth"), ("fraud", None)):
        tags = {"team": team} if team else None
        registry.create_registered_model(name, tags=tags, description=f"{name} model",
                                         actor="ana")  # fmt: skip
    for name, flavor, tags in (
        ("churn-a", "sklearn", {"owner": "ana"}), ("churn-a", "xgboost", {"owner": "bob"}),
        ("churn-b", "sklearn", {}), ("fraud", "onnx", {"owner": "ana"}),
    ):  # fmt: skip
        registry.create_model_version(name, run_id=run_id, artifact_path="m", flavor=flavor,
                                      digest=DIGEST, actor="ana", tags=tags)  # fmt: skip
    registry.update_model_version("churn-a", 2, status="approved", actor="cy")
    return registry


def _models(registry: RegistryService, text: str | None) -> list[str]:
    return [m.name for m in registry.search_registered_models(text)]


def _versions(registry: RegistryService, text: str | None) -> list[str]:
    return [f"{v.name}/{v.version}" for v in registry.search_model_versions(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ["churn-a", "churn-b", "fraud"]),
        ("name LIKE 'churn%'", ["churn-a", "churn-b"]),
        ("name = 'fraud'", ["fraud"]),
        ("tags.team = 'risk'", ["churn-a"]),
        ("tags.team != 'risk'", ["churn-b"]),  # a model without the tag does not match !=
        ("tags.team IS NULL", ["fraud"]),
        ("tags.team IN ('risk', 'growth') AND name NOT LIKE '%b'", ["churn-a"]),
        ("description ILIKE 'FRAUD%' OR tags.team = 'growth'", ["churn-b", "fraud"]),
        ("created_at > 0", ["churn-a", "churn-b", "fraud"]),
        ("name LIKE 'CHURN%'", []),  # LIKE is case-sensitive on both databases
    ],
)
def test_search_models(filled: RegistryService, text: str | None, expected: list[str]) -> None:
    assert _models(filled, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ["churn-a/1", "churn-a/2", "churn-b/1", "fraud/1"]),
        ("status = 'approved'", ["churn-a/2"]),
        ("status = 'REGISTERED' AND name LIKE 'churn%'", ["churn-a/1", "churn-b/1"]),
        ("tags.owner = 'ana'", ["churn-a/1", "fraud/1"]),
        ("flavor = 'sklearn' AND version >= 1", ["churn-a/1", "churn-b/1"]),
        ("version > 1", ["churn-a/2"]),
        ("name = 'churn-a' AND created_by = 'ana'", ["churn-a/1", "churn-a/2"]),
    ],
)
def test_search_versions(filled: RegistryService, text: str | None, expected: list[str]) -> None:
    assert _versions(filled, text) == expected


def test_pages_follow_each_other(filled: RegistryService) -> None:
    first = filled.search_model_versions(max_results=3)
    assert first.next_token is not None
    rest = filled.search_model_versions(max_results=3, page_token=first.next_token)
    assert [*first, *rest] == list(filled.search_model_versions())
    assert rest.next_token is None
    one = filled.search_registered_models("name LIKE 'churn%'", max_results=1)
    two = filled.search_registered_models(
        "name LIKE 'churn%'", max_results=1, page_token=one.next_token
    )
    assert [m.name for m in [*one, *two]] == ["churn-a", "churn-b"]
    assert two.next_token is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status = 'approved'", "unknown attribute 'status'"),  # models have no status
        ("metrics.auc > 1", "unknown entity 'metrics'"),
        ("params.x = '1'", "unknown entity 'params'"),
        ("colour = 'red'", "unknown attribute 'colour'"),
        ("name > 'a'", "compares numbers"),
        ("tags.`a\"b` = 'x'", "no tag key holds"),
        ("name = ", "expected a quoted string"),
    ],
)
def test_bad_model_filters_name_the_problem(
    filled: RegistryService, text: str, message: str
) -> None:
    with pytest.raises(InvalidFilterError, match=message):
        filled.search_registered_models(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status = 'shipped'", "unknown model version status 'shipped'"),
        ("version = 'one'", "version is numeric"),
        ("run_name = 'x'", "unknown attribute 'run_name'"),
    ],
)
def test_bad_version_filters_name_the_problem(
    filled: RegistryService, text: str, message: str
) -> None:
    with pytest.raises(InvalidFilterError, match=message):
        filled.search_model_versions(text)


def test_bad_paging_is_refused(filled: RegistryService) -> None:
    with pytest.raises(InvalidArgumentError):
        filled.search_registered_models(max_results=0)
    with pytest.raises(InvalidArgumentError):
        filled.search_model_versions(page_token="not-a-token")
