"""Users and API tokens (only SHA-256 hashes of token secrets are stored).

A token's hash never leaves this module except to the auth service, which compares it in
constant time (:meth:`AuthTables.get_token_credentials`). ``last_used_at`` is written by a
conditional ``UPDATE`` that does nothing when the stored time is recent, so a busy token costs
at most one write per interval.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from loopline.entities.auth import ApiToken, Role, User
from loopline.errors import AlreadyExistsError, NotFoundError
from loopline.store.base import SqlStoreBase
from loopline.store.schema import ApiTokenRow, UserRow

__all__ = ["AuthTables"]

_USER_COLUMNS = (
    UserRow.name,
    UserRow.role,
    UserRow.created_by,
    UserRow.created_at,
    UserRow.disabled,
)
_TOKEN_COLUMNS = (
    ApiTokenRow.token_id,
    UserRow.name,
    ApiTokenRow.description,
    ApiTokenRow.created_by,
    ApiTokenRow.created_at,
    ApiTokenRow.expires_at,
    ApiTokenRow.revoked_at,
    ApiTokenRow.last_used_at,
)


def _user(row: Any) -> User:
    name, role, created_by, created_at, disabled = row
    return User(name, Role(role), created_by, int(created_at), bool(disabled))


def _token(row: Any) -> ApiToken:
    token_id, user, description, created_by, created_at, expires, revoked, used = row
    return ApiToken(
        token_id, user, description, created_by, int(created_at), expires, revoked, used
    )


def _missing_user(name: str) -> NotFoundError:
    return NotFoundError(f"No user named {name!r}.", user=name)


def _missing_token(token_id: str) -> NotFoundError:
    return NotFoundError(f"No API token with id {token_id!r}.", token_id=token_id)


class AuthTables(SqlStoreBase):
    """Users and API tokens (only SHA-256 hashes of token secrets are stored)."""

    # -- users -------------------------------------------------------------------------------

    def create_user(self, user: User) -> User:
        try:
            with self._write() as conn:
                conn.execute(
                    insert(UserRow).values(
                        name=user.name, role=user.role.value, created_by=user.created_by,
                        created_at=user.created_at, disabled=user.disabled,
                    )
                )  # fmt: skip
        except IntegrityError:
            raise AlreadyExistsError(
                f"A user named {user.name!r} already exists.", user=user.name
            ) from None
        return self.get_user(user.name)

    def get_user(self, name: str) -> User:
        with self._read() as conn:
            row = conn.execute(select(*_USER_COLUMNS).where(UserRow.name == name)).first()
        if row is None:
            raise _missing_user(name)
        return _user(row)

    def list_users(self, *, offset: int, limit: int) -> tuple[list[User], bool]:
        """Users by name, and whether more follow."""
        query = select(*_USER_COLUMNS).order_by(UserRow.name).offset(offset).limit(limit + 1)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_user(row) for row in rows[:limit]], len(rows) > limit

    def count_admins(self) -> int:
        """Enabled users with the admin role."""
        query = select(UserRow.user_id).where(
            UserRow.role == Role.ADMIN.value, UserRow.disabled.is_(False)
        )
        with self._read() as conn:
            return len(conn.execute(query).all())

    def update_user(
        self, name: str, *, role: Role | None = None, disabled: bool | None = None
    ) -> tuple[User, User]:
        """Change a user's role and/or disabled flag; the user before and after."""
        with self._write() as conn:
            before = self._locked_user(conn, name)
            values: dict[str, Any] = {}
            if role is not None:
                values["role"] = role.value
            if disabled is not None:
                values["disabled"] = disabled
            if values:
                conn.execute(update(UserRow).where(UserRow.name == name).values(**values))
        return before, self.get_user(name)

    def _locked_user(self, conn: Connection, name: str) -> User:
        row = conn.execute(
            select(*_USER_COLUMNS).where(UserRow.name == name).with_for_update()
        ).first()
        if row is None:
            raise _missing_user(name)
        return _user(row)

    # -- tokens ------------------------------------------------------------------------------

    def create_token(self, token: ApiToken, *, secret_hash: str) -> ApiToken:
        """Store ``token`` for its (existing) user with the SHA-256 hex of its secret."""
        with self._write() as conn:
            user_id = conn.execute(
                select(UserRow.user_id).where(UserRow.name == token.user)
            ).scalar()
            if user_id is None:
                raise _missing_user(token.user)
            conn.execute(
                insert(ApiTokenRow).values(
                    token_id=token.token_id, user_id=user_id, secret_hash=secret_hash,
                    description=token.description, created_by=token.created_by,
                    created_at=token.created_at, expires_at=token.expires_at,
                )
            )  # fmt: skip
        return self.get_token(token.token_id)

    def _tokens(self, where: Any) -> Any:
        return (
            select(*_TOKEN_COLUMNS)
            .join(UserRow, UserRow.user_id == ApiTokenRow.user_id)
            .where(where)
        )

    def get_token(self, token_id: str) -> ApiToken:
        with self._read() as conn:
            row = conn.execute(self._tokens(ApiTokenRow.token_id == token_id)).first()
        if row is None:
            raise _missing_token(token_id)
        return _token(row)

    def get_token_credentials(self, token_id: str) -> tuple[ApiToken, str, User] | None:
        """A token, its stored secret hash and its user, in one read; ``None`` when unknown."""
        query = (
            select(*_TOKEN_COLUMNS, ApiTokenRow.secret_hash, *_USER_COLUMNS[1:])
            .join(UserRow, UserRow.user_id == ApiTokenRow.user_id)
            .where(ApiTokenRow.token_id == token_id)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        token = _token(row[:8])
        return token, str(row[8]), _user((token.user, *row[9:]))

    def list_tokens(
        self, *, user: str | None, offset: int, limit: int
    ) -> tuple[list[ApiToken], bool]:
        """Tokens oldest first (of one user when ``user`` is given), and whether more follow."""
        where: Any = UserRow.name == user if user is not None else True
        query = (
            self._tokens(where)
            .order_by(ApiTokenRow.created_at, ApiTokenRow.token_id)
            .offset(offset)
            .limit(limit + 1)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [_token(row) for row in rows[:limit]], len(rows) > limit

    def revoke_token(self, token_id: str, *, now: int) -> tuple[ApiToken, bool]:
        """Mark a token revoked; the token and whether this call revoked it (not already)."""
        with self._write() as conn:
            revoked = conn.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.token_id == token_id, ApiTokenRow.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount
        return self.get_token(token_id), bool(revoked)

    def touch_token(self, token_id: str, *, now: int, min_interval: int) -> bool:
        """Set ``last_used_at`` unless it is less than ``min_interval`` ms old; True if written."""
        with self._write() as conn:
            written = conn.execute(
                update(ApiTokenRow)
                .where(
                    ApiTokenRow.token_id == token_id,
                    or_(
                        ApiTokenRow.last_used_at.is_(None),
                        ApiTokenRow.last_used_at <= now - min_interval,
                    ),
                )
                .values(last_used_at=now)
            ).rowcount
        return bool(written)
