"""The audit log's table: append chained events atomically, list them, read them back in order.

Appending is check-then-insert (read the last event, chain the new one to it), so it must be one
atomic step across processes: SQLite writers already hold the database's write lock from
``BEGIN IMMEDIATE``; on PostgreSQL an advisory transaction lock serialises appenders. The store
never updates or deletes an event. Times are epoch milliseconds, as everywhere in the store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, insert, select, text

from loopline.entities.audit import GENESIS_HASH, AuditEvent, canonical_details, chain_hash
from loopline.store.base import SqlStoreBase
from loopline.store.schema import AuditEventRow

__all__ = ["AuditTables"]

# pg_advisory_xact_lock key held by every appender to the audit log (any loopline process).
_AUDIT_LOCK_KEY = 7_154_203_012
_COLUMNS = (
    AuditEventRow.seq,
    AuditEventRow.at,
    AuditEventRow.actor,
    AuditEventRow.action,
    AuditEventRow.object_type,
    AuditEventRow.object_id,
    AuditEventRow.details_json,
    AuditEventRow.prev_hash,
    AuditEventRow.hash,
)


def _event(row: Any) -> AuditEvent:
    try:
        details = json.loads(row.details_json)
    except ValueError:
        details = None
    if not isinstance(details, dict):
        # Only a hand-edited row gets here; keep the text so the event can be shown, and its
        # recomputed hash (over this stand-in) cannot match the stored one.
        details = {"$invalid_details_json": row.details_json}
    return AuditEvent(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        details=details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class AuditTables(SqlStoreBase):
    """The append-only, hash-chained ``audit_events`` table."""

    def append_audit_event(
        self,
        *,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        details: dict[str, Any],
        now: int,
    ) -> AuditEvent:
        """Append an event chained to the last one and return it.

        ``seq`` is the last event's plus one; ``at`` is ``now``, or the last event's time if that
        is later (clocks of several writers differ), so times never decrease along the chain.
        """
        details_json = canonical_details(details)
        with self._write() as conn:
            self._lock_log(conn)
            last = conn.execute(
                select(AuditEventRow.seq, AuditEventRow.at, AuditEventRow.hash)
                .order_by(AuditEventRow.seq.desc())
                .limit(1)
            ).first()
            seq, at, prev_hash = 1, now, GENESIS_HASH
            if last is not None:
                seq, at, prev_hash = last.seq + 1, max(now, last.at), last.hash
            content: dict[str, Any] = {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "prev_hash": prev_hash,
            }
            # Hash what will be read back: the canonical text, parsed again.
            stored_details = json.loads(details_json)
            digest = chain_hash(details=stored_details, **content)
            conn.execute(
                insert(AuditEventRow).values(details_json=details_json, hash=digest, **content)
            )
        return AuditEvent(details=stored_details, hash=digest, **content)

    def _lock_log(self, conn: Connection) -> None:
        # PostgreSQL runs READ COMMITTED: two appenders would read the same last event and one
        # would fail on the primary key. SQLite's BEGIN IMMEDIATE already serialises writers.
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})

    def list_audit_events(
        self,
        *,
        object_type: str | None = None,
        object_id: str | None = None,
        actor: str | None = None,
        since: int | None = None,
        until: int | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[AuditEvent], bool]:
        """Matching events oldest first; ``since`` inclusive, ``until`` exclusive (epoch ms).

        Returns ``(events, more)`` where ``more`` says a further page exists.
        """
        query = select(*_COLUMNS)
        if object_type is not None:
            query = query.where(AuditEventRow.object_type == object_type)
        if object_id is not None:
            query = query.where(AuditEventRow.object_id == object_id)
        if actor is not None:
            query = query.where(AuditEventRow.actor == actor)
        if since is not None:
            query = query.where(AuditEventRow.at >= since)
        if until is not None:
            query = query.where(AuditEventRow.at < until)
        query = query.order_by(AuditEventRow.seq).offset(offset).limit(limit + 1)
        with self._read() as conn:
            events = [_event(row) for row in conn.execute(query)]
        return events[:limit], len(events) > limit

    def iter_audit_events(self, *, chunk_size: int = 1000) -> Iterator[list[AuditEvent]]:
        """Every event in ``seq`` order, a chunk (one short read transaction) at a time."""
        after: int | None = None
        while True:
            query = select(*_COLUMNS).order_by(AuditEventRow.seq).limit(chunk_size)
            if after is not None:
                query = query.where(AuditEventRow.seq > after)
            with self._read() as conn:
                chunk = [_event(row) for row in conn.execute(query)]
            if not chunk:
                return
            yield chunk
            after = chunk[-1].seq

    def find_audit_seq(self, hash_: str) -> int | None:
        """The ``seq`` of the event whose stored hash is ``hash_``, if there is one."""
        with self._read() as conn:
            found = conn.execute(
                select(AuditEventRow.seq).where(AuditEventRow.hash == hash_).limit(1)
            ).scalar()
        return None if found is None else int(found)

    def audit_head(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the last event; ``None`` while the log is empty."""
        with self._read() as conn:
            last = conn.execute(
                select(AuditEventRow.seq, AuditEventRow.hash)
                .order_by(AuditEventRow.seq.desc())
                .limit(1)
            ).first()
        return None if last is None else (int(last.seq), str(last.hash))

    def get_audit_event(self, seq: int) -> AuditEvent | None:
        """The event with this ``seq``, if one is stored."""
        with self._read() as conn:
            row = conn.execute(select(*_COLUMNS).where(AuditEventRow.seq == seq)).first()
        return None if row is None else _event(row)
