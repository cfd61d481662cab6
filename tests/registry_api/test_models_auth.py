"""The registry routes with auth on: roles enforced, the token's user recorded as the actor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import loopline
from api_server_support import ApiServer
from loopline.audit import AuditLog
from loopline.auth import AuthService, Role
from loopline.config import Settings
from loopline.errors import PermissionDeniedError, UnauthenticatedError
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service


class SecuredServer(ApiServer):
    def __init__(self, folder: Path) -> None:
        settings = Settings(uri=str(folder), auth=True)
        self.tracking = tracking_service(settings)
        self.auth = AuthService(self.tracking.store, AuditLog(self.tracking.store))
        self.tokens = {}
        for role in Role:
            self.auth.create_user(role.value, role, actor="setup")
            self.tokens[role.value] = self.auth.create_token(role.value, actor="setup")[1]
        super().__init__(create_app(self.tracking, settings))

    def client(self, role: str | None) -> loopline.Client:
        token = None if role is None else self.tokens[role]
        return loopline.Client(self.url, settings=Settings(token=token))

    def stop(self) -> None:
        super().stop()
        self.tracking.store.engine.dispose()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredServer]:
    with SecuredServer(tmp_path_factory.mktemp("registry-secured")) as server:
        yield server


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
