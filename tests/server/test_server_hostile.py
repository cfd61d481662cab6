"""Hostile input never makes the server answer 500 (or any 5xx), and never escapes the store."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

Envelope = Callable[[httpx.Response], dict[str, Any]]
JSON = {"content-type": "application/json"}
LONG = "é" * 100_000
WEIRD = "名前 🎉 \u202e\u200b ' \" ; -- <script> %00 %2e%2e ${x} {{y}}"


HUGE_OFFSET_TOKEN = base64.urlsafe_b64encode(json.dumps({"offset": 10**30}).encode()).decode()


BATCH = "/api/runs/{run}/batch"
SEARCH = "/api/runs/search"
MANY_METRICS = {"json": {"metrics": [{"key": f"k{i}", "value": i} for i in range(5000)]}}


def raw(body: bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": body, "headers": {"content-type": content_type}}


def metric(**fields: Any) -> dict[str, Any]:
    return {"json": {"metrics": [{"key": "m", "value": 1, **fields}]}}


def search(**fields: Any) -> dict[str, Any]:
    return {"json": {"experiment_ids": ["{exp}"], **fields}}


# (method, path, request keywords); {run}, {exp} and {unknown} are filled in per test.
SWEEP: list[tuple[str, str, dict[str, Any]]] = [
    # very long names, keys and values
    ("POST", "/api/experiments", {"json": {"name": LONG}}),
    ("POST", "/api/experiments", {"json": {"name": "x", "tags": {LONG: LONG}}}),
    ("GET", "/api/experiments/by-name/" + quote(LONG[:5000]), {}),
    ("GET", "/api/experiments/" + "9" * 5000, {}),
    ("GET", "/api/runs/" + "f" * 5000, {}),
    ("POST", "/api/runs", {"json": {"experiment_id": "{exp}", "run_name": LONG}}),
    ("POST", "/api/runs", {"json": {"experiment_id": "{exp}", "user_id": LONG}}),
    ("POST", "/api/runs", {"json": {"experiment_id": "{exp}", "parent_run_id": LONG}}),
    ("POST", "/api/runs", {"json": {"experiment_id": LONG}}),
    ("POST", BATCH, {"json": {"params": {LONG: "v"}}}),
    ("POST", BATCH, {"json": {"params": {"k": LONG}}}),
    ("POST", BATCH, {"json": {"tags": {"k": LONG}}}),
    ("POST", BATCH, {"json": {"metrics": [{"key": LONG, "value": 1}]}}),
    ("GET", "/api/runs/{run}/metrics/" + "m" * 5000, {}),
    ("DELETE", "/api/runs/{run}/tags/" + "t" * 5000, {}),
    ("PUT", "/api/runs/{run}/artifacts/" + "a/" * 600 + "f", {"content": b"x"}),
    ("GET", "/api/runs/{run}/artifacts", {"params": {"path": "p" * 5000}}),
    ("POST", SEARCH, search(filter=LONG)),
    ("POST", SEARCH, search(order_by=[LONG])),
    ("POST", "/api/runs/search", {"json": {"experiment_ids": ["{exp}"] * 5000}}),
    ("POST", SEARCH, search(page_token=LONG)),
    # unicode and control characters
    ("POST", "/api/experiments", {"json": {"name": WEIRD}}),
    ("POST", "/api/experiments", {"json": {"name": "nul\x00byte"}}),
    ("GET", "/api/experiments/by-name/" + quote(WEIRD, safe=""), {}),
    ("POST", "/api/runs", {"json": {"experiment_id": "{exp}", "run_name": WEIRD}}),
    ("POST", "/api/runs", {"json": {"experiment_id": "{exp}", "tags": {"ключ": WEIRD}}}),
    ("POST", BATCH, {"json": {"params": {"ключ_1": WEIRD}}}),
    ("POST", BATCH, {"json": {"tags": {"k": "\x00\x01\x1f"}}}),
    ("POST", BATCH, {"json": {"params": {"k\x00": "v"}}}),
    ("PUT", "/api/runs/{run}/artifacts/" + quote("名前/ファイル 🎉.txt"), {"content": b"x"}),
    ("POST", SEARCH, search(filter=WEIRD)),
    (
        "POST",
        "/api/runs/search",
        {"json": {"experiment_ids": ["{exp}"], "filter": "params.`ключ` = '🎉'"}},
    ),
    ("POST", "/api/runs", raw(b'{"experiment_id": "{exp}", "run_name": "\\ud800"}')),
    ("POST", BATCH, raw(b'{"tags": {"k": "\\udc80"}}')),
    ("POST", BATCH, raw(b'{"params": {"\\udfff": "v"}}')),
    ("POST", "/api/experiments", raw(b'{"name": "\\ud83d"}')),
    ("GET", "/api/runs/%00", {}),
    ("GET", "/api/experiments/%ff%fe", {}),
    # path traversal, plain and URL-encoded
    ("PUT", "/api/runs/{run}/artifacts/..%2F..%2F..%2Fetc%2Fpasswd", {"content": b"x"}),
    ("PUT", "/api/runs/{run}/artifacts/%2e%2e/%2e%2e/%2e%2e/tmp/owned", {"content": b"x"}),
    ("PUT", "/api/runs/{run}/artifacts/%252e%252e/x", {"content": b"x"}),
    ("PUT", "/api/runs/{run}/artifacts/%2F%2Ftmp%2Fowned", {"content": b"x"}),
    ("PUT", "/api/runs/{run}/artifacts/C:%5Cwindows", {"content": b"x"}),
    ("GET", "/api/runs/{run}/artifacts/%2e%2e/%2e%2e/%2e%2e/etc/passwd", {}),
    ("GET", "/api/runs/{run}/artifacts", {"params": {"path": "../../etc"}}),
    ("GET", "/api/runs/{run}/artifact-files", {"params": {"path": "/etc"}}),
    ("GET", "/api/runs/%2e%2e%2f%2e%2e/artifacts", {}),
    ("GET", "/api/runs/{run}/metrics/..%2F..%2Fx", {}),
    ("DELETE", "/api/runs/{run}/tags/%2e%2e", {}),
    ("GET", "/api/experiments/by-name/..%2F..", {}),
    # huge and odd numbers
    ("POST", BATCH, metric(step=2**63)),
    ("POST", BATCH, metric(step=-(2**63) - 1)),
    ("POST", BATCH, metric(step=10**400)),
    ("POST", BATCH, metric(step=2**63 - 1)),
    ("POST", BATCH, metric(timestamp=-(2**63))),
    ("POST", BATCH, metric(step=1e300)),
    ("POST", BATCH, raw(b'{"metrics": [{"key": "m", "value": 1e999}]}')),
    ("POST", BATCH, raw(b'{"metrics": [{"key": "m", "value": -1e999}]}')),
    ("POST", BATCH, raw(b'{"metrics": [{"key": "m", "value": 1' + b"0" * 5000 + b"}]}")),
    ("POST", BATCH, {"json": {"metrics": [{"key": "m", "value": "nan"}]}}),
    ("POST", BATCH, {"json": {"metrics": [{"key": "m", "value": True}]}}),
    ("POST", BATCH, {"json": {"metrics": [{"key": "m", "value": None}]}}),
    ("POST", BATCH, MANY_METRICS),
    ("POST", "/api/runs", {"json": {"experiment_id": "{exp}", "start_time": 2**63 - 1}}),
    ("POST", "/api/runs", {"json": {"experiment_id": "-1"}}),
    ("POST", "/api/runs", {"json": {"experiment_id": "1e3"}}),
    ("PATCH", "/api/runs/{run}", {"json": {"status": "finished", "end_time": -(2**63)}}),
    ("POST", SEARCH, search(max_results=10**30)),
    ("POST", SEARCH, search(filter="metrics.m > 1e999")),
    ("POST", SEARCH, search(filter="start_time > 1e30")),
    ("POST", SEARCH, search(filter="metrics.m IN (" + ",".join(["1"] * 3000) + ")")),
    ("POST", SEARCH, search(filter="experiment_id = '1" + "0" * 30 + "'")),
    ("POST", SEARCH, search(order_by=["metrics.a"] * 70)),
    ("GET", "/api/experiments", {"params": {"max_results": 10**30}}),
    ("GET", "/api/experiments", {"params": {"page_token": "eyJvZmZzZXQiOiAiMSJ9"}}),
    # malformed bodies: bad bytes, wrong shapes, wrong content types
    ("POST", "/api/experiments", raw(b'{"name": "\xff\xfe\xfa"}')),
    ("POST", "/api/experiments", raw(b"\xff\xfe{\x00\x00")),
    ("POST", "/api/experiments", raw(b'{"name": "a"' + b" " * 100_000)),
    ("POST", "/api/experiments", raw(b"[" * 50_000 + b"]" * 50_000)),
    ("POST", "/api/experiments", raw(b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}")),
    ("POST", "/api/experiments", raw(b'{"name": "a", "name": "b"}')),
    ("POST", "/api/experiments", raw(b"null")),
    ("POST", "/api/experiments", raw(b'"just a string"')),
    ("POST", "/api/experiments", raw(b"name=x", "application/x-www-form-urlencoded")),
    ("POST", "/api/experiments", raw(b'{"name": "x"}', "text/plain")),
    ("POST", BATCH, raw(b'{"params": {"k": "\xc3\x28"}}')),
    ("POST", BATCH, {"json": {"metrics": [["m", 1, 2, 3]]}}),
    ("POST", BATCH, {"json": {"params": ["a", "b"]}}),
    ("POST", BATCH, {"json": {"tags": {"k": {"nested": "dict"}}}}),
    ("PUT", "/api/runs/{run}/artifacts/big.bin", {"content": b"\x00" * (8 << 20)}),
    ("PUT", "/api/runs/{run}/artifacts/", {"content": b"x"}),
    ("PUT", "/api/runs/{run}/artifacts/dir/", {"content": b"x"}),
    ("PATCH", "/api/runs/{run}", {"json": {"run_name": ""}}),
    ("PATCH", "/api/experiments/{exp}", {"json": {"name": " "}}),
    ("DELETE", "/api/runs/search", {}),
    ("OPTIONS", "/api/runs", {}),
    ("TRACE", "/api/health", {}),
]  # fmt: skip

# Requests that once got a 5xx (each was a bug, fixed with this test).
KNOWN_5XX = [
    pytest.param(
        "PATCH",
        "/api/runs/{run}",
        {"json": {"end_time": 5}},
        id="run update with nothing the store changes",
    ),
    pytest.param(
        "POST",
        "/api/runs/search",
        {"json": {"experiment_ids": ["{exp}"], "page_token": HUGE_OFFSET_TOKEN}},
        id="page token with an offset past 64 bits",
    ),
    pytest.param(
        "POST",
        "/api/runs/search",
        search(filter="(" * 3000 + "metrics.a > 1" + ")" * 3000),
        id="deeply nested filter",
    ),
    pytest.param(
        "POST",
        "/api/runs/search",
        {"json": {"experiment_ids": ["{exp}"], "filter": " or ".join(["metrics.a > 1"] * 1001)}},
        id="filter too large for SQLite",
    ),
]  # fmt: skip


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.replace("{run}", ids["run"]).replace("{exp}", ids["exp"])
    if isinstance(value, bytes):
        return value.replace(b"{exp}", ids["exp"].encode())
    if isinstance(value, dict):
        return {_fill(k, ids): _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _check(response: httpx.Response, envelope: Envelope) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        envelope(response)


@pytest.mark.parametrize(
    ("method", "path", "kw"),
    SWEEP,
    ids=[f"{i:02d} {m} {p[:60]}" for i, (m, p, _) in enumerate(SWEEP)],
)
def test_hostile_input_is_never_a_5xx(
    http: httpx.Client,
    shared_ids: dict[str, Any],
    envelope: Envelope,
    method: str,
    path: str,
    kw: dict[str, Any],
) -> None:
    ids = shared_ids
    response = http.request(method, _fill(path, ids), **_fill(kw, ids))

    _check(response, envelope)
    _check(http.get(f"/api/runs/{ids['run']}"), envelope)  # the server still answers


@pytest.mark.parametrize(("method", "path", "kw"), KNOWN_5XX)
def test_known_5xx(
    http: httpx.Client,
    shared_ids: dict[str, Any],
    envelope: Envelope,
    method: str,
    path: str,
    kw: dict[str, Any],
) -> None:
    ids = shared_ids
    _check(http.request(method, _fill(path, ids), **_fill(kw, ids)), envelope)


def _raw_request(port: int, target: str) -> tuple[int, bytes]:
    """Send a request line exactly as given (no client-side path normalisation)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


@pytest.mark.parametrize(
    "suffix",
    [
        "../../../../../../etc/passwd",
        "a/../../../../../../etc/passwd",
        "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "..%2f..%2f..%2f..%2fetc%2fpasswd",
        "%2fetc%2fpasswd",
        "/etc/passwd",
        "./dir/../../x",
    ],
)
def test_raw_traversal_paths_never_leave_the_store(
    server: Any, shared_ids: dict[str, Any], suffix: str
) -> None:
    run = shared_ids["run"]
    status, data = _raw_request(server.port, f"/api/runs/{run}/artifacts/{suffix}")

    assert status in (400, 404)
    assert b"root:" not in data


def test_unicode_names_round_trip(http: httpx.Client, ids: dict[str, Any]) -> None:
    name = "名前/🎉 ünïcödé ' \" %2e%2e ?#"
    created = http.post("/api/experiments", json={"name": name})
    assert created.status_code == 201

    found = http.get("/api/experiments/by-name/" + quote(name, safe=""))
    assert found.status_code == 200
    assert found.json()["experiment_id"] == created.json()["experiment_id"]
    assert found.json()["name"] == name
