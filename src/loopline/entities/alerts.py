"""Alert entities: a raised alert and its delivery to each sink."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Alert", "AlertDelivery", "Severity"]


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    """What happened when one sink was asked to deliver an alert."""

    sink: str
    status: str  # pending | delivered | failed
    attempts: int
    last_error: str | None
    updated_at: int


@dataclass(frozen=True, slots=True)
class Alert:
    """A recorded alert. The record is written before any sink is tried, so no alert is lost."""

    alert_id: int
    created_at: int
    source: str
    severity: Severity
    title: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    dedup_key: str | None = None
    deliveries: list[AlertDelivery] = field(default_factory=list)
