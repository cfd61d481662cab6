"""The in-memory formats a dataset version loads into: pandas, polars or Arrow."""

from __future__ import annotations

from typing import Any

from loopline.errors import InvalidArgumentError

__all__ = ["FORMATS", "check_format", "convert"]

FORMATS = ("pandas", "polars", "arrow")


def check_format(format: str) -> str:
    if format not in FORMATS:
        raise InvalidArgumentError(
            f"The 'format' parameter must be one of {list(FORMATS)}; got {format!r}.",
            field="format",
        )
    return format


def convert(table: Any, format: str) -> Any:
    """An Arrow table as the requested format (checked by :func:`check_format`)."""
    if format == "arrow":
        return table
    if format == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table.to_pandas()
