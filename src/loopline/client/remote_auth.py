"""Users and API tokens on a loopline server: the remote twin of ``AuthService``.

The server answers these routes only with auth on, and only for admins; the actor it records is
the caller's token's user, so the ``actor`` arguments here are accepted for parity and not sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from loopline.client.remote import RemoteTracking
from loopline.entities import Page
from loopline.entities.auth import ApiToken, Role, User

__all__ = ["RemoteAuth", "decode_token", "decode_user"]


def decode_user(data: dict[str, Any]) -> User:
    return User(
        name=data["name"], role=Role(data["role"]), created_by=data["created_by"],
        created_at=data["created_at"], disabled=data["disabled"],
    )  # fmt: skip


def decode_token(data: dict[str, Any]) -> ApiToken:
    return ApiToken(
        token_id=data["token_id"], user=data["user"], description=data["description"],
        created_by=data["created_by"], created_at=data["created_at"],
        expires_at=data["expires_at"], revoked_at=data["revoked_at"],
        last_used_at=data["last_used_at"],
    )  # fmt: skip


def _user_path(name: str) -> str:
    return f"/api/users/{quote(str(name), safe='')}"


class RemoteAuth:
    """Same methods as :class:`~loopline.auth.AuthService` (but ``authenticate``), remotely.

    It shares the HTTP connection pool, the token and the error decoding of ``tracking``.
    """

    def __init__(self, tracking: RemoteTracking) -> None:
        self.tracking = tracking

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.tracking._call(method, path, **kwargs)

    def create_user(self, name: str, role: Role | str, *, actor: str | None = None) -> User:
        body = {"name": name, "role": str(role)}
        return decode_user(self._call("POST", "/api/users", json=body))

    def get_user(self, name: str) -> User:
        return decode_user(self._call("GET", _user_path(name)))

    def list_users(
        self, *, max_results: int | None = None, page_token: str | None = None
    ) -> Page[User]:
        params: dict[str, Any] = {"max_results": max_results, "page_token": page_token}
        data = self._call("GET", "/api/users", params={k: v for k, v in params.items() if v})
        return Page([decode_user(u) for u in data["users"]], data["next_token"])

    def set_role(self, name: str, role: Role | str, *, actor: str | None = None) -> User:
        return decode_user(self._call("PATCH", _user_path(name), json={"role": str(role)}))

    def disable_user(self, name: str, *, actor: str | None = None) -> User:
        return decode_user(self._call("PATCH", _user_path(name), json={"disabled": True}))

    def enable_user(self, name: str, *, actor: str | None = None) -> User:
        return decode_user(self._call("PATCH", _user_path(name), json={"disabled": False}))

    def create_token(
        self,
        user: str,
        *,
        description: str | None = None,
        expires_in_days: int | None = None,
        actor: str | None = None,
    ) -> tuple[ApiToken, str]:
        body = {"description": description, "expires_in_days": expires_in_days}
        data = self._call("POST", f"{_user_path(user)}/tokens", json=body)
        return decode_token(data), str(data["token"])

    def list_tokens(
        self,
        user: str | None = None,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ApiToken]:
        params: dict[str, Any] = {
            "user": user, "max_results": max_results, "page_token": page_token,
        }  # fmt: skip
        data = self._call("GET", "/api/tokens", params={k: v for k, v in params.items() if v})
        return Page([decode_token(t) for t in data["tokens"]], data["next_token"])

    def revoke_token(self, token_id: str, *, actor: str | None = None) -> ApiToken:
        return decode_token(self._call("DELETE", f"/api/tokens/{quote(str(token_id), safe='')}"))
