"""Auth entities: roles, users and API tokens.

Roles are ordered: ``viewer < editor < approver < admin``; each role may do everything the roles
below it may. A token's secret is never part of :class:`ApiToken`: it is shown once, when the
token is created, and only its SHA-256 is stored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["ApiToken", "Role", "User"]


class Role(enum.StrEnum):
    """What a user may do, from least to most.

    Examples:
        >>> Role.ADMIN.allows(Role.APPROVER)
        True
        >>> Role.EDITOR.allows(Role.APPROVER)
        False
        >>> sorted([Role.ADMIN, Role.VIEWER, Role.EDITOR], key=Role.rank)
        [<Role.VIEWER: 'viewer'>, <Role.EDITOR: 'editor'>, <Role.ADMIN: 'admin'>]
    """

    VIEWER = "viewer"
    EDITOR = "editor"
    APPROVER = "approver"
    ADMIN = "admin"

    def rank(self) -> int:
        """0 for viewer up to 3 for admin."""
        return _ORDER.index(self)

    def allows(self, required: Role) -> bool:
        """True when this role may do what ``required`` may (it ranks at or above it)."""
        return self.rank() >= Role(required).rank()


_ORDER = (Role.VIEWER, Role.EDITOR, Role.APPROVER, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class User:
    """A person or system that may call the server; ``created_at`` in epoch milliseconds."""

    name: str
    role: Role
    created_by: str
    created_at: int
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token's public record: ``token_id`` and times in epoch ms, never the secret.

    ``user`` is the owner's name; ``expires_at`` ``None`` means it never expires.
    """

    token_id: str
    user: str
    description: str | None
    created_by: str
    created_at: int
    expires_at: int | None = None
    revoked_at: int | None = None
    last_used_at: int | None = None
