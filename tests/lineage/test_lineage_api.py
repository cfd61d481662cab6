"""Lineage over a real server: REST, the remote SDK, the CLI, and events the server emits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

import loopline
from loopline.audit import AuditLog
from loopline.cli.main import app
from loopline.data.factory import dataset_service
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.graph import LineageService
from loopline.registry.service import RegistryService


@pytest.fixture(scope="module")
def populated(live_server: Any) -> dict[str, Any]:
    """In the server's store: a dataset version read by run ``fit``, which registered ``m`` v1."""
    tracking = live_server.service
    datasets = dataset_service(tracking.store, tracking.artifacts)
    registry = RegistryService(tracking.store, AuditLog(tracking.store))
    version = datasets.create("scores", pd.DataFrame({"x": [1, 2, 3]}))
    run = tracking.create_run(tracking.create_experiment("api"), run_name="fit")
    datasets.log_input(run.info.run_id, version)
    registry.create_model_version(
        "m",
        run_id=run.info.run_id,
        artifact_path="model",
        flavor="sklearn",
        digest="sha256:" + "3" * 64,
        actor="ana",
    )
    registry.set_alias("m", "staging", 1, actor="ana")  # fmt: skip
    local = LineageService(tracking, datasets, registry)
    return {"version": version, "run": run, "local": local}


def test_rest_answers_the_graph(live_server: Any, populated: dict[str, Any]) -> None:
    response = httpx.get(f"{live_server.url}/api/lineage", params={"ref": "models:/m@staging"})
    assert response.status_code == 200
    expected = populated["local"].graph("models:/m@staging").to_dict()
    assert response.json() == json.loads(json.dumps(expected))

    shallow = httpx.get(f"{live_server.url}/api/lineage",
                        params={"ref": "dataset:scores/1", "depth": 1}).json()  # fmt: skip
    assert [n["kind"] for n in shallow["nodes"]] == ["dataset_version", "run"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"ref": "scores"}, 400, "INVALID_ARGUMENT"),
        ({"ref": "models:/m"}, 400, "INVALID_ARGUMENT"),
        ({"ref": "dataset:scores/7"}, 404, "NOT_FOUND"),
        ({"ref": "run:" + "0" * 32}, 404, "NOT_FOUND"),
        ({"ref": "models:/m@prod"}, 404, "NOT_FOUND"),
        ({}, 422, "INVALID_ARGUMENT"),
        ({"ref": "dataset:scores/1", "depth": 0}, 400, "INVALID_ARGUMENT"),
        ({"ref": "dataset:scores/1", "direction": "sideways"}, 400, "INVALID_ARGUMENT"),
    ],
)
def test_rest_refuses_bad_references_with_4xx(
    live_server: Any, populated: dict[str, Any], params: dict[str, Any], status: int, code: str
) -> None:
    response = httpx.get(f"{live_server.url}/api/lineage", params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_the_remote_sdk_gives_the_local_graph(live_server: Any, populated: dict[str, Any]) -> None:
    client = loopline.Client(live_server.url)
    for obj in (populated["version"], populated["run"], "models:/m/1"):
        assert loopline.lineage(obj, client=client) == populated["local"].graph(obj)
    up = loopline.lineage(populated["version"], client=client, direction="upstream")
    assert [n.id for n in up.nodes] == ["dataset:scores/1"]
    with pytest.raises(NotFoundError, match="no version 7"):
        loopline.lineage("dataset:scores/7", client=client)
    with pytest.raises(InvalidArgumentError, match="'ref' parameter"):
        loopline.lineage("scores", client=client)


def test_the_cli_prints_a_tree_edges_and_json(live_server: Any, populated: dict[str, Any]) -> None:
    runner = CliRunner()
    run_id = populated["run"].info.run_id
    tree = runner.invoke(app, ["lineage", f"run:{run_id}", "--uri", live_server.url])
    assert tree.exit_code == 0, tree.output
    assert "upstream" in tree.output
    assert "input:training" in tree.output
    assert "models:/m@staging" in tree.output

    listed = runner.invoke(app, ["lineage", "dataset:scores/1", "--uri", live_server.url,
                                 "--edges"])  # fmt: skip
    assert listed.output.splitlines() == [
        f"dataset:scores/1 --input (training)--> run:{run_id}",
        f"run:{run_id} --registered--> models:/m/1",
        "models:/m/1 --alias--> models:/m@staging",
    ]
    as_json = runner.invoke(app, ["lineage", "models:/m/1", "--uri", live_server.url, "--json"])
    assert json.loads(as_json.output)["root"] == "models:/m/1"

    bad = runner.invoke(app, ["lineage", "nope", "--uri", live_server.url])
    assert bad.exit_code == 1
    assert "error: The 'ref' parameter of lineage must be" in bad.output


def test_the_server_emits_events_for_remote_clients(live_server: Any) -> None:
    events = live_server.folder / "openlineage.jsonl"
    before = len(events.read_text().splitlines()) if events.exists() else 0
    client = loopline.Client(live_server.url)
    run = client.create_run(client.create_experiment("remote-events"))
    client.set_terminated(run.id, "failed")
    mine = [json.loads(line) for line in events.read_text().splitlines()[before:]]
    assert [(e["eventType"], e["run"]["facets"]["loopline"]["runId"]) for e in mine] == [
        ("START", run.id),
        ("FAIL", run.id),
    ]
