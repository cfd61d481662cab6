"""Release policies, stored evaluations, status transitions and approvals of model versions."""

from __future__ import annotations

from loopline.store.base import SqlStoreBase

__all__ = ["ReleaseTables"]


class ReleaseTables(SqlStoreBase):
    """Release policies, stored evaluations, status transitions and approvals of model versions."""
