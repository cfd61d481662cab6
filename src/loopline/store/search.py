"""Translate a parsed run filter and order-by into one SQL query over the runs table.

Each comparison on a metric, param or tag becomes a correlated ``EXISTS`` on its table, keyed by
the primary key ``(run_id, key)``; so ``!=`` matches runs that have the key with another value, and
``IS NULL`` matches runs without the key (as in MLflow). Metrics compare on their latest value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, String, and_, exists, false, not_, or_, select, true
from sqlalchemy.orm import aliased

from loopline.entities import ViewType
from loopline.errors import InvalidArgumentError, InvalidFilterError
from loopline.filters import And, Comparison, Node, Or, OrderKey
from loopline.store.schema import ExperimentRow, LatestMetricRow, ParamRow, RunRow, TagRow

__all__ = ["MAX_ORDER_KEYS", "RUN_COLUMNS", "Node", "OrderKey", "build_query"]

# Each order key is one outer join; SQLite 3.40 crashes the whole process (SIGSEGV) on a query
# with about 20 sort joins, and nobody sorts runs by more than a handful of keys.
MAX_ORDER_KEYS = 10

RUN_COLUMNS = (
    RunRow.run_id,
    RunRow.experiment_id,
    RunRow.name,
    RunRow.status,
    RunRow.start_time,
    RunRow.end_time,
    RunRow.lifecycle_stage,
    RunRow.parent_run_id,
    RunRow.artifact_uri,
    RunRow.user_id,
)
_ATTRIBUTE_COLUMNS: dict[str, Any] = {
    "run_id": RunRow.run_id,
    "run_name": RunRow.name,
    "status": RunRow.status,
    "start_time": RunRow.start_time,
    "end_time": RunRow.end_time,
    "experiment_id": RunRow.experiment_id,
    "parent_run_id": RunRow.parent_run_id,
    "lifecycle_stage": RunRow.lifecycle_stage,
}
_KV_TABLES: dict[str, Any] = {"param": ParamRow, "tag": TagRow, "metric": LatestMetricRow}


def build_query(
    experiment_ids: Sequence[int],
    filter_ast: Node | None,
    order_by: Sequence[OrderKey],
    view: ViewType,
    *,
    dialect: str,
) -> Select[Any]:
    """``SELECT run_id`` of matching runs in the requested order (paging is the caller's)."""
    if len(order_by) > MAX_ORDER_KEYS:
        raise InvalidArgumentError(
            f"The 'order_by' parameter takes at most {MAX_ORDER_KEYS} clauses; "
            f"got {len(order_by)}.",
            field="order_by",
        )
    query = select(RunRow.run_id).where(RunRow.experiment_id.in_(experiment_ids))
    # The runs of a deleted experiment are hidden with it: deleted for the view, not in their rows.
    if view is not ViewType.ALL:
        query = query.join(ExperimentRow, ExperimentRow.experiment_id == RunRow.experiment_id)
    if view is ViewType.ACTIVE_ONLY:
        query = query.where(
            RunRow.lifecycle_stage == "active", ExperimentRow.lifecycle_stage == "active"
        )
    elif view is ViewType.DELETED_ONLY:
        query = query.where(
            or_(RunRow.lifecycle_stage == "deleted", ExperimentRow.lifecycle_stage == "deleted")
        )
    if filter_ast is not None:
        query = query.where(_condition(filter_ast))
    clauses: list[Any] = []
    for index, key in enumerate(order_by):
        query, key_clauses = _order(query, key, index, dialect)
        clauses.extend(key_clauses)
    clauses.extend([RunRow.start_time.desc(), RunRow.run_id])
    return query.order_by(*clauses)


def _condition(node: Node) -> Any:
    if isinstance(node, And):
        return and_(*(_condition(item) for item in node.items))
    if isinstance(node, Or):
        return or_(*(_condition(item) for item in node.items))
    if node.entity == "attribute":
        return _attribute_condition(node)
    return _kv_condition(node)


def _compare(column: Any, op: str, value: Any) -> Any:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    # Backslash escapes a wildcard on both databases (PostgreSQL's default; SQLite has none).
    if op == "LIKE":
        return column.like(value, escape="\\")
    if op == "NOT LIKE":
        return column.not_like(value, escape="\\")
    if op == "ILIKE":
        return column.ilike(value, escape="\\")
    if op == "NOT ILIKE":
        return column.not_ilike(value, escape="\\")
    if op == "IN":
        return column.in_(value)
    if op == "NOT IN":
        return column.not_in(value)
    raise InvalidFilterError(f"Unsupported comparator {op!r} in filter.", token=op)


def _kv_condition(node: Comparison) -> Any:
    table = _KV_TABLES[node.entity]
    has_key = exists().where(table.run_id == RunRow.run_id, table.key == node.key)
    if node.op == "IS NULL":
        return not_(has_key)
    if node.op == "IS NOT NULL":
        return has_key
    if node.entity == "metric":
        return has_key.where(_metric_value_condition(node))
    return has_key.where(_compare(table.value, node.op, node.value))


def _metric_value_condition(node: Comparison) -> Any:
    column, is_nan = LatestMetricRow.value, LatestMetricRow.is_nan
    values = node.value if isinstance(node.value, tuple) else (node.value,)
    if any(isinstance(v, float) and math.isnan(v) for v in values):
        if node.op in ("=", "IN"):
            finite = [v for v in values if not math.isnan(float(v))]  # type: ignore[arg-type]
            return or_(is_nan == true(), and_(is_nan == false(), column.in_(finite)))
        if node.op in ("!=", "NOT IN"):
            finite = [v for v in values if not math.isnan(float(v))]  # type: ignore[arg-type]
            return and_(is_nan == false(), column.not_in(finite))
        return false()  # an ordering comparison with NaN is never true
    if node.op in ("!=", "NOT IN"):
        # NaN differs from every number: the complement of = and IN among runs with the metric.
        return or_(is_nan == true(), _compare(column, node.op, node.value))
    return and_(is_nan == false(), _compare(column, node.op, node.value))


def _attribute_condition(node: Comparison) -> Any:
    column = _ATTRIBUTE_COLUMNS[node.key]
    if node.op == "IS NULL":
        return column.is_(None)
    if node.op == "IS NOT NULL":
        return column.is_not(None)
    value: Any = node.value
    if node.key == "experiment_id":
        value = _experiment_ids(value, node)
    return _compare(column, node.op, value)


def _experiment_ids(value: Any, node: Comparison) -> Any:
    def one(item: Any) -> int:
        try:
            number = int(item)
        except (TypeError, ValueError):
            number = None
        if number is None or not -(2**63) <= number < 2**63:  # a BIGINT on both databases
            raise InvalidFilterError(
                f"attributes.experiment_id compares with a 64-bit integer id; got {item!r}.",
                token=str(item),
            )
        return number

    if node.op in ("LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"):
        raise InvalidFilterError(
            f"attributes.experiment_id does not support {node.op}.", token=node.op
        )
    return tuple(one(v) for v in value) if isinstance(value, tuple) else one(value)


def _byte_order(column: Any, dialect: str) -> Any:
    """Strings sort by code point on both databases, whatever PostgreSQL's default collation."""
    if dialect == "postgresql" and isinstance(column.type, String):
        return column.collate("C")
    return column


def _order(
    query: Select[Any], key: OrderKey, index: int, dialect: str
) -> tuple[Select[Any], list[Any]]:
    if key.entity == "attribute":
        column = _ATTRIBUTE_COLUMNS[key.key]
        sort = _byte_order(column, dialect)
        return query, [column.is_(None), sort.desc() if key.descending else sort.asc()]
    table = aliased(_KV_TABLES[key.entity], name=f"order_{index}")
    query = query.outerjoin(table, and_(table.run_id == RunRow.run_id, table.key == key.key))
    sort = _byte_order(table.value, dialect)
    value = sort.desc() if key.descending else sort.asc()
    clauses = [table.run_id.is_(None)]  # runs without the key go last
    if key.entity == "metric":
        clauses.append(table.is_nan)  # then NaN values, after every number
    return query, [*clauses, value]
