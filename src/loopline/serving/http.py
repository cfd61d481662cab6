"""Small HTTP helpers of the serving app: JSON in and out, answers, errors.

JSON goes through orjson when it is installed (``pip install 'loopline[serve]'``), else the
standard library; both produce the same documents (NaN and infinity become null).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "HttpError", "dumps", "error", "loads", "ok"]

_orjson: Any
try:  # pragma: no cover - depends on the environment
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None

JSON = b"application/json"


class HttpError(Exception):
    """An error answer: ``status`` and ``message`` (``body`` overrides the JSON document)."""

    def __init__(
        self, status: int, message: str, *, body: Any = None, content_type: bytes = JSON
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body
        self.content_type = content_type


@dataclass(slots=True)
class Answer:
    status: int
    body: bytes
    content_type: bytes = JSON
    headers: tuple[tuple[bytes, bytes], ...] = ()


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def dumps(document: Any) -> bytes:
    if _orjson is not None:
        try:
            return bytes(_orjson.dumps(document))
        except TypeError:
            pass
    return json.dumps(_clean(document), allow_nan=False, default=_default).encode()


def _default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def loads(body: bytes) -> Any:
    """The JSON document of a request body; 400 naming the problem when it is not JSON."""
    if not body:
        raise HttpError(400, "The request body is empty; a JSON document was expected.")
    try:
        if _orjson is not None:
            return _orjson.loads(body)
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, f"The request body is not valid JSON: {exc}") from None


def ok(document: Any, status: int = 200) -> Answer:
    return Answer(status, dumps(document))


def error(status: int, message: str) -> Answer:
    return Answer(status, dumps({"error": message}))
