"""Where rows come from and go to: Parquet, CSV, SQL tables and queries, in-memory tables.

SQL is named in one of two ways:

- a string ``sql://<SQLAlchemy URL>`` with ``table=<name>`` (or, for inputs, ``query=<SELECT
  ...>``, URL-encoded) in its query string, for example
  ``sql://postgresql://me@db/shop?table=customers`` or ``sql://sqlite:///shop.db?table=t``;
  the other query parameters stay with the database URL;
- a pair ``(url, table_or_query)``: text starting with ``SELECT`` or ``WITH`` is a query,
  anything else a table name.

Examples:
    >>> parse_sql("sql://sqlite:///shop.db?table=customers")
    SqlTarget(url='sqlite:///shop.db', table='customers', query=None)
    >>> parse_sql(("postgresql://me@db/shop", "select * from t where x > 1")).query
    'select * from t where x > 1'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from loopline.errors import InvalidArgumentError, NotFoundError

__all__ = ["SqlTarget", "is_sql", "open_input", "parse_sql"]

_QUERY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SqlTarget:
    """A SQL table (read or written) or a query (read), at a SQLAlchemy URL."""

    url: str
    table: str | None = None
    query: str | None = None

    def describe(self) -> str:
        from sqlalchemy.engine import make_url

        try:
            url = make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            url = "<url>"
        return f"{url} ({'table ' + self.table if self.table else 'query'})"


def is_sql(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith("sql://")
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)


def parse_sql(value: Any) -> SqlTarget:
    """A :class:`SqlTarget` from ``sql://URL?table=...`` or a ``(url, table_or_query)`` pair."""
    if isinstance(value, tuple):
        url, what = value
        if _QUERY.match(what):
            return SqlTarget(url, query=what)
        return SqlTarget(url, table=what)
    rest = value.removeprefix("sql://")
    base, _, query = rest.partition("?")
    params = parse_qsl(query, keep_blank_values=True)
    table = next((v for k, v in params if k == "table"), None)
    sql = next((v for k, v in params if k == "query"), None)
    others = [(k, v) for k, v in params if k not in ("table", "query")]
    url = base + ("?" + urlencode(others) if others else "")
    if "://" not in base or (table is None) == (sql is None):
        raise InvalidArgumentError(
            "A SQL source or destination is 'sql://<database URL>?table=<name>' (or "
            f"'?query=<SELECT ...>' for inputs). Got {value!r} instead.",
            field="input",
        )
    return SqlTarget(url, table=table, query=sql)


def _engine(target: SqlTarget) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        return create_engine(target.url)
    except (ArgumentError, NoSuchModuleError, ModuleNotFoundError) as exc:
        raise InvalidArgumentError(
            f"Cannot use the database URL of {target.describe()}: {exc}", field="url"
        ) from None


def _sql_batches(target: SqlTarget, chunk_size: int) -> Iterator[Any]:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    engine = _engine(target)
    query = target.query or f"SELECT * FROM {_quoted(engine, target.table or '')}"
    try:
        if engine.dialect.name == "sqlite":
            # An open SQLite read holds a lock that would block writing the output to the
            # same file: SQLite inputs (local files) are read whole, then the file is let go.
            with engine.connect() as conn:
                result = conn.execute(text(query))
                names, rows = list(result.keys()), result.fetchall()
            for start in range(0, len(rows), chunk_size):
                yield _rows_table(names, rows[start : start + chunk_size])
            return
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(text(query))
            names = list(result.keys())
            for part in result.partitions(chunk_size):
                yield _rows_table(names, part)
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise InvalidArgumentError(
            f"Reading {target.describe()} failed: {detail}", field="input"
        ) from None
    finally:
        engine.dispose()


def _rows_table(names: list[str], rows: Any) -> Any:
    import pyarrow as pa

    values: list[Any] = list(zip(*rows, strict=True))
    return pa.table({n: pa.array(list(v)) for n, v in zip(names, values, strict=True)})


def _quoted(engine: Any, name: str) -> str:
    preparer = engine.dialect.identifier_preparer
    return ".".join(preparer.quote(part) for part in name.split("."))


def _rechunk(batches: Iterator[Any], chunk_size: int) -> Iterator[Any]:
    """Tables of exactly ``chunk_size`` rows (the last may be shorter) from any batches."""
    import pyarrow as pa

    pending: list[Any] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        while held >= chunk_size:
            table = pa.Table.from_batches(pending) if pending else None
            assert table is not None
            yield table.slice(0, chunk_size).combine_chunks()
            rest = table.slice(chunk_size)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending).combine_chunks()


def open_input(source: Any, chunk_size: int) -> tuple[Iterator[Any], int | None, str]:
    """Chunks of ``source`` as Arrow tables, the row count when known, and a description."""
    import pyarrow as pa

    if is_sql(source):
        target = parse_sql(source)
        return _sql_batches(target, chunk_size), None, target.describe()
    module = type(source).__module__.split(".")[0]
    if module == "pandas" and type(source).__name__ == "DataFrame":
        from loopline.data.sources import read_source

        source = read_source(source)
    elif module == "polars" and type(source).__name__ == "DataFrame":
        source = source.to_arrow()
    if isinstance(source, pa.RecordBatch):
        source = pa.Table.from_batches([source])
    if isinstance(source, pa.Table):
        chunks = (source.slice(i, chunk_size) for i in range(0, source.num_rows, chunk_size))
        return chunks, source.num_rows, "a table"
    if not isinstance(source, str | Path):
        raise InvalidArgumentError(
            "The input must be a Parquet file or folder, a CSV file, 'sql://<url>?table=...', "
            f"a (url, query) pair, a DataFrame or an Arrow table. Got {type(source).__name__}.",
            field="input",
        )
    path = Path(source)
    if not path.exists():
        raise NotFoundError(f"The input {str(path)!r} does not exist.", field="input")
    if path.suffix.lower() in (".csv", ".tsv") or str(path).lower().endswith(".csv.gz"):
        return _csv(path, chunk_size), None, str(path)
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(str(path), format="parquet")
        total = dataset.count_rows()
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidArgumentError(
            f"The input {str(path)!r} is not a Parquet file or folder (nor a .csv): {exc}",
            field="input",
        ) from None
    batches = dataset.to_batches(batch_size=chunk_size)
    return _rechunk(iter(batches), chunk_size), total, str(path)


def _csv(path: Path, chunk_size: int) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.csv as csv

    options = csv.ParseOptions(delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    try:
        reader = csv.open_csv(
            str(path), read_options=csv.ReadOptions(block_size=16 << 20), parse_options=options
        )
    except pa.ArrowInvalid as exc:
        raise InvalidArgumentError(f"The CSV {str(path)!r} cannot be read: {exc}") from None

    def batches() -> Iterator[Any]:
        try:
            yield from reader
        except pa.ArrowInvalid as exc:
            raise InvalidArgumentError(f"The CSV {str(path)!r} cannot be read: {exc}") from None

    return _rechunk(batches(), chunk_size)
