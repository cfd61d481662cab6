"""OpenLineage run events (START, COMPLETE, FAIL) through the file or HTTP transport."""

from loopline.openlineage.emitter import LineageEmitter, default_path, emitter_from_settings
from loopline.openlineage.transports import FileTransport, HttpTransport, NullTransport, Transport

__all__ = [
    "FileTransport",
    "HttpTransport",
    "LineageEmitter",
    "NullTransport",
    "Transport",
    "default_path",
    "emitter_from_settings",
]
