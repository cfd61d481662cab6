"""Translate a parsed registry filter into SQL over registered models or their versions.

The filter language is the runs' one (:mod:`loopline.filters`) with its own attributes: models
have ``name``, ``description``, ``created_at`` and ``updated_at``; versions add ``version``,
``run_id``, ``artifact_path``, ``flavor``, ``digest``, ``status`` and ``created_by``. Tags are
``tags.<key>``; they live in a JSON column, read with ``json_extract`` on SQLite and ``->>`` on
PostgreSQL. As for runs, ``!=`` matches rows that have the tag with another value and ``IS NULL``
rows without it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text, and_, cast, func, or_
from sqlalchemy.dialects.postgresql import JSONB

from loopline.entities import ModelVersionStatus
from loopline.errors import InvalidFilterError
from loopline.filters import And, Comparison, Node, Or, Vocabulary
from loopline.store.schema import ModelVersionRow, RegisteredModelRow
from loopline.store.search import _compare

__all__ = ["MODEL_FILTERS", "VERSION_FILTERS", "model_condition", "version_condition"]

MODEL_FILTERS = Vocabulary(
    attributes=("name", "description", "created_at", "updated_at"),
    aliases={},
    numeric=("created_at", "updated_at"),
    statuses=(),
    entities=("tag", "attribute"),
    noun="registered model",
)
VERSION_FILTERS = Vocabulary(
    attributes=(
        "name", "version", "run_id", "artifact_path", "flavor", "digest", "status",
        "created_by", "created_at", "description",
    ),
    aliases={},
    numeric=("version", "created_at"),
    statuses=tuple(s.value for s in ModelVersionStatus),
    entities=("tag", "attribute"),
    noun="model version",
)  # fmt: skip
_MODEL_COLUMNS: dict[str, Any] = {
    "name": RegisteredModelRow.name,
    "description": RegisteredModelRow.description,
    "created_at": RegisteredModelRow.created_at,
    "updated_at": RegisteredModelRow.updated_at,
}
_VERSION_COLUMNS: dict[str, Any] = {
    "name": RegisteredModelRow.name,
    "version": ModelVersionRow.version,
    "run_id": ModelVersionRow.run_id,
    "artifact_path": ModelVersionRow.artifact_path,
    "flavor": ModelVersionRow.flavor,
    "digest": ModelVersionRow.digest,
    "status": ModelVersionRow.status,
    "created_by": ModelVersionRow.created_by,
    "created_at": ModelVersionRow.created_at,
    "description": ModelVersionRow.description,
}


def model_condition(node: Node, dialect: str) -> Any:
    """The WHERE clause over ``registered_models`` for a filter parsed with MODEL_FILTERS."""
    return _condition(node, _MODEL_COLUMNS, RegisteredModelRow.tags, dialect)


def version_condition(node: Node, dialect: str) -> Any:
    """The WHERE clause over versions joined to their model, for VERSION_FILTERS."""
    return _condition(node, _VERSION_COLUMNS, ModelVersionRow.tags, dialect)


def _condition(node: Node, columns: dict[str, Any], tags: Any, dialect: str) -> Any:
    if isinstance(node, And):
        return and_(*(_condition(item, columns, tags, dialect) for item in node.items))
    if isinstance(node, Or):
        return or_(*(_condition(item, columns, tags, dialect) for item in node.items))
    column = _tag(tags, node, dialect) if node.entity == "tag" else columns[node.key]
    if node.op == "IS NULL":
        return column.is_(None)
    if node.op == "IS NOT NULL":
        return column.is_not(None)
    return _compare(column, node.op, node.value)


def _tag(tags: Any, node: Comparison, dialect: str) -> Any:
    """The tag's value, ``NULL`` when the row has no such tag."""
    key = node.key
    if '"' in key or "\\" in key:  # no tag key holds either (loopline.tracking.validation)
        raise InvalidFilterError(
            f"Invalid filter: no tag key holds '\"' or '\\\\'; got tags.{key[:80]!r}.", token=key
        )
    if dialect == "postgresql":
        return cast(tags, JSONB).op("->>", return_type=Text)(key)
    # Tag keys hold no '"', so the quoted JSON path names exactly this key.
    return func.json_extract(tags, f'$."{key}"', type_=String)
