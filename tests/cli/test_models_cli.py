"""``loopline models ...``: every command, its --json output, and errors as exit 1 + message."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from typer.testing import Result

import loopline
from loopline.modeling.logged import log_model

Invoke = Callable[..., Result]


@pytest.fixture
def run_id(client: loopline.Client) -> str:
    """A run that read dataset ``customers`` v1 and logged a model at ``model``."""
    run = client.create_run(client.create_experiment("cli"))
    train = client.datasets.create("customers", pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]}))
    client.datasets.log_input(run.info.run_id, train)
    backend: Any = client.backend
    log_model(backend, client.registry, run.info.run_id, LinearRegression().fit([[0], [1]], [0, 1]),
              "model", actor="ana")  # fmt: skip
    return run.info.run_id


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_register_get_versions_and_resolve(invoke: Invoke, run_id: str) -> None:
    created = _json(invoke("models", "register", run_id, "model", "team/churn", "--tag", "o=ana",
                           "--description", "first", "--json"))  # fmt: skip
    assert (created["name"], created["version"], created["flavor"]) == ("team/churn", 1, "sklearn")
    assert created["tags"] == {"o": "ana"}
    assert created["training_datasets"][0]["name"] == "customers"
    invoke("models", "register", run_id, "model", "team/churn")
    assert _json(invoke("models", "get", "team/churn", "--json"))["latest_version"] == 2
    assert _json(invoke("models", "get", "team/churn", "2", "--json"))["version"] == 2
    listed = _json(invoke("models", "versions", "team/churn", "--json"))["versions"]
    assert [v["version"] for v in listed] == [1, 2]
    resolved = _json(invoke("models", "resolve", "models:/team/churn/latest", "--json"))
    assert resolved["version"] == 2
    table = invoke("models", "get", "team/churn", "1")
    assert table.exit_code == 0
    assert "models:/team/churn/1" in table.stdout
    assert "customers v1" in table.stdout
    profile = _json(invoke("models", "training-data", "team/churn", "1", "--json"))
    assert (profile["name"], profile["version"]) == ("customers", 1)
    assert "x" in profile["profile"]


def test_update_alias_list_search_and_delete(invoke: Invoke, run_id: str) -> None:
    for _ in range(2):
        invoke("models", "register", run_id, "model", "churn")
    model = _json(invoke("models", "update", "churn", "--description", "who leaves", "--tag",
                         "team=risk", "--json"))  # fmt: skip
    assert (model["description"], model["tags"]) == ("who leaves", {"team": "risk"})
    model = _json(invoke("models", "update", "churn", "--tag", "area=eu", "--json"))
    assert model["tags"] == {"area": "eu", "team": "risk"}  # --tag adds, keeps the others
    version = _json(invoke("models", "update", "churn", "2", "--tag", "stage=dev", "--json"))
    assert version["tags"] == {"stage": "dev"}
    assert _json(invoke("models", "alias", "set", "churn", "candidate", "2", "--json"))[
        "aliases"
    ] == ["candidate"]
    found = _json(invoke("models", "list", "--filter", "tags.team = 'risk'", "--json"))
    assert [m["name"] for m in found["models"]] == ["churn"]
    assert found["models"][0]["aliases"] == {"candidate": 2}
    versions = _json(invoke("models", "search", "tags.stage = 'dev'", "--json"))["versions"]
    assert [(v["name"], v["version"]) for v in versions] == [("churn", 2)]
    page = _json(invoke("models", "search", "name = 'churn'", "--max-results", "1", "--json"))
    assert page["next_token"]
    assert (
        "--page-token" in invoke("models", "search", "name = 'churn'", "--max-results", "1").stdout
    )
    assert invoke("models", "alias", "delete", "churn", "candidate").exit_code == 0
    assert invoke("models", "delete", "churn", "2").exit_code == 0
    assert [v["version"] for v in _json(invoke("models", "versions", "churn", "--json"))[
        "versions"]] == [1]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("get", "nope"), "No registered model named 'nope'"),
        (("get", "churn", "0"), "must be an integer from 1 to"),
        (("alias", "set", "churn", "champion", "1"), "moved by the release process"),
        (("alias", "delete", "churn", "shadow"), "moved by the release process"),
        (("alias", "set", "churn", "candidate", "9"), "has no version 9"),
        (("alias", "set", "churn", "Not Valid", "1"), "An alias must be"),
        (("list", "--filter", "name >"), "Invalid filter"),
        (("search", "status = 'shipped'"), "unknown model version status 'shipped'"),
        (("resolve", "models:/churn"), "is malformed"),
        (("register", "0" * 32, "model", "x"), "No run with id"),
        (("delete", "churn"), "still has 1 version"),
        (("training-data", "churn", "1"), "no training data"),
        (("update", "churn", "--tag", "=x"), None),  # a usage error: exit 2
    ],
)
def test_errors_exit_1_with_the_message(
    invoke: Invoke, client: loopline.Client, args: tuple[str, ...], message: str | None
) -> None:
    run = client.create_run(client.create_experiment("e"))
    backend: Any = client.backend
    log_model(backend, client.registry, run.info.run_id, LinearRegression().fit([[0], [1]], [0, 1]),
              "model", registered_model_name="churn", actor="ana")  # fmt: skip
    result = invoke("models", *args)
    if message is None:
        assert result.exit_code == 2
        return
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ")
    assert message in result.stderr.replace("\n", " ")
    assert "Traceback" not in result.output
    assert client.registry.get_registered_model("churn").aliases == {}


def test_the_models_group_is_documented(invoke: Invoke) -> None:
    result = invoke("models", "--help", uri=False)
    assert result.exit_code == 0
    for command in ("list", "search", "get", "versions", "register", "update", "delete",
                    "resolve", "training-data", "alias"):  # fmt: skip
        assert command in result.stdout
