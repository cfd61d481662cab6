"""Users and API tokens (only SHA-256 hashes of token secrets are stored)."""

from __future__ import annotations

from loopline.store.base import SqlStoreBase

__all__ = ["AuthTables"]


class AuthTables(SqlStoreBase):
    """Users and API tokens (only SHA-256 hashes of token secrets are stored)."""
