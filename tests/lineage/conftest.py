"""Fixtures of the lineage tests.

- ``validate_event``: checks one event against the OpenLineage schema and its facets' schemas in
  ``/work/shared/reference/openlineage`` (``$ref``s resolved offline through a registry).
- ``sdk_store``: the fluent SDK pointed at a fresh folder (events land in its openlineage.jsonl).
- ``services``: tracking, datasets and registry over ``db_url`` (SQLite, then PostgreSQL), with an
  emitter writing to a file of the test's own.
- ``live_server``: a real loopline server on 127.0.0.1 serving a folder store.
- ``recorder``: a real HTTP server on 127.0.0.1 that records what is POSTed to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource

import loopline
from api_server_support import ApiServer
from loopline.artifacts import ArtifactStore
from loopline.audit import AuditLog
from loopline.config import Settings
from loopline.data.service import DatasetService
from loopline.openlineage import FileTransport, LineageEmitter
from loopline.registry.service import RegistryService
from loopline.server.app import create_app
from loopline.store import SqlTrackingStore
from loopline.tracking.factory import tracking_service
from loopline.tracking.service import TrackingService

collect_ignore = ["conftest.py"]

REFERENCE = Path("/work/shared/reference/openlineage")


def read_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


class EventValidator:
    """The RunEvent schema, plus each facet's own schema, keyed by the facet's name."""

    def __init__(self) -> None:
        documents = [json.loads(p.read_text()) for p in REFERENCE.rglob("*.json")]
        self.registry: Registry[Any] = Registry().with_resources(
            (doc["$id"], Resource.from_contents(doc)) for doc in documents
        )
        root = json.loads((REFERENCE / "OpenLineage.json").read_text())
        self.event = self._validator(root)
        self.facets: dict[str, Any] = {}
        for doc in documents:
            if doc is root:
                continue
            for name in doc.get("properties", {}):
                self.facets[name] = self._validator(doc)

    def _validator(self, schema: dict[str, Any]) -> Any:
        cls = jsonschema.validators.validator_for(schema)
        return cls(schema, registry=self.registry, format_checker=cls.FORMAT_CHECKER)

    def __call__(self, event: dict[str, Any]) -> None:
        self.event.validate(event)
        facet_maps = [event["run"].get("facets", {}), event["job"].get("facets", {})]
        for dataset in event.get("inputs", []) + event.get("outputs", []):
            facet_maps.append(dataset.get("facets", {}))
        for facets in facet_maps:
            for name, facet in facets.items():
                if name in self.facets:  # custom facets (``loopline``) have no published schema
                    self.facets[name].validate({name: facet})


@pytest.fixture(scope="session")
def validate_event() -> EventValidator:
    return EventValidator()


@pytest.fixture
def sdk_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder store the fluent SDK points at; cleaned up (runs ended, URI forgotten) after."""
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LOOPLINE_HOME", str(tmp_path / "home"))
    folder = tmp_path / "store"
    loopline.set_uri(str(folder))
    yield folder
    while loopline.active_run() is not None:
        with contextlib.suppress(Exception):
            loopline.end_run()
    backend = loopline.get_client().backend
    loopline.set_uri(None)
    if isinstance(backend, TrackingService):
        backend.store.engine.dispose()


@dataclass
class Services:
    tracking: TrackingService
    datasets: DatasetService
    registry: RegistryService
    events: Path


@pytest.fixture
def services(db_url: str, tmp_path: Path) -> Services:
    store = SqlTrackingStore(db_url)
    events = tmp_path / "events.jsonl"
    emitter = LineageEmitter(FileTransport(events))
    artifacts = ArtifactStore(str(tmp_path / "artifacts"))
    return Services(
        TrackingService(store, artifacts, lineage=emitter),
        DatasetService(store, artifacts),
        RegistryService(store, AuditLog(store), lineage=emitter),
        events,
    )


class LiveServer(ApiServer):
    """The API over a folder store built from settings."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.service = tracking_service(Settings(uri=str(folder)))
        super().__init__(create_app(self.service), log_level="warning")

    def stop(self) -> None:
        super().stop()
        self.service.store.engine.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("lineage-server")) as server:
        yield server


class Recorder:
    """An OpenLineage endpoint stand-in: records every request, answers ``status``."""

    def __init__(self, status: int = 201) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = status
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.requests.append((self.path, dict(self.headers), body))
                self.send_response(recorder.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.requests]


@pytest.fixture
def recorder() -> Iterator[Callable[..., Recorder]]:
    started: list[Recorder] = []

    def start(status: int = 201) -> Recorder:
        rec = Recorder(status)
        rec.thread.start()
        started.append(rec)
        return rec

    yield start
    for rec in started:
        rec.http.shutdown()
        rec.http.server_close()
