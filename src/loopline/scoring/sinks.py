"""Where scored rows go: a Parquet file, a Parquet folder (one part per chunk), a SQL table, or
memory (the scored table is returned).

A destination that already exists is refused unless ``overwrite=True``; it is then replaced
only once the run has finished (files and folders are written under a hidden name first, a SQL
table is replaced when the first chunk arrives). SQL tables are created from the output's
columns; list and struct columns (the ranked next best actions, the outlier features) are
stored as JSON text there. PostgreSQL is
loaded with ``COPY`` (CSV written by Arrow), other databases with batched inserts.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from loopline.errors import AlreadyExistsError, InvalidArgumentError
from loopline.scoring.sources import SqlTarget, _engine, is_sql, parse_sql

__all__ = ["Sink", "open_output"]


class Sink:
    """Collects the output tables of a run, chunk by chunk, in input order."""

    description = "memory"

    def __init__(self) -> None:
        self.tables: list[Any] = []

    def write(self, table: Any) -> None:
        self.tables.append(table)

    def close(self) -> Any:
        import pyarrow as pa

        if not self.tables:
            return None
        return pa.concat_tables(self.tables, promote_options="permissive")

    def abort(self) -> None:
        self.tables.clear()


def _dictionary(table: Any) -> list[str]:
    """The columns worth dictionary-encoding: text ones, not the unique prediction ids.

    Numbers (features, probabilities) rarely repeat: trying a dictionary on them first cost
    about a third of the writing time.
    """
    import pyarrow as pa

    kinds = (pa.types.is_string, pa.types.is_large_string, pa.types.is_dictionary)
    return [
        f.name
        for f in table.schema
        if f.name != "prediction_id" and any(kind(f.type) for kind in kinds)
    ]


def _statistics(table: Any) -> list[str]:
    """The columns given min/max statistics: all but text and nested ones.

    Min/max of 100,000 random prediction ids and of text columns cost a third of the writing
    time and prune nothing useful in a file that is read whole.
    """
    import pyarrow as pa

    return [
        f.name
        for f in table.schema
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                or pa.types.is_dictionary(f.type) or pa.types.is_nested(f.type))
    ]  # fmt: skip


_CODEC = "snappy"
"""Parquet output codec: Parquet's default, read by every engine; zstd's smaller files cost ~30%
more writing time on scored chunks (random ids and probabilities barely compress)."""


class ParquetFile(Sink):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.description = str(path)
        self._tmp = path.with_name(f".{path.name}.partial")
        self._writer: Any = None

    def write(self, table: Any) -> None:
        import pyarrow.parquet as pq

        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self._tmp, table.schema, compression=_CODEC, use_dictionary=_dictionary(table),
                write_statistics=_statistics(table),
            )  # fmt: skip
        self._writer.write_table(table.cast(self._writer.schema))

    def close(self) -> Any:
        if self._writer is not None:
            self._writer.close()
            self._tmp.replace(self.path)
        return None

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._tmp.unlink(missing_ok=True)


class ParquetFolder(Sink):
    """One part per chunk in a hidden sibling folder, moved into place when the run ends."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.description = str(path)
        self.count = 0
        self._tmp = path.with_name(f".{path.name}.partial")

    def write(self, table: Any) -> None:
        import pyarrow.parquet as pq

        self._tmp.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            table,
            self._tmp / f"part-{self.count:05d}.parquet",
            compression=_CODEC,
            use_dictionary=_dictionary(table),
            write_statistics=_statistics(table),
        )
        self.count += 1

    def close(self) -> Any:
        if self.count:
            if self.path.exists():  # overwrite=True: replaced only by a finished run
                shutil.rmtree(self.path)
            self._tmp.replace(self.path)
        return None

    def abort(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


class SqlTable(Sink):
    def __init__(self, target: SqlTarget, *, overwrite: bool) -> None:
        super().__init__()
        if target.table is None:
            raise InvalidArgumentError(
                "A SQL output names a table ('sql://<url>?table=<name>'), not a query.",
                field="output",
            )
        self.target = target
        self.description = target.describe()
        self.engine = _engine(target)
        self.overwrite = overwrite
        self._table: Any = None
        self._checked = False

    def _check(self) -> None:
        from sqlalchemy import inspect

        schema, _, name = (self.target.table or "").rpartition(".")
        exists = inspect(self.engine).has_table(name, schema=schema or None)
        if exists and not self.overwrite:
            raise AlreadyExistsError(
                f"The output table {self.description} exists; pass overwrite=True "
                "(--overwrite) to replace it.",
                field="output",
            )
        self._checked = True

    def _create(self, table: Any) -> None:
        import pyarrow as pa
        import sqlalchemy as sa

        schema, _, name = (self.target.table or "").rpartition(".")
        kinds = []
        for field in table.schema:
            t = field.type
            if pa.types.is_boolean(t):
                kind: Any = sa.Boolean()
            elif pa.types.is_integer(t):
                kind = sa.BigInteger()
            elif pa.types.is_floating(t):
                kind = sa.Float(precision=53)
            elif pa.types.is_timestamp(t):
                kind = sa.DateTime(timezone=t.tz is not None)
            else:
                kind = sa.Text()
            kinds.append(sa.Column(field.name, kind))
        self._table = sa.Table(name, sa.MetaData(schema=schema or None), *kinds)
        with self.engine.begin() as conn:
            self._table.drop(conn, checkfirst=True)
            self._table.create(conn)

    def write(self, table: Any) -> None:
        if not self._checked:
            self._check()
        table = _flat(table)
        if self._table is None:
            self._create(table)
        if self.engine.dialect.name == "postgresql":
            self._copy(table)
            return
        columns = [table.column(n).to_pylist() for n in table.column_names]
        rows = [dict(zip(table.column_names, r, strict=True)) for r in zip(*columns, strict=True)]
        with self.engine.begin() as conn:
            conn.execute(self._table.insert(), rows)

    def _copy(self, table: Any) -> None:
        import pyarrow as pa
        import pyarrow.csv as csv

        sink = pa.BufferOutputStream()
        csv.write_csv(table, sink, csv.WriteOptions(include_header=False, quoting_style="needed"))
        names = ", ".join(
            self.engine.dialect.identifier_preparer.quote(n) for n in table.column_names
        )
        target = self._table.fullname
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            with cursor.copy(f"COPY {target} ({names}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(sink.getvalue().to_pybytes())
            conn.commit()
        finally:
            conn.close()

    def close(self) -> Any:
        self.engine.dispose()
        return None

    def abort(self) -> None:
        self.engine.dispose()


def _flat(table: Any) -> Any:
    """Nested columns (lists, structs) as JSON text, for a SQL table."""
    import pyarrow as pa

    for i, field in enumerate(table.schema):
        if pa.types.is_nested(field.type):
            values = [None if v is None else json.dumps(v) for v in table.column(i).to_pylist()]
            table = table.set_column(i, field.name, pa.array(values, pa.string()))
    return table


def open_output(output: Any, *, overwrite: bool = False) -> Sink:
    """The sink for ``output``: None (memory), a ``.parquet`` file, a folder, or SQL."""
    if output is None:
        return Sink()
    if is_sql(output):
        return SqlTable(parse_sql(output), overwrite=overwrite)
    if not isinstance(output, str | Path):
        raise InvalidArgumentError(
            "The output must be None, a Parquet file or folder path, or "
            f"'sql://<url>?table=<name>'. Got {type(output).__name__} instead.",
            field="output",
        )
    path = Path(output)
    if path.exists():
        if not overwrite:
            raise AlreadyExistsError(
                f"The output {str(path)!r} exists; pass overwrite=True (--overwrite) to "
                "replace it.",
                field="output",
            )
        if path.suffix.lower() == ".parquet" and path.is_dir():
            raise InvalidArgumentError(
                f"The output {str(path)!r} is a folder; a .parquet output is one file.",
                field="output",
            )
    if path.suffix.lower() == ".parquet":
        path.parent.mkdir(parents=True, exist_ok=True)
        return ParquetFile(path)
    return ParquetFolder(path)
