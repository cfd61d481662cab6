"""The canonical form of a table, and its content digest.

Canonical types make the same data read from different sources identical (int32 from a CSV and
int64 from pandas are both ``int64``; a float NaN is a null). The digest covers every row: it
hashes each row over its columns in name order, sorts the row hashes and takes sha256 of them and
of the canonical schema, so neither row order nor column order changes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from loopline.errors import InvalidArgumentError

__all__ = ["canonicalize", "content_digest", "logical_type"]

_HASH_KEY = "loopline-digest1"  # 16 bytes: the siphash key for text values
_MIX = 0x9E3779B97F4A7C15
_NULL = 0x5BD1E9955BD1E995


def logical_type(arrow_type: Any) -> str:
    """The logical type (docs/datasets.md) of a canonical Arrow type."""
    import pyarrow as pa

    t = pa.types
    checks = (
        (t.is_boolean, "boolean"), (t.is_integer, "integer"), (t.is_floating, "float"),
        (t.is_large_string, "string"), (t.is_timestamp, "datetime"), (t.is_date, "date"),
        (t.is_duration, "duration"), (t.is_decimal, "decimal"), (t.is_large_binary, "binary"),
    )  # fmt: skip
    for check, name in checks:
        if check(arrow_type):
            return name
    raise InvalidArgumentError(f"Unsupported column type {arrow_type}.")


def _canonical_type(name: str, arrow_type: Any) -> Any:
    import pyarrow as pa

    t = pa.types
    if t.is_dictionary(arrow_type):
        return _canonical_type(name, arrow_type.value_type)
    if t.is_null(arrow_type) or t.is_string(arrow_type) or t.is_large_string(arrow_type):
        return pa.large_string()
    if t.is_string_view(arrow_type):
        return pa.large_string()
    if t.is_boolean(arrow_type):
        return pa.bool_()
    if t.is_integer(arrow_type):
        return pa.uint64() if arrow_type == pa.uint64() else pa.int64()
    if t.is_floating(arrow_type):
        return pa.float64()
    if t.is_timestamp(arrow_type):
        return pa.timestamp("us", tz=arrow_type.tz)
    if t.is_date(arrow_type):
        return pa.date32()
    if t.is_duration(arrow_type):
        return pa.duration("us")
    if t.is_decimal(arrow_type):
        return arrow_type
    if (
        t.is_binary(arrow_type)
        or t.is_large_binary(arrow_type)
        or t.is_fixed_size_binary(arrow_type)
    ):
        return pa.large_binary()
    raise InvalidArgumentError(
        f"Column {name!r} has type {arrow_type}, which a dataset cannot hold (nested values such "
        "as lists, structs and maps are not supported); flatten or serialise it first.",
        field="source",
        column=name,
    )


def canonicalize(table: Any) -> Any:
    """The table with canonical column types; refuses empty tables and duplicate names."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = table.column_names
    if not names:
        raise InvalidArgumentError("The table has no columns.", field="source")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidArgumentError(
            f"The table has duplicate column names: {duplicated}.", field="source"
        )
    if any(not n or not n.strip() for n in names):
        raise InvalidArgumentError("The table has a column with an empty name.", field="source")
    if table.num_rows == 0:
        raise InvalidArgumentError(
            "The table is empty (0 rows); a dataset version needs at least one row.",
            field="source",
        )
    columns = []
    for name, column in zip(names, table.columns, strict=True):
        target = _canonical_type(name, column.type)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if column.type != target:
            try:
                column = column.cast(target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InvalidArgumentError(
                    f"Column {name!r} cannot be stored as {target}: {exc}", column=name
                ) from None
        if pa.types.is_floating(target) and column.null_count < len(column):
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, target), column)
        columns.append(column.combine_chunks() if column.num_chunks != 1 else column)
    return pa.table(columns, names=names)


def _splitmix(values: Any) -> Any:
    import numpy as np

    x = values.astype(np.uint64, copy=True)
    x += np.uint64(_MIX)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _column_hashes(column: Any) -> Any:
    """One uint64 per row; nulls hash to a constant that no value maps to by design."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from pandas.util import hash_array

    kind = column.type
    if (
        pa.types.is_large_string(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_decimal(kind)
    ):
        source = column if not pa.types.is_decimal(kind) else column.cast(pa.large_string())
        encoded = pc.dictionary_encode(source).combine_chunks()
        values = encoded.dictionary.to_numpy(zero_copy_only=False)
        if pa.types.is_large_binary(kind):
            values = np.array([bytes(v).hex() for v in values], dtype=object)
        per_value = hash_array(values, hash_key=_HASH_KEY, categorize=False)
        indices = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)
        hashes = per_value[indices] if len(per_value) else np.zeros(len(column), np.uint64)
    else:
        if pa.types.is_floating(kind):
            raw = column.fill_null(0.0).to_numpy(zero_copy_only=False).view(np.uint64)
        elif pa.types.is_boolean(kind):
            raw = column.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint64)
        else:
            storage = pa.int64() if not pa.types.is_date(kind) else pa.int32()
            if kind == pa.uint64():
                storage = pa.uint64()
            raw = column.cast(storage).fill_null(0).to_numpy(zero_copy_only=False)
            raw = raw.astype(np.int64, copy=False).view(np.uint64)
        hashes = _splitmix(raw)
    if column.null_count:
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        hashes = np.where(nulls, np.uint64(_NULL), hashes)
    return hashes


def content_digest(table: Any) -> str:
    """``sha256:`` of the canonical schema and the sorted row hashes (see module docstring)."""
    import numpy as np

    order = sorted(table.column_names)
    schema = [[name, str(table.schema.field(name).type)] for name in order]
    rows = np.zeros(table.num_rows, dtype=np.uint64)
    for position, name in enumerate(order):
        column = _column_hashes(table.column(name))
        rows = _splitmix(rows ^ column ^ np.uint64(position))
    rows.sort()
    hasher = hashlib.sha256(json.dumps(schema, separators=(",", ":")).encode())
    hasher.update(rows.tobytes())
    return f"sha256:{hasher.hexdigest()}"
