"""Propose a starting :class:`CheckSuite` from a version's schema and profile.

The rules (each inferred check passes on the data the profile came from):

- ``dtype`` for every column, with its logical type;
- ``not_null`` for a column with no missing value;
- ``range`` for integer and float columns: the observed ``[min, max]``, widened on each side by
  ``range_margin`` times its width (0 by default: exactly what was seen). Dates and datetimes get
  none, since time moves on: a freshness check is the rule for them, and needs a business age;
- ``allowed_values`` for categorical strings: the recorded ``categories``;
- ``unique`` for integer, string, date, datetime, decimal and binary columns whose values are all
  present and distinct, over at least two rows (never floats or booleans);
- ``row_count`` with a minimum of ``row_count_fraction`` (default 0.5) of the observed rows, rounded
  down: a batch half the usual size is suspect. No maximum: tables grow.

Regexes, freshness and relations between columns carry business meaning and are left to the user.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from loopline.data.checks import LOGICAL_TYPES, Check
from loopline.data.suites import CheckSuite
from loopline.errors import InvalidArgumentError

__all__ = ["infer_checks"]

_UNIQUE_TYPES = ("integer", "string", "date", "datetime", "decimal", "binary")


def infer_checks(
    schema: Sequence[Mapping[str, Any]],
    profile: Mapping[str, Mapping[str, Any]],
    *,
    name: str = "inferred",
    range_margin: float = 0.0,
    row_count_fraction: float | None = 0.5,
) -> CheckSuite:
    """A starting suite from a version's ``schema`` and ``profile`` (docs/datasets.md).

    Examples:
        >>> schema = [{"name": "age", "type": "integer", "nullable": False, "categories": None,
        ...            "min": 17, "max": 90}]
        >>> profile = {"age": {"type": "integer", "count": 3, "missing": 0, "distinct": 3,
        ...                    "min": 17, "max": 90, "infinite": 0}}
        >>> [c.label for c in infer_checks(schema, profile).checks]
        ['dtype(age)', 'not_null(age)', 'range(age)', 'unique(age)', 'row_count']
    """
    if not isinstance(range_margin, int | float) or not range_margin >= 0:
        raise InvalidArgumentError(
            f"range_margin must be a non-negative number. Got {range_margin!r} instead."
        )
    if row_count_fraction is not None and not 0 <= row_count_fraction <= 1:
        raise InvalidArgumentError(
            f"row_count_fraction must be between 0 and 1. Got {row_count_fraction!r} instead."
        )
    checks: list[Check] = []
    rows = 0
    for position, column in enumerate(schema):
        col_name, kind = column.get("name"), column.get("type")
        if not isinstance(col_name, str) or kind not in LOGICAL_TYPES:
            raise InvalidArgumentError(
                f"schema[{position}] needs a 'name' and a 'type' among {list(LOGICAL_TYPES)}. "
                f"Got {dict(column)!r} instead."
            )
        stats = profile.get(col_name, {})
        rows = max(rows, int(stats.get("count", 0) or 0))
        checks.extend(_column_checks(col_name, kind, column, stats, range_margin))
    if row_count_fraction is not None and rows:
        checks.append(Check.row_count(min=math.floor(rows * row_count_fraction)))
    return CheckSuite(name, tuple(checks))


def _column_checks(
    column: str,
    kind: str,
    schema: Mapping[str, Any],
    stats: Mapping[str, Any],
    margin: float,
) -> list[Check]:
    checks: list[Check] = [Check.dtype(column, kind)]
    count, missing = stats.get("count"), stats.get("missing")
    no_missing = missing == 0 if missing is not None else schema.get("nullable") is False
    if no_missing:
        checks.append(Check.not_null(column))
    if kind in ("integer", "float"):
        bounds = _range(stats, schema, margin, integer=kind == "integer")
        if bounds is not None:
            checks.append(Check.range(column, min=bounds[0], max=bounds[1]))
    categories = schema.get("categories")
    if kind == "string" and categories:
        checks.append(Check.allowed_values(column, categories))
    distinct = stats.get("distinct")
    if kind in _UNIQUE_TYPES and no_missing and count and count >= 2 and distinct == count:
        checks.append(Check.unique(column))
    return checks


def _range(
    stats: Mapping[str, Any], schema: Mapping[str, Any], margin: float, *, integer: bool
) -> tuple[int | float, int | float] | None:
    lo = stats.get("min", schema.get("min"))
    hi = stats.get("max", schema.get("max"))
    if not isinstance(lo, int | float) or not isinstance(hi, int | float):
        return None
    if stats.get("infinite") or not (math.isfinite(lo) and math.isfinite(hi)):
        return None  # min and max describe the finite values only: infinities would fail
    pad = (hi - lo) * margin
    lo, hi = lo - pad, hi + pad
    if integer:
        return math.floor(lo), math.ceil(hi)
    return float(lo), float(hi)
