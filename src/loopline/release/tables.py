"""Tables sent as JSON for a remote evaluation, turned back into DataFrames by the server.

The wire shape is pandas' ``split`` orientation without the index, plus the column dtypes:
``{"columns": [...], "data": [[row], ...], "dtypes": {"column": "float64", ...}}``. ``null``
is a missing value. The remote client builds it from a DataFrame with :func:`table_to_json`
(calling the frame's own methods, so the client never imports pandas); the server rebuilds the
frame with :func:`table_from_json` inside the release layer, which may import pandas.

Examples:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"age": [31.0, None], "plan": pd.Categorical(["a", "b"])})
    >>> sent = table_to_json(frame)
    >>> sent["data"], sent["dtypes"]
    ([[31.0, 'a'], [None, 'b']], {'age': 'float64', 'plan': 'category'})
    >>> back = table_from_json(sent, "data")
    >>> back.dtypes.astype(str).to_dict(), back["age"].isna().tolist()
    ({'age': 'float64', 'plan': 'category'}, [False, True])
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from loopline.errors import InvalidArgumentError

__all__ = ["MAX_CELLS", "table_from_json", "table_to_json"]

MAX_CELLS = 5_000_000
"""The most cells one JSON table may hold (larger tables belong in a dataset version)."""


def table_to_json(frame: Any) -> dict[str, Any]:
    """A DataFrame as ``{"columns", "data", "dtypes"}`` (missing values as ``None``)."""
    split = json.loads(frame.to_json(orient="split", index=False, date_format="iso"))
    dtypes = {str(column): str(dtype) for column, dtype in frame.dtypes.items()}
    return {"columns": [str(c) for c in split["columns"]], "data": split["data"], "dtypes": dtypes}


def _invalid(argument: str, constraint: str, value: object) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"The {argument!r} table must be {constraint}. Got {str(value)[:80]!r} instead.",
        field=argument,
    )


def table_from_json(table: Mapping[str, Any], argument: str) -> Any:
    """The DataFrame a :func:`table_to_json` document describes; InvalidArgumentError if malformed.

    Every row must have one value per column; ``dtypes`` (optional) names a pandas dtype per
    column, applied after the rows are read.
    """
    import pandas as pd
    from pandas.api.types import pandas_dtype

    if not isinstance(table, Mapping) or set(table) - {"columns", "data", "dtypes"}:
        raise _invalid(argument, "an object with 'columns', 'data' and optional 'dtypes'", table)
    columns, rows = table.get("columns"), table.get("data")
    if not isinstance(columns, list) or not all(isinstance(c, str) and c for c in columns):
        raise _invalid(argument, "a list of non-empty column names in 'columns'", columns)
    if len(set(columns)) != len(columns) or not columns:
        raise _invalid(argument, "a non-empty list of distinct names in 'columns'", columns)
    if not isinstance(rows, list) or not rows:
        raise _invalid(argument, "a non-empty list of rows in 'data'", rows)
    if len(rows) * len(columns) > MAX_CELLS:
        raise _invalid(argument, f"at most {MAX_CELLS} cells (use a dataset version)", len(rows))
    for number, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise _invalid(argument, f"rows of {len(columns)} values ('data'[{number}])", row)
        if any(isinstance(cell, dict | list) for cell in row):
            raise _invalid(argument, f"rows of scalar values ('data'[{number}])", row)
    dtypes = table.get("dtypes") or {}
    if not isinstance(dtypes, Mapping) or set(dtypes) - set(columns):
        raise _invalid(argument, "a mapping of its own column names to dtypes in 'dtypes'", dtypes)
    frame = pd.DataFrame(rows, columns=columns)
    for column, dtype in dtypes.items():
        try:
            frame[column] = frame[column].astype(pandas_dtype(str(dtype)))
        except (TypeError, ValueError) as exc:
            raise _invalid(
                argument, f"castable to its dtypes (column {column!r}: {exc})"[:300], dtype
            ) from None
    return frame
