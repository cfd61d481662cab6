"""Sinks from settings: the ``LOOPLINE_ALERT_*`` variables turned into configured sinks."""

from __future__ import annotations

from typing import Protocol

from pydantic import SecretStr

from loopline.alerts.sinks import AlertSink, EmailSink, LogSink, WebhookSink
from loopline.errors import InvalidArgumentError

__all__ = ["AlertSettings", "sinks_from_settings"]


class AlertSettings(Protocol):
    """The ``LOOPLINE_ALERT_*`` settings :func:`sinks_from_settings` reads."""

    @property
    def alert_log(self) -> bool: ...
    @property
    def alert_webhook_url(self) -> str | None: ...
    @property
    def alert_webhook_headers(self) -> dict[str, str]: ...
    @property
    def alert_webhook_timeout(self) -> float: ...
    @property
    def alert_webhook_retries(self) -> int: ...
    @property
    def alert_smtp_host(self) -> str | None: ...
    @property
    def alert_smtp_port(self) -> int: ...
    @property
    def alert_smtp_from(self) -> str | None: ...
    @property
    def alert_smtp_to(self) -> str | None: ...
    @property
    def alert_smtp_starttls(self) -> bool: ...
    @property
    def alert_smtp_username(self) -> str | None: ...
    @property
    def alert_smtp_password(self) -> SecretStr | None: ...
    @property
    def alert_smtp_timeout(self) -> float: ...


def sinks_from_settings(settings: AlertSettings) -> list[AlertSink]:
    """The sinks the settings ask for: the log, a webhook if a URL is set, email if a host is."""
    sinks: list[AlertSink] = [LogSink()] if settings.alert_log else []
    if settings.alert_webhook_url:
        sinks.append(
            WebhookSink(
                settings.alert_webhook_url,
                headers=settings.alert_webhook_headers,
                timeout_s=settings.alert_webhook_timeout,
                retries=settings.alert_webhook_retries,
            )
        )
    if settings.alert_smtp_host:
        recipients = [a.strip() for a in (settings.alert_smtp_to or "").split(",") if a.strip()]
        if not recipients or not settings.alert_smtp_from:
            raise InvalidArgumentError(
                "LOOPLINE_ALERT_SMTP_HOST is set, so LOOPLINE_ALERT_SMTP_FROM and "
                "LOOPLINE_ALERT_SMTP_TO (comma-separated addresses) must be set too.",
                field="alert_smtp_to" if not recipients else "alert_smtp_from",
            )
        password = settings.alert_smtp_password
        sinks.append(
            EmailSink(
                settings.alert_smtp_host,
                settings.alert_smtp_port,
                sender=settings.alert_smtp_from,
                recipients=recipients,
                starttls=settings.alert_smtp_starttls,
                username=settings.alert_smtp_username,
                password=None if password is None else password.get_secret_value(),
                timeout_s=settings.alert_smtp_timeout,
            )
        )
    return sinks
