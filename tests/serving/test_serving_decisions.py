"""A deployment's policy and logging on every route; POST /outcomes; modes followed at refresh."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving_support import COLUMNS, Models, Running, row, settings

from loopline.deploy import DeploymentService
from loopline.eventlog import EventLog
from loopline.serving.server import deployments_app

# Routing reads "segment", a field the model does not take: only the request's JSON rows have it.
POLICY = {
    "score": "proba[1]",
    "thresholds": {"bands": [{"min": 0.5, "action": "call"}], "default": "wait"},
    "routing": {
        "rules": [{"name": "vip", "when": {"segment": "vip"}, "queue": "senior"}],
        "default": "general",
    },
}


@pytest.fixture
def deployments(models: Models) -> Iterator[DeploymentService]:
    registry = models.client.registry
    service = DeploymentService(registry.store, registry, registry.audit)
    yield service
    for deployment in list(service.list_deployments()):
        service.delete_deployment(deployment.name, actor="tester")


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _logged(root: Path, name: str) -> Any:
    return EventLog(root).read_predictions(name, as_="pandas").set_index("prediction_id")


def test_every_route_decides_with_the_request_fields_and_logs(
    deployments: DeploymentService, models: Models, tmp_path: Path
) -> None:
    deployments.create_deployment("gbc-routes", "models:/gbc/1", logging="async", policy=POLICY,
                                  actor="tester")  # fmt: skip
    config = settings(serve_poll_interval=0.05, eventlog_root=tmp_path / "events")
    app = deployments_app(models.client, config)
    rows = [{**row(models.X, i), "segment": s} for i, s in enumerate(["vip", "mass", "vip"])]
    tensor = [[float(v) for v in models.X[i]] for i in range(3)]

    with Running(app) as server, httpx.Client(base_url=server.url) as client:
        by_rows = client.post("/deployments/gbc-routes/predict", json={"rows": rows}).json()
        split = {"columns": [*COLUMNS, "segment"], "data": [[*t, "vip"] for t in tensor]}
        by_split = client.post("/deployments/gbc-routes/predict", json=split).json()
        columns = [{"name": c, "shape": [3], "datatype": "FP64", "data": [t[i] for t in tensor]}
                   for i, c in enumerate(COLUMNS)]  # fmt: skip
        segment = {"name": "segment", "shape": [3], "datatype": "BYTES",
                   "data": ["vip", "mass", "vip"]}  # fmt: skip
        v2_body = {
            "inputs": [*columns, segment],
            "parameters": {"content_type": "pd"},
            "outputs": [{"name": "label"}, {"name": "action"}, {"name": "prediction_id"}],
        }
        v2 = client.post("/v2/models/gbc-routes/infer", json=v2_body).json()
        plain_v2 = client.post("/v2/models/gbc-routes/infer", json={"inputs": v2_body["inputs"],
                               "parameters": {"content_type": "pd"}})  # fmt: skip
        tensor_v2 = client.post("/v2/models/gbc-routes/infer", json={"inputs": [
            {"name": "x", "shape": [3, 20], "datatype": "FP64", "data": tensor}]})  # fmt: skip
        invocations = client.post("/invocations", json={"dataframe_records": rows})
        missing = client.post("/deployments/gbc-routes/predict",
                              json={"rows": [row(models.X, 0)]})  # fmt: skip
        mlflow_missing = client.post("/invocations", json={"dataframe_records": [row(models.X)]})

    decisions = [p["decision"] for p in by_rows["predictions"]]
    assert [d["queue"] for d in decisions] == ["senior", "general", "senior"]
    assert [d["route"] for d in decisions][:2] == ["routing.rules[0] (vip)", "routing.default"]
    assert {p["decision"]["queue"] for p in by_split["predictions"]} == {"senior"}
    outputs = {o["name"]: o for o in v2["outputs"]}
    assert outputs["action"]["datatype"] == "BYTES"
    assert outputs["action"]["data"] == [d["action"] for d in decisions]
    assert [o["name"] for o in plain_v2.json()["outputs"]] == ["label", "proba"]  # unasked: plain
    assert set(invocations.json()) == {"predictions"}  # MLflow's shape
    mlflow_ids = invocations.headers["x-loopline-prediction-ids"].split(",")
    assert missing.status_code == 400
    assert "segment" in missing.json()["error"]
    assert mlflow_missing.json()["error_code"] == "BAD_REQUEST"

    logged = _logged(tmp_path / "events", "gbc-routes")
    assert len(logged) == 3 * 5  # rows, split, V2 asked, V2 plain, invocations; no failure
    for pid, d in zip(outputs["prediction_id"]["data"], decisions, strict=True):
        assert logged.loc[pid, "action"] == d["action"]
        assert logged.loc[pid, "policy_version"] == d["policy_version"]
    assert logged.loc[outputs["prediction_id"]["data"], "queue"].tolist() == [
        "senior", "general", "senior"]  # fmt: skip
    assert tensor_v2.status_code == 400  # a bare tensor has no "segment" for the routing rule
    assert "segment" in tensor_v2.json()["error"]
    assert logged.loc[mlflow_ids, "queue"].tolist() == ["senior", "general", "senior"]
    assert set(logged["variant"]) == {"champion"}


def test_logging_mode_and_policy_changes_are_followed(
    deployments: DeploymentService, models: Models, tmp_path: Path
) -> None:
    deployments.create_deployment("gbc-modes", "models:/gbc/1", logging="off", actor="tester")
    config = settings(serve_poll_interval=0.05, eventlog_root=tmp_path / "events")
    app = deployments_app(models.client, config)
    endpoint = app.endpoints["gbc-modes"]
    body = {"rows": [row(models.X, 0)]}

    with Running(app) as server, httpx.Client(base_url=server.url) as client:
        unlogged = client.post("/deployments/gbc-modes/predict", json=body).json()
        asked = {"inputs": [{"name": "x", "shape": [2, 20], "datatype": "FP64",
                             "data": models.X[:2].tolist()}],
                 "outputs": [{"name": "prediction_id"}, {"name": "action"}]}  # fmt: skip
        v2 = client.post("/v2/models/gbc-modes/infer", json=asked).json()["outputs"]
        deployments.update_deployment("gbc-modes", logging="durable", policy=POLICY,
                                      actor="tester")  # fmt: skip
        _wait(lambda: endpoint.logging == "durable" and endpoint.policy, "no mode change seen")
        vip = {"rows": [{**body["rows"][0], "segment": "vip"}]}
        logged = client.post("/deployments/gbc-modes/predict", json=vip).json()
        journals = "".join(p.read_text() for p in (tmp_path / "events").rglob("*.jsonl"))

    assert unlogged["predictions"][0]["decision"] is None
    assert [o["shape"] for o in v2] == [[2], [2]]
    assert len(set(v2[0]["data"])) == 2  # ids even when not logged
    assert v2[1]["data"] == [None, None]  # no policy yet
    assert logged["predictions"][0]["decision"]["queue"] == "senior"
    assert logged["predictions"][0]["prediction_id"] in journals  # durable: before the answer
    assert unlogged["predictions"][0]["prediction_id"] not in journals


def test_outcomes_are_logged_and_checked(
    deployments: DeploymentService, models: Models, tmp_path: Path
) -> None:
    deployments.create_deployment("gbc-outcomes", "models:/gbc/1", logging="durable",
                                  actor="tester")  # fmt: skip
    config = settings(serve_poll_interval=0, eventlog_root=tmp_path / "events")
    app = deployments_app(models.client, config)

    with Running(app) as server, httpx.Client(base_url=server.url) as client:
        two = {"rows": [row(models.X, 0), row(models.X, 1)]}
        answer = client.post("/deployments/gbc-outcomes/predict", json=two).json()
        ids = [p["prediction_id"] for p in answer["predictions"]]
        good = [
            {"prediction_id": ids[0], "label": 1, "value": 12.5, "accepted": True},
            {"prediction_id": ids[1], "label": "churned", "timestamp": 1_790_000_000_000},
        ]
        logged = client.post("/outcomes", json=good)
        bad_value = client.post("/outcomes", json=[good[0], {"prediction_id": "p", "value": "x"}])
        unknown = client.post("/outcomes", json=[{"prediction_id": "p", "labels": 1}])
        no_id = client.post("/outcomes", json=[{"label": 1}])
        too_many = client.post("/outcomes", json=[{"prediction_id": "p"}] * 10_001)
        not_list = client.post("/outcomes", json={"prediction_id": "p"})
        get = client.get("/outcomes")

    assert logged.status_code == 200
    assert logged.json() == {"logged": 2}
    assert bad_value.status_code == 422
    assert "1.value" in bad_value.json()["error"]
    assert "0.labels" in unknown.json()["error"]
    assert "0.prediction_id" in no_id.json()["error"]
    assert too_many.status_code == 422
    assert "10000" in too_many.json()["error"]
    assert not_list.status_code == 422
    assert get.status_code == 405
    joined = EventLog(tmp_path / "events").read_predictions("gbc-outcomes", as_="pandas")
    by_id = joined.set_index("prediction_id")
    assert by_id.loc[ids[0], "value"] == 12.5
    assert by_id.loc[ids[0], "accepted"]
    assert by_id.loc[ids[1], "label"] == '"churned"'
    outcomes = EventLog(tmp_path / "events").read_outcomes(as_="pandas")
    assert sorted(outcomes["prediction_id"]) == sorted(ids)  # the bad calls stored nothing


def test_protocol_routes_log_shadow_and_canary_predictions(
    deployments: DeploymentService, models: Models, tmp_path: Path
) -> None:
    shadow = {"model_uri": "models:/gbc/2", "mode": "shadow"}
    deployments.create_deployment("gbc-challenged", "models:/gbc/1", logging="async",
                                  challenger=shadow, actor="tester")  # fmt: skip
    config = settings(serve_poll_interval=0.05, eventlog_root=tmp_path / "events")
    app = deployments_app(models.client, config)
    endpoint = app.endpoints["gbc-challenged"]
    tensor = {"inputs": [{"name": "x", "shape": [2, 20], "datatype": "FP64",
                          "data": models.X[:2].tolist()}]}  # fmt: skip
    records = {"dataframe_records": [row(models.X, 0), row(models.X, 1)]}

    with Running(app) as server, httpx.Client(base_url=server.url) as client:
        v2 = client.post("/v2/models/gbc-challenged/infer", json=tensor)
        mlflow = client.post("/invocations", json=records)
        _wait(lambda: endpoint.shadowed == 4, "the shadow was not scored")
        canary = {"model_uri": "models:/gbc/2", "mode": "canary", "share": 0.5,
                  "sticky_key": "x-customer"}  # fmt: skip
        deployments.update_deployment("gbc-challenged", challenger=canary, actor="tester")
        _wait(lambda: getattr(endpoint.challenger, "mode", None) == "canary", "no canary")
        sides = {}
        for i in range(30):
            headers = {"x-customer": f"c{i}"}
            answer = client.post("/v2/models/gbc-challenged/infer", json=tensor, headers=headers)
            again = client.post("/v2/models/gbc-challenged/infer", json=tensor, headers=headers)
            assert answer.json()["model_version"] == again.json()["model_version"]  # sticky
            sides[i] = answer.json()["model_version"]

    assert v2.json()["model_version"] == "1"
    assert mlflow.status_code == 200
    assert set(sides.values()) == {"1", "2"}
    logged = EventLog(tmp_path / "events").read_predictions("gbc-challenged", as_="pandas")
    counts = logged.groupby(["variant", "model_version"]).size().to_dict()
    canaries = sum(2 * 2 for v in sides.values() if v == "2")
    assert counts == {("champion", 1): 4 + 120 - canaries, ("shadow", 2): 4,
                      ("canary", 2): canaries}  # fmt: skip
