"""Checks on what callers log, shared by the service and the SDK so both fail the same way.

Messages follow one shape: what is wrong, the argument, the constraint and the value received.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from loopline.entities import Metric, RunStatus, ViewType
from loopline.errors import InvalidArgumentError

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_PARAM_VALUE_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "MetricInput",
    "check_epoch_ms",
    "check_key",
    "check_metric",
    "check_metric_input",
    "check_metric_value",
    "check_name",
    "check_param_value",
    "check_status",
    "check_step",
    "check_string_map",
    "check_tag_value",
    "check_timestamp",
    "check_user_id",
    "check_view",
]

MetricInput = tuple[str, Any, Any, Any]  # key, value, timestamp (ms), step
MAX_KEY_LENGTH = 250
MAX_NAME_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
_KEY_RE = re.compile(r"[\w\-. /:]+")
_INT64 = 2**63


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@lru_cache(maxsize=8192)
def _key_problem(key: str) -> str | None:
    """What is wrong with a key, or None; cached: the same keys are logged again and again."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return f"must have 1 to {MAX_KEY_LENGTH} characters; got {len(key)}"
    if _KEY_RE.fullmatch(key) is None:
        return "may only contain letters, digits, spaces and the characters _ - . / :"
    if key.startswith("/") or any(part in (".", "..") for part in key.split("/")):
        return "must not start with '/' or contain '.' or '..' path components"
    return None


def check_key(key: Any, what: str = "metric") -> str:
    """A metric, param or tag key: 1 to 250 of letters, digits, ``_ - . / :`` and spaces."""
    if not isinstance(key, str):
        raise InvalidArgumentError(
            f"A {what} key must be a string; got {type(key).__name__} {_shown(key)}.",
            field="key",
        )
    problem = _key_problem(key)
    if problem is not None:
        raise InvalidArgumentError(f"The {what} key {_shown(key)} {problem}.", field="key")
    return key


def check_metric_value(key: str, value: Any) -> float:
    """A metric value: any real number (NaN and infinities included), not a bool or a string."""
    if type(value) is float:
        return value
    if isinstance(value, bool | str | bytes) or value is None:
        raise InvalidArgumentError(
            f"The value of metric {key!r} must be a number; got {type(value).__name__} "
            f"{_shown(value)}.",
            field="value",
        )
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidArgumentError(
            f"The value of metric {key!r} must be a number; got {type(value).__name__} "
            f"{_shown(value)}.",
            field="value",
        ) from None


def _check_int(value: Any, field: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        elif hasattr(value, "__index__"):
            value = value.__index__()
        else:
            raise InvalidArgumentError(
                f"The {field} of metric {key!r} must be an integer; got "
                f"{type(value).__name__} {_shown(value)}.",
                field=field,
            )
    if not -_INT64 <= value < _INT64:
        raise InvalidArgumentError(
            f"The {field} of metric {key!r} must fit in 64 bits; got {value}.", field=field
        )
    return int(value)


def check_step(key: str, step: Any) -> int:
    return _check_int(step, "step", key)


def check_timestamp(key: str, timestamp: Any) -> int:
    """Milliseconds since the epoch."""
    return _check_int(timestamp, "timestamp", key)


def _storable(text: str, what: str, field: str) -> str:
    """Refuse what no database stores the same way: NUL and lone surrogates (not Unicode)."""
    if "\x00" in text:
        raise InvalidArgumentError(f"The {what} contains a NUL character.", field=field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(
            f"The {what} is not valid Unicode (it contains a lone surrogate).", field=field
        ) from None
    return text


def check_epoch_ms(value: Any, field: str) -> int:
    """A time in milliseconds since the epoch (``start_time``, ``end_time``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"The '{field}' parameter must be an integer of milliseconds since the epoch; got "
            f"{type(value).__name__} {_shown(value)}.",
            field=field,
        )
    if not -_INT64 <= value < _INT64:
        raise InvalidArgumentError(
            f"The '{field}' parameter must fit in 64 bits; got {value}.", field=field
        )
    return value


def check_user_id(user_id: Any) -> str | None:
    """The user a run belongs to: ``None`` or a printable string of at most 256 characters."""
    if user_id is None:
        return None
    if not isinstance(user_id, str) or len(user_id) > 256 or any(ord(c) < 32 for c in user_id):
        raise InvalidArgumentError(
            f"The 'user_id' parameter must be a printable string of at most 256 characters; "
            f"got {_shown(user_id)}.",
            field="user_id",
        )
    return _storable(user_id, "user_id", "user_id")


def check_metric(key: Any, value: Any, timestamp: Any, step: Any) -> tuple[str, float, int, int]:
    """One checked metric point ``(key, value, timestamp, step)``; defaults: now and step 0.

    The common case (a float value, int timestamp and step) takes no function call beyond the
    cached key check: this runs once per logged value.
    """
    key = check_key(key, "metric")
    if type(value) is not float:
        value = check_metric_value(key, value)
    if timestamp is None:
        timestamp = int(time.time() * 1000)
    elif type(timestamp) is not int or not -_INT64 <= timestamp < _INT64:
        timestamp = check_timestamp(key, timestamp)
    if step is None:
        step = 0
    elif type(step) is not int or not -_INT64 <= step < _INT64:
        step = check_step(key, step)
    return key, value, timestamp, step


def check_param_value(key: str, value: Any) -> str:
    """Params are stored as strings (as in MLflow); at most 6000 characters."""
    text = _storable(value if isinstance(value, str) else str(value), f"param {key!r}", "value")
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidArgumentError(
            f"The value of param {key!r} has {len(text)} characters; at most "
            f"{MAX_PARAM_VALUE_LENGTH} allowed.",
            field="value",
        )
    return text


def check_tag_value(key: str, value: Any) -> str:
    text = _storable(value if isinstance(value, str) else str(value), f"tag {key!r}", "value")
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidArgumentError(
            f"The value of tag {key!r} has {len(text)} characters; at most "
            f"{MAX_TAG_VALUE_LENGTH} allowed.",
            field="value",
        )
    return text


def check_name(name: Any, what: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """An experiment or run name: a non-blank string of at most ``max_length`` characters."""
    if not isinstance(name, str):
        raise InvalidArgumentError(
            f"The {what} name must be a string; got {type(name).__name__} {_shown(name)}.",
            field="name",
        )
    if not name.strip():
        raise InvalidArgumentError(f"The {what} name must not be empty.", field="name")
    if len(name) > max_length or any(ord(c) < 32 for c in name):
        raise InvalidArgumentError(
            f"The {what} name must have at most {max_length} printable characters; got "
            f"{_shown(name)}.",
            field="name",
        )
    return _storable(name, f"{what} name", "name")


def check_view(view: ViewType | str) -> ViewType:
    try:
        return ViewType(view)
    except ValueError:
        raise InvalidArgumentError(
            f"The 'view' parameter must be one of {[x.value for x in ViewType]}; got {view!r}.",
            field="view",
        ) from None


def check_status(status: RunStatus | str) -> RunStatus:
    try:
        return RunStatus(str(status).lower())
    except ValueError:
        raise InvalidArgumentError(
            f"The 'status' parameter must be one of {[s.value for s in RunStatus]}; "
            f"got {status!r}.",
            field="status",
        ) from None


def check_string_map(values: Mapping[str, Any] | None, what: str) -> dict[str, str]:
    """Checked params (``what="param"``) or tags: keys checked, values as strings."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidArgumentError(
            f"The {what}s must be a mapping of key to value; got {type(values).__name__}.",
            field=f"{what}s",
        )
    check_value = check_param_value if what == "param" else check_tag_value
    return {check_key(k, what): check_value(k, val) for k, val in values.items()}


def check_metric_input(metric: Any) -> tuple[str, float, int, int]:
    """A metric given as a :class:`Metric` or a ``(key, value, timestamp, step)`` tuple."""
    if isinstance(metric, Metric):
        key, value, timestamp, step = metric.key, metric.value, metric.timestamp, metric.step
    else:
        try:
            key, value, timestamp, step = metric
        except (TypeError, ValueError):
            raise InvalidArgumentError(
                f"Each metric must be (key, value, timestamp, step); got {metric!r}.",
                field="metrics",
            ) from None
    return check_metric(key, value, timestamp, step)
