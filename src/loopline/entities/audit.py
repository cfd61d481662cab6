"""Audit entities: one event of the hash-chained audit log, and the outcome of verifying it.

Each event's ``hash`` is the SHA-256 of a canonical JSON object of its content and of the
previous event's hash, so editing, deleting, inserting or reordering a stored event breaks the
chain at that point. :func:`chain_hash` is the one definition of that input.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GENESIS_HASH", "AuditEvent", "VerificationResult", "canonical_details", "chain_hash"]

# The prev_hash of the first event: no event hashes to it.
GENESIS_HASH = "0" * 64


def canonical_details(details: dict[str, Any]) -> str:
    """Details as canonical JSON text: sorted keys, no spaces, UTF-8, no NaN or infinity."""
    return json.dumps(
        details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def chain_hash(
    *,
    seq: int,
    at: int,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """The SHA-256 (hex) of the canonical JSON of an event's content and the previous hash."""
    content = {
        "action": action,
        "actor": actor,
        "at": at,
        "details": details,
        "object_id": object_id,
        "object_type": object_type,
        "prev_hash": prev_hash,
        "seq": seq,
    }
    return hashlib.sha256(canonical_details(content).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One recorded change: who (``actor``) did what (``action``) to which object, and when.

    ``seq`` numbers events 1, 2, 3... with no gaps; ``at`` is epoch milliseconds, never
    decreasing in ``seq`` order; ``prev_hash`` is the previous event's ``hash``
    (:data:`GENESIS_HASH` for the first).
    """

    seq: int
    at: int
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def expected_hash(self) -> str:
        """The hash this event's content and ``prev_hash`` give; equal to ``hash`` if untouched."""
        return chain_hash(
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            details=self.details,
            prev_hash=self.prev_hash,
        )


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of checking the whole chain.

    ``checked`` counts the events read; ``first_broken`` is the ``seq`` of the first event where
    the chain breaks (``None`` when ``ok``) and ``reason`` says how it breaks.
    """

    ok: bool
    checked: int
    first_broken: int | None = None
    reason: str | None = None
