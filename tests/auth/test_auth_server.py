"""A real server with auth on (tokens and roles checked) and off (the claimed actor), over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import loopline
from loopline.client.environment import os_user
from loopline.config import Settings
from loopline.errors import PermissionDeniedError, UnauthenticatedError

AuthServer = Any  # the conftest's server: url, tokens, headers(user), auth


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    return dict(body["error"])


def test_health_needs_no_token(secured: AuthServer) -> None:
    assert httpx.get(f"{secured.url}/api/health").status_code == 200


def test_api_schema_and_docs_are_public_and_data_is_not(secured: AuthServer) -> None:
    # decision 50: the route list is public, what the routes hold is not
    schema = httpx.get(f"{secured.url}/openapi.json")
    assert schema.status_code == 200
    assert "/api/experiments" in schema.json()["paths"]
    assert httpx.get(f"{secured.url}/docs").status_code == 200
    _error(httpx.get(f"{secured.url}/api/experiments"), 401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [({}, "missing"), ({"Authorization": "Basic YTpi"}, "malformed"),
     ({"Authorization": "Bearer"}, "malformed"), ({"Authorization": "Bearer nope"}, "malformed"),
     ({"Authorization": "Bearer ll_0123456789abcdef_" + "x" * 43}, "unknown")],
)  # fmt: skip
def test_missing_or_bad_token_is_401(
    secured: AuthServer, headers: dict[str, str], reason: str
) -> None:
    for method, path in (("GET", "/api/experiments"), ("POST", "/api/experiments")):
        response = httpx.request(
            method, f"{secured.url}{path}", headers=headers, json={"name": "x"}
        )
        error = _error(response, 401, "UNAUTHENTICATED")
        assert error["details"]["reason"] == reason
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_viewer_reads_but_may_not_write(secured: AuthServer) -> None:
    with httpx.Client(base_url=secured.url, headers=secured.headers("viewer")) as http:
        assert http.get("/api/experiments").status_code == 200
        error = _error(http.post("/api/experiments", json={"name": "v"}), 403, "PERMISSION_DENIED")
        assert error["message"] == "This action needs the 'editor' role; 'viewer' has 'viewer'."
        assert http.get("/api/whoami").json() == {
            "name": "viewer",
            "role": "viewer",
            "authenticated": True,
        }


def test_editor_writes_but_may_not_manage_users(secured: AuthServer) -> None:
    with httpx.Client(base_url=secured.url, headers=secured.headers("editor")) as http:
        assert http.post("/api/experiments", json={"name": "by-editor"}).status_code == 201
        for response in (
            http.get("/api/users"),
            http.post("/api/users", json={"name": "eve", "role": "admin"}),
            http.post("/api/users/editor/tokens", json={}),
            http.get("/api/tokens"),
            http.patch("/api/users/editor", json={"role": "admin"}),
        ):
            error = _error(response, 403, "PERMISSION_DENIED")
            assert "needs the 'admin' role; 'editor' has 'editor'" in error["message"]
    assert secured.auth.get_user("editor").role.value == "editor"
    with pytest.raises(loopline.errors.NotFoundError):
        secured.auth.get_user("eve")


def test_admin_manages_users_and_tokens_over_rest(secured: AuthServer) -> None:
    admin = httpx.Client(base_url=secured.url, headers=secured.headers("admin"))
    created = admin.post("/api/users", json={"name": "rita", "role": "editor"})
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "admin"
    issued = admin.post("/api/users/rita/tokens", json={"description": "laptop"}).json()
    assert "token" not in admin.get("/api/tokens", params={"user": "rita"}).json()["tokens"][0]
    rita = {"Authorization": f"Bearer {issued['token']}"}
    assert httpx.get(f"{secured.url}/api/whoami", headers=rita).json()["name"] == "rita"
    listed = admin.get("/api/tokens", params={"user": "rita"}).json()["tokens"]
    assert listed[0]["last_used_at"] is not None

    revoked = admin.delete(f"/api/tokens/{issued['token_id']}")
    assert revoked.json()["revoked_at"] is not None
    error = _error(
        httpx.get(f"{secured.url}/api/experiments", headers=rita), 401, "UNAUTHENTICATED"
    )
    assert error["details"]["reason"] == "revoked"

    events = [(e.actor, e.action) for e in secured.auth.audit.list(actor="admin")]
    assert events == [("admin", "user.create"), ("admin", "token.create"),
                      ("admin", "token.revoke")]  # fmt: skip
    admin.close()


def test_disabling_a_user_over_rest_locks_them_out(secured: AuthServer) -> None:
    admin = httpx.Client(base_url=secured.url, headers=secured.headers("admin"))
    admin.post("/api/users", json={"name": "dora", "role": "viewer"}).raise_for_status()
    token = admin.post("/api/users/dora/tokens", json={}).json()["token"]
    dora = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{secured.url}/api/experiments", headers=dora).status_code == 200
    assert admin.patch("/api/users/dora", json={"disabled": True}).json()["disabled"] is True
    response = httpx.get(f"{secured.url}/api/experiments", headers=dora)
    assert _error(response, 401, "UNAUTHENTICATED")["details"]["reason"] == "user_disabled"
    promoted = admin.patch("/api/users/dora", json={"disabled": False, "role": "approver"}).json()
    assert promoted == {**promoted, "role": "approver", "disabled": False}
    assert httpx.get(f"{secured.url}/api/experiments", headers=dora).status_code == 200
    admin.close()


def test_bad_admin_input_is_400_and_changes_nothing(secured: AuthServer) -> None:
    with httpx.Client(base_url=secured.url, headers=secured.headers("admin")) as admin:
        _error(admin.post("/api/users", json={"name": "zed", "role": "god"}), 400,
               "INVALID_ARGUMENT")  # fmt: skip
        _error(admin.post("/api/users", json={"name": "admin", "role": "viewer"}), 409,
               "ALREADY_EXISTS")  # fmt: skip
        _error(admin.patch("/api/users/ghost", json={"role": "viewer"}), 404, "NOT_FOUND")
        _error(admin.post("/api/users/viewer/tokens", json={"expires_in_days": 0}), 400,
               "INVALID_ARGUMENT")  # fmt: skip
        _error(admin.delete("/api/tokens/0123456789abcdef"), 404, "NOT_FOUND")
    assert secured.auth.get_user("admin").role.value == "admin"


def test_sdk_sends_the_token_from_settings(secured: AuthServer) -> None:
    editor = loopline.Client(
        secured.url, settings=Settings(uri=secured.url, token=secured.tokens["editor"])
    )
    experiment_id = editor.create_experiment("from-sdk")
    assert editor.get_experiment(experiment_id).name == "from-sdk"

    viewer = loopline.Client(
        secured.url, settings=Settings(uri=secured.url, token=secured.tokens["viewer"])
    )
    assert viewer.get_experiment(experiment_id).name == "from-sdk"
    with pytest.raises(PermissionDeniedError, match="'editor' role"):
        viewer.create_experiment("nope")

    anonymous = loopline.Client(secured.url, settings=Settings(uri=secured.url))
    with pytest.raises(UnauthenticatedError, match="No API token was sent"):
        anonymous.get_experiment(experiment_id)


def test_sdk_token_from_the_environment(
    secured: AuthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPLINE_TOKEN", secured.tokens["editor"])
    client = loopline.Client(secured.url, settings=Settings())
    assert client.create_experiment("from-env")
    monkeypatch.setenv("LOOPLINE_TOKEN", "ll_0123456789abcdef_" + "y" * 43)
    with pytest.raises(UnauthenticatedError, match="unknown"):
        loopline.Client(secured.url, settings=Settings()).create_experiment("never")


# -- auth off -----------------------------------------------------------------------------


def test_auth_off_needs_no_token(open_server: AuthServer) -> None:
    with httpx.Client(base_url=open_server.url) as http:
        assert http.post("/api/experiments", json={"name": "open"}).status_code == 201
        assert http.get("/api/experiments").status_code == 200
        with_bad_token = {"Authorization": "Bearer nonsense"}
        assert http.get("/api/experiments", headers=with_bad_token).status_code == 200


def test_auth_off_the_actor_is_the_claimed_header(open_server: AuthServer) -> None:
    url = f"{open_server.url}/api/whoami"
    assert httpx.get(url).json() == {"name": "anonymous", "role": None, "authenticated": False}
    claimed = httpx.get(url, headers={"X-Loopline-Actor": "ana@example.com"}).json()
    assert claimed["name"] == "ana@example.com"
    for bad in (b"x" * 257, b"tab\there", b"\xa0"):
        response = httpx.get(url, headers={b"X-Loopline-Actor": bad})
        assert _error(response, 400, "INVALID_ARGUMENT")["details"]["field"] == "X-Loopline-Actor"


def test_auth_off_sdk_claims_the_os_user(open_server: AuthServer) -> None:
    client = loopline.Client(open_server.url, settings=Settings(uri=open_server.url))
    assert client.backend._call("GET", "/api/whoami")["name"] == os_user()  # type: ignore[union-attr]


def test_auth_off_refuses_user_and_token_management(open_server: AuthServer) -> None:
    with httpx.Client(base_url=open_server.url) as http:
        for response in (
            http.post("/api/users", json={"name": "eve", "role": "admin"}),
            http.get("/api/users"),
            http.get("/api/tokens"),
        ):
            error = _error(response, 403, "PERMISSION_DENIED")
            assert "auth on" in error["message"]
    assert not list(open_server.auth.list_users())
