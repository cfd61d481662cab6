"""Which failed deliveries to retry, and after how long: bounded exponential backoff with jitter.

A delivery attempt that fails becomes a :class:`LineageDeliveryError` that says whether trying
again may help (:func:`delivery_error`): connection errors, timeouts, dropped connections, 408,
429 and 502/503/504 may; other statuses (400, 404, 413, 422, 500...) answer this very event, and
resending the same body would get the same answer. 401 and 403 refuse the credential, not the
event: they are not retried at once either, but ``keep`` says an outbox should hold the event
(and those behind it) for later. :func:`send_with_retries` retries the first kind until the
policy's attempts or its time budget run out, honouring ``Retry-After``.

Examples:
    >>> policy = RetryPolicy(retries=3, backoff=0.5, budget=2.0)
    >>> [round(policy.delay(n, jitter=1.0), 2) for n in range(4)]
    [0.5, 1.0, 2.0, 4.0]
    >>> retry_after_seconds("7"), retry_after_seconds("soon")
    (7.0, None)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from loopline.errors import LineageDeliveryError

__all__ = [
    "CREDENTIAL_STATUSES",
    "RETRYABLE_STATUSES",
    "LineageDeliveryError",
    "RetryPolicy",
    "delivery_error",
    "retry_after_seconds",
    "send_with_retries",
]

# 500 is left out on purpose: it is the server failing on this event, and an event at the head of
# the ordered outbox that always fails would hold back every event behind it.
RETRYABLE_STATUSES = frozenset({408, 429, 502, 503, 504})
# A refused credential (a key being rotated, say) is not retried at once, but it is no fault of
# the event either: the outbox keeps it, and every event behind it, for a later flush.
CREDENTIAL_STATUSES = frozenset({401, 403})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one emission tries: ``retries`` after the first attempt, within ``budget`` seconds.

    The n-th wait is ``backoff * 2**n`` seconds (at most ``max_backoff``) times a random factor
    in [0.5, 1) so that many clients failing together do not retry together. ``budget`` bounds
    the whole emission, attempts and waits included: an attempt's timeout is cut to what is left.
    """

    retries: int = 3
    backoff: float = 0.25
    budget: float = 2.0
    max_backoff: float = 60.0

    def delay(self, n: int, *, jitter: float | None = None) -> float:
        """The wait before retry ``n + 1`` (``jitter`` in [0.5, 1]; random when None)."""
        factor = random.uniform(0.5, 1.0) if jitter is None else jitter
        return min(self.max_backoff, self.backoff * 2.0 ** min(n, 32)) * factor


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header as seconds from now: delta seconds or an HTTP date; else None."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def delivery_error(exc: Exception) -> LineageDeliveryError:
    """What one failed attempt means for retrying (``exc`` as a transport raised it)."""
    if isinstance(exc, LineageDeliveryError):
        return exc
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        status = response.status_code
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        return LineageDeliveryError(
            f"HTTP {status} from {exc.request.url}", retryable=status in RETRYABLE_STATUSES,
            keep=status in RETRYABLE_STATUSES or status in CREDENTIAL_STATUSES,
            retry_after=wait if status in (429, 503) else None,
        )  # fmt: skip
    if isinstance(
        exc, httpx.TransportError
    ):  # refused, timed out, dropped: the endpoint may return
        return LineageDeliveryError(f"{type(exc).__name__}: {exc}", retryable=True)
    return LineageDeliveryError(f"{type(exc).__name__}: {exc}", retryable=False)


def send_with_retries(
    send: Callable[[dict[str, Any], float], None],
    event: dict[str, Any],
    policy: RetryPolicy,
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Deliver ``event`` through ``send(event, timeout)`` or raise the last LineageDeliveryError.

    Retryable failures are retried at most ``policy.retries`` times; a wait (``Retry-After``
    included) that would end past the budget ends the retries at once instead of sleeping.
    """
    deadline = clock() + policy.budget
    attempt = 0
    while True:
        try:
            send(event, max(0.001, min(timeout, deadline - clock())))
            return
        except Exception as exc:
            error = delivery_error(exc)
        if not error.retryable or attempt >= policy.retries:
            raise error
        wait = error.retry_after if error.retry_after is not None else policy.delay(attempt)
        if clock() + wait >= deadline:
            raise error
        sleep(wait)
        attempt += 1
