"""Inputs as numpy columns: a mapping of columns, one dict row or a list of dict rows.

Only the columns a policy reads are converted, each once per call. Row values are typed from
what they hold: numbers (and None) become float64 with NaN, text stays text, anything mixed is an
object column; so ``"a"`` and ``1`` are never silently turned into the same type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from loopline.policies.conditions import invalid

__all__ = ["Columns", "is_row", "typed_column"]

_NUMBERS = frozenset({int, float, type(None)})


def typed_column(values: list[Any]) -> Any:
    """A 1-D array for Python values, typed by what they hold."""
    kinds = set(map(type, values))
    if kinds <= _NUMBERS and kinds - {type(None)}:
        if type(None) in kinds:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        return np.array(values, dtype=np.float64)
    if kinds == {str} or kinds == {bool}:
        return np.array(values)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def is_row(mapping: Mapping[str, Any]) -> bool:
    for value in mapping.values():
        return not (
            isinstance(value, list | tuple)
            or (hasattr(value, "__len__") and not isinstance(value, str | bytes | Mapping))
        )
    return True


class Columns:
    """The columns a policy's conditions read: inputs by name, plus ``reserved`` ones."""

    __slots__ = ("_cache", "_columns", "_rows", "n", "reserved")

    def __init__(self, inputs: Any, n: int) -> None:
        self.n = n
        self.reserved: dict[str, Any] = {}
        self._cache: dict[str, Any] = {}
        self._rows: list[Mapping[str, Any]] | None = None
        self._columns: Any = None
        if inputs is None:
            return
        if isinstance(inputs, Mapping):
            if is_row(inputs):
                self._rows = [inputs]
            else:
                self._columns = inputs
        elif isinstance(inputs, list | tuple):
            self._rows = list(inputs)
        elif hasattr(inputs, "columns") or hasattr(inputs, "column_names"):
            self._columns = inputs
        else:
            raise invalid("inputs", f"expected a mapping of columns or dict rows, got {inputs!r}")
        if self._rows is not None and len(self._rows) != n:
            raise invalid("inputs", f"{len(self._rows)} rows for {n} rows of scores")

    def reserved_column(self, name: str, path: str) -> Any:
        column = self.reserved.get(name)
        if column is None:
            raise invalid(path, f"{name!r} is not available here")
        return column

    def get(self, name: str, path: str) -> Any:
        """The input column ``name`` as a 1-D array (``path`` names who needs it in errors)."""
        column = self._cache.get(name)
        if column is None:
            column = self._load(name, path)
            self._cache[name] = column
        return column

    def numbers(self, name: str, path: str) -> Any:
        column = self.get(name, path)
        try:
            return np.asarray(column, dtype=np.float64)
        except (TypeError, ValueError):
            raise invalid(path, f"input {name!r} must hold numbers, got {column[:3]!r}") from None

    def _load(self, name: str, path: str) -> Any:
        if self._rows is not None:
            values = []
            for i, row in enumerate(self._rows):
                if not isinstance(row, Mapping):
                    raise invalid(f"inputs[{i}]", f"expected a dict row, got {row!r}")
                if name not in row:
                    raise invalid(path, f"unknown field {name!r}: inputs[{i}] has no such key")
                values.append(row[name])
            return typed_column(values)
        if self._columns is None:
            raise invalid(path, f"unknown field {name!r}: no inputs were given")
        try:
            raw = self._columns[name]
        except (KeyError, IndexError, TypeError):
            raise invalid(path, f"unknown field {name!r}: the inputs have no such column") from None
        column = typed_column(list(raw)) if isinstance(raw, list | tuple) else np.asarray(raw)
        if column.ndim != 1 or len(column) != self.n:
            raise invalid(
                f"inputs.{name}",
                f"expected {self.n} values (one per score), got shape {column.shape}",
            )
        return column
