"""The tables that validation reads, as pandas frames, and the logical type of a column.

:func:`to_pandas` takes a pandas or polars DataFrame or a pyarrow Table; :func:`logical_type` names
a column's type in the vocabulary of docs/datasets.md. :mod:`loopline.data.validation` re-exports
both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["logical_type", "to_pandas"]

_INFERRED = {
    "string": "string", "integer": "integer", "floating": "float", "mixed-integer-float": "float",
    "boolean": "boolean", "datetime": "datetime", "datetime64": "datetime", "date": "date",
    "decimal": "decimal", "bytes": "binary", "timedelta": "duration", "timedelta64": "duration",
}  # fmt: skip


def to_pandas(data: Any) -> pd.DataFrame:
    """A pandas view of ``data``; Arrow integers with nulls stay integers (nullable Int64)."""
    import pandas as pd

    kind = (type(data).__module__.split(".")[0], type(data).__name__)
    if isinstance(data, pd.DataFrame):
        frame = data
    elif kind in (("polars", "DataFrame"), ("pyarrow", "Table")):
        import pyarrow as pa

        table = data.to_arrow() if kind[0] == "polars" else data
        frame = table.to_pandas()
        for i, fld in enumerate(table.schema):
            if pa.types.is_integer(fld.type) and table.column(i).null_count:
                big = pd.UInt64Dtype() if fld.type == pa.uint64() else pd.Int64Dtype()
                frame[fld.name] = table.column(i).to_pandas(types_mapper=lambda _, d=big: d)
    else:
        raise InvalidArgumentError(
            "validate takes a pandas or polars DataFrame or a pyarrow Table. "
            f"Got {type(data).__name__} instead."
        )
    if not frame.columns.is_unique:
        dup = frame.columns[frame.columns.duplicated()][0]
        raise InvalidArgumentError(f"The table has the column name {dup!r} more than once.")
    return frame


def logical_type(series: pd.Series) -> str | None:
    """The logical type (docs/datasets.md) of a column; None when it holds only nulls."""
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return logical_type(pd.Series(dtype.categories))
    if isinstance(dtype, pd.StringDtype):
        return "string"
    if isinstance(dtype, pd.ArrowDtype):
        return _arrow_type(dtype.pyarrow_dtype)
    kinds = {"i": "integer", "u": "integer", "f": "float", "b": "boolean", "M": "datetime",
             "m": "duration", "S": "binary"}  # fmt: skip
    if dtype.kind in kinds:
        return kinds[dtype.kind]
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return None if inferred == "empty" else _INFERRED.get(inferred, inferred)


def _arrow_type(arrow: Any) -> str | None:
    import pyarrow as pa

    if pa.types.is_dictionary(arrow):
        arrow = arrow.value_type
    for kind, test in (
        ("integer", pa.types.is_integer), ("float", pa.types.is_floating),
        ("boolean", pa.types.is_boolean), ("datetime", pa.types.is_timestamp),
        ("date", pa.types.is_date), ("duration", pa.types.is_duration),
        ("decimal", pa.types.is_decimal), ("binary", pa.types.is_binary),
        ("binary", pa.types.is_large_binary), ("string", pa.types.is_string),
        ("string", pa.types.is_large_string), ("string", pa.types.is_string_view),
    ):  # fmt: skip
        if test(arrow):
            return kind
    return None if pa.types.is_null(arrow) else str(arrow)
