"""Reliable HTTP delivery: bounded retries inline, then an outbox re-sent in order.

:class:`ReliableHttpTransport` is the HTTP transport made reliable. An event goes out at once
when nothing waits in the outbox; a retryable failure (see :mod:`loopline.openlineage.retry`) is
retried with backoff within the policy's time budget, and an event still undelivered is appended
to the outbox. While events wait, a new one goes behind them and the outbox is flushed, oldest
first, within the same budget; after a failure the endpoint is left alone for a growing pause
(``Retry-After`` when it sent one), during which new events only join the outbox. So one
emission waits at most about the budget, and an outage costs that once, not on every event.
:meth:`ReliableHttpTransport.flush` sends what waits now, whatever the pause.

Examples:
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> reliable = ReliableHttpTransport(  # the discard port: nobody listens, refused
    ...     "http://127.0.0.1:9", outbox=Outbox(folder / "outbox.jsonl"),
    ...     policy=RetryPolicy(retries=1, backoff=0.01))
    >>> try:
    ...     reliable.emit({"eventType": "START"})
    ... except LineageDeliveryError as exc:
    ...     print("kept in" in str(exc), reliable.outbox.pending())
    True 1
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from loopline.errors import LineageDeliveryError
from loopline.openlineage.outbox import FlushResult, Outbox
from loopline.openlineage.retry import (
    RetryPolicy,
    delivery_error,
    send_with_retries,
)
from loopline.openlineage.transports import HttpTransport

__all__ = ["ReliableHttpTransport"]


class ReliableHttpTransport(HttpTransport):
    """POSTs like :class:`HttpTransport`, retrying; keeps what fails in ``outbox``, in order."""

    def __init__(
        self,
        url: str,
        *,
        outbox: Outbox,
        api_key: str | None = None,
        timeout: float = 2.0,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(url, api_key=api_key, timeout=timeout)
        self.outbox = outbox
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._state = threading.Lock()
        self._failures = 0  # consecutive failed emissions or flushes
        self._resume_at = 0.0  # no automatic attempt before this clock() time
        self._last_error: LineageDeliveryError | None = None

    def _send(
        self, event: dict[str, Any], timeout: float, client: httpx.Client | None = None
    ) -> None:
        try:
            self.post(event, timeout=timeout, client=client)
        except Exception as exc:
            error = delivery_error(exc)
            self._last_error = error
            raise error from exc

    def emit(self, event: dict[str, Any]) -> None:
        """Deliver ``event`` or keep it; raises LineageDeliveryError when it was not delivered now.

        The error says whether the event was dropped (a non-retryable answer) or kept in the
        outbox; the caller (:class:`~loopline.openlineage.emitter.LineageEmitter`) logs it.
        """
        if self.outbox.is_empty():
            try:
                send_with_retries(self._send, event, self.policy, timeout=self.timeout,
                                  sleep=self._sleep, clock=self._clock)  # fmt: skip
            except LineageDeliveryError as exc:
                if not exc.retryable:
                    raise
                self._keep(event, exc)
                self._failed(exc)
                raise LineageDeliveryError(f"{exc}; kept in {self.outbox!r}") from exc
            self._succeeded()
            return
        self._keep(event, None)  # behind the events already waiting: order is kept
        now = self._clock()
        if now < self._resume_at:
            raise LineageDeliveryError(
                f"endpoint paused for {self._resume_at - now:.2f} s after: {self._last_error}; "
                f"kept in {self.outbox!r}"
            )
        result = self._flush(deadline=now + self.policy.budget)
        if result.error is not None:
            raise LineageDeliveryError(f"{result.error}; kept in {self.outbox!r} "
                                       f"({result.remaining} events waiting)")  # fmt: skip

    def flush(self) -> FlushResult:
        """Send every waiting event now, oldest first, until done or the endpoint fails."""
        return self._flush(deadline=None)

    def _flush(self, *, deadline: float | None) -> FlushResult:
        if self.outbox.is_empty():
            return FlushResult(0, 0, 0)
        with httpx.Client() as client:  # one connection for the whole backlog

            def send(event: dict[str, Any]) -> None:
                left = self.timeout if deadline is None else deadline - self._clock()
                self._send(event, max(0.001, min(self.timeout, left)), client)

            result = self.outbox.flush(send, deadline=deadline, clock=self._clock)
        if result.error is not None and self._last_error is not None:
            self._failed(self._last_error)
        elif result.remaining == 0:
            self._succeeded()
        return result

    def _keep(self, event: dict[str, Any], cause: LineageDeliveryError | None) -> None:
        try:
            self.outbox.append(event)
        except OSError as exc:
            reason = f"{cause}; " if cause is not None else ""
            raise LineageDeliveryError(
                f"{reason}the outbox {self.outbox.path} could not keep it: {exc}", retryable=False
            ) from exc

    def _failed(self, error: LineageDeliveryError) -> None:
        with self._state:
            self._failures += 1
            pause = error.retry_after
            if pause is None:
                pause = self.policy.delay(self.policy.retries + self._failures - 1)
            self._resume_at = self._clock() + pause

    def _succeeded(self) -> None:
        with self._state:
            self._failures, self._resume_at = 0, 0.0
