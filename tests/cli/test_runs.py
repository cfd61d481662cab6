"""``loopline runs list|get|compare|delete|restore``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Console
from typer.testing import Result

import loopline
from loopline.cli.runs import compare_data, compare_table

Invoke = Callable[..., Result]


def test_list_json_has_stable_keys_and_encodes_non_finite_values(
    invoke: Invoke, seeded: dict[str, Any]
) -> None:
    result = invoke("runs", "list", "--experiment", "exp", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert sorted(body) == ["next_token", "runs"]
    runs = {run["info"]["run_name"]: run for run in body["runs"]}
    assert sorted(runs) == ["alpha", "beta"]
    assert sorted(runs["alpha"]) == ["data", "info"]
    assert runs["alpha"]["data"]["metrics"] == {"auc": 0.9, "loss": "Infinity"}
    assert runs["beta"]["data"]["metrics"]["auc"] == "NaN"
    assert runs["alpha"]["data"]["params"] == {"depth": "3", "lr": "0.1"}


def test_list_table_shows_runs_and_metrics(invoke: Invoke, seeded: dict[str, Any]) -> None:
    result = invoke("runs", "list", "-e", "exp", "--order-by", "metrics.loss DESC")
    assert result.exit_code == 0, result.output
    for run_id in seeded["run_ids"]:
        assert run_id in result.stdout
    assert "Infinity" in result.stdout
    assert "NaN" in result.stdout


def test_list_by_experiment_id(invoke: Invoke, seeded: dict[str, Any]) -> None:
    result = invoke("runs", "list", "--experiment", seeded["experiment_id"], "--json")
    assert len(json.loads(result.stdout)["runs"]) == 2


def test_list_filters_and_orders(invoke: Invoke, seeded: dict[str, Any]) -> None:
    def names(*options: str) -> list[str]:
        result = invoke("runs", "list", "-e", "exp", "--json", *options)
        assert result.exit_code == 0, result.output
        return [r["info"]["run_name"] for r in json.loads(result.stdout)["runs"]]

    assert names("--filter", "params.lr = '0.2'") == ["beta"]
    assert names("--order-by", "params.lr DESC") == ["beta", "alpha"]
    assert names("--order-by", "params.depth", "--order-by", "attributes.run_name DESC") == [
        "beta",
        "alpha",
    ]


def test_list_pages(invoke: Invoke, seeded: dict[str, Any]) -> None:
    first = json.loads(invoke("runs", "list", "-e", "exp", "--max-results", "1", "--json").stdout)
    assert len(first["runs"]) == 1
    assert first["next_token"]
    second = invoke(
        "runs", "list", "-e", "exp", "--max-results", "1", "--page-token", first["next_token"],
        "--json",
    )  # fmt: skip
    body = json.loads(second.stdout)
    assert len(body["runs"]) == 1
    assert body["runs"][0]["info"]["run_id"] != first["runs"][0]["info"]["run_id"]


def test_list_defaults_to_the_default_experiment(invoke: Invoke, client: loopline.Client) -> None:
    default = client.get_or_create_experiment("Default")
    run = client.create_run(default.experiment_id, run_name="in-default")
    body = json.loads(invoke("runs", "list", "--json").stdout)
    assert [r["info"]["run_id"] for r in body["runs"]] == [run.id]


def test_get_shows_info_params_metrics_tags_artifacts(
    invoke: Invoke, seeded: dict[str, Any]
) -> None:
    run_id = seeded["run_ids"][0]
    result = invoke("runs", "get", run_id)
    assert result.exit_code == 0, result.output
    for text in (run_id, "alpha", "finished", "Params", "lr", "0.1", "Metrics", "auc", "0.9",
                 "Tags", "kind", "model", "Artifacts", "notes/"):  # fmt: skip
        assert text in result.stdout


def test_get_json(invoke: Invoke, seeded: dict[str, Any]) -> None:
    run_id = seeded["run_ids"][1]
    body = json.loads(invoke("runs", "get", run_id, "--json").stdout)
    assert sorted(body) == ["artifacts", "data", "info", "inputs"]
    assert body["inputs"] == []
    assert body["info"]["run_id"] == run_id
    assert body["data"]["metrics"] == {"auc": "NaN", "loss": "Infinity"}
    assert body["artifacts"] == [{"path": "notes", "is_dir": True, "size": None, "digest": None}]


def test_compare_json(invoke: Invoke, seeded: dict[str, Any]) -> None:
    alpha, beta = seeded["run_ids"]
    result = invoke("runs", "compare", alpha, beta, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [r["run_id"] for r in body["runs"]] == [alpha, beta]
    params = {row["key"]: row for row in body["params"]}
    assert params["lr"] == {"key": "lr", "values": ["0.1", "0.2"], "differs": True}
    assert params["depth"] == {"key": "depth", "values": ["3", "3"], "differs": False}
    metrics = {row["key"]: row for row in body["metrics"]}
    assert metrics["auc"] == {"key": "auc", "values": [0.9, "NaN"], "differs": True}
    assert metrics["loss"] == {"key": "loss", "values": ["Infinity", "Infinity"], "differs": False}


def test_compare_table(invoke: Invoke, seeded: dict[str, Any]) -> None:
    alpha, beta = seeded["run_ids"]
    result = invoke("runs", "compare", alpha, beta)
    assert result.exit_code == 0, result.output
    for text in (alpha, beta, "params", "metrics", "lr", "auc", "NaN"):
        assert text in result.stdout


def test_compare_marks_missing_values_as_different(client: loopline.Client) -> None:
    experiment_id = client.create_experiment("partial")
    one = client.create_run(experiment_id)
    two = client.create_run(experiment_id)
    client.log_param(one.id, "only_here", "x")
    data = compare_data([client.get_run(one.id), client.get_run(two.id)])
    assert data["params"] == [{"key": "only_here", "values": ["x", None], "differs": True}]


def test_compare_highlights_only_differing_rows(
    client: loopline.Client, seeded: dict[str, Any]
) -> None:
    data = compare_data([client.get_run(run_id) for run_id in seeded["run_ids"]])
    console = Console(force_terminal=True, color_system="standard", width=200)
    with console.capture() as capture:
        console.print(compare_table(data))
    lines = capture.get().splitlines()
    highlighted = "\x1b[1;33m"
    assert any(highlighted in line and "lr" in line for line in lines)
    assert all(highlighted not in line for line in lines if "depth" in line)


def test_compare_needs_two_runs(invoke: Invoke, seeded: dict[str, Any]) -> None:
    result = invoke("runs", "compare", seeded["run_ids"][0])
    assert result.exit_code == 2
    assert "at least 2" in result.stderr
    assert invoke("runs", "compare").exit_code == 2


def test_delete_and_restore(
    invoke: Invoke, client: loopline.Client, seeded: dict[str, Any]
) -> None:
    alpha, beta = seeded["run_ids"]
    result = invoke("runs", "delete", alpha, beta)
    assert result.exit_code == 0, result.output
    assert client.search_runs("exp") == []
    deleted = invoke("runs", "list", "-e", "exp", "--view", "deleted_only", "--json")
    assert len(json.loads(deleted.stdout)["runs"]) == 2
    assert invoke("runs", "restore", alpha).exit_code == 0
    assert [run.id for run in client.search_runs("exp")] == [alpha]


def test_unknown_run_is_a_clean_error(invoke: Invoke) -> None:
    for command in (["get"], ["delete"], ["restore"], ["compare", "nope2"]):
        result = invoke("runs", *command[:1], "nope", *command[1:])
        assert result.exit_code == 1, command
        assert result.stderr == "error: No run with id 'nope'.\n"
        assert "Traceback" not in result.output


def test_unknown_experiment_is_a_clean_error(invoke: Invoke) -> None:
    result = invoke("runs", "list", "--experiment", "missing")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: No experiment")
    assert "'missing'" in result.stderr


def test_malformed_filter_shows_the_position(invoke: Invoke, seeded: dict[str, Any]) -> None:
    result = invoke("runs", "list", "-e", "exp", "--filter", "metrics.auc >> 0.5")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: Invalid filter at position 13")
    assert "Traceback" not in result.output


def test_malformed_order_by_is_a_clean_error(invoke: Invoke, seeded: dict[str, Any]) -> None:
    result = invoke("runs", "list", "-e", "exp", "--order-by", "metrics.auc SIDEWAYS")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: Invalid")


def test_bad_page_token_is_a_clean_error(invoke: Invoke, seeded: dict[str, Any]) -> None:
    result = invoke("runs", "list", "-e", "exp", "--page-token", "garbage")
    assert result.exit_code == 1
    assert "page_token" in result.stderr


def test_usage_errors_exit_2(invoke: Invoke) -> None:
    assert invoke("runs", "list", "--view", "sideways").exit_code == 2
    assert invoke("runs", "list", "--max-results", "many").exit_code == 2
    assert invoke("runs", "get").exit_code == 2
