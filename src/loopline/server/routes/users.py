"""/api/users and /api/tokens: users, roles and API tokens, for admins; /api/whoami for all.

These routes answer only on a server with auth on: with auth off nobody is verified, and a token
minted by an unverified caller would become a real credential the day auth is turned on. There,
users and tokens are managed with ``loopline users`` / ``loopline tokens`` on the store itself.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from loopline.auth import AuthService
from loopline.entities.auth import ApiToken, Role, User
from loopline.errors import PermissionDeniedError
from loopline.server.auth import CurrentPrincipal, Principal, auth_service, require_role

__all__ = ["encode_token", "encode_user", "tokens_router", "users_router", "whoami_router"]

Service = Annotated[AuthService, Depends(auth_service)]
_require_admin = require_role(Role.ADMIN)


def admin(principal: Annotated[Principal, Depends(_require_admin)]) -> str:
    """The verified admin calling; refuses every caller while auth is off."""
    if principal.role is None:
        raise PermissionDeniedError(
            "Users and tokens can be managed over REST only on a server with auth on "
            "('loopline server --auth'); use 'loopline users' and 'loopline tokens' on the "
            "store instead.",
            required=Role.ADMIN.value,
        )
    return principal.name


Admin = Annotated[str, Depends(admin)]
users_router = APIRouter(prefix="/api/users", tags=["users"])
tokens_router = APIRouter(prefix="/api/tokens", tags=["users"])
whoami_router = APIRouter(prefix="/api/whoami", tags=["users"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_Body):
    name: str = Field(min_length=1, max_length=256)
    role: str


class UserUpdate(_Body):
    role: str | None = None
    disabled: bool | None = None


class TokenCreate(_Body):
    description: str | None = None
    expires_in_days: int | None = None


def encode_user(user: User) -> dict[str, Any]:
    return {**asdict(user), "role": user.role.value}


def encode_token(token: ApiToken) -> dict[str, Any]:
    return asdict(token)


@whoami_router.get("", summary="Who the server takes the caller for, and their role")
def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
    """With auth off: the unverified ``X-Loopline-Actor`` (or ``anonymous``) and no role."""
    role = principal.role.value if principal.role is not None else None
    return {"name": principal.name, "role": role, "authenticated": role is not None}


@users_router.post("", status_code=201, summary="Create a user with a role")
def create_user(body: UserCreate, service: Service, actor: Admin) -> dict[str, Any]:
    return encode_user(service.create_user(body.name, body.role, actor=actor))


@users_router.get("", summary="List users, one page")
def list_users(
    service: Service,
    _: Admin,
    max_results: Annotated[int, Query(ge=1, le=1000)] = 100,
    page_token: str | None = None,
) -> dict[str, Any]:
    page = service.list_users(max_results=max_results, page_token=page_token)
    return {"users": [encode_user(u) for u in page], "next_token": page.next_token}


@users_router.get("/{name}", summary="Get a user")
def get_user(name: str, service: Service, _: Admin) -> dict[str, Any]:
    return encode_user(service.get_user(name))


@users_router.patch("/{name}", summary="Change a user's role, or disable or enable it")
def update_user(name: str, body: UserUpdate, service: Service, actor: Admin) -> dict[str, Any]:
    user = service.get_user(name)
    if body.role is not None:
        user = service.set_role(name, body.role, actor=actor)
    if body.disabled is True and not user.disabled:
        user = service.disable_user(name, actor=actor)
    elif body.disabled is False and user.disabled:
        user = service.enable_user(name, actor=actor)
    return encode_user(user)


@users_router.post("/{name}/tokens", status_code=201, summary="Create a token (secret shown once)")
def create_token(name: str, body: TokenCreate, service: Service, actor: Admin) -> dict[str, Any]:
    token, secret = service.create_token(
        name, description=body.description, expires_in_days=body.expires_in_days, actor=actor
    )
    return {**encode_token(token), "token": secret}


@tokens_router.get("", summary="List tokens (never their secrets), one page")
def list_tokens(
    service: Service,
    _: Admin,
    user: str | None = None,
    max_results: Annotated[int, Query(ge=1, le=1000)] = 100,
    page_token: str | None = None,
) -> dict[str, Any]:
    page = service.list_tokens(user, max_results=max_results, page_token=page_token)
    return {"tokens": [encode_token(t) for t in page], "next_token": page.next_token}


@tokens_router.delete("/{token_id}", summary="Revoke a token")
def revoke_token(token_id: str, service: Service, actor: Admin) -> dict[str, Any]:
    return encode_token(service.revoke_token(token_id, actor=actor))
