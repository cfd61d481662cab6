"""Alerts: recorded first, then sent to the log, webhooks and email.

Every part of loopline that needs to tell a human something (a blocking validation failure, a
drift monitor crossing its threshold, a failed retraining) calls
:meth:`AlertService.raise_alert`. See :mod:`loopline.alerts.service` for the guarantees.
"""

from __future__ import annotations

from loopline.alerts.service import DEFAULT_DEDUP_WINDOW_S, AlertService
from loopline.alerts.settings import AlertSettings, sinks_from_settings
from loopline.alerts.sinks import (
    AlertDeliveryError,
    AlertSink,
    DeliveryOutcome,
    EmailSink,
    LogSink,
    WebhookSink,
    alert_payload,
    email_body,
    email_subject,
)

__all__ = [
    "DEFAULT_DEDUP_WINDOW_S",
    "AlertDeliveryError",
    "AlertService",
    "AlertSettings",
    "AlertSink",
    "DeliveryOutcome",
    "EmailSink",
    "LogSink",
    "WebhookSink",
    "alert_payload",
    "email_body",
    "email_subject",
    "sinks_from_settings",
]
