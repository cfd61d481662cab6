"""The schema and the per-column profile of a canonical table (shapes in docs/datasets.md).

Numbers are profiled from one sort of their non-null values: min, max, distinct count, exact
quantiles and the histogram all come from the sorted array. Text uses Arrow's hash kernels.
"""

from __future__ import annotations

import math
from typing import Any

from loopline.data.canonical import logical_type

__all__ = ["QUANTILES", "profile_table", "sample_indices"]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
HISTOGRAM_BINS = 20
TOP_VALUES = 20
MAX_CATEGORIES = 50
SAMPLE_ROWS = 1000
SAMPLE_SEED = 0


def _number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _numeric(column: Any, kind: str) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    values = column.drop_null()
    if kind == "boolean":
        values = values.cast(pa.uint8())
    data = np.sort(values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False))
    if data.size == 0:
        return {"distinct": 0}
    finite = data[np.isfinite(data)]
    distinct = int(1 + np.count_nonzero(data[1:] != data[:-1]))
    stats: dict[str, Any] = {
        "distinct": distinct,
        "min": _number(data[0]) if math.isfinite(data[0]) else float(data[0]),
        "max": _number(data[-1]) if math.isfinite(data[-1]) else float(data[-1]),
        "zeros": int(np.count_nonzero(data == 0)),
        "infinite": int(data.size - finite.size),
    }
    if kind == "integer":
        stats["min"], stats["max"] = int(data[0]), int(data[-1])
    if finite.size:
        stats["mean"] = float(finite.mean())
        stats["std"] = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
        positions = np.array(QUANTILES) * (finite.size - 1)
        low = np.floor(positions).astype(np.int64)
        high = np.minimum(low + 1, finite.size - 1)
        weight = positions - low
        quantiles = finite[low] * (1 - weight) + finite[high] * weight
        stats["quantiles"] = {str(q): float(v) for q, v in zip(QUANTILES, quantiles, strict=True)}
        lo, hi = float(finite[0]), float(finite[-1])
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, HISTOGRAM_BINS + 1)
        cuts = np.searchsorted(finite, edges[1:-1], side="left")
        counts = np.diff(np.concatenate(([0], cuts, [finite.size])))
        stats["histogram"] = {"edges": edges.tolist(), "counts": counts.tolist()}
    return stats


def _text(column: Any) -> dict[str, Any]:
    import pyarrow.compute as pc

    counts = pc.value_counts(column.drop_null())
    values = counts.field("values").to_pylist()
    frequencies = counts.field("counts").to_pylist()
    total = sum(frequencies)
    ranked = sorted(zip(values, frequencies, strict=True), key=lambda vc: (-vc[1], vc[0]))
    lengths = pc.utf8_length(column.drop_null())
    length_range = pc.min_max(lengths).as_py() if total else {"min": None, "max": None}
    return {
        "distinct": len(values),
        "top": [{"value": v, "count": c, "frequency": c / total} for v, c in ranked[:TOP_VALUES]],
        "lengths": {
            "min": length_range["min"],
            "mean": pc.mean(lengths).as_py() if total else None,
            "max": length_range["max"],
        },
        "_all_values": [v for v, _ in ranked] if len(values) <= MAX_CATEGORIES else None,
    }


def _temporal(column: Any) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    present = column.drop_null()
    if len(present) == 0:
        return {"distinct": 0}
    bounds = pc.min_max(present).as_py()
    storage = pa.int32() if pa.types.is_date32(present.type) else pa.int64()
    # numpy's sort beats Arrow's hash-based count_distinct on fresh timestamp columns by 10x+.
    ticks = np.sort(present.cast(storage).to_numpy(zero_copy_only=False))
    return {
        "distinct": int(1 + np.count_nonzero(ticks[1:] != ticks[:-1])),
        "min": bounds["min"].isoformat(),
        "max": bounds["max"].isoformat(),
    }


def _other(column: Any) -> dict[str, Any]:
    import pyarrow.compute as pc

    return {"distinct": pc.count_distinct(column.drop_null()).as_py()}


def profile_table(table: Any) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """``(schema, profile)`` of a canonical table."""
    schema: list[dict[str, Any]] = []
    profile: dict[str, dict[str, Any]] = {}
    rows = table.num_rows
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = logical_type(column.type)
        missing = column.null_count
        stats: dict[str, Any] = {"type": kind, "count": rows, "missing": missing,
                                 "missing_rate": missing / rows if rows else 0.0}  # fmt: skip
        if kind in ("integer", "float", "boolean"):
            stats.update(_numeric(column, kind))
        elif kind == "string":
            stats.update(_text(column))
        elif kind in ("datetime", "date"):
            stats.update(_temporal(column))
        else:
            stats.update(_other(column))
        categories = stats.pop("_all_values", None)
        present = rows - missing
        is_categorical = categories is not None and 0 < len(categories) <= present / 2
        schema.append(
            {
                "name": name,
                "type": kind,
                "arrow_type": str(column.type),
                "nullable": missing > 0,
                "categories": sorted(categories) if is_categorical and categories else None,
                "min": stats.get("min") if kind != "string" else _text_bound(stats, min),
                "max": stats.get("max") if kind != "string" else _text_bound(stats, max),
            }
        )
        profile[name] = stats
    return schema, profile


def _text_bound(stats: dict[str, Any], pick: Any) -> str | None:
    values = [t["value"] for t in stats.get("top", [])]
    return pick(values) if values and stats.get("distinct", 0) <= TOP_VALUES else None


def sample_indices(num_rows: int, size: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED) -> Any:
    """Sorted row positions of a fixed-seed sample (the whole table when it is small)."""
    import numpy as np

    if num_rows <= size:
        return np.arange(num_rows)
    return np.sort(np.random.default_rng(seed).choice(num_rows, size=size, replace=False))
