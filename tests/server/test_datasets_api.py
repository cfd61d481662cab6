"""/api/datasets and /api/runs/{id}/inputs over a real socket: answers, OpenAPI, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopline.data.service import DatasetService
from loopline.entities import VersionStatus
from loopline.tracking.service import TrackingService

Envelope = Callable[[httpx.Response], dict[str, Any]]
PARQUET = {"Content-Type": "application/vnd.apache.parquet"}
TABLE = pa.table(
    {
        "id": [1, 2, 3, 4],
        "city": ["Oslo", "Rome", "Oslo", None],
        "amount": [1.5, float("inf"), None, 2.0],
    }
)


def parquet(table: pa.Table = TABLE, metadata: dict[bytes, bytes] | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(metadata), sink)
    return bytes(sink.getvalue().to_pybytes())


def upload(
    http: httpx.Client, name: str = "orders", body: bytes | None = None, **kw: Any
) -> httpx.Response:
    url = f"/api/datasets/{name}/versions"
    return http.post(url, content=parquet() if body is None else body, headers=PARQUET, **kw)


@pytest.fixture
def datasets(service: TrackingService) -> DatasetService:
    """The datasets service over the store the server answers with in this test."""
    return DatasetService(service.store, service.artifacts)


def test_upload_creates_a_version_and_identical_content_returns_it(
    http: httpx.Client, datasets: DatasetService
) -> None:
    first = upload(http, params={"description": "Orders", "tag": ["team=ops", "k=a=b"]})
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["name"], body["version"], body["num_rows"]) == ("orders", 1, 4)
    assert body["tags"] == {"team": "ops", "k": "a=b"}
    assert body["description"] == "Orders"
    assert body["profile"]["amount"]["max"] == "Infinity"
    reordered = TABLE.take([3, 2, 1, 0]).select(["amount", "city", "id"])
    assert upload(http, body=parquet(reordered)).json()["version"] == 1
    assert datasets.get("orders").digest == body["digest"]


def test_description_and_tags_from_parquet_metadata(
    http: httpx.Client, datasets: DatasetService
) -> None:
    meta = {
        b"loopline.description": "Été ✓".encode(),
        b"loopline.tags": json.dumps({"ключ": "значение"}).encode(),
    }
    created = upload(http, body=parquet(metadata=meta))
    assert created.status_code == 201, created.text
    version = datasets.get("orders")
    assert (version.description, version.tags) == ("Été ✓", {"ключ": "значение"})


def test_read_endpoints(http: httpx.Client, datasets: DatasetService) -> None:
    upload(http).raise_for_status()
    upload(http, body=parquet(TABLE.slice(0, 3))).raise_for_status()

    listing = http.get("/api/datasets").json()
    assert [(d["name"], d["latest_version"]) for d in listing["datasets"]] == [("orders", 2)]
    assert [v["version"] for v in http.get("/api/datasets/orders/versions").json()["versions"]] == [
        1,
        2,
    ]
    assert http.get("/api/datasets/orders/versions/latest").json()["version"] == 2
    profile = http.get("/api/datasets/orders/versions/1/profile").json()
    assert [c["name"] for c in profile["schema"]] == ["id", "city", "amount"]
    assert profile["profile"]["city"]["missing"] == 1
    data = http.get("/api/datasets/orders/versions/1/data")
    assert data.headers["content-type"] == "application/vnd.apache.parquet"
    assert pq.read_table(pa.BufferReader(data.content)).num_rows == 4
    sample = http.get("/api/datasets/orders/versions/1/data", params={"sample": "true"})
    assert pq.read_table(pa.BufferReader(sample.content)).num_rows == 4
    diff = http.get("/api/datasets/diff", params={"a": "orders:1", "b": "orders:latest"}).json()
    assert (diff["rows_a"], diff["rows_b"], diff["row_change"]) == (4, 3, -1)
    assert {c["column"] for c in diff["changes"]} == {"id", "city", "amount"}


def test_run_inputs_and_consumers(http: httpx.Client, ids: dict[str, Any]) -> None:
    upload(http).raise_for_status()
    body = {"name": "orders", "version": 1, "context": "training"}
    recorded = http.post(f"/api/runs/{ids['run']}/inputs", json=body)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["dataset"] == "orders"

    inputs = http.get(f"/api/runs/{ids['run']}/inputs").json()["inputs"]
    assert [(i["dataset"], i["version"], i["context"]) for i in inputs] == [
        ("orders", 1, "training")
    ]
    consumers = http.get("/api/datasets/orders/versions/1/consumers").json()["inputs"]
    assert [c["run_id"] for c in consumers] == [ids["run"]]


def test_validation_report(
    http: httpx.Client, datasets: DatasetService, envelope: Envelope
) -> None:
    upload(http).raise_for_status()
    missing = http.get("/api/datasets/orders/versions/1/validation")
    assert envelope(missing)["code"] == "NOT_FOUND"

    suite = {
        "name": "s",
        "checks": [{"kind": "allowed_values", "column": "city", "values": ["Oslo"]}],
    }
    ran = http.post("/api/datasets/orders/versions/1/validation", json={"checks": suite})
    assert ran.status_code == 200, ran.text
    assert ran.json()["status"] == "failed"
    stored = http.get("/api/datasets/orders/versions/1/validation").json()
    assert stored == ran.json()
    assert datasets.get("orders").status is VersionStatus.FAILED
    refused = http.get("/api/datasets/orders/versions/1/data")
    assert envelope(refused)["code"] == "VALIDATION_FAILED"
    allowed = http.get("/api/datasets/orders/versions/1/data", params={"allow_failed": "true"})
    assert allowed.status_code == 200


BAD_UPLOADS = [
    ({"body": b"not parquet at all"}, "not a readable Parquet file"),
    ({"body": b""}, "empty"),
    ({"body": b"PAR1" + b"\0" * 64 + b"PAR1"}, "Parquet"),
    ({"params": {"tag": "novalue"}}, "KEY=VALUE"),
    ({"params": {"tag": "k=" + "v" * 9000}}, "tag"),
    ({"params": {"tag": "k=" + "v" * 60_000}}, "at most 8000"),
    (
        {"body": parquet(metadata={b"loopline.tags": json.dumps({"k": "v" * 10**6}).encode()})},
        "at most 8000",
    ),
    ({"body": parquet(pa.table({"x": pa.array([], pa.int64())}))}, "empty"),
    ({"body": parquet(pa.table({"x": [[1], [2]]}))}, "nested"),
    ({"body": parquet(metadata={b"loopline.tags": b"[1, 2]"})}, "JSON object"),
    ({"body": parquet(metadata={b"loopline.tags": b"\xff"})}, "JSON object"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_UPLOADS)
def test_bad_uploads_are_400_naming_the_problem(
    http: httpx.Client,
    service: TrackingService,
    envelope: Envelope,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    response = upload(http, **kwargs)
    assert response.status_code == 400, response.text
    assert message in envelope(response)["message"]
    assert http.get("/api/datasets").json()["datasets"] == []


def test_upload_needs_a_parquet_content_type(
    http: httpx.Client, service: TrackingService, envelope: Envelope
) -> None:
    response = http.post(
        "/api/datasets/orders/versions", content=parquet(), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 400
    assert "Content-Type" in envelope(response)["message"]


BAD_READS = [
    ("GET", "/api/datasets/nope/versions", 404),
    ("GET", "/api/datasets/nope/versions/latest", 404),
    ("GET", "/api/datasets/orders/versions/9", 404),
    ("GET", "/api/datasets/orders/versions/-1/profile", 400),
    ("GET", "/api/datasets/orders/versions/abc", 400),
    ("GET", "/api/datasets/orders/versions/1.5/data", 400),
    ("GET", f"/api/datasets/orders/versions/{10**30}", 400),
    ("GET", "/api/datasets/orders/versions/9/data", 404),
    ("GET", "/api/datasets/orders/versions/9/consumers", 404),
    ("GET", "/api/datasets/orders/versions/abc/validation", 400),
    ("GET", "/api/datasets/diff?a=orders:1&b=nope:1", 404),
    ("GET", f"/api/datasets/diff?a=orders:1&b=orders:{10**30}", 400),
    ("GET", "/api/datasets/diff?a=orders:1", 422),
    ("GET", "/api/datasets?page_token=garbage", 400),
    ("GET", "/api/datasets?max_results=0", 400),
    ("GET", f"/api/datasets?max_results={10**30}", 400),
    ("GET", "/api/runs/0123/inputs", 404),
    ("POST", "/api/runs/0123/inputs", 422),
    ("POST", "/api/datasets/orders/versions/1/validation", 422),
]


@pytest.mark.parametrize(("method", "path", "status"), BAD_READS)
def test_bad_requests_get_the_envelope_never_a_500(
    http: httpx.Client,
    service: TrackingService,
    envelope: Envelope,
    method: str,
    path: str,
    status: int,
) -> None:
    upload(http).raise_for_status()
    response = http.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == status, response.text
    envelope(response)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "orders", "version": 9},
        {"name": "nope", "version": 1},
        {"name": "orders", "version": 1, "context": "bad\x00context"},
        {"name": "orders", "version": 2**64},
        {"name": "orders", "version": "abc"},
    ],
)
def test_bad_run_inputs(
    http: httpx.Client, ids: dict[str, Any], envelope: Envelope, body: dict[str, Any]
) -> None:
    upload(http).raise_for_status()
    response = http.post(f"/api/runs/{ids['run']}/inputs", json=body)
    assert response.status_code in (400, 404, 422), response.text
    envelope(response)


def test_bad_suites_are_400(
    http: httpx.Client, service: TrackingService, envelope: Envelope
) -> None:
    upload(http).raise_for_status()
    response = http.post(
        "/api/datasets/orders/versions/1/validation",
        json={"checks": {"name": "s", "checks": [{"kind": "nope"}]}},
    )
    assert response.status_code == 400
    assert "checks[0]" in envelope(response)["message"]


@pytest.mark.parametrize("name", ["a/b", "with space", "naïve", "x:1", "100%", "versions", "diff"])
def test_names_that_need_escaping(http: httpx.Client, service: TrackingService, name: str) -> None:
    quoted = httpx.URL(f"/api/datasets/{name.replace('%', '%25')}/versions")
    created = http.post(quoted, content=parquet(), headers=PARQUET)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == name
    got = http.get(httpx.URL(f"/api/datasets/{name.replace('%', '%25')}/versions/1"))
    assert got.json()["name"] == name


def test_openapi_documents_every_dataset_endpoint(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    one = "/api/datasets/{name}/versions/{version}"
    for path in (
        "/api/datasets",
        "/api/datasets/diff",
        "/api/datasets/{name}/versions",
        one,
        f"{one}/profile",
        f"{one}/data",
        f"{one}/consumers",
        f"{one}/validation",
        "/api/runs/{run_id}/inputs",
    ):
        assert path in paths, sorted(paths)
        for operation in paths[path].values():
            assert operation["summary"]
    upload_body = paths["/api/datasets/{name}/versions"]["post"]["requestBody"]["content"]
    assert "application/vnd.apache.parquet" in upload_body
