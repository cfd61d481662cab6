"""The shared part of the SQL stores: engine, transactions, dialect helpers, row mapping."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from loopline.entities import (
    LifecycleStage,
    RunInfo,
    RunStatus,
    ViewType,
)
from loopline.errors import NotFoundError, StorageError
from loopline.store.engine import open_engine

__all__ = [
    "MetricTuple",
    "SqlStoreBase",
    "chunks",
    "experiment_int",
    "lifecycle_filter",
    "run_info_from_row",
    "storage_errors",
]

_IN_CHUNK = 500
MetricTuple = tuple[str, float, int, int]  # key, value, timestamp, step


def chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lifecycle_filter(column: Any, view: ViewType) -> Any:
    if view is ViewType.ACTIVE_ONLY:
        return column == LifecycleStage.ACTIVE.value
    if view is ViewType.DELETED_ONLY:
        return column == LifecycleStage.DELETED.value
    return True


class SqlStoreBase:
    """An engine for a database URL and the transactions every table group uses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = open_engine(url)
        self.dialect = self.engine.dialect.name
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        self._metric_insert_sql = (
            "INSERT INTO metrics (run_id, key, value, is_nan, step, timestamp) "
            f"VALUES ({', '.join([mark] * 6)})"
        )

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with (
            storage_errors(),
            self.engine.connect().execution_options(loopline_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with storage_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    def _insert(self) -> Any:
        """The dialect's INSERT, which has ``on_conflict_do_update`` on both databases."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert
        from sqlalchemy.dialects import sqlite

        return sqlite.insert


@contextmanager
def storage_errors() -> Iterator[None]:
    """Database outages become StorageError; loopline errors raised inside pass through."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise StorageError(f"The metadata store failed: {exc.orig or exc}") from None


def run_info_from_row(row: Any) -> RunInfo:
    run_id, experiment_id, name, status, start, end, stage, parent, uri, user = row
    return RunInfo(
        run_id=run_id,
        experiment_id=str(experiment_id),
        run_name=name,
        status=RunStatus(status),
        start_time=start,
        end_time=end,
        lifecycle_stage=LifecycleStage(stage),
        artifact_uri=uri,
        parent_run_id=parent,
        user_id=user,
    )


def experiment_int(experiment_id: str) -> int:
    try:
        value = int(experiment_id)
    except (TypeError, ValueError):
        raise NotFoundError(
            f"No experiment with id {experiment_id!r}.", experiment_id=experiment_id
        ) from None
    if not 0 <= value < 2**63:
        raise NotFoundError(
            f"No experiment with id {experiment_id!r}.", experiment_id=experiment_id
        )
    return value
