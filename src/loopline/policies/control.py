"""The randomized control group: who gets the baseline action instead of the model's.

With a request key (a customer id, an account), membership is a pure function of the key and the
policy's salt: ``blake2b(salt, key)`` read as a number in [0, 1) is below ``share``. The same
customer therefore stays in the same group across requests, processes and restarts, and a new
salt draws a new group. Without a key the draw is random (seedable through ``rng``).

Examples:
    >>> in_control(["alice", "bob", "alice"], share=0.5, salt="s").tolist()
    [False, True, False]
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["generator", "in_control", "key_unit", "salted_hasher"]

_SCALE = float(2**64)
_default_rng: Any = None
_rng_lock = threading.Lock()


def salted_hasher(salt: str) -> Any:
    return hashlib.blake2b(salt.encode() + b"\x1f", digest_size=8)


def key_unit(key: Any, salt: str | Any) -> float:
    """A key's fixed position in [0, 1) under ``salt`` (a string, or a prepared salted hash)."""
    hasher = (salted_hasher(salt) if isinstance(salt, str) else salt).copy()
    hasher.update(str(key).encode())
    return int.from_bytes(hasher.digest(), "big") / _SCALE


def generator(rng: Any) -> Any:
    import numpy as np

    global _default_rng
    if rng is None:
        with _rng_lock:
            if _default_rng is None:
                _default_rng = np.random.default_rng()
        return _default_rng
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def in_control(
    request_keys: Sequence[Any] | None,
    *,
    share: float,
    salt: str,
    n: int | None = None,
    rng: Any = None,
) -> Any:
    """A bool array: which of ``n`` rows (or of the keys) fall in the control group.

    A None key draws at random, like a request without a key.
    """
    import numpy as np

    size = len(request_keys) if request_keys is not None else int(n or 0)
    if share <= 0 or size == 0:
        return np.zeros(size, bool)
    if request_keys is None:
        return generator(rng).random(size) < share
    salted = salted_hasher(salt)
    units = np.fromiter(
        (key_unit(key, salted) if key is not None else 2.0 for key in request_keys), float, size
    )
    missing = units > 1.0
    if missing.any():
        units[missing] = generator(rng).random(int(missing.sum()))
    return units < share
