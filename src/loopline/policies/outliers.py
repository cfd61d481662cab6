"""Outlier flags: inputs far outside the training profile.

Bounds come from a dataset version's profile (``loopline.data`` profiles: quantiles per numeric
column, categories per categorical text column) or are given by hand. A numeric value is an
outlier outside ``[q01 - k*IQR, q99 + k*IQR]`` (IQR = q75 - q25); when the IQR is 0 (a constant or
nearly binary column) the spread ``q99 - q01`` stands in for it, then ``max - min``, so a rare
but seen value of a flag column is not flagged. A categorical value is an outlier when it was
never seen in training. Missing values are never outliers (that is a data-quality check's job).

Examples:
    >>> profile = {"age": {"type": "integer", "min": 18, "max": 90, "quantiles": {
    ...     "0.01": 19.0, "0.25": 30.0, "0.75": 50.0, "0.99": 85.0}}}
    >>> outlier_bounds(profile, k=1.0)
    {'age': {'high': 105.0, 'low': -1.0}}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from loopline.policies.conditions import invalid, null_mask

__all__ = ["evaluate_outliers", "normalize_outliers", "outlier_bounds"]

_NUMERIC = ("integer", "float")


def outlier_bounds(
    source: Any,
    *,
    k: float = 1.5,
    columns: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """Feature bounds from a DatasetVersion (or its ``profile`` dict) for ``outliers.features``.

    ``columns`` keeps only those features (say, the model's signature columns); ``exclude``
    drops some (the target). Text columns without categories and other types are skipped.
    """
    if isinstance(k, bool) or not isinstance(k, int | float) or not k >= 0:
        raise invalid("k", f"expected a number >= 0, got {k!r}")
    profile = getattr(source, "profile", source)
    if not isinstance(profile, Mapping):
        raise invalid("source", f"expected a DatasetVersion or a profile mapping, got {source!r}")
    categories = {
        column["name"]: column.get("categories") for column in getattr(source, "schema", None) or []
    }
    keep = set(columns) if columns is not None else None
    skip = set(exclude)
    bounds: dict[str, dict[str, Any]] = {}
    for name, stats in profile.items():
        if (keep is not None and name not in keep) or name in skip:
            continue
        if stats.get("type") in _NUMERIC and "quantiles" in stats:
            bounds[name] = _numeric_bounds(stats, float(k))
        elif categories.get(name):
            bounds[name] = {"categories": sorted(categories[name])}
    return bounds


def _numeric_bounds(stats: Mapping[str, Any], k: float) -> dict[str, Any]:
    q = stats["quantiles"]
    low, high = float(q["0.01"]), float(q["0.99"])
    spread = float(q["0.75"]) - float(q["0.25"])
    if spread <= 0:
        spread = high - low
    if spread <= 0:
        spread = float(stats.get("max", high)) - float(stats.get("min", low))
    return {"high": high + k * spread, "low": low - k * spread}


def normalize_outliers(spec: Any, path: str, fields: frozenset[str] | None) -> dict[str, Any]:
    """The canonical ``outliers`` part: ``{"features": {...}, "action": str | None}``."""
    if not isinstance(spec, Mapping):
        raise invalid(path, f"expected a mapping, got {spec!r}")
    unknown = set(spec) - {"features", "action"}
    if unknown:
        raise invalid(f"{path}.{sorted(unknown)[0]}", "unknown key (use features, action)")
    features = spec.get("features")
    if not isinstance(features, Mapping) or not features:
        raise invalid(f"{path}.features", f"expected a non-empty mapping, got {features!r}")
    out: dict[str, Any] = {}
    for name, bound in features.items():
        where = f"{path}.features.{name}"
        if fields is not None and name not in fields:
            raise invalid(where, f"unknown field {name!r} (inputs: {', '.join(sorted(fields))})")
        out[str(name)] = _normalize_bound(bound, where)
    action = spec.get("action")
    if action is not None and (not isinstance(action, str) or not action):
        raise invalid(f"{path}.action", f"expected an action name, got {action!r}")
    return {"action": action, "features": dict(sorted(out.items()))}


def _normalize_bound(bound: Any, where: str) -> dict[str, Any]:
    if not isinstance(bound, Mapping) or not bound:
        raise invalid(where, f"expected {{low, high}} or {{categories}}, got {bound!r}")
    unknown = set(bound) - {"low", "high", "categories"}
    if unknown:
        raise invalid(f"{where}.{sorted(unknown)[0]}", "unknown key (use low, high, categories)")
    if "categories" in bound:
        values = bound["categories"]
        if set(bound) != {"categories"}:
            raise invalid(where, "give either low/high or categories, not both")
        if not isinstance(values, list | tuple) or not values:
            raise invalid(f"{where}.categories", f"expected a non-empty list, got {values!r}")
        return {"categories": sorted(set(values), key=lambda v: (str(type(v)), v))}
    out: dict[str, Any] = {}
    for key in ("high", "low"):
        if key in bound and bound[key] is not None:
            value = bound[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise invalid(f"{where}.{key}", f"expected a number, got {value!r}")
            out[key] = float(value)
    if not out:
        raise invalid(where, "give low, high or both")
    if "low" in out and "high" in out and out["low"] > out["high"]:
        raise invalid(where, f"low {out['low']} is above high {out['high']}")
    return out


def evaluate_outliers(features: Mapping[str, Any], columns: Any, n: int, path: str) -> Any:
    """``(flags, per-row tuple of flagged feature names)`` for n rows."""
    import numpy as np

    flags = np.zeros(n, bool)
    hits: list[tuple[str, Any]] = []
    for name, bound in features.items():
        where = f"{path}.features.{name}"
        column = columns.get(name, where)
        if "categories" in bound:
            nulls = null_mask(column)
            allowed = set(bound["categories"])
            try:
                seen = np.fromiter((v in allowed for v in column.tolist()), bool, n)
            except TypeError:
                raise invalid(
                    where, f"expected categories, got values like {column[:3]!r}"
                ) from None
            mask = ~seen & ~nulls
        else:
            try:
                values = np.asarray(column, dtype=np.float64)
            except (TypeError, ValueError):
                raise invalid(where, f"expected numbers, got values like {column[:3]!r}") from None
            mask = np.zeros(n, bool)
            if "low" in bound:
                mask |= values < bound["low"]
            if "high" in bound:
                mask |= values > bound["high"]
        if mask.any():
            flags |= mask
            hits.append((name, mask))
    named: list[tuple[str, ...]] = [()] * n
    if hits:
        for row in np.flatnonzero(flags).tolist():
            named[row] = tuple(name for name, mask in hits if mask[row])
    return flags, named
