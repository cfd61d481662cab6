"""Who calls the server, and what they may do.

With auth on (``Settings.auth``, ``loopline server --auth``) every ``/api`` route but health
needs ``Authorization: Bearer <token>``: reads (GET, HEAD) need the viewer role, every other
method the editor role, and a route asks for more with ``Depends(require_role(Role.APPROVER))``.
A missing or bad token answers 401 with ``WWW-Authenticate: Bearer``; too low a role answers 403.

The caller is a :class:`Principal`; routes record ``current_actor`` (its name) in the audit log.
With auth off, nobody is checked: the actor is the ``X-Loopline-Actor`` header the SDK sends
(the OS user) or ``anonymous``, a claim nobody verified. Rules that compare identities, such as
"an approver may not approve their own model", only hold against real identities with auth on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from loopline.audit import AuditLog
from loopline.auth import AuthService, check_permission
from loopline.entities.auth import Role
from loopline.errors import InvalidArgumentError, UnauthenticatedError
from loopline.server.errors import error_response

__all__ = [
    "ACTOR_HEADER",
    "ANONYMOUS",
    "OPEN_PATHS",
    "Actor",
    "CurrentPrincipal",
    "Principal",
    "auth_service",
    "current_actor",
    "current_principal",
    "install_auth",
    "require_role",
]

ACTOR_HEADER = "X-Loopline-Actor"
ANONYMOUS = "anonymous"
OPEN_PATHS = frozenset({"/api/health"})
_READS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a token's user with auth on; an unverified name and no role with auth off."""

    name: str
    role: Role | None


def auth_service(request: Request) -> AuthService:
    """The auth service over the tracking service's store (rebuilt if the store was swapped)."""
    state = request.app.state
    store = state.tracking.store
    service: AuthService | None = getattr(state, "auth", None)
    if service is None or service.store is not store:
        service = state.auth = AuthService(store, AuditLog(store))
    return service


def _auth_on(request: Request) -> bool:
    settings = getattr(request.app.state, "settings", None)
    return bool(settings is not None and settings.auth)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise UnauthenticatedError(
            "The Authorization header must read 'Bearer <token>'.", reason="malformed"
        )
    return credentials.strip()


def _claimed_actor(request: Request) -> str:
    claimed = request.headers.get(ACTOR_HEADER)
    if claimed is None:
        return ANONYMOUS
    if not 1 <= len(claimed) <= 256 or not claimed.isprintable() or not claimed.strip():
        raise InvalidArgumentError(
            f"The {ACTOR_HEADER} header must be 1 to 256 printable characters. "
            f"Got {claimed[:60]!r} instead.",
            field=ACTOR_HEADER,
        )
    return claimed


def current_principal(request: Request) -> Principal:
    """The caller of this request; with auth on, also checks the method's minimum role.

    FastAPI caches it per request, so the token is checked once however many dependencies ask.
    """
    if request.url.path in OPEN_PATHS:
        return Principal(ANONYMOUS, None)
    if not _auth_on(request):
        return Principal(_claimed_actor(request), None)
    user = auth_service(request).authenticate(_bearer(request))
    check_permission(user.name, user.role, Role.VIEWER if request.method in _READS else Role.EDITOR)
    return Principal(user.name, user.role)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def current_actor(principal: CurrentPrincipal) -> str:
    """The name routes record as the actor of a change."""
    return principal.name


Actor = Annotated[str, Depends(current_actor)]


def require_role(role: Role) -> Callable[..., Principal]:
    """A dependency that lets the caller through only with ``role`` or above (auth on).

    With auth off it passes everyone: there are no verified identities to hold a role.
    """
    required = Role(role)

    def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role is not None:
            check_permission(principal.name, principal.role, required)
        return principal

    dependency.__name__ = f"require_{required.value}"
    return dependency


async def _unauthenticated(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnauthenticatedError)
    response = error_response(401, exc.code, exc.message, **exc.details)
    response.headers["WWW-Authenticate"] = 'Bearer realm="loopline"'
    return response


def install_auth(app: FastAPI) -> None:
    """Check the caller on every route of ``app`` (with auth off, only read the actor header).

    Call it before adding routes: FastAPI copies the app's dependencies into each route as it
    is added.
    """
    app.add_exception_handler(UnauthenticatedError, _unauthenticated)
    app.router.dependencies.append(Depends(current_principal))
