"""OpenLineage run events (START, COMPLETE, FAIL) through the file or HTTP transport.

Over HTTP, failed deliveries are retried and then kept in an outbox re-sent in order.
"""

from loopline.errors import LineageDeliveryError
from loopline.openlineage.delivery import ReliableHttpTransport
from loopline.openlineage.emitter import (
    LineageEmitter,
    default_outbox_path,
    default_path,
    emitter_from_settings,
    flush_outbox,
)
from loopline.openlineage.outbox import FlushResult, Outbox
from loopline.openlineage.retry import RetryPolicy
from loopline.openlineage.transports import FileTransport, HttpTransport, NullTransport, Transport

__all__ = [
    "FileTransport",
    "FlushResult",
    "HttpTransport",
    "LineageDeliveryError",
    "LineageEmitter",
    "NullTransport",
    "Outbox",
    "ReliableHttpTransport",
    "RetryPolicy",
    "Transport",
    "default_outbox_path",
    "default_path",
    "emitter_from_settings",
    "flush_outbox",
]
