"""``loopline experiments list|create|get|rename|delete|restore``."""

from __future__ import annotations

import json
from collections.abc import Callable

from typer.testing import Result

import loopline

Invoke = Callable[..., Result]


def test_create_then_get_by_name_and_by_id(invoke: Invoke) -> None:
    created = invoke("experiments", "create", "churn", "--tag", "team=risk", "--json")
    assert created.exit_code == 0, created.output
    body = json.loads(created.stdout)
    assert body["name"] == "churn"
    assert body["tags"] == {"team": "risk"}
    by_name = json.loads(invoke("experiments", "get", "churn", "--json").stdout)
    by_id = json.loads(invoke("experiments", "get", body["experiment_id"], "--json").stdout)
    assert by_name == by_id == body


def test_create_prints_the_new_id(invoke: Invoke, client: loopline.Client) -> None:
    result = invoke("experiments", "create", "plain")
    assert result.exit_code == 0
    experiment = client.get_experiment_by_name("plain")
    assert f"id {experiment.experiment_id}" in result.stdout


def test_get_shows_a_table(invoke: Invoke, seeded: dict[str, object]) -> None:
    result = invoke("experiments", "get", "exp")
    assert result.exit_code == 0
    assert "exp" in result.stdout
    assert "tag team" in result.stdout
    assert "active" in result.stdout


def test_list_table_and_json(invoke: Invoke, client: loopline.Client) -> None:
    for name in ("a", "b", "c"):
        client.create_experiment(name)
    table = invoke("experiments", "list")
    assert table.exit_code == 0
    assert all(name in table.stdout for name in ("a", "b", "c"))
    body = json.loads(invoke("experiments", "list", "--json").stdout)
    assert sorted(body) == ["experiments", "next_token"]
    assert [e["name"] for e in body["experiments"]] == ["a", "b", "c"]
    assert body["next_token"] is None


def test_list_pages(invoke: Invoke, client: loopline.Client) -> None:
    for name in ("a", "b", "c"):
        client.create_experiment(name)
    first = json.loads(invoke("experiments", "list", "--max-results", "2", "--json").stdout)
    token = first["next_token"]
    assert [e["name"] for e in first["experiments"]] == ["a", "b"]
    second = invoke("experiments", "list", "--max-results", "2", "--page-token", token, "--json")
    assert [e["name"] for e in json.loads(second.stdout)["experiments"]] == ["c"]
    table = invoke("experiments", "list", "--max-results", "2")
    assert f"--page-token {token}" in table.stdout


def test_rename(invoke: Invoke, client: loopline.Client) -> None:
    client.create_experiment("old")
    result = invoke("experiments", "rename", "old", "new")
    assert result.exit_code == 0, result.output
    assert client.get_experiment_by_name("new").name == "new"


def test_delete_and_restore(invoke: Invoke, client: loopline.Client) -> None:
    experiment_id = client.create_experiment("gone")
    assert invoke("experiments", "delete", "gone").exit_code == 0
    assert client.list_experiments() == []
    deleted = json.loads(invoke("experiments", "list", "--view", "deleted_only", "--json").stdout)
    assert [e["experiment_id"] for e in deleted["experiments"]] == [experiment_id]
    assert invoke("experiments", "restore", experiment_id).exit_code == 0
    assert [e.name for e in client.list_experiments()] == ["gone"]


def test_duplicate_name_is_a_clean_error(invoke: Invoke, client: loopline.Client) -> None:
    client.create_experiment("taken")
    result = invoke("experiments", "create", "taken")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: An experiment named 'taken' already exists")
    assert "Traceback" not in result.output


def test_unknown_experiment_is_a_clean_error(invoke: Invoke) -> None:
    for command in ("get", "delete", "restore"):
        result = invoke("experiments", command, "nope")
        assert result.exit_code == 1
        assert result.stderr == "error: No experiment named or with id 'nope'.\n"


def test_malformed_tag_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("experiments", "create", "x", "--tag", "no-equals-sign")
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr


def test_unknown_view_is_a_usage_error(invoke: Invoke) -> None:
    assert invoke("experiments", "list", "--view", "bogus").exit_code == 2


def test_missing_argument_is_a_usage_error(invoke: Invoke) -> None:
    assert invoke("experiments", "create").exit_code == 2


def test_invalid_max_results_is_a_clean_error(invoke: Invoke) -> None:
    result = invoke("experiments", "list", "--max-results", "0")
    assert result.exit_code == 1
    assert "max_results" in result.stderr
