"""Revisions of the human-written sections of model cards."""

from __future__ import annotations

from loopline.store.base import SqlStoreBase

__all__ = ["CardTables"]


class CardTables(SqlStoreBase):
    """Revisions of the human-written sections of model cards."""
