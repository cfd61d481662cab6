"""``POST /outcomes`` of the inference server: what happened after a prediction.

The same request and answer as the tracking server's ``POST /api/outcomes``: a JSON list of at
most 10,000 ``{"prediction_id", "label", "value", "accepted", "timestamp"?, "source"?}``
objects, answered ``{"logged": n}`` once they are fsynced to the event log. The whole list is
checked first; a bad item answers 422 naming ``<index>.<field>`` and nothing is written.
"""

from __future__ import annotations

from typing import Any

from loopline.serving.http import HttpError
from loopline.wire import MAX_OUTCOMES

__all__ = ["MAX_OUTCOMES", "decode_outcomes"]

_FIELDS = ("prediction_id", "timestamp", "label", "value", "accepted", "source")


def _bad(where: str, what: str) -> HttpError:
    return HttpError(422, f"Invalid request: {where}: {what}")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def decode_outcomes(document: Any) -> list[dict[str, Any]]:
    """The outcome mappings of a ``POST /outcomes`` body, checked (422 naming the field).

    Examples:
        >>> decode_outcomes([{"prediction_id": "p1", "label": 1, "accepted": True}])
        [{'prediction_id': 'p1', 'label': 1, 'accepted': True}]
        >>> decode_outcomes([{"prediction_id": "p1", "value": "12"}])
        Traceback (most recent call last):
        ...
        loopline.serving.http.HttpError: Invalid request: 0.value: must be a number or null
    """
    if not isinstance(document, list):
        raise _bad("body", "must be a JSON list of outcome objects")
    if len(document) > MAX_OUTCOMES:
        raise _bad("body", f"at most {MAX_OUTCOMES} outcomes per call; got {len(document)}")
    for i, item in enumerate(document):
        if not isinstance(item, dict):
            raise _bad(str(i), f"must be an object with {', '.join(_FIELDS)}")
        for key in item:
            if key not in _FIELDS:
                raise _bad(f"{i}.{key}", f"unknown field (expected {', '.join(_FIELDS)})")
        pid = item.get("prediction_id")
        if not isinstance(pid, str) or not 1 <= len(pid) <= 200:
            raise _bad(f"{i}.prediction_id", "a string of 1 to 200 characters is required")
        ts = item.get("timestamp")
        if ts is not None and (not isinstance(ts, int) or isinstance(ts, bool) or ts < 0):
            raise _bad(f"{i}.timestamp", "must be epoch milliseconds (an integer >= 0) or null")
        label = item.get("label")
        if label is not None and not isinstance(label, bool | int | float | str):
            raise _bad(f"{i}.label", "must be a boolean, a number, a string or null")
        value = item.get("value")
        if value is not None and not _number(value):
            raise _bad(f"{i}.value", "must be a number or null")
        accepted = item.get("accepted")
        if accepted is not None and not isinstance(accepted, bool):
            raise _bad(f"{i}.accepted", "must be true, false or null")
        source = item.get("source")
        if source is not None and (not isinstance(source, str) or len(source) > 200):
            raise _bad(f"{i}.source", "must be a string of at most 200 characters or null")
    return document
