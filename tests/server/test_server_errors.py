"""Every error answer of the REST API is one JSON envelope with the right status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

Envelope = Callable[[httpx.Response], dict[str, Any]]


def send(http: httpx.Client, ids: dict[str, Any], method: str, path: str, **kw: Any) -> Any:
    return http.request(method, path.format(**ids), **kw)


NOT_FOUND = [
    ("GET", "/api/runs/{unknown}", {}),
    ("PATCH", "/api/runs/{unknown}", {"json": {"status": "finished"}}),
    ("DELETE", "/api/runs/{unknown}", {}),
    ("POST", "/api/runs/{unknown}/restore", {}),
    ("POST", "/api/runs/{unknown}/batch", {"json": {"params": {"a": "b"}}}),
    ("DELETE", "/api/runs/{unknown}/tags/t", {}),
    ("DELETE", "/api/runs/{run}/tags/missing", {}),
    ("GET", "/api/runs/{unknown}/metrics/loss", {}),
    ("GET", "/api/runs/{unknown}/artifacts", {}),
    ("GET", "/api/runs/{unknown}/artifact-files", {}),
    ("GET", "/api/runs/{run}/artifact-files", {"params": {"path": "missing"}}),
    ("GET", "/api/runs/{unknown}/artifacts/dir/f.txt", {}),
    ("GET", "/api/runs/{run}/artifacts/missing.txt", {}),
    ("PUT", "/api/runs/{unknown}/artifacts/x.txt", {"content": b"x"}),
    ("GET", "/api/experiments/424242", {}),
    ("GET", "/api/experiments/not-a-number", {}),
    ("GET", "/api/experiments/99999999999999999999999999", {}),
    ("GET", "/api/experiments/by-name/nope", {}),
    ("GET", "/api/experiments/by-name/team/nope", {}),
    ("PATCH", "/api/experiments/424242", {"json": {"name": "x"}}),
    ("DELETE", "/api/experiments/424242", {}),
    ("POST", "/api/experiments/424242/restore", {}),
    ("POST", "/api/experiments/424242/tags", {"json": {"key": "k", "value": "v"}}),
    ("POST", "/api/runs", {"json": {"experiment_id": "424242"}}),
    ("POST", "/api/runs", {"json": {"experiment_id": "{exp}", "parent_run_id": "{unknown}"}}),
    ("POST", "/api/runs/search", {"json": {"experiment_ids": ["424242"]}}),
    ("GET", "/api/nope", {}),
    ("GET", "/nope", {}),
    ("GET", "/api/runs/{run}/nope", {}),
]


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


@pytest.mark.parametrize(
    ("method", "path", "kw"), NOT_FOUND, ids=[f"{m} {p}" for m, p, _ in NOT_FOUND]
)
def test_unknown_ids_and_routes_are_404(
    http: httpx.Client,
    ids: dict[str, Any],
    method: str,
    path: str,
    kw: dict[str, Any],
    envelope: Envelope,
) -> None:
    response = send(http, ids, method, path, **_fill(kw, ids))

    assert response.status_code == 404
    assert envelope(response)["code"] == "NOT_FOUND"


def test_wrong_method_is_405_envelope(http: httpx.Client, envelope: Envelope) -> None:
    response = http.post("/api/health")

    assert response.status_code == 405
    envelope(response)


CONFLICTS = [
    ("POST", "/api/experiments", {"json": {"name": "api"}}, "ALREADY_EXISTS"),
    ("PATCH", "/api/experiments/{deleted_exp}", {"json": {"name": "api"}}, "ALREADY_EXISTS"),
    ("POST", "/api/runs/{run}/batch", {"json": {"params": {"lr": "0.2"}}}, "CONFLICT"),
    ("POST", "/api/runs", {"json": {"experiment_id": "{deleted_exp}"}}, "INVALID_STATE"),
]


@pytest.mark.parametrize(
    ("method", "path", "kw", "code"), CONFLICTS, ids=[f"{c[3]} {c[1]}" for c in CONFLICTS]
)
def test_conflicts_are_409(
    http: httpx.Client,
    ids: dict[str, Any],
    method: str,
    path: str,
    kw: Any,
    code: str,
    envelope: Envelope,
) -> None:
    response = send(http, ids, method, path, **_fill(kw, ids))

    assert response.status_code == 409
    assert envelope(response)["code"] == code


def test_conflict_details_name_the_values(
    http: httpx.Client, ids: dict[str, Any], envelope: Envelope
) -> None:
    response = http.post(f"/api/runs/{ids['run']}/batch", json={"params": {"lr": "0.2"}})

    details = envelope(response)["details"]
    assert details["key"] == "lr"
    assert details["old_value"] == "0.1"
    assert details["new_value"] == "0.2"
    assert http.get(f"/api/runs/{ids['run']}").json()["data"]["params"] == {"lr": "0.1"}


JSON = {"content-type": "application/json"}


def body(**fields: Any) -> dict[str, Any]:
    return {"json": fields}


def metric(**fields: Any) -> dict[str, Any]:
    return body(metrics=[fields])


def search(**fields: Any) -> dict[str, Any]:
    return body(experiment_ids=["{exp}"], **fields)


BATCH = "/api/runs/{run}/batch"

# (method, path, request keywords, the field the answer must name)
INVALID = [
    ("POST", "/api/experiments", body(), "name"),
    ("POST", "/api/experiments", body(name=5), "name"),
    ("POST", "/api/experiments", body(name=""), "name"),
    ("POST", "/api/experiments", body(name="x" * 300), "name"),
    ("POST", "/api/experiments", body(name="x", surplus=1), "surplus"),
    ("POST", "/api/experiments", body(name="x", tags=["a"]), "tags"),
    ("POST", "/api/experiments", {"json": [1, 2]}, "body"),
    ("POST", "/api/experiments", {"content": b"", "headers": JSON}, "body"),
    ("POST", "/api/experiments", {"content": b"{bad json", "headers": JSON}, "body"),
    ("POST", "/api/experiments", {"content": b'{"name": "x",}', "headers": JSON}, "body"),
    ("POST", "/api/experiments/{exp}/tags", body(key="k"), "value"),
    ("POST", "/api/experiments/{exp}/tags", body(key="", value="v"), "key"),
    ("PATCH", "/api/experiments/{exp}", body(name=None, x=1), "x"),
    ("POST", "/api/runs", body(), "experiment_id"),
    ("POST", "/api/runs", body(experiment_id=1.5), "experiment_id"),
    ("POST", "/api/runs", body(experiment_id="{exp}", start_time="soon"), "start_time"),
    ("POST", "/api/runs", body(experiment_id="{exp}", run_name=" "), "name"),
    ("POST", "/api/runs", body(experiment_id="{exp}", tags={"bad*": "v"}), "key"),
    ("PATCH", "/api/runs/{run}", body(status="exploded"), "status"),
    ("PATCH", "/api/runs/{run}", body(end_time=2**64, status="failed"), "end_time"),
    ("POST", BATCH, metric(key="m"), "metrics.0.value"),
    ("POST", BATCH, metric(key="m", value="abc"), "metrics.0.value"),
    ("POST", BATCH, metric(key="m", value=1, step=2**70), "metrics.0.step"),
    (
        "POST",
        "/api/runs/{run}/batch",
        metric(key="m", value=1, timestamp=1.5),
        "metrics.0.timestamp",
    ),
    ("POST", BATCH, metric(key="", value=1), "metrics.0.key"),
    ("POST", BATCH, metric(key="a*b", value=1), "key"),
    ("POST", BATCH, body(metrics="m"), "metrics"),
    ("POST", BATCH, body(params={"k": 1}), "params.k"),
    ("POST", BATCH, body(params={"k": "x" * 7000}), "value"),
    ("POST", BATCH, body(tags={"k": "x" * 9000}), "value"),
    ("POST", "/api/runs/search", body(experiment_ids="1"), "experiment_ids"),
    ("POST", "/api/runs/search", search(max_results=0), "max_results"),
    ("POST", "/api/runs/search", search(view="some"), "view"),
    ("POST", "/api/runs/search", search(page_token="zz"), "page_token"),
    ("POST", "/api/runs/search", search(order_by="start_time"), "order_by"),
    ("GET", "/api/experiments", {"params": {"max_results": "abc"}}, "max_results"),
    ("GET", "/api/experiments", {"params": {"max_results": 0}}, "max_results"),
    ("GET", "/api/experiments", {"params": {"view": "bogus"}}, "view"),
    ("GET", "/api/experiments", {"params": {"page_token": "%%%"}}, "page_token"),
    ("GET", "/api/runs/{run}/metrics/a*b", {}, "key"),
]


@pytest.mark.parametrize(
    ("method", "path", "kw", "field"), INVALID, ids=[f"{m} {p} {f}" for m, p, _, f in INVALID]
)
def test_invalid_input_is_400_or_422_naming_the_field(
    http: httpx.Client,
    ids: dict[str, Any],
    method: str,
    path: str,
    kw: Any,
    field: str,
    envelope: Envelope,
) -> None:
    response = send(http, ids, method, path, **_fill(kw, ids))

    assert response.status_code in (400, 422)
    error = envelope(response)
    assert error["code"] == "INVALID_ARGUMENT"
    named = error["details"].get("fields") or [error["details"].get("field")]
    assert field in named
    assert field.rpartition(".")[2] in error["message"] or field == "body"


def test_malformed_json_says_so(http: httpx.Client, envelope: Envelope) -> None:
    response = http.post("/api/experiments", content=b'{"name": ', headers=JSON)

    error = envelope(response)
    assert response.status_code in (400, 422)
    assert "JSON" in error["message"]
    assert error["details"]["fields"] == ["body"]


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("metrics.auc > 0.8 and params.model = rf", "rf"),
        ("metrics.auc >", None),
        ("params.model = 'rf", "'"),
        ("metrix.auc > 1", "metrix.auc"),
        ("(metrics.auc > 1))", ")"),
    ],
)
def test_filter_error_is_400_with_position(
    http: httpx.Client, ids: dict[str, Any], text: str, token: str | None, envelope: Envelope
) -> None:
    response = http.post("/api/runs/search", json={"experiment_ids": [ids["exp"]], "filter": text})

    assert response.status_code == 400
    error = envelope(response)
    assert error["code"] == "INVALID_FILTER"
    expected = len(text) if token is None else text.rindex(token)
    assert error["details"]["position"] == expected
    assert error["details"]["token"] == token
    assert f"position {expected}" in error["message"]


def test_order_by_error_is_400_with_position(
    http: httpx.Client, ids: dict[str, Any], envelope: Envelope
) -> None:
    body = {"experiment_ids": [ids["exp"]], "order_by": ["start_time", "metrics.auc UP"]}

    error = envelope(http.post("/api/runs/search", json=body))

    assert error["code"] == "INVALID_FILTER"
    assert error["details"]["position"] == "metrics.auc UP".index("UP")


@pytest.mark.parametrize(
    "path",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "%2E%2E/x",
        "a/%2e%2e/%2e%2e/x",
        "%2Fetc%2Fpasswd",
        "a%5Cb",
        "a%00b",
    ],
)
def test_unsafe_artifact_paths_are_400(
    http: httpx.Client, ids: dict[str, Any], path: str, envelope: Envelope
) -> None:
    run = ids["run"]

    for response in (
        http.put(f"/api/runs/{run}/artifacts/{path}", content=b"x"),
        http.get(f"/api/runs/{run}/artifacts/{path}"),
    ):
        assert response.status_code == 400
        assert envelope(response)["code"] == "UNSAFE_PATH"
    listing = http.get(f"/api/runs/{run}/artifact-files").json()["files"]
    assert [f["path"] for f in listing] == ["dir/f.txt"]


def test_logging_to_a_deleted_run_is_409(
    http: httpx.Client, ids: dict[str, Any], envelope: Envelope
) -> None:
    http.delete(f"/api/runs/{ids['run']}").raise_for_status()

    response = http.post(f"/api/runs/{ids['run']}/batch", json={"tags": {"a": "b"}})

    assert response.status_code == 409
    assert envelope(response)["code"] == "INVALID_STATE"
