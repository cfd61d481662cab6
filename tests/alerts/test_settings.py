"""Sinks from ``LOOPLINE_ALERT_*`` settings."""

from __future__ import annotations

from typing import Any

import pytest

from loopline.alerts import EmailSink, LogSink, WebhookSink, sinks_from_settings
from loopline.config import Settings
from loopline.entities import Alert, Severity
from loopline.errors import InvalidArgumentError


def test_by_default_alerts_go_to_the_log_only() -> None:
    sinks = sinks_from_settings(Settings())
    assert [type(s) for s in sinks] == [LogSink]


def test_env_variables_configure_a_webhook_and_email(
    monkeypatch: pytest.MonkeyPatch, receiver: Any, smtp: Any
) -> None:
    env = {
        "LOOPLINE_ALERT_LOG": "false",
        "LOOPLINE_ALERT_WEBHOOK_URL": receiver.url,
        "LOOPLINE_ALERT_WEBHOOK_HEADERS": '{"X-Team": "risk"}',
        "LOOPLINE_ALERT_WEBHOOK_RETRIES": "0",
        "LOOPLINE_ALERT_SMTP_HOST": "127.0.0.1",
        "LOOPLINE_ALERT_SMTP_PORT": str(smtp.port),
        "LOOPLINE_ALERT_SMTP_FROM": "loopline@x.org",
        "LOOPLINE_ALERT_SMTP_TO": "a@x.org, b@x.org",
        "LOOPLINE_ALERT_SMTP_PASSWORD": "pw",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    webhook, email = sinks_from_settings(Settings())

    assert isinstance(webhook, WebhookSink)
    assert isinstance(email, EmailSink)
    assert (webhook.url, webhook.retries) == (receiver.url, 0)
    assert (email.port, email.recipients, email.password) == (
        smtp.port,
        ["a@x.org", "b@x.org"],
        "pw",
    )
    alert = Alert(1, 0, "s", Severity.INFO, "t", "m")
    assert webhook.deliver(alert).delivered
    assert email.deliver(alert).delivered
    assert receiver.posts[0].headers["X-Team"] == "risk"
    assert smtp.messages[0]["To"] == "a@x.org, b@x.org"
    webhook.close()


def test_an_smtp_host_without_recipients_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="LOOPLINE_ALERT_SMTP_TO"):
        sinks_from_settings(Settings(alert_smtp_host="127.0.0.1", alert_smtp_from="a@x"))
