"""The audit log: an append-only, hash-chained record of governed changes, and its verification.

Registry, alias, approval, user and token changes each record an event through
:class:`AuditLog`; ``loopline audit verify`` recomputes the chain and names the first broken entry.
"""

from loopline.audit.service import AuditLog
from loopline.entities.audit import AuditEvent, VerificationResult

__all__ = ["AuditEvent", "AuditLog", "VerificationResult"]
