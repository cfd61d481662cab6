"""The registry routes with auth on: roles enforced, the token's user recorded as the actor."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

import loopline
from loopline.audit import AuditLog
from loopline.auth import AuthService, Role
from loopline.config import Settings
from loopline.errors import PermissionDeniedError, UnauthenticatedError
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service


class SecuredServer:
    def __init__(self, folder: Path) -> None:
        settings = Settings(uri=str(folder), auth=True)
        self.tracking = tracking_service(settings)
        self.auth = AuthService(self.tracking.store, AuditLog(self.tracking.store))
        self.tokens = {}
        for role in Role:
            self.auth.create_user(role.value, role, actor="setup")
            self.tokens[role.value] = self.auth.create_token(role.value, actor="setup")[1]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(create_app(self.tracking, settings), host="127.0.0.1", port=port,
                                log_level="critical", access_log=False, lifespan="off",
                                ws="none")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.02)
        raise RuntimeError("the secured test server did not come up")

    def client(self, role: str | None) -> loopline.Client:
        token = None if role is None else self.tokens[role]
        return loopline.Client(self.url, settings=Settings(token=token))

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.tracking.store.engine.dispose()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredServer]:
    server = SecuredServer(tmp_path_factory.mktemp("registry-secured"))
    yield server
    server.close()


def test_roles_and_actors(secured: SecuredServer) -> None:
    editor = secured.client("editor").registry
    model = editor.create_registered_model("secured", actor="someone-else")
    assert model.name == "secured"
    event = AuditLog(secured.tracking.store).list(object_type="registered_model")[-1]
    assert event.actor == "editor"  # the token's user, not the claimed actor
    viewer = secured.client("viewer").registry
    assert viewer.get_registered_model("secured").name == "secured"
    assert [m.name for m in viewer.search_registered_models("name = 'secured'")] == ["secured"]
    with pytest.raises(PermissionDeniedError):
        viewer.update_registered_model("secured", description="x", actor="viewer")
    with pytest.raises(UnauthenticatedError):
        secured.client(None).registry.get_registered_model("secured")
    assert editor.get_registered_model("secured").description is None
