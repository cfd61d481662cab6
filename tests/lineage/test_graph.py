"""The lineage graph on SQLite and PostgreSQL: what is connected, how far, and bad references."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest

from loopline.entities import DatasetVersion, LineageGraph, ModelVersion, Run
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.graph import LineageService


@dataclass
class World:
    """v1, v2 of ``flights``; run ``fit`` read both and registered ``delay`` v1 (``staging``);
    run ``explore`` read v1 only; ``delay`` v2 came from run ``refit``, which read nothing."""

    service: LineageService
    v1: DatasetVersion
    v2: DatasetVersion
    fit: Run
    explore: Run
    refit: Run
    model: ModelVersion


def _register(services: Any, run: Run) -> ModelVersion:
    version: ModelVersion = services.registry.create_model_version(
        "delay", run_id=run.info.run_id, artifact_path="model", flavor="sklearn",
        digest="sha256:" + "2" * 64, actor="ana",
    )  # fmt: skip
    return version


@pytest.fixture
def world(services: Any) -> World:
    tracking, datasets, registry = services.tracking, services.datasets, services.registry
    v1 = datasets.create("flights", pd.DataFrame({"delay": [1, 5, 30]}))
    v2 = datasets.create("flights", pd.DataFrame({"delay": [1, 5, 30, 2]}))
    experiment = tracking.create_experiment("lineage")
    fit, explore, refit = (tracking.create_run(experiment, run_name=n)
                           for n in ("fit", "explore", "refit"))  # fmt: skip
    datasets.log_input(fit.info.run_id, v1, "training")
    datasets.log_input(fit.info.run_id, v2, "evaluation")
    datasets.log_input(explore.info.run_id, v1, "exploration")
    model = _register(services, fit)
    _register(services, refit)
    registry.set_alias("delay", "staging", 1, actor="ana")
    model = registry.get_model_version("delay", 1)
    service = LineageService(tracking, datasets, registry)
    return World(service, v1, v2, fit, explore, refit, model)


def edges(graph: LineageGraph) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.relation) for e in graph.edges}


def rid(run: Run) -> str:
    return f"run:{run.info.run_id}"


def test_downstream_of_a_dataset_version(world: World) -> None:
    graph = world.service.graph(world.v1)

    assert graph.root == "dataset:flights/1"
    assert edges(graph) == {
        ("dataset:flights/1", rid(world.fit), "input"),
        ("dataset:flights/1", rid(world.explore), "input"),
        (rid(world.fit), "models:/delay/1", "registered"),
        ("models:/delay/1", "models:/delay@staging", "alias"),
    }
    contexts = {e.target: e.attributes["context"] for e in graph.edges if e.relation == "input"}
    assert contexts == {rid(world.fit): "training", rid(world.explore): "exploration"}
    assert graph.node(rid(world.fit)).label == "fit"
    assert graph.node("dataset:flights/1").attributes["num_rows"] == 3
    assert graph.upstream("dataset:flights/1") == []


def test_both_ways_around_a_run(world: World) -> None:
    graph = world.service.graph(world.fit)

    assert sorted(graph.upstream(rid(world.fit))) == ["dataset:flights/1", "dataset:flights/2"]
    assert graph.downstream(rid(world.fit)) == ["models:/delay/1"]
    assert rid(world.explore) not in {n.id for n in graph.nodes}  # a sibling, not lineage
    assert graph.node(rid(world.fit)).attributes["status"] == "running"


def test_upstream_of_an_alias(world: World) -> None:
    graph = world.service.graph("models:/delay@staging")

    assert graph.root == "models:/delay@staging"
    assert edges(graph) == {
        ("dataset:flights/1", rid(world.fit), "input"),
        ("dataset:flights/2", rid(world.fit), "input"),
        (rid(world.fit), "models:/delay/1", "registered"),
        ("models:/delay/1", "models:/delay@staging", "alias"),
    }
    assert graph.node("models:/delay/1").attributes["aliases"] == ["staging"]


def test_depth_and_direction_bound_the_walk(world: World) -> None:
    one_hop = world.service.graph(world.v1, depth=1)
    assert {n.kind for n in one_hop.nodes} == {"dataset_version", "run"}

    up = world.service.graph(world.model, direction="upstream")
    assert "models:/delay@staging" not in {n.id for n in up.nodes}
    down = world.service.graph(world.model, direction="downstream", depth=1)
    assert edges(down) == {("models:/delay/1", "models:/delay@staging", "alias")}


def test_every_reference_form_names_the_same_node(world: World) -> None:
    run_id = world.fit.info.run_id
    same = [
        ("dataset:flights/1", world.v1, "datasets:/flights/1"),
        (rid(world.fit), world.fit, f"run:{run_id}"),
        ("models:/delay/1", world.model, "models:/delay/1"),
    ]
    for root, obj, text in same:
        assert world.service.graph(obj).root == root
        assert world.service.graph(text).root == root
    assert world.service.graph("models:/delay/latest").root == "models:/delay/2"
    assert world.service.graph("dataset:flights/latest").root == "dataset:flights/2"
    assert world.service.graph(world.refit).downstream(rid(world.refit)) == ["models:/delay/2"]


@pytest.mark.parametrize(
    "ref",
    ["flights", "dataset:flights", "dataset:flights/0", "dataset:/1", "models:/delay",
     "models:/delay@", "run:", "run:a/b", "", "datasets:/flights/x"],
)  # fmt: skip
def test_malformed_references_are_invalid(world: World, ref: str) -> None:
    with pytest.raises(InvalidArgumentError, match="The 'ref' parameter of lineage must be"):
        world.service.graph(ref)


@pytest.mark.parametrize(
    "ref",
    ["dataset:flights/9", "dataset:nope/1", "run:" + "0" * 32, "models:/delay/9",
     "models:/delay@nope", "models:/nope/1"],
)  # fmt: skip
def test_unknown_objects_are_not_found(world: World, ref: str) -> None:
    with pytest.raises(NotFoundError):
        world.service.graph(ref)


def test_bad_arguments_name_themselves(world: World) -> None:
    with pytest.raises(InvalidArgumentError, match=r"'depth' parameter .* from 1 to 50\. Got '0'"):
        world.service.graph(world.v1, depth=0)
    with pytest.raises(InvalidArgumentError, match="'direction' parameter"):
        world.service.graph(world.v1, direction="sideways")
    with pytest.raises(InvalidArgumentError, match=r"'obj' parameter .* Got int instead"):
        world.service.graph(42)


def test_the_graph_is_json_ready_and_round_trips(world: World) -> None:
    graph = world.service.graph(world.fit)
    data = json.loads(json.dumps(graph.to_dict()))
    assert LineageGraph.from_dict(data) == graph
    assert {n["kind"] for n in data["nodes"]} == {"dataset_version", "run", "model_version",
                                                  "alias"}  # fmt: skip


def test_ending_a_run_emits_its_inputs_and_models_once(services: Any, world: World) -> None:
    run_id = world.fit.info.run_id
    services.tracking.end_run(run_id)
    services.tracking.end_run(run_id)  # no change of status: no second event
    lines = [json.loads(line) for line in services.events.read_text().splitlines()]
    ends = [e for e in lines if e["eventType"] == "COMPLETE" and e["job"]["name"].startswith("exp")]
    assert len(ends) == 1
    assert sorted(d["facets"]["version"]["datasetVersion"] for d in ends[0]["inputs"]) == ["1", "2"]
    assert [d["name"] for d in ends[0]["outputs"]] == ["models/delay"]


def test_the_sdk_function_works_after_the_graph_package_is_imported(tmp_path: Any) -> None:
    code = (
        "import sys, loopline, loopline.graph.service\n"
        "loopline.set_uri(sys.argv[1])\n"
        "run = loopline.start_run(run_name='solo'); loopline.end_run()\n"
        "print([n.label for n in loopline.lineage(run).nodes])\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, check=False, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['solo']"
