"""Deployments and their revisions, and the one read that resolves a deployment to versions.

Each revision holds the whole configuration as JSON; the ``deployments`` row points at the
current one and mirrors its kill switch. A change is check-then-insert, so the writer locks the
deployment's row first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers already hold the
write lock from ``BEGIN IMMEDIATE``) and merges its changes over the current revision under that
lock: concurrent changes get consecutive revisions and none is lost. A change made against an
``expected_revision`` that is no longer current is refused (compare-and-set).

:meth:`DeploymentTables.resolve_deployment` is what an inference server polls: one read
transaction of a few indexed lookups (the deployment with its current revision, then each model
URI's version and their aliases).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from loopline.entities.deployments import Challenger, Deployment, DeploymentRevision
from loopline.entities.models import ModelVersion
from loopline.errors import AlreadyExistsError, ConflictError, NotFoundError
from loopline.store.base import SqlStoreBase
from loopline.store.models import _VERSION_COLUMNS, _version
from loopline.store.schema import (
    DeploymentRevisionRow,
    DeploymentRow,
    ModelAliasRow,
    ModelVersionRow,
    RegisteredModelRow,
)

__all__ = ["DeploymentTables", "split_model_uri"]

_JOIN = DeploymentRow.deployment_id == DeploymentRevisionRow.deployment_id
_COLUMNS = (
    DeploymentRow.name,
    DeploymentRevisionRow.revision,
    DeploymentRevisionRow.config_json,
    DeploymentRow.created_by,
    DeploymentRow.created_at,
    DeploymentRevisionRow.created_by,
    DeploymentRevisionRow.created_at,
    DeploymentRevisionRow.reason,
)


# What resolve_deployment runs, built once: a server polls it every second or so per deployment,
# and building the statements cost more than running them.
_CURRENT = (
    select(*_COLUMNS)
    .join(DeploymentRow, _JOIN)
    .where(
        DeploymentRow.name == bindparam("name"),
        DeploymentRevisionRow.revision == DeploymentRow.revision,
    )
)
_VERSIONS = select(*_VERSION_COLUMNS).join(
    RegisteredModelRow, RegisteredModelRow.model_id == ModelVersionRow.model_id
)
_BY_VERSION = _VERSIONS.where(
    RegisteredModelRow.name == bindparam("model"), ModelVersionRow.version == bindparam("number")
)
_BY_ALIAS = _VERSIONS.join(
    ModelAliasRow, ModelAliasRow.version_id == ModelVersionRow.version_id
).where(RegisteredModelRow.name == bindparam("model"), ModelAliasRow.alias == bindparam("alias"))
_LATEST = (
    _VERSIONS.where(RegisteredModelRow.name == bindparam("model"))
    .order_by(ModelVersionRow.version.desc())
    .limit(1)
)
_ALIASES = select(ModelAliasRow.version_id, ModelAliasRow.alias).where(
    ModelAliasRow.version_id.in_(bindparam("ids", expanding=True))
)


def split_model_uri(uri: str) -> tuple[str, int | None, str | None]:
    """``(name, version, alias)`` of a well-formed model URI; both ``None`` for ``/latest``.

    The registry checks URIs before a deployment stores them; this only takes them apart, the
    same way (the version form first, so names may hold ``/`` or ``@``).

    Examples:
        >>> split_model_uri("models:/team/churn@champion")
        ('team/churn', None, 'champion')
        >>> split_model_uri("models:/churn/3"), split_model_uri("models:/churn/latest")
        (('churn', 3, None), ('churn', None, None))
    """
    rest = uri.removeprefix("models:/")
    head, slash, tail = rest.rpartition("/")
    if slash and head and (tail == "latest" or tail.isdecimal()):
        return head, None if tail == "latest" else int(tail), None
    head, _, alias = rest.rpartition("@")
    return head, None, alias


def _deployment(row: Any) -> Deployment:
    name, revision, config_json, created_by, created_at, updated_by, updated_at, _ = row
    config = json.loads(config_json)
    challenger = config.get("challenger")
    return Deployment(
        name=name, revision=revision, model_uri=config["model_uri"], policy=config.get("policy"),
        logging=config["logging"],
        challenger=Challenger.from_dict(challenger) if challenger else None,
        enabled=config["enabled"], kill_reason=config.get("kill_reason"),
        description=config.get("description"), tags=dict(config.get("tags") or {}),
        created_by=created_by, created_at=created_at, updated_by=updated_by,
        updated_at=updated_at,
    )  # fmt: skip


def _missing(name: str) -> NotFoundError:
    return NotFoundError(f"No deployment named {name!r}.", deployment=name)


class DeploymentTables(SqlStoreBase):
    """Deployments, their revisions, and resolving them to model versions."""

    def _deployment_rows(self, conn: Connection, where: Any) -> list[Any]:
        return list(
            conn.execute(
                select(*_COLUMNS)
                .join(DeploymentRow, _JOIN)
                .where(where)
                .order_by(DeploymentRow.name, DeploymentRevisionRow.revision)
            ).all()
        )  # fmt: skip

    def _current(self, conn: Connection, name: str) -> Deployment:
        row = conn.execute(_CURRENT, {"name": name}).first()
        if row is None:
            raise _missing(name)
        return _deployment(row)

    def create_deployment(
        self, name: str, config: Mapping[str, Any], *, actor: str, now: int, reason: str | None
    ) -> Deployment:
        """Store a new deployment at revision 1; AlreadyExistsError when the name is taken."""
        with self._write() as conn:
            try:
                with conn.begin_nested():
                    created = conn.execute(
                        insert(DeploymentRow).values(
                            name=name, revision=1, enabled=bool(config["enabled"]),
                            kill_reason=config.get("kill_reason"), created_by=actor,
                            created_at=now, updated_by=actor, updated_at=now,
                        )
                    ).inserted_primary_key  # fmt: skip
            except IntegrityError:
                raise AlreadyExistsError(
                    f"A deployment named {name!r} already exists.", deployment=name
                ) from None
            conn.execute(
                insert(DeploymentRevisionRow).values(
                    deployment_id=int(created[0]), revision=1,  # type: ignore[index]
                    config_json=json.dumps(dict(config)), created_by=actor, created_at=now,
                    reason=reason,
                )
            )  # fmt: skip
            return self._current(conn, name)

    def get_deployment(self, name: str, revision: int | None = None) -> Deployment:
        """The deployment at ``revision`` (default: the current one)."""
        with self._read() as conn:
            if revision is None:
                return self._current(conn, name)
            rows = self._deployment_rows(
                conn, (DeploymentRow.name == name) & (DeploymentRevisionRow.revision == revision)
            )
            if not rows:
                self._current(conn, name)  # NotFoundError for an unknown name
                raise NotFoundError(
                    f"Deployment {name!r} has no revision {revision}.",
                    deployment=name, revision=revision,
                )  # fmt: skip
        return _deployment(rows[0])

    def list_deployments(
        self, *, offset: int, limit: int, name_contains: str | None = None
    ) -> tuple[list[Deployment], bool]:
        """Current deployments by name, and whether more follow."""
        where: Any = DeploymentRevisionRow.revision == DeploymentRow.revision
        if name_contains:
            where = where & DeploymentRow.name.contains(name_contains, autoescape=True)
        with self._read() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .join(DeploymentRow, _JOIN)
                .where(where).order_by(DeploymentRow.name).offset(offset).limit(limit + 1)
            ).all()  # fmt: skip
        return [_deployment(row) for row in rows[:limit]], len(rows) > limit

    def list_deployment_revisions(self, name: str) -> list[DeploymentRevision]:
        """Every revision, oldest first."""
        with self._read() as conn:
            rows = self._deployment_rows(conn, DeploymentRow.name == name)
            if not rows:
                raise _missing(name)
        return [
            DeploymentRevision(name, row[1], _deployment(row), row[5], row[6], row[7])
            for row in rows
        ]

    def revise_deployment(
        self,
        name: str,
        changes: Mapping[str, Any],
        *,
        expected_revision: int | None,
        actor: str,
        now: int,
        reason: str | None,
        check: Callable[[dict[str, Any]], None] | None = None,
    ) -> tuple[Deployment, Deployment | None]:
        """Store ``changes`` merged over the current configuration as the next revision.

        ``check`` sees the merged configuration before it is stored and may raise. Returns the
        deployment as it was and as it is now, ``None`` when the merge changed nothing (no
        revision stored). Raises ConflictError when ``expected_revision`` is given and stale.
        """
        with self._write() as conn:
            found = conn.execute(
                select(DeploymentRow.deployment_id)
                .where(DeploymentRow.name == name)
                .with_for_update()
            ).scalar()
            if found is None:
                raise _missing(name)
            before = self._current(conn, name)
            if expected_revision is not None and expected_revision != before.revision:
                raise ConflictError(
                    f"Deployment {name!r} is at revision {before.revision}, not the expected "
                    f"revision {expected_revision}: someone changed it since. Read it again and "
                    "reapply the change.",
                    deployment=name, revision=before.revision, expected_revision=expected_revision,
                )  # fmt: skip
            config = {**before.config(), **changes}
            if config == before.config():
                return before, None
            if check is not None:
                check(config)
            number = before.revision + 1
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(DeploymentRevisionRow).values(
                            deployment_id=found, revision=number, config_json=json.dumps(config),
                            created_by=actor, created_at=now, reason=reason,
                        )
                    )  # fmt: skip
            except IntegrityError:  # the lock makes this unreachable; the constraint backs it up
                raise ConflictError(
                    f"Another change of deployment {name!r} was stored as revision {number} at "
                    "the same time. Read it again and reapply.",
                    deployment=name,
                    revision=number,
                ) from None
            conn.execute(
                update(DeploymentRow).where(DeploymentRow.deployment_id == found).values(
                    revision=number, enabled=bool(config["enabled"]),
                    kill_reason=config.get("kill_reason"), updated_by=actor, updated_at=now,
                )
            )  # fmt: skip
            return before, self._current(conn, name)

    def delete_deployment(self, name: str) -> Deployment:
        """Remove a deployment and all its revisions; returns it as it was."""
        with self._write() as conn:
            before = self._current(conn, name)
            conn.execute(delete(DeploymentRow).where(DeploymentRow.name == name))
        return before

    # -- resolving ---------------------------------------------------------------------------

    def resolve_deployment(
        self, name: str
    ) -> tuple[Deployment, dict[str, ModelVersion | NotFoundError]]:
        """The current deployment and, per model URI it names, that version or why there is none.

        One read transaction: the deployment with its current revision, one lookup per URI
        (champion, challenger), one for the versions' aliases.
        """
        with self._read() as conn:
            deployment = self._current(conn, name)
            uris = [deployment.model_uri]
            if deployment.challenger is not None:
                uris.append(deployment.challenger.model_uri)
            found: dict[str, ModelVersion | NotFoundError] = {}
            rows: dict[str, Any] = {}
            for uri in uris:
                row = conn.execute(*_uri_query(uri)).first()
                if row is None:
                    found[uri] = NotFoundError(
                        f"The model URI {uri!r} names no version now.", uri=uri
                    )
                else:
                    rows[uri] = row
            aliases: dict[int, list[str]] = defaultdict(list)
            ids = [row.version_id for row in rows.values()]
            if ids:
                for version_id, alias in conn.execute(_ALIASES, {"ids": ids}):
                    aliases[version_id].append(alias)
        for uri, row in rows.items():
            found[uri] = _version(row, aliases[row.version_id])
        return deployment, found


def _uri_query(uri: str) -> tuple[Any, dict[str, Any]]:
    """The prebuilt statement that finds the version ``uri`` names, and its parameters."""
    model, number, alias = split_model_uri(uri)
    if number is not None:
        return _BY_VERSION, {"model": model, "number": number}
    if alias is not None:
        return _BY_ALIAS, {"model": model, "alias": alias}
    return _LATEST, {"model": model}
