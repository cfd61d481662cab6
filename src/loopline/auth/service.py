"""The auth service: users with roles, API tokens, and who a token belongs to.

A token reads ``ll_<token_id>_<secret>``: ``token_id`` (16 hex digits) is public and names the
token in listings and the audit log; ``secret`` is ``secrets.token_urlsafe(32)`` (256 random
bits). Only the SHA-256 of the whole token is stored: a slow password hash (bcrypt, argon2)
protects low-entropy secrets against guessing, and 256 random bits cannot be guessed, so a fast
hash loses nothing and keeps every authenticated request cheap.

Every change to users and tokens is recorded in the audit log (object types ``user`` and
``token``) after it commits; neither a secret nor its hash ever goes into an event. There is no
default user and no default password: the first admin is created with the CLI on the store.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable

from loopline.audit import AuditLog
from loopline.entities import Page
from loopline.entities.auth import ApiToken, Role, User
from loopline.errors import InvalidArgumentError, PermissionDeniedError, UnauthenticatedError
from loopline.store.auth import AuthTables
from loopline.tracking.paging import check_max_results, decode_token, encode_token

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "MAX_EXPIRES_IN_DAYS",
    "TOKEN_PREFIX",
    "TOUCH_INTERVAL_MS",
    "AuthService",
    "check_permission",
    "check_role",
    "check_user_name",
    "hash_token",
]

DEFAULT_MAX_RESULTS = 100
MAX_EXPIRES_IN_DAYS = 3650
TOKEN_PREFIX = "ll_"
TOUCH_INTERVAL_MS = 60_000
_DAY_MS = 86_400_000
_USER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")
_TOKEN_RE = re.compile(r"ll_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _invalid(argument: str, where: str, constraint: str, value: object) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"The {argument!r} parameter of AuthService.{where} must be {constraint}. "
        f"Got {str(value)[:80]!r} instead.",
        field=argument,
    )


def check_user_name(name: object, where: str = "create_user") -> str:
    """1 to 128 letters, digits, ``.``, ``_``, ``@``, ``+`` or ``-``, starting with a letter or
    digit (an e-mail address fits)."""
    if not isinstance(name, str) or _USER_RE.fullmatch(name) is None:
        raise _invalid(
            "name", where, "1 to 128 letters, digits, '.', '_', '@', '+' or '-', starting with a "
            "letter or digit", name,
        )  # fmt: skip
    return name


def check_role(role: object, where: str = "create_user") -> Role:
    """A :class:`Role` or its name."""
    try:
        return Role(str(role)) if isinstance(role, str) else Role(role)  # type: ignore[arg-type]
    except ValueError:
        roles = ", ".join(repr(r.value) for r in Role)
        raise _invalid("role", where, f"one of {roles}", role) from None


def _actor(actor: object, where: str) -> str:
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 256:
        raise _invalid("actor", where, "a non-empty string of at most 256 characters", actor)
    return actor


def hash_token(token: str) -> str:
    """The SHA-256 hex digest of a whole token, the only form in which it is stored.

    Examples:
        >>> len(hash_token("ll_0123456789abcdef_" + "x" * 43))
        64
    """
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    """Users, roles and API tokens, with every change audited.

    Examples:
        >>> import tempfile
        >>> from loopline.audit import AuditLog
        >>> from loopline.store import SqlTrackingStore
        >>> store = SqlTrackingStore(f"sqlite:///{tempfile.mkdtemp()}/a.db")
        >>> auth = AuthService(store, AuditLog(store))
        >>> auth.create_user("ana", "approver", actor="root").role
        <Role.APPROVER: 'approver'>
        >>> token, secret = auth.create_token("ana", actor="root")
        >>> auth.authenticate(secret).name
        'ana'
        >>> try:
        ...     auth.require(auth.get_user("ana"), Role.ADMIN)
        ... except PermissionDeniedError as exc:
        ...     print(exc)
        This action needs the 'admin' role; 'ana' has 'approver'.
    """

    def __init__(
        self, store: AuthTables, audit: AuditLog, *, clock: Callable[[], int] = _now_ms
    ) -> None:
        self.store = store
        self.audit = audit
        self.clock = clock

    # -- users -------------------------------------------------------------------------------

    def create_user(self, name: str, role: Role | str, *, actor: str) -> User:
        """A new, enabled user; :class:`~loopline.errors.AlreadyExistsError` if it exists."""
        user = User(
            name=check_user_name(name),
            role=check_role(role),
            created_by=_actor(actor, "create_user"),
            created_at=self.clock(),
        )
        created = self.store.create_user(user)
        self.audit.record(actor, "user.create", "user", created.name, {"role": created.role.value})
        return created

    def get_user(self, name: str) -> User:
        return self.store.get_user(check_user_name(name, "get_user"))

    def list_users(
        self, *, max_results: int | None = None, page_token: str | None = None
    ) -> Page[User]:
        """Users by name, a page at a time."""
        limit = check_max_results(max_results, DEFAULT_MAX_RESULTS)
        offset = decode_token(page_token)
        users, more = self.store.list_users(offset=offset, limit=limit)
        return Page(users, encode_token(offset + limit) if more else None)

    def set_role(self, name: str, role: Role | str, *, actor: str) -> User:
        """Give ``name`` another role (recorded even when it is the same)."""
        new_role = check_role(role, "set_role")
        _actor(actor, "set_role")
        before, after = self.store.update_user(check_user_name(name, "set_role"), role=new_role)
        self.audit.record(
            actor, "user.set_role", "user", name,
            {"from": before.role.value, "to": after.role.value},
        )  # fmt: skip
        return after

    def disable_user(self, name: str, *, actor: str) -> User:
        """Disable ``name``: its tokens stop working at once (they are kept, for the record)."""
        _actor(actor, "disable_user")
        _, after = self.store.update_user(check_user_name(name, "disable_user"), disabled=True)
        self.audit.record(actor, "user.disable", "user", name, {"disabled": True})
        return after

    def enable_user(self, name: str, *, actor: str) -> User:
        """Enable a disabled user again."""
        _actor(actor, "enable_user")
        _, after = self.store.update_user(check_user_name(name, "enable_user"), disabled=False)
        self.audit.record(actor, "user.enable", "user", name, {"disabled": False})
        return after

    # -- tokens ------------------------------------------------------------------------------

    def create_token(
        self,
        user: str,
        *,
        description: str | None = None,
        expires_in_days: int | None = None,
        actor: str,
    ) -> tuple[ApiToken, str]:
        """A new token for ``user`` and its secret, which is shown this once and never again."""
        where = "create_token"
        check_user_name(user, where)
        if description is not None and (
            not isinstance(description, str) or len(description) > 1000
        ):
            raise _invalid("description", where, "a string of at most 1000 characters", description)
        if expires_in_days is not None and (
            isinstance(expires_in_days, bool)
            or not isinstance(expires_in_days, int)
            or not 1 <= expires_in_days <= MAX_EXPIRES_IN_DAYS
        ):
            raise _invalid(
                "expires_in_days", where, f"an integer from 1 to {MAX_EXPIRES_IN_DAYS} or None",
                expires_in_days,
            )  # fmt: skip
        now = self.clock()
        token_id = secrets.token_hex(8)
        secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        expires_at = None if expires_in_days is None else now + expires_in_days * _DAY_MS
        token = self.store.create_token(
            ApiToken(token_id, user, description, _actor(actor, where), now, expires_at),
            secret_hash=hash_token(secret),
        )
        self.audit.record(
            actor, "token.create", "token", token_id,
            {"user": user, "description": description, "expires_at": expires_at},
        )  # fmt: skip
        return token, secret

    def get_token(self, token_id: str) -> ApiToken:
        return self.store.get_token(str(token_id))

    def list_tokens(
        self,
        user: str | None = None,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ApiToken]:
        """Tokens oldest first, all or one user's; secrets are never listed."""
        limit = check_max_results(max_results, DEFAULT_MAX_RESULTS)
        offset = decode_token(page_token)
        if user is not None:
            check_user_name(user, "list_tokens")
        tokens, more = self.store.list_tokens(user=user, offset=offset, limit=limit)
        return Page(tokens, encode_token(offset + limit) if more else None)

    def revoke_token(self, token_id: str, *, actor: str) -> ApiToken:
        """Revoke a token for good; revoking a revoked token changes nothing and records nothing."""
        _actor(actor, "revoke_token")
        token, revoked = self.store.revoke_token(str(token_id), now=self.clock())
        if revoked:
            self.audit.record(actor, "token.revoke", "token", token.token_id, {"user": token.user})
        return token

    # -- checks ------------------------------------------------------------------------------

    def authenticate(self, token: str | None) -> User:
        """The enabled user a valid, unrevoked, unexpired token belongs to.

        Raises :class:`~loopline.errors.UnauthenticatedError` naming why: missing, malformed,
        unknown, revoked, expired, or the user is disabled.
        """
        if not token:
            raise UnauthenticatedError(
                "No API token was sent: send 'Authorization: Bearer <token>' (set LOOPLINE_TOKEN).",
                reason="missing",
            )
        found = _TOKEN_RE.fullmatch(token)
        if found is None:
            raise UnauthenticatedError(
                "The API token is malformed: expected 'll_<token id>_<secret>' as printed by "
                "'loopline tokens create'.",
                reason="malformed",
            )
        token_id = found.group(1)
        credentials = self.store.get_token_credentials(token_id)
        if credentials is None or not hmac.compare_digest(credentials[1], hash_token(token)):
            raise UnauthenticatedError("The API token is unknown.", reason="unknown")
        record, _, user = credentials
        now = self.clock()
        if record.revoked_at is not None:
            raise UnauthenticatedError(
                f"The API token {token_id} was revoked.", reason="revoked", token_id=token_id
            )
        if record.expires_at is not None and record.expires_at <= now:
            raise UnauthenticatedError(
                f"The API token {token_id} has expired.", reason="expired", token_id=token_id
            )
        if user.disabled:
            raise UnauthenticatedError(
                f"The user {user.name!r} is disabled.", reason="user_disabled", user=user.name
            )
        if record.last_used_at is None or record.last_used_at <= now - TOUCH_INTERVAL_MS:
            self.store.touch_token(token_id, now=now, min_interval=TOUCH_INTERVAL_MS)
        return user

    @staticmethod
    def require(user: User, role: Role | str) -> None:
        """Raise :class:`~loopline.errors.PermissionDeniedError` unless ``user`` may act as
        ``role``."""
        check_permission(user.name, user.role, check_role(role, "require"))


def check_permission(name: str, role: Role, required: Role) -> None:
    """Raise :class:`~loopline.errors.PermissionDeniedError` unless ``role`` allows ``required``.

    Examples:
        >>> check_permission("bob", Role.ADMIN, Role.EDITOR)
        >>> try:
        ...     check_permission("bob", Role.EDITOR, Role.APPROVER)
        ... except PermissionDeniedError as exc:
        ...     print(exc)
        This action needs the 'approver' role; 'bob' has 'editor'.
    """
    if not role.allows(required):
        raise PermissionDeniedError(
            f"This action needs the {required.value!r} role; {name!r} has {role.value!r}.",
            required=required.value,
            role=role.value,
            user=name,
        )
