"""Registered models and their aliases; versions are in :mod:`loopline.store.model_versions`.

An alias is per model (model, alias) and always names an existing version of that model.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from loopline.entities import ModelVersion, RegisteredModel
from loopline.errors import AlreadyExistsError, InvalidStateError, NotFoundError
from loopline.filters import Node
from loopline.store.model_search import model_condition

# deployments.py reads versions with the same columns and mapping.
from loopline.store.model_versions import _VERSION_COLUMNS as _VERSION_COLUMNS
from loopline.store.model_versions import ModelVersionTables, _missing_model, _missing_version
from loopline.store.model_versions import _version as _version
from loopline.store.schema import (
    ModelAliasRow,
    ModelVersionRow,
    RegisteredModelRow,
    ReleasePolicyRow,
)

__all__ = ["ModelTables"]


class ModelTables(ModelVersionTables):
    """Registered models, versions and aliases; an alias always names an existing version."""

    # -- registered models -------------------------------------------------------------------

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
