"""The SQL tracking store: experiments, runs, params, metrics, tags and artifact records.

One implementation for SQLite and PostgreSQL. Methods take and return entities; rows stay here.
Business rules (name checks, lifecycle rules) live in ``loopline.tracking``; this module keeps the
rules that need the database to be atomic (a param is written once; the latest metric wins).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from loopline.entities import (
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    ViewType,
)
from loopline.errors import AlreadyExistsError, ConflictError, NotFoundError, StorageError
from loopline.store import search
from loopline.store.engine import open_engine
from loopline.store.schema import (
    ArtifactRow,
    ExperimentRow,
    ExperimentTagRow,
    LatestMetricRow,
    MetricRow,
    ParamRow,
    RunRow,
    TagRow,
)

__all__ = ["SqlTrackingStore"]

_IN_CHUNK = 500
MetricTuple = tuple[str, float, int, int]  # key, value, timestamp, step


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lifecycle_filter(column: Any, view: ViewType) -> Any:
    if view is ViewType.ACTIVE_ONLY:
        return column == LifecycleStage.ACTIVE.value
    if view is ViewType.DELETED_ONLY:
        return column == LifecycleStage.DELETED.value
    return True


class SqlTrackingStore:
    """Tracking metadata in a SQL database chosen by URL."""

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
            _storage_errors(),
            self.engine.connect().execution_options(loopline_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with _storage_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    def _insert(self) -> Any:
        """The dialect's INSERT, which has ``on_conflict_do_update`` on both databases."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert
        from sqlalchemy.dialects import sqlite

        return sqlite.insert

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(
        self, name: str, *, artifact_root: str, tags: dict[str, str], now: int
    ) -> str:
        with self._write() as conn:
            exists = conn.execute(
                select(ExperimentRow.experiment_id).where(ExperimentRow.name == name)
            ).first()
            if exists is not None:
                raise AlreadyExistsError(
                    f"An experiment named {name!r} already exists (id {exists[0]}).", name=name
                )
            try:
                with conn.begin_nested():
                    experiment_id = conn.execute(
                        insert(ExperimentRow).values(
                            name=name,
                            artifact_location="",
                            lifecycle_stage=LifecycleStage.ACTIVE.value,
                            creation_time=now,
                            last_update_time=now,
                        )
                    ).inserted_primary_key[0]  # type: ignore[index]
            except IntegrityError:
                raise AlreadyExistsError(
                    f"An experiment named {name!r} already exists.", name=name
                ) from None
            conn.execute(
                update(ExperimentRow)
                .where(ExperimentRow.experiment_id == experiment_id)
                .values(artifact_location=f"{artifact_root}/{experiment_id}")
            )
            self._set_experiment_tags(conn, int(experiment_id), tags)
        return str(experiment_id)

    def _set_experiment_tags(
        self, conn: Connection, experiment_id: int, tags: dict[str, str]
    ) -> None:
        if not tags:
            return
        stmt = self._insert()(ExperimentTagRow)
        stmt = stmt.on_conflict_do_update(
            index_elements=["experiment_id", "key"], set_={"value": stmt.excluded.value}
        )
        conn.execute(
            stmt, [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in tags.items()]
        )

    def _experiments(self, conn: Connection, where: Any) -> list[Experiment]:
        rows = conn.execute(
            select(
                ExperimentRow.experiment_id,
                ExperimentRow.name,
                ExperimentRow.artifact_location,
                ExperimentRow.lifecycle_stage,
                ExperimentRow.creation_time,
                ExperimentRow.last_update_time,
            )
            .where(where)
            .order_by(ExperimentRow.experiment_id)
        ).all()
        if not rows:
            return []
        tags: dict[int, dict[str, str]] = {row[0]: {} for row in rows}
        for chunk in _chunks(list(tags)):
            for eid, key, value in conn.execute(
                select(
                    ExperimentTagRow.experiment_id, ExperimentTagRow.key, ExperimentTagRow.value
                ).where(ExperimentTagRow.experiment_id.in_(chunk))
            ):
                tags[eid][key] = value
        return [
            Experiment(
                experiment_id=str(eid),
                name=name,
                artifact_location=location,
                lifecycle_stage=LifecycleStage(stage),
                creation_time=created,
                last_update_time=updated,
                tags=tags[eid],
            )
            for eid, name, location, stage, created, updated in rows
        ]

    def get_experiment(self, experiment_id: str) -> Experiment:
        eid = _experiment_int(experiment_id)
        with self._read() as conn:
            found = self._experiments(conn, ExperimentRow.experiment_id == eid)
        if not found:
            raise NotFoundError(
                f"No experiment with id {experiment_id!r}.", experiment_id=experiment_id
            )
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment:
        with self._read() as conn:
            found = self._experiments(conn, ExperimentRow.name == name)
        if not found:
            raise NotFoundError(f"No experiment named {name!r}.", name=name)
        return found[0]

    def list_experiments(
        self, *, view: ViewType, offset: int, limit: int
    ) -> tuple[list[Experiment], bool]:
        with self._read() as conn:
            ids = (
                conn.execute(
                    select(ExperimentRow.experiment_id)
                    .where(_lifecycle_filter(ExperimentRow.lifecycle_stage, view))
                    .order_by(ExperimentRow.experiment_id)
                    .offset(offset)
                    .limit(limit + 1)
                )
                .scalars()
                .all()
            )
            found = (
                self._experiments(conn, ExperimentRow.experiment_id.in_(ids[:limit])) if ids else []
            )
        return found, len(ids) > limit

    def update_experiment(
        self,
        experiment_id: str,
        *,
        now: int,
        name: str | None = None,
        lifecycle_stage: LifecycleStage | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        eid = _experiment_int(experiment_id)
        values: dict[str, Any] = {"last_update_time": now}
        if name is not None:
            values["name"] = name
        if lifecycle_stage is not None:
            values["lifecycle_stage"] = lifecycle_stage.value
        with self._write() as conn:
            if name is not None:
                other = conn.execute(
                    select(ExperimentRow.experiment_id).where(
                        ExperimentRow.name == name, ExperimentRow.experiment_id != eid
                    )
                ).first()
                if other is not None:
                    raise AlreadyExistsError(
                        f"An experiment named {name!r} already exists.", name=name
                    )
            try:
                with conn.begin_nested():
                    done = conn.execute(
                        update(ExperimentRow)
                        .where(ExperimentRow.experiment_id == eid)
                        .values(**values)
                    )
            except IntegrityError:  # another writer took the name since the check (PostgreSQL)
                raise AlreadyExistsError(
                    f"An experiment named {name!r} already exists.", name=name
                ) from None
            if done.rowcount == 0:
                raise NotFoundError(
                    f"No experiment with id {experiment_id!r}.", experiment_id=experiment_id
                )
            self._set_experiment_tags(conn, eid, tags or {})

    # -- runs --------------------------------------------------------------------------------

    def create_run(self, info: RunInfo, *, tags: dict[str, str]) -> None:
        eid = _experiment_int(info.experiment_id)
        with self._write() as conn:
            stage = conn.execute(
                select(ExperimentRow.lifecycle_stage).where(ExperimentRow.experiment_id == eid)
            ).scalar()
            if stage is None:
                raise NotFoundError(
                    f"No experiment with id {info.experiment_id!r}.",
                    experiment_id=info.experiment_id,
                )
            if info.parent_run_id is not None:
                parent = conn.execute(
                    select(RunRow.run_id).where(RunRow.run_id == info.parent_run_id)
                ).first()
                if parent is None:
                    raise NotFoundError(
                        f"No parent run with id {info.parent_run_id!r}.", run_id=info.parent_run_id
                    )
            conn.execute(
                insert(RunRow).values(
                    run_id=info.run_id,
                    experiment_id=eid,
                    name=info.run_name,
                    status=info.status.value,
                    start_time=info.start_time,
                    end_time=info.end_time,
                    lifecycle_stage=info.lifecycle_stage.value,
                    parent_run_id=info.parent_run_id,
                    artifact_uri=info.artifact_uri,
                    user_id=info.user_id,
                )
            )
            if tags:
                conn.execute(
                    insert(TagRow),
                    [{"run_id": info.run_id, "key": k, "value": v} for k, v in tags.items()],
                )

    def experiment_stage(self, experiment_id: str) -> LifecycleStage:
        with self._read() as conn:
            stage = conn.execute(
                select(ExperimentRow.lifecycle_stage).where(
                    ExperimentRow.experiment_id == _experiment_int(experiment_id)
                )
            ).scalar()
        if stage is None:
            raise NotFoundError(
                f"No experiment with id {experiment_id!r}.", experiment_id=experiment_id
            )
        return LifecycleStage(stage)

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            runs = self._load_runs(conn, [run_id])
        if not runs:
            raise NotFoundError(f"No run with id {run_id!r}.", run_id=run_id)
        return runs[0]

    def get_run_info(self, run_id: str) -> RunInfo:
        with self._read() as conn:
            row = conn.execute(select(*search.RUN_COLUMNS).where(RunRow.run_id == run_id)).first()
        if row is None:
            raise NotFoundError(f"No run with id {run_id!r}.", run_id=run_id)
        return _run_info(row)

    def _load_runs(self, conn: Connection, run_ids: Sequence[str]) -> list[Run]:
        infos: dict[str, RunInfo] = {}
        params: dict[str, dict[str, str]] = {r: {} for r in run_ids}
        metrics: dict[str, dict[str, float]] = {r: {} for r in run_ids}
        tags: dict[str, dict[str, str]] = {r: {} for r in run_ids}
        for chunk in _chunks(run_ids):
            for row in conn.execute(select(*search.RUN_COLUMNS).where(RunRow.run_id.in_(chunk))):
                infos[row[0]] = _run_info(row)
            for rid, key, value in conn.execute(
                select(ParamRow.run_id, ParamRow.key, ParamRow.value).where(
                    ParamRow.run_id.in_(chunk)
                )
            ):
                params[rid][key] = value
            for rid, key, value in conn.execute(
                select(TagRow.run_id, TagRow.key, TagRow.value).where(TagRow.run_id.in_(chunk))
            ):
                tags[rid][key] = value
            for rid, key, number, is_nan in conn.execute(
                select(
                    LatestMetricRow.run_id,
                    LatestMetricRow.key,
                    LatestMetricRow.value,
                    LatestMetricRow.is_nan,
                ).where(LatestMetricRow.run_id.in_(chunk))
            ):
                metrics[rid][key] = math.nan if is_nan else number
        return [
            Run(infos[r], RunData(params=params[r], metrics=metrics[r], tags=tags[r]))
            for r in run_ids
            if r in infos
        ]

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        lifecycle_stage: LifecycleStage | None = None,
    ) -> None:
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status.value
            values["end_time"] = end_time if status.is_terminal else None
        if run_name is not None:
            values["name"] = run_name
        if lifecycle_stage is not None:
            values["lifecycle_stage"] = lifecycle_stage.value
        with self._write() as conn:
            done = conn.execute(update(RunRow).where(RunRow.run_id == run_id).values(**values))
            if done.rowcount == 0:
                raise NotFoundError(f"No run with id {run_id!r}.", run_id=run_id)

    def child_run_ids(self, run_id: str) -> list[str]:
        with self._read() as conn:
            return list(
                conn.execute(select(RunRow.run_id).where(RunRow.parent_run_id == run_id)).scalars()
            )

    # -- logging -----------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[MetricTuple] = (),
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """Write metrics, params and tags of one run in one transaction."""
        with self._write() as conn:
            if params:
                self._insert_params(conn, run_id, params)
            if tags:
                stmt = self._insert()(TagRow)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
                )
                conn.execute(
                    stmt, [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()]
                )
            if metrics:
                self._insert_metrics(conn, run_id, metrics)

    def _insert_params(
        self, conn: Connection, run_id: str, params: dict[str, str], *, again: bool = False
    ) -> None:
        keys = list(params)
        stored: dict[str, str] = {}
        for chunk in _chunks(keys):
            rows = conn.execute(
                select(ParamRow.key, ParamRow.value).where(
                    ParamRow.run_id == run_id, ParamRow.key.in_(chunk)
                )
            )
            stored.update((key, value) for key, value in rows)
        for key, old in stored.items():
            if old != params[key]:
                raise ConflictError(
                    f"Param {key!r} of run {run_id} was already logged with value {old!r}; "
                    f"it cannot change to {params[key]!r}. Params are immutable: log a new run "
                    "or use a metric or tag for values that change.",
                    run_id=run_id,
                    key=key,
                    old_value=old,
                    new_value=params[key],
                )
        fresh = [
            {"run_id": run_id, "key": k, "value": v} for k, v in params.items() if k not in stored
        ]
        if fresh:
            try:
                with conn.begin_nested():
                    conn.execute(insert(ParamRow), fresh)
            except IntegrityError:
                if again:
                    raise ConflictError(
                        f"Params of run {run_id} were logged concurrently by another writer; "
                        "retry.",
                        run_id=run_id,
                    ) from None
                # Another writer committed some of these keys since we read (PostgreSQL): compare
                # with what it wrote, so the same value stays a no-op and another is a conflict.
                self._insert_params(conn, run_id, params, again=True)

    def _insert_metrics(
        self, conn: Connection, run_id: str, metrics: Sequence[MetricTuple]
    ) -> None:
        rows = []
        latest: dict[str, MetricTuple] = {}
        for metric in metrics:
            key, value, timestamp, step = metric
            nan = value != value
            rows.append((run_id, key, 0.0 if nan else value, nan, step, timestamp))
            best = latest.get(key)
            if best is None or (step, timestamp) >= (best[3], best[2]):
                latest[key] = metric
        # The driver's executemany: ~3x faster than building 10,000 parameter dicts.
        conn.exec_driver_sql(self._metric_insert_sql, rows)
        stmt = self._insert()(LatestMetricRow)
        table = LatestMetricRow.__table__
        newer = or_(
            stmt.excluded.step > table.c.step,
            and_(stmt.excluded.step == table.c.step, stmt.excluded.timestamp >= table.c.timestamp),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "key"],
            set_={c: stmt.excluded[c] for c in ("value", "is_nan", "step", "timestamp")},
            where=newer,
        )
        conn.execute(
            stmt,
            [
                {
                    "run_id": run_id,
                    "key": k,
                    "value": 0.0 if v != v else v,
                    "is_nan": v != v,
                    "step": s,
                    "timestamp": t,
                }
                for k, v, t, s in latest.values()
            ],
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._write() as conn:
            done = conn.execute(delete(TagRow).where(TagRow.run_id == run_id, TagRow.key == key))
            if done.rowcount == 0:
                raise NotFoundError(f"Run {run_id} has no tag {key!r}.", run_id=run_id, key=key)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        with self._read() as conn:
            rows = conn.execute(
                select(
                    MetricRow.key,
                    MetricRow.value,
                    MetricRow.is_nan,
                    MetricRow.timestamp,
                    MetricRow.step,
                )
                .where(MetricRow.run_id == run_id, MetricRow.key == key)
                .order_by(MetricRow.step, MetricRow.timestamp, MetricRow.id)
            ).all()
        return [Metric(k, math.nan if nan else v, ts, step) for k, v, nan, ts, step in rows]

    def count_metrics(self, run_id: str) -> int:
        with self._read() as conn:
            return int(
                conn.execute(select(func.count()).where(MetricRow.run_id == run_id)).scalar_one()
            )

    # -- search ------------------------------------------------------------------------------

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_ast: search.Node | None,
        order_by: Sequence[search.OrderKey],
        view: ViewType,
        offset: int,
        limit: int,
    ) -> tuple[list[Run], bool]:
        ids = [_experiment_int(e) for e in experiment_ids]
        query = search.build_query(ids, filter_ast, order_by, view, dialect=self.dialect)
        with self._read() as conn:
            run_ids: list[str] = list(conn.execute(query.offset(offset).limit(limit + 1)).scalars())
            runs = self._load_runs(conn, run_ids[:limit])
        return runs, len(run_ids) > limit

    # -- artifacts ---------------------------------------------------------------------------

    def record_artifacts(self, run_id: str, files: Iterable[tuple[str, str, int]]) -> None:
        """Record ``(path, digest, size)`` triples; a path logged again points at its new blob."""
        rows = [{"run_id": run_id, "path": p, "digest": d, "size": s} for p, d, s in files]
        if not rows:
            return
        stmt = self._insert()(ArtifactRow)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "path"],
            set_={"digest": stmt.excluded.digest, "size": stmt.excluded.size},
        )
        with self._write() as conn:
            conn.execute(stmt, rows)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[FileInfo]:
        """Files and folders directly under ``prefix`` (``""`` is the run's artifact root)."""
        base = f"{prefix}/" if prefix else ""
        with self._read() as conn:
            query = select(ArtifactRow.path, ArtifactRow.digest, ArtifactRow.size).where(
                ArtifactRow.run_id == run_id
            )
            if base:
                query = query.where(ArtifactRow.path.startswith(base, autoescape=True))
            rows = conn.execute(query.order_by(ArtifactRow.path)).all()
        entries: dict[str, FileInfo] = {}
        for path, digest, size in rows:
            head, sep, _ = path[len(base) :].partition("/")
            if sep:
                entries.setdefault(base + head, FileInfo(base + head, is_dir=True))
            else:
                entries[path] = FileInfo(path, is_dir=False, size=size, digest=digest)
        return sorted(entries.values(), key=lambda f: f.path)

    def artifact_files(self, run_id: str, prefix: str = "") -> list[FileInfo]:
        """Every file at or under ``prefix``, recursively."""
        with self._read() as conn:
            query = select(ArtifactRow.path, ArtifactRow.digest, ArtifactRow.size).where(
                ArtifactRow.run_id == run_id
            )
            if prefix:
                query = query.where(
                    or_(
                        ArtifactRow.path == prefix,
                        ArtifactRow.path.startswith(f"{prefix}/", autoescape=True),
                    )
                )
            rows = conn.execute(query.order_by(ArtifactRow.path)).all()
        return [FileInfo(p, is_dir=False, size=s, digest=d) for p, d, s in rows]


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Database outages become StorageError; loopline errors raised inside pass through."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise StorageError(f"The metadata store failed: {exc.orig or exc}") from None


def _run_info(row: Any) -> RunInfo:
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


def _experiment_int(experiment_id: str) -> int:
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
