"""Where alerts go: the log, a webhook (HTTP POST of JSON) and email (SMTP).

A sink's :meth:`AlertSink.send` makes one attempt and raises on failure; :meth:`AlertSink.deliver`
wraps it in the sink's retries with exponential backoff and never raises. Write a new sink by
subclassing :class:`AlertSink` and implementing ``send``.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx

from loopline.entities import Alert, Severity
from loopline.errors import LooplineError

__all__ = [
    "AlertDeliveryError",
    "AlertSink",
    "DeliveryOutcome",
    "EmailSink",
    "LogSink",
    "WebhookSink",
    "alert_payload",
    "email_body",
    "email_subject",
]

MAX_ERROR_CHARS = 2000
_LOG_LEVELS = {Severity.INFO: logging.INFO, Severity.WARNING: logging.WARNING}


class AlertDeliveryError(LooplineError):
    """One attempt to deliver an alert failed; ``retryable`` says whether trying again may help."""

    code = "ALERT_DELIVERY_FAILED"

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message, retryable=retryable)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What :meth:`AlertSink.deliver` did: delivered or not, after how many attempts, why not."""

    delivered: bool
    attempts: int
    error: str | None = None


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The alert as the JSON object a webhook receives (``text`` suits Slack-style receivers)."""
    return {
        "alert_id": alert.alert_id,
        "created_at": alert.created_at,
        "created_at_iso": _iso(alert.created_at),
        "source": alert.source,
        "severity": alert.severity.value,
        "title": alert.title,
        "message": alert.message,
        "details": alert.details,
        "dedup_key": alert.dedup_key,
        "text": f"{email_subject(alert)}\n{alert.message}",
    }


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


class AlertSink:
    """A destination for alerts. ``name`` keys its delivery records, so it must stay stable."""

    name: str = "sink"
    retries: int = 0
    backoff_s: float = 0.0

    def send(self, alert: Alert) -> None:
        """Make one delivery attempt; raise (ideally :class:`AlertDeliveryError`) on failure."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; the default holds none."""

    def deliver(self, alert: Alert) -> DeliveryOutcome:
        """Send, retrying ``retries`` times after ``backoff_s * 2**n`` seconds; never raises."""
        attempts = 0
        while True:
            attempts += 1
            try:
                self.send(alert)
            except Exception as exc:  # a sink's failure is recorded, never raised to the caller
                known = isinstance(exc, AlertDeliveryError)
                error = (str(exc) if known else f"{type(exc).__name__}: {exc}")[:MAX_ERROR_CHARS]
                retryable = not isinstance(exc, AlertDeliveryError) or exc.retryable
                if not retryable or attempts > self.retries:
                    return DeliveryOutcome(False, attempts, error)
                time.sleep(self.backoff_s * 2 ** (attempts - 1))
            else:
                return DeliveryOutcome(True, attempts)


class LogSink(AlertSink):
    """Writes each alert to the ``loopline.alerts`` logger at the alert's severity."""

    def __init__(self, *, name: str = "log", logger: logging.Logger | None = None) -> None:
        self.name = name
        self.logger = logger or logging.getLogger("loopline.alerts")

    def send(self, alert: Alert) -> None:
        self.logger.log(
            _LOG_LEVELS.get(alert.severity, logging.CRITICAL),
            "[%s] %s: %s (alert %d from %s)",
            alert.severity.value,
            alert.title,
            alert.message,
            alert.alert_id,
            alert.source,
            extra={"alert": alert_payload(alert)},
        )


class WebhookSink(AlertSink):
    """POSTs :func:`alert_payload` as JSON to ``url``; any 2xx answer counts as delivered.

    5xx, 408, 429 and network errors are retried; other answers are not, since resending the
    same body cannot fix them. Error texts name only the URL's scheme and host: webhook paths
    often carry secrets (Slack, Teams).
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 10.0,
        retries: int = 2,
        backoff_s: float = 0.5,
        name: str = "webhook",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.retries = retries
        self.backoff_s = backoff_s
        parts = urlsplit(url)
        self._where = f"{parts.scheme}://{parts.hostname}"
        self._client = httpx.Client(
            headers=dict(headers or {}), timeout=timeout_s, transport=transport
        )

    def send(self, alert: Alert) -> None:
        body = json.dumps(alert_payload(alert), default=str).encode()
        try:
            response = self._client.post(
                self.url, content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise AlertDeliveryError(
                f"{type(exc).__name__} posting to {self._where}: {exc}"
            ) from None
        if not response.is_success:
            status = response.status_code
            raise AlertDeliveryError(
                f"HTTP {status} from {self._where}: {response.text[:200]}",
                retryable=status >= 500 or status in (408, 429),
            )

    def close(self) -> None:
        self._client.close()


def email_subject(alert: Alert) -> str:
    """``[loopline] <severity>: <title>``, on one line."""
    title = " ".join(alert.title.split())
    return f"[loopline] {alert.severity.value}: {title}"


def email_body(alert: Alert) -> str:
    """The plain-text body: the message, then the alert's facts and its details as JSON."""
    lines = [
        alert.message,
        "",
        f"Severity:  {alert.severity.value}",
        f"Source:    {alert.source}",
        f"Raised at: {_iso(alert.created_at)}",
        f"Alert id:  {alert.alert_id}",
    ]
    if alert.dedup_key is not None:
        lines.append(f"Dedup key: {alert.dedup_key}")
    if alert.details:
        lines += ["", "Details:", json.dumps(alert.details, indent=2, sort_keys=True, default=str)]
    return "\n".join(lines) + "\n"


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else answer


class EmailSink(AlertSink):
    """Sends a plain-text email per alert through an SMTP server (optional STARTTLS and login).

    STARTTLS verifies the server's certificate against the system's CAs, or ``ssl_context``.

    Permanent SMTP answers (5xx, refused sender or recipients, failed login) are not retried;
    connection errors and 4xx answers are.
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        recipients: Sequence[str],
        starttls: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
        retries: int = 1,
        backoff_s: float = 1.0,
        name: str = "email",
    ) -> None:
        self.host, self.port = host, port
        self.sender, self.recipients = sender, list(recipients)
        self.starttls, self.ssl_context = starttls, ssl_context
        self.username, self.password = username, password
        self.timeout_s = timeout_s
        self.name, self.retries, self.backoff_s = name, retries, backoff_s

    def message(self, alert: Alert) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = email_subject(alert)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg.set_content(email_body(alert))
        return msg

    def send(self, alert: Alert) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(self.message(alert), self.sender, self.recipients)
        except smtplib.SMTPResponseException as exc:
            raise AlertDeliveryError(
                f"SMTP {exc.smtp_code} from {self.host}:{self.port}: {_text(exc.smtp_error)}",
                retryable=400 <= exc.smtp_code < 500,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise AlertDeliveryError(
                f"{self.host}:{self.port} refused every recipient: {exc.recipients!r}",
                retryable=False,
            ) from None
        except OSError as exc:  # refused or dropped connections, timeouts, TLS failures
            raise AlertDeliveryError(
                f"{type(exc).__name__} talking to {self.host}:{self.port}: {exc}"
            ) from None
