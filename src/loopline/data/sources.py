"""Reading a dataset source into one Arrow table.

Sources: a pandas DataFrame (pandas 2 and 3), a polars DataFrame, a pyarrow Table, a Parquet or CSV
file or a folder of them, and a SQL query against a SQLAlchemy URL (:class:`SqlQuery`). Every
problem is an :class:`~loopline.errors.InvalidArgumentError` (or NotFoundError for a missing
path) that names the source and what is wrong with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopline.errors import InvalidArgumentError, MissingDependencyError, NotFoundError

__all__ = ["SqlQuery", "describe_source", "read_source"]


@dataclass(frozen=True, slots=True)
class SqlQuery:
    """A SQL query to run against a SQLAlchemy URL, as a dataset source."""

    url: str
    query: str

    def __repr__(self) -> str:
        return f"SqlQuery(url={_redact(self.url)!r}, query={self.query[:60]!r})"


def _redact(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<url>"


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise MissingDependencyError(
            "Datasets need pyarrow and pandas: pip install 'loopline[data]'."
        ) from None
    return pyarrow


def describe_source(source: Any) -> str:
    """A short, password-free description of where a version's data came from."""
    if isinstance(source, SqlQuery):
        return f"sql:{_redact(source.url)}:{source.query[:200]}"
    if isinstance(source, str | os.PathLike):
        return f"file:{Path(source).absolute()}"
    kind = type(source)
    return f"{kind.__module__.split('.')[0]}.{kind.__name__}"


def read_source(source: Any) -> Any:
    """The source as a ``pyarrow.Table`` (not yet canonical)."""
    pa = _pyarrow()
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, SqlQuery):
        return _read_sql(source)
    if isinstance(source, str | os.PathLike):
        return _read_path(Path(source))
    module = type(source).__module__.split(".")[0]
    if module == "pandas" and type(source).__name__ == "DataFrame":
        return _from_pandas(source)
    if module == "polars" and type(source).__name__ == "DataFrame":
        return source.to_arrow()
    raise InvalidArgumentError(
        "A dataset source must be a pandas or polars DataFrame, a pyarrow Table, a path to a "
        f"Parquet or CSV file or folder, or loopline.data.sql(url, query); got "
        f"{type(source).__name__}.",
        field="source",
    )


def _from_pandas(frame: Any) -> Any:
    pa = _pyarrow()
    names = [str(c) for c in frame.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidArgumentError(
            f"The DataFrame has duplicate column names: {duplicated}; every column needs its "
            "own name.",
            field="source",
        )
    if names != list(frame.columns):
        frame = frame.set_axis(names, axis=1)
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        for name in names:
            try:
                pa.array(frame[name], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
                kinds = sorted({type(v).__name__ for v in frame[name].dropna().head(1000)})
                raise InvalidArgumentError(
                    f"Column {name!r} mixes values of types {kinds} (or holds a type a table "
                    f"cannot store): {exc}. Convert it to one type first.",
                    field="source",
                    column=name,
                ) from None
        raise


def _read_path(path: Path) -> Any:
    if not path.exists():
        raise NotFoundError(f"The dataset source {str(path)!r} does not exist.", path=str(path))
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    kinds = {_kind(p) for p in files} - {None}
    if not files or not kinds:
        raise InvalidArgumentError(
            f"{str(path)!r} holds no Parquet (.parquet) or CSV (.csv) file.", field="source"
        )
    if len(kinds) > 1:
        raise InvalidArgumentError(
            f"The folder {str(path)!r} mixes Parquet and CSV files; use one format.",
            field="source",
        )
    kind = str(kinds.pop())
    tables = [_read_file(p, kind) for p in files if _kind(p) == kind]
    return _concat(tables, path)


def _kind(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if ".parquet" in suffixes or ".pq" in suffixes:
        return "parquet"
    if ".csv" in suffixes:
        return "csv"
    return None


def _read_file(path: Path, kind: str) -> Any:
    pa = _pyarrow()
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(path)
        # pyarrow types a column that is not valid UTF-8 as binary instead of failing.
        broken = [f.name for f in table.schema if pa.types.is_binary(f.type)]
        if broken:
            raise InvalidArgumentError(
                f"{str(path)!r} is not valid UTF-8 text (columns {broken}); re-encode it as "
                "UTF-8 first (for example: iconv -f latin1 -t utf-8).",
                field="source",
            )
        return table
    except pa.ArrowInvalid as exc:
        text = str(exc)
        if "UTF8" in text or "utf8" in text.lower() or "utf-8" in text.lower():
            raise InvalidArgumentError(
                f"{str(path)!r} is not valid UTF-8 text; re-encode it as UTF-8 first "
                f"(for example: iconv -f latin1 -t utf-8). Detail: {text}",
                field="source",
            ) from None
        raise InvalidArgumentError(f"Could not read {str(path)!r} as {kind}: {text}") from None
    except OSError as exc:
        raise InvalidArgumentError(f"Could not read {str(path)!r} as {kind}: {exc}") from None


def _concat(tables: list[Any], path: Path) -> Any:
    pa = _pyarrow()
    if len(tables) == 1:
        return tables[0]
    first = tables[0].schema.names
    for table in tables[1:]:
        if table.schema.names != first:
            raise InvalidArgumentError(
                f"The files under {str(path)!r} do not share one set of columns: {first} vs "
                f"{table.schema.names}.",
                field="source",
            )
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidArgumentError(
            f"The files under {str(path)!r} have columns of clashing types: {exc}", field="source"
        ) from None


def _read_sql(source: SqlQuery) -> Any:
    import pandas as pd
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        engine = create_engine(source.url)
    except (ArgumentError, ModuleNotFoundError) as exc:
        raise InvalidArgumentError(
            f"Cannot connect to {_redact(source.url)}: {exc}", field="source"
        ) from None
    try:
        with engine.connect() as conn:
            result = conn.execute(text(source.query))
            columns = list(result.keys())
            frame = pd.DataFrame.from_records(result.fetchall(), columns=columns)
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise InvalidArgumentError(
            f"The query against {_redact(source.url)} failed: {detail}", field="source"
        ) from None
    finally:
        engine.dispose()
    return _from_pandas(frame)
