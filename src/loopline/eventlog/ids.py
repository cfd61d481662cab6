"""Prediction ids: UUIDv7 strings, so ids sort by the millisecond they were made.

The first 48 bits are the Unix time in milliseconds and the rest is random (``os.urandom``), as
RFC 9562 lays out version 7. Sorting ids sorts predictions by time, and the event log reads the
date of a prediction straight from its id (outcomes are filed under it).

Examples:
    >>> pid = new_prediction_id(now_ms=1_790_000_000_000)
    >>> len(pid), pid[14]
    (36, '7')
    >>> prediction_id_time(pid)
    1790000000000
    >>> prediction_id_time("not-an-id") is None
    True
"""

from __future__ import annotations

import os
import time

__all__ = ["new_prediction_id", "now_ms", "prediction_id_time"]

_HEX = frozenset("0123456789abcdef")


def now_ms() -> int:
    """The current Unix time in milliseconds."""
    return time.time_ns() // 1_000_000


def new_prediction_id(*, now_ms: int | None = None) -> str:
    """A new time-ordered id (UUIDv7, canonical 36-character form)."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")
    # 48 bits time | 4 bits version 7 | 12 random | 2 bits variant 10 | 62 random
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 68) << 64
    value |= 0x2 << 62 | rand & 0x3FFF_FFFF_FFFF_FFFF
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def prediction_id_time(prediction_id: str) -> int | None:
    """The millisecond a UUIDv7 id was made, or None when the id is not one."""
    if len(prediction_id) != 36 or prediction_id[14] != "7":
        return None
    head = prediction_id[:8] + prediction_id[9:13]
    if not set(head) <= _HEX:
        return None
    return int(head, 16)
