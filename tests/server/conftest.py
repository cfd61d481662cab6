"""A real loopline server on 127.0.0.1 for the whole session, a fresh store for every test.

Requests go through httpx over a socket, so what is tested is what a client gets: uvicorn's
parsing and decoding of paths and bodies included. ``app.state.tracking`` is swapped per test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_server_support import ApiServer
from loopline.config import Settings
from loopline.server.app import create_app
from loopline.server.errors import STATUS_BY_CODE
from loopline.tracking.factory import tracking_service
from loopline.tracking.service import TrackingService


def _service(folder: Path) -> TrackingService:
    return tracking_service(Settings(uri=str(folder)))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    with ApiServer(create_app(_service(tmp_path_factory.mktemp("api-boot")))) as running:
        yield running


@pytest.fixture
def http(server: ApiServer) -> Iterator[httpx.Client]:
    """An HTTP client for the server (redirects not followed, as the SDK does)."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
    server.app.dependency_overrides.clear()


@pytest.fixture
def service(server: ApiServer, tmp_path: Path) -> Iterator[TrackingService]:
    """A fresh, empty service that the server answers with during this test."""
    fresh = _service(tmp_path / "srv")
    server.app.state.tracking = fresh
    yield fresh
    fresh.store.engine.dispose()


def _populate(http: httpx.Client) -> dict[str, Any]:
    experiment = http.post("/api/experiments", json={"name": "api"}).json()["experiment_id"]
    deleted = http.post("/api/experiments", json={"name": "gone"}).json()["experiment_id"]
    http.delete(f"/api/experiments/{deleted}").raise_for_status()
    run = http.post("/api/runs", json={"experiment_id": experiment, "run_name": "r"}).json()
    run_id = run["info"]["run_id"]
    body = {"params": {"lr": "0.1"}, "tags": {"t": "v"}}
    http.post(f"/api/runs/{run_id}/batch", json=body).raise_for_status()
    http.put(f"/api/runs/{run_id}/artifacts/dir/f.txt", content=b"hello").raise_for_status()
    return {"exp": experiment, "deleted_exp": deleted, "run": run_id, "unknown": "0" * 32}


@pytest.fixture
def ids(http: httpx.Client, service: TrackingService) -> dict[str, Any]:
    """In a fresh store: an experiment, a run with a param, a tag and an artifact, and a
    deleted experiment; their ids (and an unknown run id)."""
    return _populate(http)


@pytest.fixture(scope="module")
def _shared_store(
    server: ApiServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TrackingService, dict[str, Any]]]:
    shared = _service(tmp_path_factory.mktemp("shared"))
    server.app.state.tracking = shared
    with httpx.Client(base_url=server.url, timeout=30) as client:
        found = _populate(client)
    yield shared, found
    shared.store.engine.dispose()


@pytest.fixture
def shared_ids(server: ApiServer, _shared_store: tuple[TrackingService, dict[str, Any]]) -> Any:
    """Like ``ids``, in one store for the whole module (for tests that tolerate each other)."""
    server.app.state.tracking = _shared_store[0]
    return _shared_store[1]


ENVELOPE_CODES = {*STATUS_BY_CODE, "INTERNAL"}
Envelope = Callable[[httpx.Response], dict[str, Any]]


def check_envelope(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an error answer, after checking the envelope's shape."""
    assert response.status_code >= 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] in ENVELOPE_CODES
    assert isinstance(error["message"], str)
    assert error["message"].strip()
    assert isinstance(error["details"], dict)
    if error["code"] in STATUS_BY_CODE and response.status_code not in (405, 422):
        assert STATUS_BY_CODE[error["code"]] == response.status_code
    return dict(error)


@pytest.fixture
def envelope() -> Envelope:
    """Checks an answer is the one JSON error envelope; returns its ``error`` object."""
    return check_envelope
