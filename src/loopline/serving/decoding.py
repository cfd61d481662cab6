"""Request decoding for a served model: JSON inputs to a batch in the model's column order.

For a signature whose columns are all numeric (integer, float, boolean) a request is decoded
straight into a 2-D float64 NumPy array in the model's column order: no pandas per request. Other
signatures (text or categorical columns) go through :func:`loopline.modeling.signature.enforce`,
which builds a DataFrame per request.

The column order is the fitted estimator's ``feature_names_in_`` when it names the signature's
columns, else the signature's own order; with no signature, the estimator's feature names (or
``f0``, ``f1``, ... for ``n_features_in_`` columns), all float.

Checks name the field: a missing column, a value of the wrong type, a missing value where the
signature allows none, a category the model never saw, a tensor of the wrong shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidArgumentError
from loopline.modeling.signature import missing_columns

if TYPE_CHECKING:
    from loopline.modeling.signature import Signature

__all__ = ["InputDecoder"]

_NUMERIC = frozenset({"integer", "float", "boolean"})


def _fail(message: str, field: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, field=field)


class InputDecoder:
    """Decodes request inputs (rows, columns, split frames, tensors) into batches for one model.

    Args:
        signature: the model's signature, or None.
        estimator: the fitted estimator, read for ``feature_names_in_`` and ``n_features_in_``
            (before the runtime strips the feature names from its copy).

    Examples:
        >>> class Fitted:
        ...     n_features_in_ = 2
        >>> decoder = InputDecoder(None, Fitted())
        >>> decoder.columns, decoder.numeric
        (('f0', 'f1'), True)
        >>> decoder.from_rows([{"f0": 1, "f1": 2.5}]).tolist()
        [[1.0, 2.5]]
        >>> decoder.from_rows([])
        Traceback (most recent call last):
        ...
        loopline.errors.InvalidArgumentError: 'rows' must be a non-empty list of objects.
    """

    def __init__(self, signature: Signature | None, estimator: Any) -> None:
        self.signature = signature
        specs = list(signature.inputs) if signature is not None else []
        names = getattr(estimator, "feature_names_in_", None)
        if specs:
            by_name = {s.name: s for s in specs}
            order = [str(n) for n in names] if names is not None else [s.name for s in specs]
            if names is not None and any(n not in by_name for n in order):
                order = [s.name for s in specs]
            self.columns: tuple[str, ...] = tuple(order)
            self.types = tuple(by_name[c].type for c in self.columns)
            self.nullable = tuple(by_name[c].nullable for c in self.columns)
        else:
            count = int(getattr(estimator, "n_features_in_", 0) or 0)
            self.columns = (
                tuple(str(n) for n in names)
                if names is not None
                else tuple(f"f{i}" for i in range(count))
            )
            self.types = ("float",) * len(self.columns)
            self.nullable = (True,) * len(self.columns)
        self.index = {c: i for i, c in enumerate(self.columns)}
        self.numeric = all(t in _NUMERIC for t in self.types) and bool(self.columns)
        self._strict_ints = [i for i, t in enumerate(self.types) if t == "integer"]
        self._not_null = [i for i, ok in enumerate(self.nullable) if not ok]

    def from_rows(self, rows: Any, field: str = "rows") -> Any:
        """A batch from a list of ``{column: value}`` objects (extra keys are ignored)."""
        if not isinstance(rows, list) or not rows:
            raise _fail(f"{field!r} must be a non-empty list of objects.", field)
        for position, row in enumerate(rows):
            if not isinstance(row, dict):
                raise _fail(
                    f"{field}[{position}] must be an object of column values; got "
                    f"{type(row).__name__}.",
                    field,
                )
        if not self.numeric:
            return self._frame({c: [row.get(c) for row in rows] for c in self._present(rows)})
        try:
            values = [[row[c] for c in self.columns] for row in rows]
        except KeyError as exc:
            column = str(exc.args[0])
            raise InvalidArgumentError(
                f"The input lacks the column {column!r} that the model's signature requires.",
                field=column,
                columns=[column],
            ) from None
        return self._array(values)

    def _present(self, rows: list[dict[str, Any]]) -> list[str]:
        missing = [c for c in self.columns if any(c not in row for row in rows)]
        if missing:
            raise missing_columns(missing)
        return list(self.columns)

    def from_columns(self, columns: Any, field: str = "inputs") -> Any:
        """A batch from ``{column: [values...]}`` (extra columns are ignored)."""
        if not isinstance(columns, dict) or not columns:
            raise _fail(f"{field!r} must be a non-empty object of column lists.", field)
        missing = [c for c in self.columns if c not in columns]
        if missing:
            raise missing_columns(missing)
        lengths = set()
        for c in self.columns:
            value = columns[c]
            if not isinstance(value, list):
                raise _fail(
                    f"Column {c!r} must be a list of values; got {type(value).__name__}.", c
                )
            lengths.add(len(value))
        if len(lengths) != 1 or 0 in lengths:
            raise _fail(
                f"All columns must hold the same, non-zero number of values; got lengths "
                f"{sorted(lengths)}.",
                field,
            )
        if not self.numeric:
            return self._frame({c: columns[c] for c in self.columns})
        return self._array([list(v) for v in zip(*(columns[c] for c in self.columns), strict=True)])

    def from_split(self, columns: Any, data: Any, field: str = "dataframe_split") -> Any:
        """A batch from pandas ``split`` orientation: ``columns`` and rows of ``data``."""
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise _fail(f"{field}.columns must be a list of column names.", field)
        if not isinstance(data, list) or not data:
            raise _fail(f"{field}.data must be a non-empty list of rows.", field)
        width = len(columns)
        for position, row in enumerate(data):
            if not isinstance(row, list) or len(row) != width:
                raise _fail(
                    f"{field}.data[{position}] must be a list of {width} values (one per column).",
                    field,
                )
        if not self.numeric:
            return self.from_rows([dict(zip(columns, row, strict=True)) for row in data], field)
        positions = {c: i for i, c in enumerate(columns)}
        missing = [c for c in self.columns if c not in positions]
        if missing:
            raise missing_columns(missing)
        order = [positions[c] for c in self.columns]
        if order == list(range(width)):
            return self._array(data)
        return self._array([[row[i] for i in order] for row in data])

    def from_tensor(self, data: Any, shape: Any = None, field: str = "data") -> Any:
        """A batch from a 2-D tensor ``[N, F]`` (nested, or flat with ``shape``) in column order."""
        import numpy as np

        width = len(self.columns)
        if not isinstance(data, list) or not data:
            raise _fail(f"{field!r} must be a non-empty list.", field)
        if shape is not None:
            if (
                not isinstance(shape, list)
                or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
                or len(shape) not in (1, 2)
            ):
                raise _fail(f"shape must be a list of 1 or 2 integers; got {shape!r}.", "shape")
            if len(shape) == 1:
                shape = [1, shape[0]] if width != 1 else [shape[0], 1]
            if shape[1] != width:
                raise _fail(
                    f"The tensor must have shape [N, {width}] (one column per signature input "
                    f"{list(self.columns)[:5]}...); got {shape}.",
                    "shape",
                )
        if not self.numeric:
            rows = self._nested(data, shape, width, field)
            return self.from_rows([dict(zip(self.columns, r, strict=True)) for r in rows], field)
        if isinstance(data[0], list):
            rows = self._nested(data, shape, width, field)
            return self._array(rows)
        array = self._array_flat(data, field)
        count = array.size // width if width else 0
        if array.size != count * width or count == 0:
            raise _fail(
                f"The tensor holds {array.size} values; a batch of rows of {width} needs a "
                "multiple of that.",
                "shape",
            )
        if shape is not None and shape[0] * shape[1] != array.size:
            raise _fail(f"shape {shape} does not match the {array.size} values sent.", "shape")
        return self._checked(np.ascontiguousarray(array.reshape(count, width)))

    def _nested(self, data: list[Any], shape: Any, width: int, field: str) -> list[Any]:
        for position, row in enumerate(data):
            if not isinstance(row, list) or len(row) != width:
                raise _fail(
                    f"{field}[{position}] must be a row of {width} values (the tensor must be "
                    f"[N, {width}]).",
                    "shape",
                )
        if shape is not None and shape[0] != len(data):
            raise _fail(f"shape {shape} does not match the {len(data)} rows sent.", "shape")
        return data

    def _array_flat(self, values: list[Any], field: str) -> Any:
        import numpy as np

        try:
            array = np.asarray(values)
        except ValueError:
            raise _fail(f"{field!r} must be a flat or nested list of numbers.", field) from None
        if array.dtype.kind not in "fiub" or array.ndim != 1:
            for value in values:
                if isinstance(value, list):
                    raise _fail(f"{field!r} must be a flat or nested list of numbers.", field)
            width = len(self.columns)
            self._check_cells([values[i : i + width] for i in range(0, len(values), width)])
            array = np.asarray(values, dtype=np.float64)
        return array.astype(np.float64, copy=False)

    def _array(self, values: list[list[Any]]) -> Any:
        import numpy as np

        try:
            array = np.asarray(values)
        except ValueError:
            array = None
        if array is None or array.dtype.kind not in "fiub" or array.ndim != 2:
            self._check_cells(values)
            array = np.asarray(values, dtype=np.float64)
        return self._checked(array.astype(np.float64, copy=False))

    def _check_cells(self, values: list[list[Any]]) -> None:
        """Find the first bad cell of rows that NumPy could not read as numbers."""
        for row in values:
            for i, value in enumerate(row):
                if value is None:
                    if not self.nullable[i]:
                        column = self.columns[i]
                        raise _fail(
                            f"Column {column!r} has a missing value; the model's signature does "
                            "not allow any.",
                            column,
                        )
                elif isinstance(value, bool) or not isinstance(value, int | float):
                    if isinstance(value, bool) and self.types[i] in ("boolean", "integer", "float"):
                        continue
                    column = self.columns[i]
                    raise _fail(
                        f"Column {column!r} must hold {self.types[i]} values; got "
                        f"{type(value).__name__} {_short(value)}.",
                        column,
                    )

    def _checked(self, array: Any) -> Any:
        import numpy as np

        if self._not_null:
            bad = np.isnan(array[:, self._not_null]).any(axis=0)
            if bad.any():
                column = self.columns[self._not_null[int(np.argmax(bad))]]
                raise _fail(
                    f"Column {column!r} has a missing value (null or NaN); the model's signature "
                    "does not allow any.",
                    column,
                )
        if self._strict_ints:
            part = array[:, self._strict_ints]
            bad = (np.isfinite(part) & (part != np.floor(part))).any(axis=0)
            if bad.any():
                column = self.columns[self._strict_ints[int(np.argmax(bad))]]
                raise _fail(f"Column {column!r} must hold integer values; got a fraction.", column)
        return array

    def _frame(self, columns: dict[str, list[Any]]) -> Any:
        from loopline.modeling.signature import enforce

        assert self.signature is not None
        for name, values in columns.items():
            for value in values:
                if isinstance(value, dict | list):
                    raise _fail(
                        f"Column {name!r} must hold scalar values; got a nested value.", name
                    )
        try:
            return enforce(self.signature, columns)
        except InvalidArgumentError:
            raise
        except (ValueError, TypeError) as exc:
            raise InvalidArgumentError(
                f"The input could not be read as a table: {exc}", field="data"
            ) from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
