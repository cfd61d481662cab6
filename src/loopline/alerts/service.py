"""The alert service: record an alert durably, then deliver it to every sink.

Order matters: the alert and one pending delivery per sink are written first, in one
transaction; only then is each sink tried, and its outcome (delivered, or failed with the error
and the number of attempts) written back. A failing sink never raises into the caller and never
loses the record; :meth:`AlertService.retry_failed` delivers it later. Delivery is at least once.

Deduplication: an alert whose ``dedup_key`` matches one recorded within the window is neither
recorded nor delivered again; the earlier alert is returned and :attr:`AlertService.suppressed`
counts it. The window runs from the last recorded alert, so a condition that persists is
re-alerted once per window. A more severe alert (warning -> critical) is never suppressed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from loopline.alerts.sinks import AlertSink, DeliveryOutcome
from loopline.entities import Alert, Page, Severity
from loopline.errors import InvalidArgumentError, LooplineError
from loopline.store.alerts import AlertTables, DeliveryStatus
from loopline.tracking.paging import check_max_results, decode_token, encode_token

__all__ = ["DEFAULT_DEDUP_WINDOW_S", "AlertService"]

DEFAULT_DEDUP_WINDOW_S = 3600.0
_log = logging.getLogger("loopline.alerts")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _check_severity(value: Severity | str, where: str = "raise_alert") -> Severity:
    try:
        return Severity(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Severity)
        raise InvalidArgumentError(
            f"The 'severity' parameter of {where} must be one of {allowed}. Got {value!r} instead.",
            field="severity",
        ) from None


def _check_text(name: str, value: object, max_len: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise InvalidArgumentError(
            f"The {name!r} parameter of raise_alert must be a non-empty string of at most "
            f"{max_len} characters. Got {str(value)[:60]!r} instead.",
            field=name,
        )
    return value


class AlertService:
    """Raises alerts: records each one, delivers it to the sinks, and retries failures.

    Examples:
        >>> import tempfile
        >>> from loopline.alerts import AlertService, LogSink
        >>> from loopline.store.alerts import AlertTables
        >>> store = AlertTables(f"sqlite:///{tempfile.mkdtemp()}/a.db")
        >>> alerts = AlertService(store, [LogSink()])
        >>> alert = alerts.raise_alert("monitor/churn", "Drift on age", "PSI 0.31 > 0.2")
        >>> [(d.sink, d.status) for d in alert.deliveries]
        [('log', 'delivered')]
    """

    def __init__(
        self,
        store: AlertTables,
        sinks: Sequence[AlertSink] = (),
        *,
        dedup_window_s: float = DEFAULT_DEDUP_WINDOW_S,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        names = [sink.name for sink in sinks]
        if len(set(names)) != len(names):
            raise InvalidArgumentError(
                f"The 'sinks' parameter of AlertService must have unique names. Got {names}.",
                field="sinks",
            )
        self.store = store
        self.sinks = {sink.name: sink for sink in sinks}
        self.dedup_window_s = dedup_window_s
        self.suppressed = 0
        self._clock = clock
        self._lock = threading.Lock()

    def raise_alert(
        self,
        source: str,
        title: str,
        message: str,
        *,
        severity: Severity | str = Severity.WARNING,
        details: dict[str, Any] | None = None,
        dedup_key: str | None = None,
        dedup_window_s: float | None = None,
    ) -> Alert:
        """Record an alert, deliver it, and return it with each delivery's outcome.

        Raises InvalidArgumentError on bad arguments and StorageError when the alert cannot
        be recorded (then nothing is sent); a sink's failure is recorded, never raised.
        """
        level = _check_severity(severity)
        _check_text("source", source, 256)
        _check_text("title", title, 512)
        window = self.dedup_window_s if dedup_window_s is None else dedup_window_s
        if window < 0:
            raise InvalidArgumentError(
                "The 'dedup_window_s' parameter of raise_alert must be >= 0. "
                f"Got {window!r} instead.",
                field="dedup_window_s",
            )
        now = self._clock()
        # "Within the window" is strictly younger than it, so a window of 0 never deduplicates.
        since = None if dedup_key is None else now - int(window * 1000) + 1
        try:
            alert, created = self.store.create_alert(
                source=source,
                severity=level,
                title=title,
                message=str(message),
                details=dict(details or {}),
                dedup_key=dedup_key,
                sinks=list(self.sinks),
                now=now,
                dedup_since=since,
            )
        except LooplineError:
            _log.error("Could not record alert %r from %s: %s", title, source, message)
            raise
        if not created:
            with self._lock:
                self.suppressed += 1
            _log.debug("Alert %r suppressed: duplicate of alert %d", title, alert.alert_id)
            return alert
        return self._deliver(alert, list(self.sinks.values()))

    def _deliver(self, alert: Alert, sinks: Sequence[AlertSink]) -> Alert:
        for sink in sinks:
            try:
                outcome = sink.deliver(alert)
            except Exception as exc:  # a custom sink that overrides deliver() and raises
                outcome = DeliveryOutcome(False, 1, f"{type(exc).__name__}: {exc}")
            status = DeliveryStatus.DELIVERED if outcome.delivered else DeliveryStatus.FAILED
            try:
                self.store.update_alert_delivery(
                    alert.alert_id,
                    sink.name,
                    status=status,
                    last_error=outcome.error,
                    now=self._clock(),
                    attempts_added=outcome.attempts,
                )
            except LooplineError as exc:  # the delivery stays pending; a retry re-sends it
                _log.error("Could not record delivery of alert %d: %s", alert.alert_id, exc)
        try:
            return self.store.get_alert(alert.alert_id)
        except LooplineError:
            return alert

    def retry_failed(self, *, stale_pending_s: float = 300.0, limit: int = 100) -> list[Alert]:
        """Deliver again what failed, and what stayed pending ``stale_pending_s`` (a crash).

        Each delivery is claimed first, so concurrent retriers never send it twice. Sinks no
        longer configured are left alone. Returns the alerts retried, as they are now.
        """
        now = self._clock()
        names = list(self.sinks)
        seen = self.store.list_alert_deliveries(
            status=DeliveryStatus.FAILED, sinks=names, limit=limit
        ) + self.store.list_alert_deliveries(
            status=DeliveryStatus.PENDING,
            sinks=names,
            updated_before=now - int(stale_pending_s * 1000),
            limit=limit,
        )
        claimed: dict[int, list[AlertSink]] = {}
        for alert_id, delivery in seen:
            if self.store.claim_alert_delivery(
                alert_id,
                delivery.sink,
                status=delivery.status,
                updated_at=delivery.updated_at,
                now=now,
            ):
                claimed.setdefault(alert_id, []).append(self.sinks[delivery.sink])
        return [self._deliver(self.store.get_alert(a), sinks) for a, sinks in claimed.items()]

    def get_alert(self, alert_id: int) -> Alert:
        return self.store.get_alert(alert_id)

    def list_alerts(
        self,
        *,
        source: str | None = None,
        severity: Severity | str | None = None,
        since: int | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Alert]:
        """Alerts newest first, filtered by source, severity and creation time (epoch ms)."""
        limit = check_max_results(max_results, 100)
        offset = decode_token(page_token)
        items, more = self.store.list_alerts(
            source=source,
            severity=None if severity is None else _check_severity(severity, "list_alerts"),
            since=since,
            offset=offset,
            limit=limit,
        )
        return Page(items, encode_token(offset + limit) if more else None)

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.close()
