"""Typed prediction segments: ``inputs``, ``outputs`` and ``decision`` as struct columns.

Bulk scoring writes its chunks as *typed* segments (``part-<id>-typed.arrow``, Arrow IPC files
with LZ4-compressed buffers; ``part-<id>-typed.parquet`` from earlier versions is read too): the
three payload columns hold one struct per row (a field per input column, per output, per decision
field) instead of JSON text, so a run spends no time encoding JSON. Every read turns them back
into the documented shape, JSON text with the same keys as a record the server logs (NaN and
infinities as null), so a window mixing journals, JSON segments and typed segments reads as one.

A payload column may also be plain text (``{}`` for a chunk without input columns) or all null
(no decision); both are read as text.

Examples:
    >>> import pyarrow as pa
    >>> encode_json({"x": pa.table({"a": [1, 2], "b": ["u", None]})})["x"].to_pylist()
    ['{"a":1,"b":"u"}', '{"a":2,"b":null}']
"""

from __future__ import annotations

from typing import Any

from loopline.eventlog.schema import require_pyarrow, stored

__all__ = [
    "PAYLOADS", "TYPED_PARQUET_SUFFIX", "TYPED_SUFFIX", "encode_json", "is_typed",
    "segment_format", "to_json_payloads",
]  # fmt: skip

TYPED_SUFFIX = "-typed.arrow"
"""How the file name of a typed segment ends (an Arrow IPC file)."""

TYPED_PARQUET_SUFFIX = "-typed.parquet"
"""How a typed segment written as Parquet (before Arrow IPC) ends; still read."""

PAYLOADS = ("inputs", "outputs", "decision")
"""The prediction columns a typed segment may hold as structs."""


def is_typed(name: str) -> bool:
    """Whether the segment file ``name`` is a typed segment.

    Examples:
        >>> [is_typed(f"part-1{end}") for end in ("-typed.arrow", "-typed.parquet", ".parquet")]
        [True, True, False]
    """
    return name.endswith((TYPED_SUFFIX, TYPED_PARQUET_SUFFIX))


def segment_format(name: str) -> str:
    """The ``pyarrow.dataset`` format of the segment file ``name``: ``ipc`` or ``parquet``."""
    return "ipc" if name.endswith(".arrow") else "parquet"


def _polars() -> Any:
    try:
        import polars
    except ImportError:
        return None
    return polars


def _struct(table: Any) -> Any:
    pa = require_pyarrow()
    columns = [table.column(i) for i in range(table.num_columns)]
    return pa.StructArray.from_arrays(
        [c.chunk(0) if c.num_chunks == 1 else c.combine_chunks() for c in columns],
        names=table.column_names,
    )


def encode_json(tables: dict[str, Any]) -> dict[str, Any]:
    """Per name, one JSON object per row of its Arrow table (keys in column order).

    With polars (``loopline[polars]``) all of them are encoded in one ``select`` on polars'
    own threads; without it, row by row. The result may be ``string_view``.
    """
    pa = require_pyarrow()
    pl = _polars()
    if pl is None:
        return {name: _json_rows(table) for name, table in tables.items()}
    n = next(iter(tables.values())).num_rows
    structs = {name: _struct(t) for name, t in tables.items() if t.num_columns}
    out = {name: pa.repeat(pa.scalar("{}"), n) for name in tables if name not in structs}
    if structs:
        frame = pl.from_arrow(pa.table(structs), rechunk=False)
        assert isinstance(frame, pl.DataFrame)
        encoded = frame.select([pl.col(name).struct.json_encode() for name in structs])
        for name in structs:
            out[name] = encoded.get_column(name).to_arrow(compat_level=pl.CompatLevel.newest())
    return out


def _json_rows(table: Any) -> Any:
    pa = require_pyarrow()
    from loopline.eventlog.encode import to_json_text

    n = table.num_rows
    if table.num_columns == 0:
        return pa.repeat(pa.scalar("{}"), n)
    names = table.column_names
    columns = [_plain(table.column(c)) for c in names]
    return pa.array(
        [to_json_text(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)],
        pa.string(),
    )


def _plain(column: Any) -> list[Any]:
    pa = require_pyarrow()
    kind = column.type
    if pa.types.is_temporal(kind) or pa.types.is_decimal(kind):
        column = column.cast(pa.string())
    return list(column.to_pylist())


def to_json_payloads(table: Any) -> Any:
    """``table`` (a read of a typed segment) with its struct payload columns as JSON text,
    cast to the stored schema of predictions."""
    pa = require_pyarrow()
    text = pa.string()
    structs: dict[str, Any] = {}
    for name in PAYLOADS:
        column = table.column(name)
        if pa.types.is_struct(column.type):
            if column.num_chunks == 0:
                column = pa.chunked_array([], column.type)
            flat = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
            structs[name] = pa.Table.from_struct_array(flat)
    if structs and table.num_rows:
        encoded = encode_json(structs)
    else:
        encoded = {name: pa.nulls(0, text) for name in structs}
    for name, values in encoded.items():
        index = table.column_names.index(name)
        table = table.set_column(index, name, pa.chunked_array([values]).cast(text))
    schema = stored("predictions")
    return table.select(schema.names).cast(schema)
