"""Datasets, their versions and the runs that read them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from loopline.entities import Dataset, DatasetVersion, RunInput, VersionStatus
from loopline.errors import NotFoundError
from loopline.store.base import SqlStoreBase
from loopline.store.schema import DatasetRow, DatasetVersionRow, RunInputRow, RunRow

__all__ = ["DatasetTables"]

_VERSION_COLUMNS = (
    DatasetRow.name,
    DatasetVersionRow.version,
    DatasetVersionRow.digest,
    DatasetVersionRow.data_digest,
    DatasetVersionRow.sample_digest,
    DatasetVersionRow.num_rows,
    DatasetVersionRow.num_columns,
    DatasetVersionRow.num_bytes,
    DatasetVersionRow.schema_json,
    DatasetVersionRow.profile_json,
    DatasetVersionRow.source,
    DatasetVersionRow.created_at,
    DatasetVersionRow.status,
    DatasetVersionRow.description,
    DatasetVersionRow.tags,
    DatasetVersionRow.validation_json,
)


def _version(row: Any) -> DatasetVersion:
    (name, number, digest, data, sample, rows, cols, size, schema, profile, source, created,
     status, description, tags, validation) = row  # fmt: skip
    return DatasetVersion(
        name=name, version=number, digest=digest, data_digest=data, sample_digest=sample,
        num_rows=rows, num_columns=cols, num_bytes=size, schema=json.loads(schema),
        profile=json.loads(profile), source=source, created_at=created,
        status=VersionStatus(status), description=description, tags=json.loads(tags),
        validation=json.loads(validation) if validation else None,
    )  # fmt: skip


class DatasetTables(SqlStoreBase):
    """Datasets and versions; a version's content digest is unique within its dataset."""

    def _dataset_id(self, conn: Connection, name: str) -> int:
        found = conn.execute(select(DatasetRow.dataset_id).where(DatasetRow.name == name)).scalar()
        if found is None:
            raise NotFoundError(f"No dataset named {name!r}.", dataset=name)
        return int(found)

    def _ensure_dataset(
        self, conn: Connection, name: str, description: str | None, now: int
    ) -> int:
        found = conn.execute(select(DatasetRow.dataset_id).where(DatasetRow.name == name)).scalar()
        if found is not None:
            return int(found)
        try:
            with conn.begin_nested():
                created = conn.execute(
                    insert(DatasetRow).values(
                        name=name, description=description, tags="{}", created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key  # fmt: skip
            return int(created[0])  # type: ignore[index]
        except IntegrityError:
            return self._dataset_id(conn, name)

    def find_version_by_digest(self, name: str, digest: str) -> DatasetVersion | None:
        with self._read() as conn:
            row = conn.execute(
                select(*_VERSION_COLUMNS)
                .join(DatasetRow, DatasetRow.dataset_id == DatasetVersionRow.dataset_id)
                .where(DatasetRow.name == name, DatasetVersionRow.digest == digest)
            ).first()
        return _version(row) if row is not None else None

    def create_version(self, version: DatasetVersion, *, now: int) -> DatasetVersion:
        """Store a new version numbered after the last; an identical digest returns the old one."""
        with self._write() as conn:
            dataset_id = self._ensure_dataset(conn, version.name, version.description, now)
            same = conn.execute(
                select(*_VERSION_COLUMNS)
                .join(DatasetRow, DatasetRow.dataset_id == DatasetVersionRow.dataset_id)
                .where(DatasetVersionRow.dataset_id == dataset_id)
                .where(DatasetVersionRow.digest == version.digest)
            ).first()
            if same is not None:
                return _version(same)
            last = conn.execute(
                select(func.max(DatasetVersionRow.version)).where(
                    DatasetVersionRow.dataset_id == dataset_id
                )
            ).scalar()
            number = int(last or 0) + 1
            conn.execute(
                insert(DatasetVersionRow).values(
                    dataset_id=dataset_id, version=number, digest=version.digest,
                    data_digest=version.data_digest, sample_digest=version.sample_digest,
                    num_rows=version.num_rows, num_columns=version.num_columns,
                    num_bytes=version.num_bytes, schema_json=json.dumps(version.schema),
                    profile_json=json.dumps(version.profile), source=version.source,
                    description=version.description, tags=json.dumps(version.tags),
                    status=version.status.value, created_at=version.created_at,
                    validation_json=None,
                )
            )  # fmt: skip
            conn.execute(
                update(DatasetRow).where(DatasetRow.dataset_id == dataset_id).values(updated_at=now)
            )
        return self.get_version(version.name, number)

    def get_version(self, name: str, version: int | None = None) -> DatasetVersion:
        """A version by number; ``None`` is the latest."""
        query = (
            select(*_VERSION_COLUMNS)
            .join(DatasetRow, DatasetRow.dataset_id == DatasetVersionRow.dataset_id)
            .where(DatasetRow.name == name)
        )
        if version is None:
            query = query.order_by(DatasetVersionRow.version.desc()).limit(1)
        else:
            query = query.where(DatasetVersionRow.version == version)
        with self._read() as conn:
            row = conn.execute(query).first()
            if row is None:
                self._dataset_id(conn, name)
        if row is None:
            raise NotFoundError(f"Dataset {name!r} has no version {version}.", dataset=name)
        return _version(row)

    def list_versions(self, name: str) -> list[DatasetVersion]:
        with self._read() as conn:
            dataset_id = self._dataset_id(conn, name)
            rows = conn.execute(
                select(*_VERSION_COLUMNS)
                .join(DatasetRow, DatasetRow.dataset_id == DatasetVersionRow.dataset_id)
                .where(DatasetVersionRow.dataset_id == dataset_id)
                .order_by(DatasetVersionRow.version)
            ).all()
        return [_version(row) for row in rows]

    def list_datasets(self, *, offset: int, limit: int) -> tuple[list[Dataset], bool]:
        latest = (
            select(DatasetVersionRow.dataset_id, func.max(DatasetVersionRow.version).label("v"))
            .group_by(DatasetVersionRow.dataset_id)
            .subquery()
        )
        query = (
            select(DatasetRow.name, DatasetRow.description, DatasetRow.created_at,
                   DatasetRow.updated_at, latest.c.v, DatasetRow.tags)
            .outerjoin(latest, latest.c.dataset_id == DatasetRow.dataset_id)
            .order_by(DatasetRow.name)
            .offset(offset)
            .limit(limit + 1)
        )  # fmt: skip
        with self._read() as conn:
            rows = conn.execute(query).all()
        items = [
            Dataset(name=n, description=d, created_at=c, updated_at=u, latest_version=v,
                    tags=json.loads(t))
            for n, d, c, u, v, t in rows[:limit]
        ]  # fmt: skip
        return items, len(rows) > limit

    def set_validation(
        self, name: str, version: int, *, status: VersionStatus, report: dict[str, Any]
    ) -> None:
        with self._write() as conn:
            dataset_id = self._dataset_id(conn, name)
            conn.execute(
                update(DatasetVersionRow)
                .where(DatasetVersionRow.dataset_id == dataset_id)
                .where(DatasetVersionRow.version == version)
                .values(status=status.value, validation_json=json.dumps(report))
            )

    def record_input(self, run_id: str, name: str, version: int, context: str) -> None:
        insert_ = self._insert()
        with self._write() as conn:
            if conn.execute(select(RunRow.run_id).where(RunRow.run_id == run_id)).first() is None:
                raise NotFoundError(f"No run with id {run_id!r}.", run_id=run_id)
            version_id = conn.execute(
                select(DatasetVersionRow.version_id)
                .join(DatasetRow, DatasetRow.dataset_id == DatasetVersionRow.dataset_id)
                .where(DatasetRow.name == name, DatasetVersionRow.version == version)
            ).scalar()
            if version_id is None:
                raise NotFoundError(f"Dataset {name!r} has no version {version}.", dataset=name)
            stmt = insert_(RunInputRow).values(run_id=run_id, version_id=version_id,
                                               context=context)  # fmt: skip
            conn.execute(stmt.on_conflict_do_nothing())

    def _inputs(self, where: Any) -> list[RunInput]:
        query = (
            select(RunInputRow.run_id, DatasetRow.name, DatasetVersionRow.version,
                   DatasetVersionRow.digest, RunInputRow.context)
            .join(DatasetVersionRow, DatasetVersionRow.version_id == RunInputRow.version_id)
            .join(DatasetRow, DatasetRow.dataset_id == DatasetVersionRow.dataset_id)
            .where(where)
            .order_by(RunInputRow.run_id, DatasetRow.name, DatasetVersionRow.version)
        )  # fmt: skip
        with self._read() as conn:
            return [RunInput(*row) for row in conn.execute(query)]

    def run_inputs(self, run_id: str) -> list[RunInput]:
        return self._inputs(RunInputRow.run_id == run_id)

    def version_consumers(self, name: str, version: int) -> list[RunInput]:
        return self._inputs((DatasetRow.name == name) & (DatasetVersionRow.version == version))
