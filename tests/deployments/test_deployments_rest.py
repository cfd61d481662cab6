"""/api/deployments on a real uvicorn server with auth on (SQLite, then PostgreSQL), and the
remote SDK twin: roles, actors in the audit log, error statuses, hostile bodies, parity."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_server_support import ApiServer
from loopline.audit import AuditLog
from loopline.auth import AuthService, Role
from loopline.client.client import Client
from loopline.client.remote_deployments import RemoteDeployments
from loopline.config import Settings
from loopline.deploy import DeploymentService
from loopline.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from loopline.registry import RegistryService
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service

Registrar = Callable[[Any, RegistryService, Path], None]
USERS = {"alice": Role.EDITOR, "dave": Role.VIEWER}
_names = itertools.count(1)


class Server(ApiServer):
    """The API with auth on, the users' tokens, and registered models."""

    def __init__(self, folder: Path, db_url: str, registrar: Registrar) -> None:
        settings = Settings(uri=db_url, artifact_root=str(folder / "artifacts"), auth=True)
        self.tracking = tracking_service(settings)
        self.audit = AuditLog(self.tracking.store)
        auth = AuthService(self.tracking.store, self.audit)
        self.tokens = {}
        for user, role in USERS.items():
            auth.create_user(user, role, actor="setup")
            self.tokens[user] = auth.create_token(user, actor="setup")[1]
        registrar(self.tracking.store, RegistryService(self.tracking.store, self.audit), folder)
        super().__init__(create_app(self.tracking, settings))

    def stop(self) -> None:
        super().stop()
        self.tracking.store.engine.dispose()

    def call(self, user: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return httpx.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def sdk(self, user: str) -> Client:
        return Client(settings=Settings(uri=self.url, token=self.tokens[user]))


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, module_db_url: str, registrar: Registrar
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("deployments-api")
    with Server(folder, module_db_url, registrar) as running:
        yield running


@pytest.fixture
def name() -> str:
    return f"api-{next(_names)}"


def _create(server: Server, name_: str, **extra: Any) -> httpx.Response:
    body = {"name": name_, "model_uri": "models:/churn@champion", **extra}
    return server.call("alice", "POST", "/api/deployments", json=body)


def test_editor_creates_changes_kills_and_deletes(server: Server, name: str) -> None:
    made = _create(server, name, logging="durable", tags={"team": "risk"})
    assert made.status_code == 201, made.text
    assert made.json()["revision"] == 1
    assert made.json()["created_by"] == "alice"
    shadow = {"model_uri": "models:/churn@challenger", "mode": "shadow"}
    patched = server.call("alice", "PATCH", f"/api/deployments/{name}",
                          json={"challenger": shadow, "expected_revision": 1})  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["logging"] == "durable"  # not named in the body: kept
    assert patched.json()["challenger"]["mode"] == "shadow"
    killed = server.call("alice", "POST", f"/api/deployments/{name}/kill", json={"reason": "x"})
    assert killed.json()["enabled"] is False
    resolved = server.call("dave", "GET", f"/api/deployments/{name}/resolve").json()
    assert resolved["deployment"]["kill_reason"] == "x"
    assert (resolved["champion"]["version"], resolved["challenger"]["version"]) == (1, 2)
    enabled = server.call("alice", "POST", f"/api/deployments/{name}/enable")
    assert enabled.json()["enabled"] is True
    revisions = server.call("dave", "GET", f"/api/deployments/{name}/revisions").json()
    assert [r["revision"] for r in revisions["revisions"]] == [1, 2, 3, 4]
    old = server.call("dave", "GET", f"/api/deployments/{name}", params={"revision": 1}).json()
    assert old["challenger"] is None
    assert server.call("alice", "DELETE", f"/api/deployments/{name}").status_code == 200
    assert server.call("dave", "GET", f"/api/deployments/{name}").status_code == 404
    events = server.audit.list(object_type="deployment", object_id=name)
    assert [(e.actor, e.action) for e in events] == [
        ("alice", "deployment.create"), ("alice", "deployment.update"),
        ("alice", "deployment.kill"), ("alice", "deployment.enable"),
        ("alice", "deployment.delete"),
    ]  # fmt: skip


def test_patch_null_removes_and_stale_revision_conflicts(server: Server, name: str) -> None:
    _create(server, name, policy={"name": "p"}, description="d")
    removed = server.call("alice", "PATCH", f"/api/deployments/{name}",
                          json={"policy": None, "description": None})  # fmt: skip
    assert (removed.json()["policy"], removed.json()["description"]) == (None, None)
    stale = server.call("alice", "PATCH", f"/api/deployments/{name}",
                        json={"logging": "off", "expected_revision": 1})  # fmt: skip
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "CONFLICT"


def test_viewer_cannot_change_and_no_token_is_401(server: Server, name: str) -> None:
    _create(server, name)
    body = {"name": f"{name}-v", "model_uri": "models:/churn@champion"}
    changes = [
        ("POST", "/api/deployments", body), ("PATCH", f"/api/deployments/{name}", {}),
        ("POST", f"/api/deployments/{name}/kill", {"reason": "x"}),
        ("POST", f"/api/deployments/{name}/enable", {}),
        ("DELETE", f"/api/deployments/{name}", None),
    ]  # fmt: skip
    for method, path, json in changes:
        assert server.call("dave", method, path, json=json).status_code == 403, (method, path)
        anonymous = server.call(None, method, path, json=json)
        assert anonymous.status_code == 401
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    for path in ("/api/deployments", f"/api/deployments/{name}"):
        assert server.call(None, "GET", path).status_code == 401
        assert server.call("dave", "GET", path).status_code == 200
    current = server.call("dave", "GET", f"/api/deployments/{name}").json()
    assert (current["revision"], current["enabled"]) == (1, True)  # nothing changed


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"model_uri": "models:/nope@champion"}, 404, None),
        ({"model_uri": "models:/churn/99"}, 404, None),
        ({"model_uri": "runs:/abc/model"}, 400, "model_uri"),
        ({"logging": "loud"}, 400, "logging"),
        ({"name": "a/b"}, 400, "name"),
        ({"name": 7}, 422, "name"),
        ({"challenger": {"model_uri": "models:/churn@challenger", "mode": "canary"}}, 400,
         "challenger.share"),
        ({"challenger": "models:/churn@challenger"}, 422, "challenger"),
        ({"policy": [1, 2]}, 422, "policy"),
        ({"actor": "mallory"}, 422, "actor"),  # the actor is the caller, never the body's
    ],
)  # fmt: skip
def test_bad_bodies_are_4xx_and_store_nothing(
    server: Server, name: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    answer = _create(server, name, **body)
    assert answer.status_code == status, answer.text
    if field is not None:
        details = answer.json()["error"]["details"]
        assert field in details.get("fields", [details.get("field")])
    assert server.call("dave", "GET", f"/api/deployments/{name}").status_code == 404
    malformed = server.call("alice", "POST", "/api/deployments", content=b"{not json",
                            headers={"Content-Type": "application/json"})  # fmt: skip
    assert 400 <= malformed.status_code < 500
    assert malformed.json()["error"]["code"] == "INVALID_ARGUMENT"


def test_remote_twin_has_the_service_signatures() -> None:
    for method, _ in inspect.getmembers(DeploymentService, inspect.isfunction):
        if method.startswith("_"):
            continue
        local = inspect.signature(getattr(DeploymentService, method))
        remote = inspect.signature(getattr(RemoteDeployments, method))
        assert list(local.parameters) == list(remote.parameters), method
        assert str(local) == str(remote), method


def test_remote_sdk_matches_local(server: Server, name: str, tmp_path: Path) -> None:
    remote = server.sdk("alice").deployments
    assert isinstance(remote, RemoteDeployments)
    made = remote.create_deployment(name, "models:/churn@champion", actor="ignored-with-auth")
    assert made.created_by == "alice"  # the token's user, not the claimed actor
    changed = remote.update_deployment(name, logging="off", tags={"a": "b"}, actor="x")
    assert (changed.revision, changed.logging, changed.tags) == (2, "off", {"a": "b"})
    assert remote.get_deployment(name, 1).logging == "async"
    assert remote.kill(name, reason="stop", actor="x").kill_reason == "stop"
    assert remote.enable(name, actor="x").enabled is True
    assert [r.revision for r in remote.list_revisions(name)] == [1, 2, 3, 4]
    resolved = remote.resolve(name)
    assert resolved.champion is not None
    assert resolved.champion.version == 1
    assert name in [d.name for d in remote.list_deployments(name_contains=name)]
    with pytest.raises(ConflictError):
        remote.update_deployment(name, logging="durable", expected_revision=1, actor="x")
    with pytest.raises(AlreadyExistsError):
        remote.create_deployment(name, "models:/churn@champion", actor="x")
    with pytest.raises(NotFoundError):
        remote.create_deployment(f"{name}-b", "models:/churn/42", actor="x")
    with pytest.raises(InvalidArgumentError, match="'logging' parameter"):
        remote.update_deployment(name, logging="loud", actor="x")  # refused before sending
    with pytest.raises(PermissionDeniedError):
        server.sdk("dave").deployments.kill(name, reason="no", actor="dave")
    remote.delete_deployment(name, actor="x")
    with pytest.raises(NotFoundError):
        remote.get_deployment(name)


@pytest.mark.parametrize(
    ("method", "suffix", "body", "status"),
    [
        ("PATCH", "", {"enabled": False}, 422),  # the kill switch has its own routes
        ("PATCH", "", {"model_uri": "models:/churn/99"}, 404),
        ("PATCH", "", {"challenger": {"model_uri": "models:/churn@champion", "mode": "shadow"}},
         400),
        ("PATCH", "", {"logging": None}, 400),
        ("PATCH", "", {"expected_revision": "one"}, 422),
        ("POST", "/kill", {"reason": "  "}, 400),
        ("POST", "/kill", {}, 422),
        ("POST", "/enable", {"reason": 3}, 422),
    ],
)  # fmt: skip
def test_hostile_changes_are_4xx_and_store_nothing(
    server: Server, name: str, method: str, suffix: str, body: dict[str, Any], status: int
) -> None:
    _create(server, name)
    answer = server.call("alice", method, f"/api/deployments/{name}{suffix}", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] in ("INVALID_ARGUMENT", "NOT_FOUND")
    revisions = server.call("dave", "GET", f"/api/deployments/{name}/revisions").json()
    assert len(revisions["revisions"]) == 1


def test_reads_of_unknown_things_are_4xx(server: Server, name: str) -> None:
    _create(server, name)
    assert server.call("dave", "GET", "/api/deployments/ghost").status_code == 404
    assert server.call("dave", "GET", "/api/deployments/ghost/resolve").status_code == 404
    unknown = server.call("dave", "GET", f"/api/deployments/{name}", params={"revision": 9})
    assert unknown.status_code == 404
    zero = server.call("dave", "GET", f"/api/deployments/{name}", params={"revision": 0})
    assert zero.status_code == 400
    assert server.call("dave", "GET", "/api/deployments/a%20b").status_code == 400
    page = server.call("dave", "GET", "/api/deployments", params={"page_token": "bad"})
    assert page.status_code == 400
