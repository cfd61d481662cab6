"""Registered models, their numbered versions and aliases.

A new version is numbered after the last, which is check-then-insert: the writer locks its model's
row first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers already hold the database's
write lock from ``BEGIN IMMEDIATE``), so concurrent registrations in any number of processes get
distinct, consecutive numbers. The unique (model, version) constraint backs this up.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from loopline.entities import ModelVersion, ModelVersionStatus, RegisteredModel, TrainingDataset
from loopline.errors import AlreadyExistsError, InvalidStateError, NotFoundError
from loopline.filters import Node
from loopline.store.base import SqlStoreBase
from loopline.store.model_search import model_condition, version_condition
from loopline.store.schema import (
    ModelAliasRow,
    ModelApprovalRow,
    ModelCardRow,
    ModelEvaluationRow,
    ModelTransitionRow,
    ModelVersionRow,
    RegisteredModelRow,
    ReleasePolicyRow,
)

__all__ = ["ModelTables"]

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


class ModelTables(SqlStoreBase):
    """Registered models, versions and aliases; an alias always names an existing version."""

    # -- registered models -------------------------------------------------------------------

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

    def create_registered_model(
        self, name: str, *, description: str | None, tags: dict[str, str], now: int
    ) -> RegisteredModel:
        with self._write() as conn:
            if self._insert_model(conn, name, description, tags, now) is None:
                raise AlreadyExistsError(
                    f"A registered model named {name!r} already exists.", model=name
                )
        return self.get_registered_model(name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        models, _ = self._models(RegisteredModelRow.name == name, offset=0, limit=1)
        if not models:
            raise _missing_model(name)
        return models[0]

    def list_registered_models(
        self, *, offset: int, limit: int, name_contains: str | None = None
    ) -> tuple[list[RegisteredModel], bool]:
        """Models by name; ``name_contains`` keeps names with that substring (case-sensitive)."""
        where: Any = True
        if name_contains:
            where = RegisteredModelRow.name.contains(name_contains, autoescape=True)
        return self._models(where, offset=offset, limit=limit)

    def search_registered_models(
        self, filter_ast: Node | None, *, offset: int, limit: int
    ) -> tuple[list[RegisteredModel], bool]:
        """Models matching a filter parsed with ``MODEL_FILTERS``, by name."""
        where = True if filter_ast is None else model_condition(filter_ast, self.dialect)
        return self._models(where, offset=offset, limit=limit)

    def update_registered_model(
        self, name: str, *, description: str | None, tags: dict[str, str] | None, now: int
    ) -> tuple[RegisteredModel, RegisteredModel]:
        """Set the given fields (``None`` leaves one as it is); returns ``(before, after)``."""
        before = self.get_registered_model(name)
        values: dict[str, Any] = {}
        if description is not None and description != before.description:
            values["description"] = description
        if tags is not None and tags != before.tags:
            values["tags"] = json.dumps(tags)
        with self._write() as conn:
            model_id = self._model_id(conn, name, lock=True)
            if values:
                conn.execute(
                    update(RegisteredModelRow)
                    .where(RegisteredModelRow.model_id == model_id)
                    .values(updated_at=now, **values)
                )
        return before, self.get_registered_model(name)

    def delete_registered_model(self, name: str) -> None:
        """Delete a model that has no versions and no release policy."""
        with self._write() as conn:
            model_id = self._model_id(conn, name, lock=True)
            count = conn.execute(
                select(func.count()).where(ModelVersionRow.model_id == model_id)
            ).scalar()
            if count:
                raise InvalidStateError(
                    f"Registered model {name!r} still has {count} version(s); delete them first.",
                    model=name,
                )
            policy = conn.execute(
                select(ReleasePolicyRow.model_id).where(ReleasePolicyRow.model_id == model_id)
            ).first()
            if policy is not None:
                raise InvalidStateError(
                    f"Registered model {name!r} has a release policy; it cannot be deleted.",
                    model=name,
                )
            conn.execute(delete(RegisteredModelRow).where(RegisteredModelRow.model_id == model_id))

    def _models(self, where: Any, *, offset: int, limit: int) -> tuple[list[RegisteredModel], bool]:
        latest = (
            select(ModelVersionRow.model_id, func.max(ModelVersionRow.version).label("v"))
            .group_by(ModelVersionRow.model_id)
            .subquery()
        )
        query = (
            select(RegisteredModelRow.model_id, RegisteredModelRow.name,
                   RegisteredModelRow.description, RegisteredModelRow.created_at,
                   RegisteredModelRow.updated_at, latest.c.v, RegisteredModelRow.tags)
            .outerjoin(latest, latest.c.model_id == RegisteredModelRow.model_id)
            .where(where)
            .order_by(RegisteredModelRow.name)
            .offset(offset)
            .limit(limit + 1)
        )  # fmt: skip
        with self._read() as conn:
            rows = conn.execute(query).all()[: limit + 1]
            aliases: dict[int, dict[str, int]] = defaultdict(dict)
            ids = [row[0] for row in rows[:limit]]
            if ids:
                for model_id, alias, number in conn.execute(
                    select(ModelAliasRow.model_id, ModelAliasRow.alias, ModelVersionRow.version)
                    .join(ModelVersionRow, ModelVersionRow.version_id == ModelAliasRow.version_id)
                    .where(ModelAliasRow.model_id.in_(ids))
                ):
                    aliases[model_id][alias] = number
        items = [
            RegisteredModel(name=n, description=d, created_at=c, updated_at=u, latest_version=v,
                            tags=json.loads(t), aliases=dict(sorted(aliases[i].items())))
            for i, n, d, c, u, v, t in rows[:limit]
        ]  # fmt: skip
        return items, len(rows) > limit

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

    # -- aliases -----------------------------------------------------------------------------

    def _alias_target(self, conn: Connection, model_id: int, alias: str) -> int | None:
        found = conn.execute(
            select(ModelVersionRow.version)
            .join(ModelAliasRow, ModelAliasRow.version_id == ModelVersionRow.version_id)
            .where(ModelAliasRow.model_id == model_id, ModelAliasRow.alias == alias)
        ).scalar()
        return None if found is None else int(found)

    def set_model_alias(self, name: str, alias: str, version: int, *, now: int) -> int | None:
        """Point ``alias`` at ``version``; returns the version it named before, if any."""
        with self._write() as conn:
            model_id = self._model_id(conn, name, lock=True)
            version_id = conn.execute(
                select(ModelVersionRow.version_id).where(
                    ModelVersionRow.model_id == model_id, ModelVersionRow.version == version
                )
            ).scalar()
            if version_id is None:
                raise _missing_version(name, version)
            previous = self._alias_target(conn, model_id, alias)
            stmt = self._insert()(ModelAliasRow).values(
                model_id=model_id, alias=alias, version_id=version_id, updated_at=now
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[ModelAliasRow.model_id, ModelAliasRow.alias],
                    set_={"version_id": version_id, "updated_at": now},
                )
            )
            self._touch(conn, model_id, now)
        return previous

    def delete_model_alias(self, name: str, alias: str, *, now: int) -> int:
        """Remove ``alias``; returns the version it named."""
        with self._write() as conn:
            model_id = self._model_id(conn, name, lock=True)
            previous = self._alias_target(conn, model_id, alias)
            if previous is None:
                raise NotFoundError(
                    f"Registered model {name!r} has no alias {alias!r}.", model=name, alias=alias
                )
            conn.execute(
                delete(ModelAliasRow).where(
                    ModelAliasRow.model_id == model_id, ModelAliasRow.alias == alias
                )
            )
            self._touch(conn, model_id, now)
        return previous

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        with self._read() as conn:
            model_id = self._model_id(conn, name)
            number = self._alias_target(conn, model_id, alias)
            if number is None:
                raise NotFoundError(
                    f"Registered model {name!r} has no alias {alias!r}.", model=name, alias=alias
                )
            return self._versions(
                conn, (ModelVersionRow.model_id == model_id) & (ModelVersionRow.version == number)
            )[0]
