"""Revisions of the human-written sections of model cards.

A new revision is numbered after the last, check-then-insert, so the writer locks the model
version's row first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers already hold the
write lock from ``BEGIN IMMEDIATE``): concurrent edits get consecutive revisions, each merged
over the one before, and none is lost. The unique (version, revision) constraint backs this up.
An edit made against an ``expected_revision`` that is no longer the latest is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from loopline.entities.cards import SECTIONS, CardRevision
from loopline.errors import ConflictError, NotFoundError
from loopline.store.base import SqlStoreBase
from loopline.store.schema import ModelCardRow, ModelVersionRow, RegisteredModelRow

__all__ = ["CardTables"]


def _ordered(sections: Mapping[str, str]) -> dict[str, str]:
    return {name: sections[name] for name in SECTIONS if name in sections}


class CardTables(SqlStoreBase):
    """Revisions of the human-written sections of model cards."""

    def _card_version_id(self, conn: Connection, name: str, version: int, *, lock: bool) -> int:
        model_id = conn.execute(
            select(RegisteredModelRow.model_id).where(RegisteredModelRow.name == name)
        ).scalar()
        if model_id is None:
            raise NotFoundError(f"No registered model named {name!r}.", model=name)
        query = select(ModelVersionRow.version_id).where(
            ModelVersionRow.model_id == model_id, ModelVersionRow.version == version
        )
        found = conn.execute(query.with_for_update() if lock else query).scalar()
        if found is None:
            raise NotFoundError(
                f"Registered model {name!r} has no version {version}.", model=name, version=version
            )
        return int(found)

    @staticmethod
    def _revision(name: str, version: int, row: Any) -> CardRevision:
        number, sections, by, at = row
        return CardRevision(
            name=name, version=version, revision=number, sections=_ordered(json.loads(sections)),
            updated_by=by, updated_at=at,
        )  # fmt: skip

    def _revisions(self, conn: Connection, version_id: int, where: Any = True) -> list[Any]:
        return list(
            conn.execute(
                select(ModelCardRow.revision, ModelCardRow.sections_json,
                       ModelCardRow.updated_by, ModelCardRow.updated_at)
                .where(ModelCardRow.version_id == version_id, where)
                .order_by(ModelCardRow.revision)
            ).all()
        )  # fmt: skip

    def get_card_revision(
        self, name: str, version: int, revision: int | None = None
    ) -> CardRevision | None:
        """A revision (the latest for ``None``); ``None`` when the card has none yet.

        Raises NotFoundError for a ``revision`` number the card does not have.
        """
        with self._read() as conn:
            version_id = self._card_version_id(conn, name, version, lock=False)
            if revision is None:
                latest = conn.execute(
                    select(func.max(ModelCardRow.revision)).where(
                        ModelCardRow.version_id == version_id
                    )
                ).scalar()
                if latest is None:
                    return None
                revision = int(latest)
            rows = self._revisions(conn, version_id, ModelCardRow.revision == revision)
        if not rows:
            raise NotFoundError(
                f"The model card of {name!r} version {version} has no revision {revision}.",
                model=name, version=version, revision=revision,
            )  # fmt: skip
        return self._revision(name, version, rows[0])

    def list_card_revisions(self, name: str, version: int) -> list[CardRevision]:
        """Every revision of the card, oldest first."""
        with self._read() as conn:
            version_id = self._card_version_id(conn, name, version, lock=False)
            rows = self._revisions(conn, version_id)
        return [self._revision(name, version, row) for row in rows]

    def add_card_revision(
        self,
        name: str,
        version: int,
        changes: Mapping[str, str | None],
        *,
        expected_revision: int | None,
        updated_by: str,
        now: int,
    ) -> tuple[CardRevision | None, bool]:
        """Store ``changes`` merged over the latest revision as the next one.

        A ``None`` value removes that section. Returns the latest revision and whether it is
        new: when the merge changes nothing, no revision is stored (``None`` if the card has
        none). Raises ConflictError when ``expected_revision`` is given and is not the latest.
        """
        with self._write() as conn:
            version_id = self._card_version_id(conn, name, version, lock=True)
            rows = self._revisions(
                conn,
                version_id,
                ModelCardRow.revision
                == select(func.max(ModelCardRow.revision))
                .where(ModelCardRow.version_id == version_id)
                .scalar_subquery(),
            )
            latest = self._revision(name, version, rows[0]) if rows else None
            current = latest.revision if latest else 0
            if expected_revision is not None and expected_revision != current:
                raise ConflictError(
                    f"The model card of {name!r} version {version} is at revision {current}, "
                    f"not the expected revision {expected_revision}: someone edited it since. "
                    "Read it again and reapply the edit.",
                    model=name, version=version, revision=current,
                    expected_revision=expected_revision,
                )  # fmt: skip
            merged = dict(latest.sections) if latest else {}
            for section, text in changes.items():
                if text is None:
                    merged.pop(section, None)
                else:
                    merged[section] = text
            merged = _ordered(merged)
            if merged == (latest.sections if latest else {}):
                return latest, False
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(ModelCardRow).values(
                            version_id=version_id, revision=current + 1,
                            sections_json=json.dumps(merged), updated_by=updated_by,
                            updated_at=now,
                        )
                    )  # fmt: skip
            except IntegrityError:  # the lock makes this unreachable; the constraint backs it up
                raise ConflictError(
                    f"Another edit of the model card of {name!r} version {version} was stored "
                    f"as revision {current + 1} at the same time. Read it again and reapply.",
                    model=name, version=version, revision=current + 1,
                ) from None  # fmt: skip
        stored = CardRevision(
            name=name, version=version, revision=current + 1, sections=merged,
            updated_by=updated_by, updated_at=now,
        )  # fmt: skip
        return stored, True
