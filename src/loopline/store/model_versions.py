"""Model versions: the rows behind a registered model's numbered versions.

A new version is numbered after the last, which is check-then-insert: the writer locks its model's
row first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers already hold the database's
write lock from ``BEGIN IMMEDIATE``), so concurrent registrations in any number of processes get
distinct, consecutive numbers. The unique (model, version) constraint backs this up.

:class:`ModelVersionTables` also holds what registered models, versions and aliases share: finding
(and locking) a model's row, creating it, and reading versions with their aliases.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from loopline.entities import ModelVersion, ModelVersionStatus, TrainingDataset
from loopline.errors import InvalidStateError, NotFoundError
from loopline.filters import Node
from loopline.store.base import SqlStoreBase
from loopline.store.model_search import version_condition
from loopline.store.schema import (
    ModelAliasRow,
    ModelApprovalRow,
    ModelCardRow,
    ModelEvaluationRow,
    ModelTransitionRow,
    ModelVersionRow,
    RegisteredModelRow,
)

__all__ = ["ModelVersionTables"]

_VERSION_COLUMNS = (
    RegisteredModelRow.name,
    ModelVersionRow.version,
    ModelVersionRow.run_id,
    ModelVersionRow.artifact_path,
    ModelVersionRow.flavor,
    ModelVersionRow.digest,
    ModelVersionRow.created_by,
    ModelVersionRow.created_at,
    ModelVersionRow.signature_json,
    ModelVersionRow.status,
    ModelVersionRow.description,
    ModelVersionRow.tags,
    ModelVersionRow.training_datasets_json,
    ModelVersionRow.version_id,
)
# Rows about a version's release; a version that has any is never deleted (retire it instead).
_RELEASE_RECORDS = (ModelEvaluationRow, ModelTransitionRow, ModelApprovalRow, ModelCardRow)


def _version(row: Any, aliases: list[str]) -> ModelVersion:
    (name, number, run_id, path, flavor, digest, by, created, signature, status, description,
     tags, training, _) = row  # fmt: skip
    return ModelVersion(
        name=name, version=number, run_id=run_id, artifact_path=path, flavor=flavor,
        digest=digest, created_by=by, created_at=created,
        signature=json.loads(signature) if signature is not None else None,
        status=ModelVersionStatus(status), description=description, tags=json.loads(tags),
        aliases=sorted(aliases),
        training_datasets=[TrainingDataset(**item) for item in json.loads(training or "[]")],
    )  # fmt: skip


def _missing_model(name: str) -> NotFoundError:
    return NotFoundError(f"No registered model named {name!r}.", model=name)


def _missing_version(name: str, version: int) -> NotFoundError:
    return NotFoundError(
        f"Registered model {name!r} has no version {version}.", model=name, version=version
    )


class ModelVersionTables(SqlStoreBase):
    """Model versions, numbered per model, and the model-row lookups they share with aliases."""

    # -- model rows --------------------------------------------------------------------------

    def _model_id(self, conn: Connection, name: str, *, lock: bool = False) -> int:
        query = select(RegisteredModelRow.model_id).where(RegisteredModelRow.name == name)
        found = conn.execute(query.with_for_update() if lock else query).scalar()
        if found is None:
            raise _missing_model(name)
        return int(found)

    def _insert_model(
        self, conn: Connection, name: str, description: str | None, tags: dict[str, str], now: int
    ) -> int | None:
        """The new model's id, or ``None`` when the name is taken (also by a concurrent writer)."""
        try:
            with conn.begin_nested():
                created = conn.execute(
                    insert(RegisteredModelRow).values(
                        name=name, description=description, tags=json.dumps(tags),
                        created_at=now, updated_at=now,
                    )
                ).inserted_primary_key  # fmt: skip
            return int(created[0])  # type: ignore[index]
        except IntegrityError:
            return None

    def _touch(self, conn: Connection, model_id: int, now: int) -> None:
        conn.execute(
            update(RegisteredModelRow)
            .where(RegisteredModelRow.model_id == model_id)
            .values(updated_at=now)
        )

    def _versions(
        self, conn: Connection, where: Any, *, offset: int = 0, limit: int | None = None
    ) -> list[ModelVersion]:
        rows = conn.execute(
            select(*_VERSION_COLUMNS)
            .join(RegisteredModelRow, RegisteredModelRow.model_id == ModelVersionRow.model_id)
            .where(where)
            .order_by(RegisteredModelRow.name, ModelVersionRow.version)
            .offset(offset)
            .limit(limit)
        ).all()
        aliases: dict[int, list[str]] = defaultdict(list)
        ids = [row.version_id for row in rows]
        if ids:
            for version_id, alias in conn.execute(
                select(ModelAliasRow.version_id, ModelAliasRow.alias).where(
                    ModelAliasRow.version_id.in_(ids)
                )
            ):
                aliases[version_id].append(alias)
        return [_version(row, aliases[row.version_id]) for row in rows]

    # -- versions ----------------------------------------------------------------------------

    def create_model_version(
        self, version: ModelVersion, *, model_description: str | None, now: int
    ) -> tuple[ModelVersion, bool]:
        """Store ``version`` numbered after the last (its ``version`` field is ignored).

        Creates the registered model if it is missing (with ``model_description``); returns the
        stored version and whether the model was created.
        """
        with self._write() as conn:
            created = self._insert_model(conn, version.name, model_description, {}, now)
            model_id = self._model_id(conn, version.name, lock=True)  # serialises numbering
            last = conn.execute(
                select(func.max(ModelVersionRow.version)).where(
                    ModelVersionRow.model_id == model_id
                )
            ).scalar()
            number = int(last or 0) + 1
            conn.execute(
                insert(ModelVersionRow).values(
                    model_id=model_id, version=number, run_id=version.run_id,
                    artifact_path=version.artifact_path, flavor=version.flavor,
                    digest=version.digest,
                    signature_json=(
                        json.dumps(version.signature) if version.signature is not None else None
                    ),
                    status=version.status.value, created_by=version.created_by,
                    created_at=version.created_at, description=version.description,
                    tags=json.dumps(version.tags),
                    training_datasets_json=json.dumps(
                        [item.to_dict() for item in version.training_datasets]
                    ),
                )
            )  # fmt: skip
            self._touch(conn, model_id, now)
        return self.get_model_version(version.name, number), created is not None

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        with self._read() as conn:
            model_id = self._model_id(conn, name)
            found = self._versions(
                conn, (ModelVersionRow.model_id == model_id) & (ModelVersionRow.version == version)
            )
        if not found:
            raise _missing_version(name, version)
        return found[0]

    def get_latest_model_version(self, name: str) -> ModelVersion:
        with self._read() as conn:
            model_id = self._model_id(conn, name)
            last = conn.execute(
                select(func.max(ModelVersionRow.version)).where(
                    ModelVersionRow.model_id == model_id
                )
            ).scalar()
            if last is None:
                raise NotFoundError(f"Registered model {name!r} has no versions yet.", model=name)
            return self._versions(
                conn, (ModelVersionRow.model_id == model_id) & (ModelVersionRow.version == last)
            )[0]

    def search_model_versions(
        self, filter_ast: Node | None, *, offset: int, limit: int
    ) -> tuple[list[ModelVersion], bool]:
        """Versions matching a filter parsed with ``VERSION_FILTERS``, by model name, number."""
        where = True if filter_ast is None else version_condition(filter_ast, self.dialect)
        with self._read() as conn:
            found = self._versions(conn, where, offset=offset, limit=limit + 1)
        return found[:limit], len(found) > limit

    def delete_model_version(
        self, name: str, version: int, *, keep: tuple[str, ...], now: int
    ) -> list[str]:
        """Delete a version with no release records and no alias in ``keep``.

        Its other aliases go with it; returns their names.
        """
        with self._write() as conn:
            model_id = self._model_id(conn, name, lock=True)
            where = (ModelVersionRow.model_id == model_id) & (ModelVersionRow.version == version)
            found = self._versions(conn, where)
            if not found:
                raise _missing_version(name, version)
            held = [alias for alias in found[0].aliases if alias in keep]
            if held:
                raise InvalidStateError(
                    f"Version {version} of {name!r} is the model's {', '.join(held)}; release "
                    "another version first (loopline models promote / rollback).",
                    model=name, version=version, aliases=held,
                )  # fmt: skip
            version_id = conn.execute(select(ModelVersionRow.version_id).where(where)).scalar()
            for table in _RELEASE_RECORDS:
                record = conn.execute(
                    select(table.version_id).where(table.version_id == version_id).limit(1)
                ).first()
                if record is not None:
                    raise InvalidStateError(
                        f"Version {version} of {name!r} has release records "
                        f"({table.__tablename__}); retire it instead of deleting it.",
                        model=name, version=version,
                    )  # fmt: skip
            conn.execute(delete(ModelAliasRow).where(ModelAliasRow.version_id == version_id))
            conn.execute(delete(ModelVersionRow).where(where))
            self._touch(conn, model_id, now)
        return found[0].aliases

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        with self._read() as conn:
            model_id = self._model_id(conn, name)
            return self._versions(conn, ModelVersionRow.model_id == model_id)

    def list_model_versions_of_run(self, run_id: str) -> list[ModelVersion]:
        """The versions registered from a run's artifacts (lineage), by model name and number."""
        with self._read() as conn:
            found = self._versions(conn, ModelVersionRow.run_id == run_id)
        return sorted(found, key=lambda v: (v.name, v.version))

    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        status: ModelVersionStatus | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        now: int,
    ) -> tuple[ModelVersion, ModelVersion]:
        """Set the given fields (``None`` leaves one as it is); returns ``(before, after)``."""
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status.value
        if description is not None:
            values["description"] = description
        if tags is not None:
            values["tags"] = json.dumps(tags)
        with self._write() as conn:
            model_id = self._model_id(conn, name)
            where = (ModelVersionRow.model_id == model_id) & (ModelVersionRow.version == version)
            before = self._versions(conn, where)
            if not before:
                raise _missing_version(name, version)
            if values:
                conn.execute(update(ModelVersionRow).where(where).values(**values))
                self._touch(conn, model_id, now)
            after = self._versions(conn, where)[0]
        return before[0], after
