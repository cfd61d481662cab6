"""Conditions: a small, JSON-shaped language over the score, the action and input fields.

A condition is a mapping; each key is a field and maps to ``{operator: value}`` (a bare value
means ``==``); several keys must all hold. ``and`` / ``or`` take a list of conditions, ``not`` one::

    {"score": {">=": 0.5}, "segment": {"in": ["vip", "gold"]},
     "or": [{"tenure": {"<": 3}}, {"email": {"is_null": True}}]}

Fields: ``score`` (the policy's score), ``action`` (the action decided so far), ``outlier``
(the row's outlier flag); any other name is an input field, and ``input.<name>`` reaches an input
whose name is reserved. A comparison on a missing value (None or NaN) is false, whatever the
operator: ask for ``is_null`` explicitly. Evaluation is vectorised over numpy columns.

Examples:
    >>> normalize_condition({"segment": "vip", "score": {">=": 0.5}}, "when")
    {'score': {'>=': 0.5}, 'segment': {'==': 'vip'}}
    >>> normalize_condition({"score": {"~": 1}}, "rules[0].when")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    loopline.errors.InvalidArgumentError: rules[0].when.score: unknown operator '~' (use one of ...)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from loopline.errors import InvalidArgumentError

__all__ = [
    "OPERATORS",
    "RESERVED_FIELDS",
    "Predicate",
    "RowPredicate",
    "compile_condition",
    "compile_row_condition",
    "condition_fields",
    "invalid",
    "is_missing",
    "normalize_condition",
    "null_mask",
]

OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null")
RESERVED_FIELDS = ("score", "action", "outlier")
_LOGICAL = ("and", "or", "not")
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_EQUALITY = {"==": operator.eq, "!=": operator.ne}
# Below this many rows a Python set beats np.isin, whose setup alone costs tens of microseconds.
_SMALL = 64

Predicate = Callable[[Any], Any]
"""A compiled condition: ``predicate(columns) -> bool ndarray`` over ``policies.inputs.Columns``."""


def invalid(path: str, message: str) -> InvalidArgumentError:
    """The one error shape of policy declarations: ``"<path>: <message>"``."""
    return InvalidArgumentError(f"{path}: {message}", path=path)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _normalize_test(test: Any, path: str) -> dict[str, Any]:
    if not isinstance(test, Mapping):
        if not _is_scalar(test):
            raise invalid(path, f"expected a value or {{operator: value}}, got {test!r}")
        return {"==": test}
    if not test:
        raise invalid(path, "an empty test; give {operator: value}")
    out: dict[str, Any] = {}
    for op, value in test.items():
        if op not in OPERATORS:
            raise invalid(path, f"unknown operator {op!r} (use one of {', '.join(OPERATORS)})")
        if op in ("in", "not_in"):
            if not isinstance(value, list | tuple) or not all(_is_scalar(v) for v in value):
                raise invalid(f"{path}.{op}", f"expected a list of values, got {value!r}")
            value = list(value)
        elif op == "is_null":
            if not isinstance(value, bool):
                raise invalid(f"{path}.{op}", f"expected true or false, got {value!r}")
        elif op in _ORDER:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise invalid(f"{path}.{op}", f"expected a number or a string, got {value!r}")
        elif not _is_scalar(value):
            raise invalid(f"{path}.{op}", f"expected a single value, got {value!r}")
        out[op] = value
    return out


def normalize_condition(
    spec: Any, path: str, fields: frozenset[str] | None = None
) -> dict[str, Any]:
    """The canonical form of a condition; raises naming ``path`` on anything malformed.

    With ``fields`` (the declared input columns), an input field outside them is an error.
    """
    if not isinstance(spec, Mapping) or not spec:
        raise invalid(path, f"expected a non-empty mapping of field -> test, got {spec!r}")
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if not isinstance(key, str) or not key:
            raise invalid(path, f"a field name must be a non-empty string, got {key!r}")
        where = f"{path}.{key}"
        if key in ("and", "or"):
            if not isinstance(value, list | tuple) or not value:
                raise invalid(where, f"expected a non-empty list of conditions, got {value!r}")
            out[key] = [
                normalize_condition(part, f"{where}[{i}]", fields) for i, part in enumerate(value)
            ]
        elif key == "not":
            out[key] = normalize_condition(value, where, fields)
        else:
            name = _input_name(key)
            if name is not None and fields is not None and name not in fields:
                raise invalid(
                    where, f"unknown field {name!r} (inputs: {', '.join(sorted(fields))})"
                )
            test = _normalize_test(value, where)
            if key in ("score", "outlier"):
                _check_typed_field(key, test, where)
            out[key] = test
    return dict(sorted(out.items()))


def _check_typed_field(key: str, test: dict[str, Any], where: str) -> None:
    for op, value in test.items():
        if op == "is_null":
            continue
        values = value if isinstance(value, list) else [value]
        if key == "score" and any(
            isinstance(v, bool) or not isinstance(v, int | float) for v in values
        ):
            raise invalid(f"{where}.{op}", f"the score is a number, got {value!r}")
        if key == "outlier" and any(not isinstance(v, bool) for v in values):
            raise invalid(f"{where}.{op}", f"the outlier flag is true or false, got {value!r}")


def _input_name(key: str) -> str | None:
    """The input column a field key reads, or None for a reserved field or a logical key."""
    if key.startswith("input."):
        return key[len("input.") :]
    if key in RESERVED_FIELDS or key in _LOGICAL:
        return None
    return key


def condition_fields(spec: Mapping[str, Any], path: str) -> list[tuple[str, str]]:
    """``(input column, path)`` for every input field a normalised condition reads."""
    found: list[tuple[str, str]] = []
    for key, value in spec.items():
        where = f"{path}.{key}"
        if key in ("and", "or"):
            for i, part in enumerate(value):
                found.extend(condition_fields(part, f"{where}[{i}]"))
        elif key == "not":
            found.extend(condition_fields(value, where))
        else:
            name = _input_name(key)
            if name is not None:
                found.append((name, where))
    return found


def compile_condition(spec: Mapping[str, Any], path: str) -> Predicate:
    """A vectorised predicate over ``columns`` from a normalised condition."""
    parts: list[Predicate] = []
    for key, value in spec.items():
        where = f"{path}.{key}"
        if key == "and":
            parts.append(_all([compile_condition(p, f"{where}[{i}]") for i, p in enumerate(value)]))
        elif key == "or":
            parts.append(_any([compile_condition(p, f"{where}[{i}]") for i, p in enumerate(value)]))
        elif key == "not":
            parts.append(_negate(compile_condition(value, where)))
        else:
            name = _input_name(key)
            for op, operand in value.items():
                parts.append(_leaf(name or key, op, operand, where, reserved=name is None))
    return parts[0] if len(parts) == 1 else _all(parts)


def _negate(inner: Predicate) -> Predicate:
    def predicate(columns: Any) -> Any:
        return ~inner(columns)

    return predicate


def _all(parts: list[Predicate]) -> Predicate:
    def predicate(columns: Any) -> Any:
        mask = parts[0](columns)
        for part in parts[1:]:
            mask = mask & part(columns)
        return mask

    return predicate


def _any(parts: list[Predicate]) -> Predicate:
    def predicate(columns: Any) -> Any:
        mask = parts[0](columns)
        for part in parts[1:]:
            mask = mask | part(columns)
        return mask

    return predicate


def null_mask(array: Any) -> Any:
    """Where a column holds None or NaN (object and float columns; never elsewhere)."""
    import numpy as np

    kind = array.dtype.kind
    if kind == "f":
        return np.isnan(array)
    if kind == "O":
        return np.fromiter((v is None or v != v for v in array), bool, len(array))
    return np.zeros(len(array), bool)


def _leaf(field: str, op: str, operand: Any, path: str, *, reserved: bool) -> Predicate:
    where = f"{path}.{op}"
    get = "reserved_column" if reserved else "get"

    def predicate(columns: Any) -> Any:
        column = getattr(columns, get)(field, path)
        nulls = null_mask(column)
        if op == "is_null":
            return nulls if operand else ~nulls
        try:
            if op in ("in", "not_in"):
                hit = _isin(column, operand, nulls)
                return hit if op == "in" else ~hit & ~nulls
            return _compare(column, op, operand, nulls)
        except TypeError:
            raise invalid(
                where, f"cannot compare the values of {field!r} ({column.dtype}) with {operand!r}"
            ) from None

    return predicate


def _compare(column: Any, op: str, operand: Any, nulls: Any) -> Any:
    import numpy as np

    function = _ORDER.get(op) or _EQUALITY[op]
    if column.dtype.kind in "fiub" and isinstance(operand, str):
        if op in _ORDER:
            raise TypeError(op)
        return np.full(len(column), op == "!=") & ~nulls
    if column.dtype.kind == "O" and nulls.any():
        out = np.zeros(len(column), bool)
        keep = ~nulls
        out[keep] = np.asarray(function(column[keep], operand), dtype=bool)
        return out
    return np.asarray(function(column, operand), dtype=bool) & ~nulls


def _isin(column: Any, values: list[Any], nulls: Any) -> Any:
    import numpy as np

    if len(column) < _SMALL or column.dtype.kind == "O":
        allowed = set(values)
        return np.fromiter((v in allowed for v in column.tolist()), bool, len(column)) & ~nulls
    if column.dtype.kind in "fiub":
        values = [v for v in values if not isinstance(v, str)]
    elif column.dtype.kind == "U":
        values = [v for v in values if isinstance(v, str)]
    if not values:
        return np.zeros(len(column), bool)
    return np.isin(column, values) & ~nulls


RowPredicate = Callable[[Any], bool]
"""A compiled condition on one row: ``predicate(row) -> bool`` over ``policies.rows.RowValues``."""


def is_missing(value: Any) -> bool:
    return value is None or bool(value != value)


def compile_row_condition(spec: Mapping[str, Any], path: str) -> RowPredicate:
    """The one-row twin of :func:`compile_condition`: same semantics, plain Python, no numpy."""
    parts: list[RowPredicate] = []
    for key, value in spec.items():
        where = f"{path}.{key}"
        if key in ("and", "or"):
            inner = [compile_row_condition(p, f"{where}[{i}]") for i, p in enumerate(value)]
            parts.append(_row_all(inner) if key == "and" else _row_any(inner))
        elif key == "not":
            parts.append(_row_negate(compile_row_condition(value, where)))
        else:
            name = _input_name(key)
            for op, operand in value.items():
                parts.append(_row_leaf(name or key, op, operand, where, reserved=name is None))
    return parts[0] if len(parts) == 1 else _row_all(parts)


def _row_negate(inner: RowPredicate) -> RowPredicate:
    return lambda row: not inner(row)


def _row_all(parts: list[RowPredicate]) -> RowPredicate:
    return lambda row: all(part(row) for part in parts)


def _row_any(parts: list[RowPredicate]) -> RowPredicate:
    return lambda row: any(part(row) for part in parts)


def _row_leaf(field: str, op: str, operand: Any, path: str, *, reserved: bool) -> RowPredicate:
    where = f"{path}.{op}"
    get = "reserved_value" if reserved else "get"
    allowed = frozenset(operand) if op in ("in", "not_in") else frozenset()
    function = _ORDER.get(op) or _EQUALITY.get(op)

    def predicate(row: Any) -> bool:
        value = getattr(row, get)(field, path)
        if is_missing(value):
            return bool(op == "is_null" and operand)
        if op == "is_null":
            return not operand
        try:
            if op == "in":
                return value in allowed
            if op == "not_in":
                return value not in allowed
            assert function is not None
            return bool(function(value, operand))
        except TypeError:
            kind = type(value).__name__
            raise invalid(
                where, f"cannot compare the values of {field!r} ({kind}) with {operand!r}"
            ) from None

    return predicate
