"""Records to journal lines: every check and every JSON encoding happens here, once, on append.

A batch is checked whole before anything is written: the first bad record raises
:class:`~loopline.errors.InvalidArgumentError` naming the field and the record's index, and the
journal stays as it was. Each line is one flat JSON object (nested ``inputs``, ``outputs`` and
``decision`` travel as JSON text), so sealing parses a journal with Arrow's JSON reader.

Non-finite floats inside inputs and outputs are written as ``null`` (strict JSON, readable by
DuckDB); numpy scalars and arrays are written as numbers and lists.

Examples:
    >>> import json
    >>> from loopline.entities.eventlog import OutcomeRecord
    >>> line = encode_outcomes([OutcomeRecord("p1", timestamp=0, label="yes")])[0]
    >>> row = json.loads(line)
    >>> row["label"], row["date"]
    ('"yes"', '1970-01-01')
    >>> encode_outcomes([{"prediction_id": ""}])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    loopline.errors.InvalidArgumentError: Outcome 0: 'prediction_id' must be a non-empty ...
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from loopline.entities.eventlog import VARIANTS, OutcomeRecord, PredictionRecord
from loopline.errors import InvalidArgumentError
from loopline.eventlog.ids import prediction_id_time

__all__ = ["date_of", "encode_outcomes", "encode_predictions", "to_json_text"]

_DAY_MS = 86_400_000
_MAX_ID = 200
_NAME_RULE = f"a non-empty printable string of at most {_MAX_ID} characters"
_dates: dict[int, str] = {}
_clock = threading.Lock()
_last_received = 0


def date_of(ms: int) -> str:
    """The UTC date (``YYYY-MM-DD``) of an epoch-millisecond time, cached per day."""
    day = ms // _DAY_MS
    text = _dates.get(day)
    if text is None:
        text = _dates[day] = datetime.fromtimestamp(day * 86_400, UTC).date().isoformat()
    return text


def _received_at() -> int:
    """Strictly increasing nanoseconds in this process: ties among outcomes break by arrival."""
    global _last_received
    with _clock:
        _last_received = max(_last_received + 1, time.time_ns())
        return _last_received


def _bad(kind: str, index: int, name: str, constraint: str, value: object) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{kind} {index}: {name!r} must be {constraint}. Got {str(value)[:80]!r} instead.",
        field=name,
        index=index,
    )


def _plain(value: Any) -> Any:
    """``json.dumps``'s fallback: numpy scalars and arrays become numbers and lists."""
    tolist = getattr(value, "tolist", None)
    if tolist is None:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return tolist()


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    tolist = getattr(value, "tolist", None)
    return _finite(tolist()) if tolist is not None else value


_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_plain).encode
# A str as a JSON string literal (C speed), non-ASCII kept: a lone surrogate then fails the
# UTF-8 encoding of the line, instead of reaching a journal Arrow could not parse.
_quote = json.encoder.encode_basestring
_dumps_line = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode


def _text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def to_json_text(value: Any) -> str:
    """Strict JSON text of ``value`` (non-finite floats as null); TypeError when not JSON-able."""
    try:
        return _dumps(value)
    except ValueError:  # a NaN or an infinity somewhere: the slow path, once
        return _dumps(_finite(value))


def _json_field(kind: str, index: int, name: str, value: Any) -> str:
    try:
        return to_json_text(value)
    except (TypeError, ValueError, RecursionError) as err:
        raise _bad(kind, index, name, "JSON-serialisable", err) from None


def _as_record(cls: type[Any], kind: str, index: int, item: Any) -> Any:
    if isinstance(item, cls):
        return item
    if not isinstance(item, Mapping):
        raise _bad(kind, index, "record", f"a {cls.__name__} or a mapping", type(item).__name__)
    try:
        return cls(**item)
    except TypeError as err:
        missing = [f for f in ("prediction_id",) if f not in item]
        name = missing[0] if missing else "record"
        raise _bad(kind, index, name, "a known field, with every required field", err) from None


def _check_id(kind: str, index: int, value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_ID:
        raise _bad(
            kind,
            index,
            "prediction_id",
            f"a non-empty string of at most {_MAX_ID} characters",
            value,
        )
    return value


def _check(kind: str, index: int, name: str, value: Any, types: Any, constraint: str) -> Any:
    if value is not None and (
        not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
    ):
        raise _bad(kind, index, name, constraint, value)
    return value


def _check_ms(kind: str, index: int, value: Any) -> int:
    if isinstance(value, datetime):  # a datetime or a pandas Timestamp: naive means UTC
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        value = int(aware.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 47:
        raise _bad(kind, index, "timestamp", "epoch milliseconds (a non-negative int)", value)
    return value


def encode_predictions(records: Iterable[Any]) -> list[bytes]:
    """Journal lines for prediction records (or mappings of their fields), checked first."""
    lines: list[bytes] = []
    for i, item in enumerate(records):
        r: PredictionRecord = _as_record(PredictionRecord, "Prediction", i, item)
        _check_id("Prediction", i, r.prediction_id)
        dep = r.deployment
        if not isinstance(dep, str) or not 0 < len(dep) <= _MAX_ID or not dep.isprintable():
            raise _bad("Prediction", i, "deployment", _NAME_RULE, dep)
        if not isinstance(r.model_name, str) or not r.model_name:
            raise _bad("Prediction", i, "model_name", "a non-empty string", r.model_name)
        version = r.model_version
        if isinstance(version, bool) or not isinstance(version, int) or abs(version) >= 1 << 63:
            raise _bad("Prediction", i, "model_version", "an int (64-bit)", version)
        if r.variant not in VARIANTS:
            raise _bad("Prediction", i, "variant", f"one of {', '.join(VARIANTS)}", r.variant)
        for name in ("inputs", "outputs"):
            if not isinstance(getattr(r, name), Mapping):
                raise _bad("Prediction", i, name, "a mapping", getattr(r, name))
        for name in ("action", "rule", "queue", "policy_version", "request_key"):
            _check("Prediction", i, name, getattr(r, name), (str,), "a string or None")
        if not isinstance(r.control, bool):
            raise _bad("Prediction", i, "control", "a bool", r.control)
        latency = _check(
            "Prediction", i, "latency_ms", r.latency_ms, (int, float), "a number or None"
        )
        decision = r.decision
        if decision is not None and not isinstance(decision, str):
            decision = _json_field("Prediction", i, "decision", decision)
        ts = _check_ms("Prediction", i, r.timestamp)
        inputs = _json_field("Prediction", i, "inputs", r.inputs)
        outputs = _json_field("Prediction", i, "outputs", r.outputs)
        lat = "null"
        if latency is not None:
            if isinstance(latency, int) and abs(latency) > 1 << 53:
                raise _bad("Prediction", i, "latency_ms", "a float", latency)
            lat = repr(float(latency)) if math.isfinite(latency) else "null"
        # Built by hand, not with json.dumps(dict): half the cost on the serving hot path.
        line = (
            f'{{"prediction_id":{_quote(r.prediction_id)},"deployment":{_quote(dep)},'
            f'"model_name":{_quote(r.model_name)},"model_version":{int(r.model_version)},'
            f'"variant":"{r.variant}","timestamp":{ts},"inputs":{_quote(inputs)},'
            f'"outputs":{_quote(outputs)},"action":{_text(r.action)},"rule":{_text(r.rule)},'
            f'"queue":{_text(r.queue)},"decision":{_text(decision)},'
            f'"policy_version":{_text(r.policy_version)},'
            f'"control":{"true" if r.control else "false"},"latency_ms":{lat},'
            f'"request_key":{_text(r.request_key)},"date":"{date_of(ts)}"}}\n'
        )
        lines.append(_utf8(line, "Prediction", i, r))
    return lines


def _utf8(line: str, kind: str, index: int, record: Any) -> bytes:
    try:
        return line.encode()
    except UnicodeEncodeError:
        for name in record.__slots__:
            value = getattr(record, name)
            if isinstance(value, str) and not _encodable(value):
                raise _bad(kind, index, name, "valid Unicode (no lone surrogates)", value) from None
        raise


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _float(index: int, name: str, value: float) -> float:
    try:
        return float(value)
    except OverflowError:
        raise _bad("Outcome", index, name, "a number a float can hold", value) from None


def _scalar(value: Any) -> Any:
    item = getattr(value, "item", None)  # a numpy scalar from a DataFrame row
    return item() if item is not None and not isinstance(value, str | bytes) else value


def encode_outcomes(records: Iterable[Any], *, now: int | None = None) -> list[bytes]:
    """Journal lines for outcome records (or mappings of their fields), checked first."""
    rows: list[dict[str, Any]] = []
    kept: list[OutcomeRecord] = []
    stamp = time.time_ns() // 1_000_000 if now is None else now
    for i, item in enumerate(records):
        r: OutcomeRecord = _as_record(OutcomeRecord, "Outcome", i, item)
        kept.append(r)
        pid = _check_id("Outcome", i, r.prediction_id)
        ts = stamp if r.timestamp is None else _check_ms("Outcome", i, _scalar(r.timestamp))
        label = _scalar(r.label)
        if isinstance(label, float) and not math.isfinite(label):
            label = None
        _check("Outcome", i, "label", label, (bool, int, float, str), "a JSON scalar")
        value = _scalar(r.value)
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        _check("Outcome", i, "value", value, (int, float), "a number or None")
        accepted = _scalar(r.accepted)
        _check("Outcome", i, "accepted", accepted, (bool,), "a bool or None")
        _check("Outcome", i, "source", r.source, (str,), "a string or None")
        number = None if label is None or isinstance(label, str) else _float(i, "label", label)
        made = prediction_id_time(pid)
        row = {
            "prediction_id": pid,
            "timestamp": ts,
            "label": None if label is None else _dumps(label),
            "label_number": number,
            "value": None if value is None else _float(i, "value", value),
            "accepted": accepted,
            "source": r.source,
            "received_at": 0,
            "date": date_of(ts if made is None else made),
        }
        rows.append(row)
    for row in rows:  # stamped once all are valid
        row["received_at"] = _received_at()
    return [_utf8(_dumps_line(row) + "\n", "Outcome", i, kept[i]) for i, row in enumerate(rows)]
