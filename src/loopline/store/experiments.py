"""Experiments and their tags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from loopline.entities import (
    Experiment,
    LifecycleStage,
    ViewType,
)
from loopline.errors import AlreadyExistsError, NotFoundError
from loopline.store.base import (
    SqlStoreBase,
    chunks,
    experiment_int,
    lifecycle_filter,
)
from loopline.store.schema import (
    ExperimentRow,
    ExperimentTagRow,
)

__all__ = ["ExperimentTables"]


class ExperimentTables(SqlStoreBase):
    """Experiments: create, read, list, rename, tag, soft-delete."""

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
        for chunk in chunks(list(tags)):
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
        eid = experiment_int(experiment_id)
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
                    .where(lifecycle_filter(ExperimentRow.lifecycle_stage, view))
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
        eid = experiment_int(experiment_id)
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
