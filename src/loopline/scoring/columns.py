"""A scored chunk as Arrow columns: prediction ids, scores, and the policy's decision.

Everything here is vectorised: ids are minted as one NumPy byte matrix, decisions are converted
column by column (the ranked next best actions through offsets, never a Python object per row).
The same columns feed the output table and the event log.

Examples:
    >>> ids = new_ids(3, now_ms=1_790_000_000_000)
    >>> from loopline.eventlog import prediction_id_time
    >>> [prediction_id_time(i) for i in ids.to_pylist()] == [1_790_000_000_000] * 3
    True
    >>> len(set(ids.to_pylist()))
    3
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

__all__ = ["Scored", "decision_columns", "new_ids", "plain", "score_columns"]

_LAYOUT: Any = None
DECISION_FIELDS = (
    "action", "rule", "queue", "route", "model_action", "control", "outlier",
    "outlier_features", "ranked", "score", "policy_version",
)  # fmt: skip


def _layout() -> tuple[Any, Any]:
    """Two hex digits per byte value, and where each of the 36 characters comes from."""
    import numpy as np

    pairs = np.array([f"{b:02x}".encode() for b in range(256)], dtype="S2")
    order = []
    for group, (start, stop) in enumerate(((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))):
        if group:
            order.append(32)  # the dash
        order.extend(range(start, stop))
    return pairs.view(np.uint16), np.array(order)


def new_ids(n: int, *, now_ms: int) -> Any:
    """``n`` UUIDv7 prediction ids of one millisecond, as an Arrow string array.

    Same layout as :func:`loopline.eventlog.new_prediction_id`: 48 bits of time, version 7,
    12 random bits, variant ``10``, 62 random bits.
    """
    import numpy as np
    import pyarrow as pa

    global _LAYOUT
    if _LAYOUT is None:
        _LAYOUT = _layout()
    pairs, order = _LAYOUT
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, :6] = np.frombuffer((now_ms & 0xFFFF_FFFF_FFFF).to_bytes(6, "big"), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.empty((n, 33), dtype=np.uint8)
    digits[:, :32] = pairs[raw].view(np.uint8).reshape(n, 32)
    digits[:, 32] = ord("-")
    text = np.take(digits, order, axis=1)
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))


@dataclass(slots=True)
class Scored:
    """One scored chunk: ids, labels, probabilities, the decision (or None)."""

    ids: Any
    labels: Any
    proba: Any | None
    classes: list[Any] | None
    decision: Any | None
    timestamp: int


def _nan_to_null(values: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    values = np.asarray(values, dtype=np.float64)
    return pa.array(values, mask=np.isnan(values))


def score_columns(scored: Scored) -> dict[str, Any]:
    """``label``, ``score`` and one ``proba_<class>`` per class (a regressor: ``prediction``)."""
    import numpy as np
    import pyarrow as pa

    if scored.proba is None:
        return {"prediction": pa.array(np.asarray(scored.labels))}
    proba = scored.proba
    labels = scored.labels
    columns: dict[str, Any] = {
        "label": pa.array(labels.tolist() if labels.dtype == object else labels)
    }
    binary = proba.shape[1] == 2
    columns["score"] = pa.array(proba[:, 1]) if binary else pa.nulls(len(labels), pa.float64())
    names = scored.classes if scored.classes and len(scored.classes) == proba.shape[1] else None
    for j in range(proba.shape[1]):
        columns[f"proba_{names[j] if names else j}"] = pa.array(proba[:, j])
    return columns


def _text(values: Any, n: int) -> Any:
    import pyarrow as pa

    if values is None:
        return pa.nulls(n, pa.string())
    return pa.array(values, type=pa.string())


def _coded(batch: Any, name: str, n: int) -> Any:
    """A decision's text column: a dictionary array where the engine kept it coded."""
    import numpy as np
    import pyarrow as pa

    coded = batch.coded.get(name) if getattr(batch, "coded", None) else None
    if coded is None:
        return _text(getattr(batch, name), n)
    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(coded.codes, dtype=np.int32)),
        pa.array(list(coded.vocabulary), pa.string()),
    )


def _ranked(batch: Any, n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    kind = pa.list_(pa.struct([("action", pa.string()), ("value", pa.float64())]))
    if batch.ranked_index is None:
        return pa.nulls(n, kind)
    index = np.asarray(batch.ranked_index)
    keep = index >= 0
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    names = np.asarray(batch._candidates, dtype=object)
    flat = pa.StructArray.from_arrays(
        [pa.array(names[index[keep]], pa.string()),
         pa.array(np.asarray(batch.ranked_value)[keep], pa.float64())],
        names=["action", "value"],
    )  # fmt: skip
    return pa.ListArray.from_arrays(pa.array(offsets), flat)


def _features(batch: Any, n: int) -> Any:
    import numpy as np
    import pyarrow as pa

    if not np.asarray(batch.outlier).any():
        return pa.ListArray.from_arrays(
            pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], pa.string())
        )
    return pa.array([list(f) for f in batch.outlier_features], pa.list_(pa.string()))


def decision_columns(batch: Any) -> dict[str, Any]:
    """The columns of a :class:`~loopline.policies.DecisionBatch`, in ``to_rows`` key order.

    ``action``, ``rule``, ``model_action`` (where the engine kept them coded) and
    ``policy_version`` are dictionary arrays: cheap to build and written to Parquet as they are.
    :func:`plain` turns them into string columns for callers that want plain text.
    """
    import numpy as np
    import pyarrow as pa

    n = len(batch)
    return {
        "action": _coded(batch, "action", n),
        "rule": _coded(batch, "rule", n),
        "queue": _text(batch.queue, n),
        "route": _text(batch.route, n),
        "model_action": _coded(batch, "model_action", n),
        "control": pa.array(np.asarray(batch.control, dtype=bool)),
        "outlier": pa.array(np.asarray(batch.outlier, dtype=bool)),
        "outlier_features": _features(batch, n),
        "ranked": _ranked(batch, n),
        "score": pa.nulls(n, pa.float64()) if batch.score is None else _nan_to_null(batch.score),
        "policy_version": pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(n, dtype=np.int32)), pa.array([batch.policy_version], pa.string())
        ),
    }


def plain(column: Any) -> Any:
    """``column`` with a dictionary type decoded to its value type; anything else as it is."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column
