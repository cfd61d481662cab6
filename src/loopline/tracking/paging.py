"""Page tokens: opaque to callers, checked when they come back."""

from __future__ import annotations

import base64
import json

from loopline.errors import InvalidArgumentError

__all__ = ["check_max_results", "decode_token", "encode_token"]

MAX_RESULTS_LIMIT = 50_000
MAX_OFFSET = 10**12  # far past any real listing, far below 64 bits


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: str | None) -> int:
    """The offset a token stands for; ``None`` or ``""`` is the first page."""
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = data["offset"]
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise InvalidArgumentError(
            f"The page_token {token[:40]!r} is not a token loopline issued; pass the "
            "next_token of a previous page.",
            field="page_token",
        ) from None
    return offset


def check_max_results(value: object, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RESULTS_LIMIT:
        raise InvalidArgumentError(
            f"The 'max_results' parameter must be an integer from 1 to {MAX_RESULTS_LIMIT}; "
            f"got {value!r}.",
            field="max_results",
        )
    return value
