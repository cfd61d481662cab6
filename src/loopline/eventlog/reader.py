"""Reads: a window of predictions, each joined to the latest of its outcomes.

A read covers sealed segments *and* the journals not sealed yet (live writers' included, up to
their last whole line), so what ``append`` acknowledged is readable at once. Journals are read
first, then the segments listed, and a segment sealed from a journal already read is skipped:
a journal sealed during the read is counted once, never twice, never zero times.

Bulk scoring's typed segments (:mod:`loopline.eventlog.typed`) are read one by one and their
struct payloads turned into JSON text, so every read has the stored schema.

Compaction (:mod:`loopline.eventlog.compact`) merges old segments into bigger files that name
the files they replace; a read skips those (a crash may leave them behind for a while), and a
read that races a compaction is done again.

Outcomes: several may name one prediction; the latest by ``timestamp`` wins, ties broken by
arrival (``received_at``). The join is Arrow's hash join, columnar all the way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from loopline.errors import InvalidArgumentError, StorageError
from loopline.eventlog.compact import is_compacted, replaced_files
from loopline.eventlog.encode import date_of
from loopline.eventlog.journal import journal_dir, list_journals, read_complete
from loopline.eventlog.schema import PARTITIONS, partitioning_schema, require_pyarrow, stored
from loopline.eventlog.seal import parse_journal, to_stored
from loopline.eventlog.typed import is_typed, segment_format, to_json_payloads

__all__ = ["OUTCOME_JOINED", "latest_outcomes", "read_table", "to_ms", "window_filter"]

OUTCOME_JOINED = {
    "timestamp": "outcome_timestamp",
    "label": "label",
    "label_number": "label_number",
    "value": "value",
    "accepted": "accepted",
    "source": "outcome_source",
}
"""Outcome columns as they appear beside a prediction in a joined read."""


def to_ms(value: Any, name: str) -> int | None:
    """Epoch milliseconds of an int (ms), a datetime (naive = UTC), a date or an ISO string."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidArgumentError(
                f"The {name!r} parameter must be epoch milliseconds, a datetime, a date or an "
                f"ISO 8601 string. Got {value!r} instead.",
                field=name,
            ) from None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(aware.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidArgumentError(
        f"The {name!r} parameter must be epoch milliseconds, a datetime, a date or an ISO 8601 "
        f"string. Got {value!r} instead.",
        field=name,
    )


def window_filter(start: int | None, end: int | None, deployment: str | None) -> Any:
    """The Arrow expression of ``start <= timestamp < end`` (and the deployment)."""
    pa = require_pyarrow()
    ds = pa.dataset
    expr = None
    ts = pa.timestamp("ms", tz="UTC")
    conds = []
    if start is not None:
        conds.append(ds.field("timestamp") >= pa.scalar(start, ts))
    if end is not None:
        conds.append(ds.field("timestamp") < pa.scalar(end, ts))
    if deployment is not None:
        conds.append(ds.field("deployment") == deployment)
    for cond in conds:
        expr = cond if expr is None else expr & cond
    return expr


def _keep(path: Path, table: str, bounds: dict[str, tuple[str | None, str | None]]) -> bool:
    """Partition pruning on the folder names (``key=value``) before any file is opened."""
    folders = path.parts[-1 - len(PARTITIONS[table]) : -1]
    parts = {k: unquote(v) for k, v in (folder.split("=", 1) for folder in folders)}
    for key, (low, high) in bounds.items():
        value = parts.get(key)
        if value is None:
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            return False
    return True


_CHUNK_SEGMENT = re.compile(r"part-(\d{13})-\d+-[0-9a-f]{12}-typed\.(?:arrow|parquet)")
"""A bulk chunk's segment (``scoring.eventlog.write_segment``): every row in it carries the
time its name starts with (compacted files are named otherwise)."""


def _in_span(path: Path, span: tuple[int | None, int | None] | None) -> bool:
    """Whether a segment may hold rows of ``start <= timestamp < end``, judged by its name.

    Arrow IPC segments have no statistics to prune on and a day's folder may hold hundreds of a
    bulk run's chunks: those outside the window are not opened.

    Examples:
        >>> name = Path("part-1790000000000-41-0123456789ab-typed.arrow")
        >>> _in_span(name, (1790000000000, None)), _in_span(name, (None, 1790000000000))
        (True, False)
        >>> _in_span(Path("part-compact-0001-typed.parquet"), (0, 1))
        True
    """
    match = _CHUNK_SEGMENT.fullmatch(path.name) if span is not None else None
    if match is None or span is None:
        return True
    stamp, (start, end) = int(match.group(1)), span
    return (start is None or stamp >= start) and (end is None or stamp < end)


def read_table(
    root: Path,
    table: str,
    *,
    expr: Any = None,
    bounds: dict[str, tuple[str | None, str | None]] | None = None,
    span: tuple[int | None, int | None] | None = None,
) -> Any:
    """Every row of ``table`` (stored schema) matching ``expr``, journals and segments together.

    A read that races a compaction (a listed segment deleted, a compacted file new since the
    listing, a journal read here sealed while compacted files are present) starts again, so
    no row is ever read twice or missed. ``span``: the window ``(start, end)`` in ms that
    ``expr`` holds, to skip bulk chunk segments outside it unopened.
    """
    pa = require_pyarrow()
    for _ in range(_ATTEMPTS):
        try:
            parts = _read_once(root, table, expr, bounds or {}, span)
        except FileNotFoundError:  # a segment compacted away since it was listed
            continue
        if parts is not None:
            return pa.concat_tables(parts) if parts else stored(table).empty_table()
    raise StorageError(
        f"Reading the event log under {root} raced {_ATTEMPTS} compactions in a row; try again."
    )


_ATTEMPTS = 20


def _read_once(
    root: Path,
    table: str,
    expr: Any,
    bounds: dict[str, tuple[str | None, str | None]],
    span: tuple[int | None, int | None] | None = None,
) -> list[Any] | None:
    pa = require_pyarrow()
    parts, seen = [], set()
    for path in list_journals(root, table):
        try:
            data = read_complete(path)
        except FileNotFoundError:  # sealed and removed since listed: its segments are read below
            continue
        seen.add(path.stem)
        rows = to_stored(parse_journal(data, table), table)
        parts.append(rows if expr is None else rows.filter(expr))
    base = root / table
    listed = _segments(base, table, bounds)
    replaced = replaced_files(listed)
    if any(is_compacted(p.name) for p in listed):
        folder = journal_dir(root, table)
        if not all((folder / f"{j}.jsonl").exists() for j in seen):
            return None  # a journal read above was sealed since: its rows may be compacted too
    files = [
        str(p)
        for p in listed
        if p not in replaced and p.name[5:].rsplit(".", 1)[0] not in seen and _in_span(p, span)
    ]
    typed = [f for f in files if is_typed(f)]
    plain = [f for f in files if not is_typed(f)]
    if plain:
        segment = _dataset(pa, plain, table, base).to_table(filter=expr)
        parts.append(segment.select(stored(table).names).cast(stored(table)))
    for typed_file in typed:  # each its own struct types: read one by one, payloads made JSON
        parts.append(
            to_json_payloads(
                _dataset(pa, [typed_file], table, base, segment_format(typed_file)).to_table(
                    filter=expr
                )
            )
        )
    after = set(_segments(base, table, bounds))
    if not after.issuperset(listed) or any(is_compacted(p.name) for p in after.difference(listed)):
        return None  # compacted meanwhile: a listing taken during the rename may miss rows
    return parts


def _segments(
    base: Path, table: str, bounds: dict[str, tuple[str | None, str | None]]
) -> list[Path]:
    depth = "/".join("*" for _ in PARTITIONS[table])
    found = [*base.glob(f"{depth}/part-*.parquet"), *base.glob(f"{depth}/part-*.arrow")]
    return [p for p in sorted(found) if _keep(p, table, bounds)]


def _dataset(pa: Any, files: list[str], table: str, base: Path, format: str = "parquet") -> Any:
    return pa.dataset.dataset(
        files,
        format=format,
        partitioning=pa.dataset.HivePartitioning(
            partitioning_schema(table), segment_encoding="uri"
        ),
        partition_base_dir=str(base),
    )


def latest_outcomes(outcomes: Any) -> Any:
    """One row per prediction id: its latest outcome (by timestamp, then arrival)."""
    pa = require_pyarrow()
    pc = pa.compute
    if outcomes.num_rows == 0:
        return outcomes
    order = outcomes.sort_by(
        [("prediction_id", "ascending"), ("timestamp", "descending"), ("received_at", "descending")]
    )
    ids = order.column("prediction_id").combine_chunks()
    first = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
    mask = pa.concat_arrays([pa.array([True]), first.fill_null(True)])
    return order.filter(mask)


def by_time(table: Any) -> Any:
    """``table`` ordered by timestamp (stable); segments mostly are already, then it is free."""
    pc = require_pyarrow().compute
    ts = table.column("timestamp")
    if table.num_rows < 2:
        return table
    ordered = pc.all(pc.greater_equal(ts.slice(1), ts.slice(0, len(ts) - 1))).as_py()
    return table if ordered else table.take(pc.sort_indices(ts))


def join_outcomes(predictions: Any, latest: Any) -> Any:
    """``predictions`` (order kept) with the columns of their latest outcome beside them.

    Only the ids and a row number go through the hash join; the wide prediction columns are
    not copied, the outcome columns are put back in row order with one integer sort.
    """
    pa = require_pyarrow()
    n = predictions.num_rows
    keys = pa.table({"prediction_id": predictions.column("prediction_id"),
                     "__row": pa.array(range(n), pa.int64())})  # fmt: skip
    joined = keys.join(latest, keys="prediction_id", join_type="left outer")
    joined = joined.sort_by("__row")
    for name, as_name in OUTCOME_JOINED.items():
        predictions = predictions.append_column(as_name, joined.column(name))
    return predictions


def outcome_bounds(start: int | None) -> dict[str, tuple[str | None, str | None]]:
    """Outcome partitions that can hold outcomes of predictions made at or after ``start``."""
    return {"date": (None if start is None else date_of(start), None)}


def prediction_bounds(
    start: int | None, end: int | None, deployment: str | None
) -> dict[str, tuple[str | None, str | None]]:
    bounds: dict[str, tuple[str | None, str | None]] = {
        "date": (
            None if start is None else date_of(start),
            None if end is None else date_of(max(end - 1, 0)),
        )
    }
    if deployment is not None:
        bounds["deployment"] = (deployment, deployment)
    return bounds


def select(table: Any, columns: Sequence[str] | None) -> Any:
    if columns is None:
        return table
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidArgumentError(
            f"The 'columns' parameter names unknown columns {missing}; known: "
            f"{', '.join(table.column_names)}.",
            field="columns",
        )
    return table.select(list(columns))
