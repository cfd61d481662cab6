"""The REST API as a client sees it: wire formats, the OpenAPI document, unexpected errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.routing import APIRoute

from loopline import __version__
from loopline.server import deps

Envelope = Callable[[httpx.Response], dict[str, Any]]


def _strict_json(text: str) -> Any:
    """Parse JSON that must be standard: no bare NaN or Infinity literals."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant} in {text[:200]}")

    return json.loads(text, parse_constant=refuse)


def test_health(http: httpx.Client) -> None:
    response = http.get("/api/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_non_finite_metrics_travel_as_strings(http: httpx.Client, ids: dict[str, Any]) -> None:
    run = ids["run"]
    metrics = [
        {"key": "nan", "value": "NaN", "step": 0},
        {"key": "inf", "value": "Infinity", "step": 0},
        {"key": "ninf", "value": "-Infinity", "step": 0},
        {"key": "num", "value": 0.5, "step": 0},
    ]
    assert http.post(f"/api/runs/{run}/batch", json={"metrics": metrics}).status_code == 200

    got = http.get(f"/api/runs/{run}")
    latest = _strict_json(got.text)["data"]["metrics"]
    assert latest == {"nan": "NaN", "inf": "Infinity", "ninf": "-Infinity", "num": 0.5}
    for metric in metrics:
        history = _strict_json(http.get(f"/api/runs/{run}/metrics/{metric['key']}").text)
        assert [m["value"] for m in history["metrics"]] == [metric["value"]]
    search = http.post("/api/runs/search", json={"experiment_ids": [ids["exp"]]})
    assert _strict_json(search.text)["runs"][0]["data"]["metrics"] == latest


def test_bare_nan_literal_in_a_request_is_kept(http: httpx.Client, ids: dict[str, Any]) -> None:
    raw = b'{"metrics": [{"key": "m", "value": NaN}, {"key": "i", "value": -Infinity}]}'

    response = http.post(
        f"/api/runs/{ids['run']}/batch", content=raw, headers={"content-type": "application/json"}
    )

    assert response.status_code < 500
    if response.status_code == 200:
        latest = _strict_json(http.get(f"/api/runs/{ids['run']}").text)["data"]["metrics"]
        assert latest == {"m": "NaN", "i": "-Infinity"}


def test_metric_values_round_trip_exactly(http: httpx.Client, ids: dict[str, Any]) -> None:
    values = [0.1, 1e-300, 1.7976931348623157e308, -2.5, 2.0**53 + 2, 5e-324, 1 / 3]
    body = {"metrics": [{"key": "x", "value": v, "step": i} for i, v in enumerate(values)]}
    http.post(f"/api/runs/{ids['run']}/batch", json=body).raise_for_status()

    history = http.get(f"/api/runs/{ids['run']}/metrics/x").json()["metrics"]

    assert [m["value"] for m in history] == values


def test_openapi_lists_every_route(http: httpx.Client, server: Any) -> None:
    document = http.get("/openapi.json").json()

    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes = [r for r in server.app.routes if isinstance(r, APIRoute) and r.include_in_schema]
    expected = {
        (method, route.path_format) for route in routes for method in route.methods - {"HEAD"}
    }
    assert expected
    assert expected <= documented
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
    assert document["info"]["version"] == __version__


def test_openapi_covers_the_sdk(http: httpx.Client) -> None:
    paths = set(http.get("/openapi.json").json()["paths"])

    for needed in [
        "/api/health",
        "/api/experiments",
        "/api/experiments/{experiment_id}",
        "/api/experiments/by-name/{name}",
        "/api/experiments/{experiment_id}/restore",
        "/api/experiments/{experiment_id}/tags",
        "/api/runs",
        "/api/runs/search",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/restore",
        "/api/runs/{run_id}/batch",
        "/api/runs/{run_id}/tags/{key}",
        "/api/runs/{run_id}/metrics/{key}",
        "/api/runs/{run_id}/artifacts",
        "/api/runs/{run_id}/artifact-files",
        "/api/runs/{run_id}/artifacts/{path}",
    ]:
        assert needed in paths


def test_artifact_bytes_round_trip(http: httpx.Client, ids: dict[str, Any]) -> None:
    data = bytes(range(256)) * 1000 + b"\xff\xfe\x00"
    url = f"/api/runs/{ids['run']}/artifacts/bin/r%C3%A9sum%C3%A9%20%231.bin"

    put = http.put(url, content=data)
    assert put.status_code == 201
    assert put.json() == {"path": "bin/résumé #1.bin"}

    got = http.get(url)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.content == data
    listed = http.get(f"/api/runs/{ids['run']}/artifacts", params={"path": "bin"}).json()
    assert listed["files"][0]["size"] == len(data)


class _Broken:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("the disk caught fire: /secret/path")


def test_unexpected_error_is_a_500_envelope_and_the_connection_lives_on(
    http: httpx.Client, server: Any, envelope: Envelope
) -> None:
    server.app.dependency_overrides[deps.tracking_service] = _Broken

    for _ in range(5):
        response = http.get("/api/runs/abc")
        error = envelope(response)
        assert response.status_code == 500
        assert error["code"] == "INTERNAL"
        assert "/secret/path" not in response.text
        assert http.get("/api/health").status_code == 200  # same keep-alive connection
