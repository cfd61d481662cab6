"""Alerts and their deliveries: record, read, and track each sink's outcome.

An alert and one ``pending`` delivery per sink are written in one transaction, before any sink is
tried: a sink that fails later can only mark its delivery ``failed``, never lose the alert.
Times are epoch milliseconds, as everywhere in the store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from loopline.entities import Alert, AlertDelivery, Severity
from loopline.errors import NotFoundError
from loopline.store.base import SqlStoreBase, chunks
from loopline.store.schema import AlertDeliveryRow, AlertRow

__all__ = ["AlertTables", "DeliveryStatus"]


class DeliveryStatus:
    """The states of a delivery (plain strings in the ``alert_deliveries.status`` column)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


_ALERT_COLUMNS = (
    AlertRow.alert_id,
    AlertRow.created_at,
    AlertRow.source,
    AlertRow.severity,
    AlertRow.title,
    AlertRow.message,
    AlertRow.details_json,
    AlertRow.dedup_key,
)
_DELIVERY_COLUMNS = (
    AlertDeliveryRow.alert_id,
    AlertDeliveryRow.sink,
    AlertDeliveryRow.status,
    AlertDeliveryRow.attempts,
    AlertDeliveryRow.last_error,
    AlertDeliveryRow.updated_at,
)


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def _delivery(row: Any) -> AlertDelivery:
    return AlertDelivery(row.sink, row.status, row.attempts, row.last_error, row.updated_at)


def _dedup_lock_key(dedup_key: str) -> int:
    """A signed 64-bit advisory-lock key for a dedup key (stable across processes)."""
    digest = hashlib.sha256(b"loopline.alerts\0" + dedup_key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AlertTables(SqlStoreBase):
    """Alerts and their per-sink deliveries."""

    def create_alert(
        self,
        *,
        source: str,
        severity: Severity,
        title: str,
        message: str,
        details: dict[str, Any],
        dedup_key: str | None,
        sinks: Sequence[str],
        now: int,
        dedup_since: int | None = None,
    ) -> tuple[Alert, bool]:
        """Record an alert with a pending delivery per sink; ``(alert, True)``.

        With ``dedup_key`` and ``dedup_since``, the latest alert with that key created at or
        after ``dedup_since`` is returned instead, as ``(existing, False)``, and nothing is
        written, unless the new alert is more severe (an escalation is always recorded). The
        check and the insert are one atomic step, also between processes.
        """
        with self._write() as conn:
            if dedup_key is not None and dedup_since is not None:
                self._lock_dedup_key(conn, dedup_key)
                existing_id = self._latest_id(conn, dedup_key, dedup_since)
                if existing_id is not None:
                    existing = self._load(conn, [existing_id])[0]
                    if _RANK[existing.severity] >= _RANK[severity]:
                        return existing, False
            alert_id = conn.execute(
                insert(AlertRow).values(
                    created_at=now,
                    source=source,
                    severity=severity.value,
                    title=title,
                    message=message,
                    details_json=json.dumps(details, default=str, sort_keys=True),
                    dedup_key=dedup_key,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            if sinks:
                conn.execute(
                    insert(AlertDeliveryRow),
                    [
                        {
                            "alert_id": alert_id,
                            "sink": sink,
                            "status": DeliveryStatus.PENDING,
                            "attempts": 0,
                            "last_error": None,
                            "updated_at": now,
                        }
                        for sink in sinks
                    ],
                )
            return self._load(conn, [int(alert_id)])[0], True

    def _lock_dedup_key(self, conn: Connection, dedup_key: str) -> None:
        # SQLite writers already hold the database's write lock (BEGIN IMMEDIATE); PostgreSQL
        # runs READ COMMITTED, so two writers would both miss each other's row without a lock.
        if self.dialect == "postgresql":
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": _dedup_lock_key(dedup_key)}
            )

    def _latest_id(self, conn: Connection, dedup_key: str, since: int) -> int | None:
        found = conn.execute(
            select(AlertRow.alert_id)
            .where(AlertRow.dedup_key == dedup_key, AlertRow.created_at >= since)
            .order_by(AlertRow.created_at.desc(), AlertRow.alert_id.desc())
            .limit(1)
        ).scalar()
        return None if found is None else int(found)

    def _load(self, conn: Connection, ids: Sequence[int]) -> list[Alert]:
        """The alerts with these ids, with their deliveries, in the order of ``ids``."""
        rows: dict[int, Any] = {}
        deliveries: dict[int, list[AlertDelivery]] = {i: [] for i in ids}
        for chunk in chunks(list(ids)):
            for row in conn.execute(select(*_ALERT_COLUMNS).where(AlertRow.alert_id.in_(chunk))):
                rows[row.alert_id] = row
            for d in conn.execute(
                select(*_DELIVERY_COLUMNS)
                .where(AlertDeliveryRow.alert_id.in_(chunk))
                .order_by(AlertDeliveryRow.sink)
            ):
                deliveries[d.alert_id].append(_delivery(d))
        return [
            Alert(
                alert_id=row.alert_id,
                created_at=row.created_at,
                source=row.source,
                severity=Severity(row.severity),
                title=row.title,
                message=row.message,
                details=json.loads(row.details_json or "{}"),
                dedup_key=row.dedup_key,
                deliveries=deliveries[row.alert_id],
            )
            for row in (rows[i] for i in ids if i in rows)
        ]

    def get_alert(self, alert_id: int) -> Alert:
        with self._read() as conn:
            found = self._load(conn, [alert_id])
        if not found:
            raise NotFoundError(f"No alert with id {alert_id!r}.", alert_id=alert_id)
        return found[0]

    def list_alerts(
        self,
        *,
        source: str | None = None,
        severity: Severity | None = None,
        since: int | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[Alert], bool]:
        """Newest first; ``(alerts, more)`` where ``more`` says a further page exists."""
        query = select(AlertRow.alert_id)
        if source is not None:
            query = query.where(AlertRow.source == source)
        if severity is not None:
            query = query.where(AlertRow.severity == severity.value)
        if since is not None:
            query = query.where(AlertRow.created_at >= since)
        query = query.order_by(AlertRow.created_at.desc(), AlertRow.alert_id.desc())
        with self._read() as conn:
            ids = [int(i) for i in conn.execute(query.offset(offset).limit(limit + 1)).scalars()]
            found = self._load(conn, ids[:limit]) if ids else []
        return found, len(ids) > limit

    def find_latest_alert(self, dedup_key: str, *, since: int) -> Alert | None:
        """The newest alert with ``dedup_key`` created at or after ``since``, if any."""
        with self._read() as conn:
            found = self._latest_id(conn, dedup_key, since)
            return None if found is None else self._load(conn, [found])[0]

    def update_alert_delivery(
        self,
        alert_id: int,
        sink: str,
        *,
        status: str,
        last_error: str | None,
        now: int,
        attempts_added: int = 0,
    ) -> None:
        """Set a delivery's outcome; attempts are added in the database, so none are lost."""
        with self._write() as conn:
            done = conn.execute(
                update(AlertDeliveryRow)
                .where(AlertDeliveryRow.alert_id == alert_id, AlertDeliveryRow.sink == sink)
                .values(
                    status=status,
                    last_error=last_error,
                    updated_at=now,
                    attempts=AlertDeliveryRow.attempts + attempts_added,
                )
            )
        if done.rowcount == 0:
            raise NotFoundError(
                f"No delivery of alert {alert_id!r} to sink {sink!r}.", alert_id=alert_id, sink=sink
            )

    def claim_alert_delivery(
        self, alert_id: int, sink: str, *, status: str, updated_at: int, now: int
    ) -> bool:
        """Move a delivery seen as ``(status, updated_at)`` back to pending; False if it moved.

        Two processes retrying the same delivery both try to claim it; only one succeeds.
        """
        with self._write() as conn:
            done = conn.execute(
                update(AlertDeliveryRow)
                .where(
                    AlertDeliveryRow.alert_id == alert_id,
                    AlertDeliveryRow.sink == sink,
                    AlertDeliveryRow.status == status,
                    AlertDeliveryRow.updated_at == updated_at,
                )
                .values(status=DeliveryStatus.PENDING, updated_at=now)
            )
        return bool(done.rowcount == 1)

    def list_alert_deliveries(
        self,
        *,
        status: str,
        sinks: Sequence[str] | None = None,
        updated_before: int | None = None,
        limit: int = 100,
    ) -> list[tuple[int, AlertDelivery]]:
        """``(alert_id, delivery)`` pairs in a status (and these sinks), oldest update first."""
        query = select(*_DELIVERY_COLUMNS).where(AlertDeliveryRow.status == status)
        if sinks is not None:
            query = query.where(AlertDeliveryRow.sink.in_(list(sinks)))
        if updated_before is not None:
            query = query.where(AlertDeliveryRow.updated_at < updated_before)
        query = query.order_by(AlertDeliveryRow.updated_at, AlertDeliveryRow.alert_id).limit(limit)
        with self._read() as conn:
            return [(row.alert_id, _delivery(row)) for row in conn.execute(query)]
