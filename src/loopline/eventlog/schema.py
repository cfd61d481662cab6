"""The two tables of the event log, their columns, and the lazy import of pyarrow.

Journals hold the *journal* schema (epoch-millisecond ints, the partition keys inline); sealed
Parquet segments and every read hold the *stored* schema (UTC timestamps, the partition keys
in the folder names: ``deployment=<name>/date=<YYYY-MM-DD>`` for predictions, ``date=`` for
outcomes, an outcome filed under the date of its prediction when its id is a UUIDv7).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Literal, cast

from loopline.errors import MissingDependencyError

__all__ = [
    "OUTCOME_COLUMNS",
    "PARTITIONS",
    "PREDICTION_COLUMNS",
    "TABLES",
    "Table",
    "journal_schema",
    "partitioning_schema",
    "require_pyarrow",
    "stored",
]

Table = Literal["predictions", "outcomes"]
TABLES: tuple[Table, ...] = ("predictions", "outcomes")
PARTITIONS: dict[str, tuple[str, ...]] = {
    "predictions": ("deployment", "date"),
    "outcomes": ("date",),
}

PREDICTION_COLUMNS = (
    "prediction_id", "deployment", "model_name", "model_version", "variant", "timestamp",
    "inputs", "outputs", "action", "rule", "queue", "decision", "policy_version", "control",
    "latency_ms", "request_key",
)  # fmt: skip
OUTCOME_COLUMNS = (
    "prediction_id", "timestamp", "label", "label_number", "value", "accepted", "source",
    "received_at",
)  # fmt: skip


def require_pyarrow() -> ModuleType:
    """pyarrow, or a MissingDependencyError naming the extra that brings it."""
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.dataset
        import pyarrow.json
        import pyarrow.parquet
    except ImportError as err:
        raise MissingDependencyError(
            "The prediction and outcome log needs pyarrow: pip install 'loopline[data]'.",
            extra="data",
        ) from err
    return cast("ModuleType", pyarrow)


def _types(pa: Any, table: str, *, journal: bool) -> list[tuple[str, Any]]:
    ts = pa.int64() if journal else pa.timestamp("ms", tz="UTC")
    s, i, f, b = pa.string(), pa.int64(), pa.float64(), pa.bool_()
    if table == "predictions":
        types = {
            "prediction_id": s, "deployment": s, "model_name": s, "model_version": i,
            "variant": s, "timestamp": ts, "inputs": s, "outputs": s, "action": s, "rule": s,
            "queue": s, "decision": s, "policy_version": s, "control": b, "latency_ms": f,
            "request_key": s,
        }  # fmt: skip
        names: tuple[str, ...] = PREDICTION_COLUMNS
    else:
        types = {
            "prediction_id": s, "timestamp": ts, "label": s, "label_number": f, "value": f,
            "accepted": b, "source": s, "received_at": i,
        }  # fmt: skip
        names = OUTCOME_COLUMNS
    return [(name, types[name]) for name in names]


def journal_schema(table: str) -> Any:
    """The columns of a journal line (with ``date``, the partition key, inline)."""
    pa = require_pyarrow()
    return pa.schema([*_types(pa, table, journal=True), ("date", pa.string())])


def stored(table: str) -> Any:
    """The columns of a read: timestamps as UTC, partition keys as columns, no ``date``."""
    pa = require_pyarrow()
    return pa.schema(_types(pa, table, journal=False))


def partitioning_schema(table: str) -> Any:
    pa = require_pyarrow()
    return pa.schema([(name, pa.string()) for name in PARTITIONS[table]])
