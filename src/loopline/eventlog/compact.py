"""Compaction: the many small segments of a partition merged into a few Parquet files.

Sealed journals (``part-<journal id>.parquet``, JSON-text payloads) and bulk scoring's typed
chunks (``part-<id>-typed.arrow``, older ``-typed.parquet``) pile up as small files that every
windowed read opens. :func:`compact` merges, per partition, the segments older than
``older_than`` into files of up to ``target_rows`` rows ordered by timestamp: JSON segments
together (``part-compact-<id>.parquet``), typed segments grouped by identical schema into typed
Parquet (``part-compact-<id>-typed.parquet``, struct payloads kept); zstd throughout.

Crash safety: a merged file is written to a hidden temporary name, fsynced, renamed into place
and its folder fsynced; only then are its sources deleted. Its Parquet key-value metadata
(``loopline.compacted_from``) names the files it replaces, and reads skip any file a present
compacted file of the same partition names (:func:`replaced_files`, footers only), so a crash
between the rename and the deletions never shows a row twice; the next run deletes those
leftovers first. A segment whose journal still exists (sealing in progress) is never touched,
and one compaction runs at a time per log (an exclusive lock on ``<root>/_compact.lock``).

Examples:
    >>> parse_older_than("90m"), parse_older_than(0), is_compacted("part-compact-1.parquet")
    (5400000, 0, True)
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from loopline.errors import ConflictError, InvalidArgumentError
from loopline.eventlog.journal import fsync_dir, journal_dir, replace_durably
from loopline.eventlog.schema import PARTITIONS, TABLES, require_pyarrow, stored
from loopline.eventlog.typed import TYPED_PARQUET_SUFFIX, is_typed

__all__ = [
    "COMPACTED_PREFIX", "DEFAULT_OLDER_THAN", "DEFAULT_TARGET_ROWS", "SOURCES_KEY",
    "CompactionSummary", "Segment", "compact", "is_compacted", "parse_older_than",
    "plan_partition", "remove_leftovers", "remove_sources", "replaced_files", "write_compacted",
]  # fmt: skip

COMPACTED_PREFIX = "part-compact-"
"""How the name of a file written by compaction begins."""

SOURCES_KEY = b"loopline.compacted_from"
"""The Parquet key-value metadata key of a compacted file: a JSON list of the files it replaces."""

_log = logging.getLogger("loopline.eventlog")

DEFAULT_OLDER_THAN = "1h"
DEFAULT_TARGET_ROWS = 1_000_000
_ROW_GROUP = 131_072  # rows are time-ordered: window reads skip row groups by their statistics
_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")


def is_compacted(name: str) -> bool:
    """Whether the segment file ``name`` was written by compaction."""
    return name.startswith(COMPACTED_PREFIX)


def replaced_files(files: Iterable[Path]) -> set[Path]:
    """The files that a compacted file among ``files`` names as its sources (same folder).

    Reads only the footers of the compacted files; a file gone meanwhile raises
    FileNotFoundError (the caller lists again).
    """
    pq = require_pyarrow().parquet
    replaced: set[Path] = set()
    for path in files:
        if is_compacted(path.name):
            meta = pq.read_metadata(path).metadata or {}
            replaced.update(path.parent / name for name in json.loads(meta.get(SOURCES_KEY, b"[]")))
    return replaced


def parse_older_than(value: str | int | timedelta) -> int:
    """``older_than`` as milliseconds: an int (ms), a timedelta, or text like ``"90s"``, ``"1h"``,
    ``"2d"`` (units ms, s, m, h, d, w)."""
    ms: float | None = None
    if isinstance(value, timedelta):
        ms = value.total_seconds() * 1000
    elif isinstance(value, int) and not isinstance(value, bool):
        ms = value
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is not None:
            ms = float(match[1]) * _UNITS[match[2]]
        elif value.strip() == "0":
            ms = 0
    if ms is None or ms < 0:
        raise InvalidArgumentError(
            "The 'older_than' parameter of compact must be a non-negative duration: milliseconds, "
            f"a timedelta, or text like '30m', '1h', '2d'. Got {value!r} instead.",
            field="older_than",
        )
    return int(ms)


@dataclass(frozen=True, slots=True)
class CompactionSummary:
    """What one :func:`compact` run did."""

    partitions: int
    """Partitions in which files were merged."""
    merged: int
    """Segment files merged (and deleted)."""
    written: int
    """Compacted files written."""
    rows: int
    """Rows in the files written."""
    leftovers: int
    """Files of an earlier, interrupted run deleted (their rows were already compacted)."""
    seconds: float

    def __str__(self) -> str:
        return (
            f"Compacted {_count(self.merged, 'segment')} into {_count(self.written, 'file')} "
            f"({_count(self.rows, 'row')}) in {_count(self.partitions, 'partition')}; removed "
            f"{_count(self.leftovers, 'leftover')} ({self.seconds:.1f} s)."
        )


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Segment:
    """A segment file that compaction may merge: its path, rows and kind (``json`` or a schema)."""

    path: Path
    rows: int
    kind: str


def compact(
    root: Path,
    table: str | None = None,
    *,
    older_than: str | int | timedelta = DEFAULT_OLDER_THAN,
    target_rows: int = DEFAULT_TARGET_ROWS,
) -> CompactionSummary:
    """Merge the small segments of every partition of ``table`` (both tables when None)."""
    tables = _tables(table)
    age = parse_older_than(older_than)
    if not isinstance(target_rows, int) or isinstance(target_rows, bool) or target_rows < 1:
        raise InvalidArgumentError(
            "The 'target_rows' parameter of compact must be a positive integer. "
            f"Got {target_rows!r} instead.",
            field="target_rows",
        )
    started = time.monotonic()
    counts = {"partitions": 0, "merged": 0, "written": 0, "rows": 0, "leftovers": 0}
    if root.is_dir():
        with _exclusive(root):
            cutoff = time.time() - age / 1000
            for name in tables:
                for folder in _partitions(root, name):
                    _compact_partition(root, name, folder, cutoff, target_rows, counts)
    return CompactionSummary(**counts, seconds=time.monotonic() - started)


def _tables(table: str | None) -> tuple[str, ...]:
    if table is None:
        return TABLES
    if table not in TABLES:
        raise InvalidArgumentError(
            "The 'table' parameter of compact must be 'predictions', 'outcomes' or None. "
            f"Got {table!r} instead.",
            field="table",
        )
    return (table,)


@contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    fd = os.open(root / "_compact.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(
                f"Another compaction of the event log under {root} is running; try again later.",
                root=str(root),
            ) from None
        yield
    finally:
        os.close(fd)


def _partitions(root: Path, table: str) -> list[Path]:
    depth = "/".join("*=*" for _ in PARTITIONS[table])
    return sorted(p for p in (root / table).glob(depth) if p.is_dir())


def _segment_files(folder: Path) -> list[Path]:
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(
        folder / n for n in names if n.startswith("part-") and n.endswith((".parquet", ".arrow"))
    )


def _compact_partition(
    root: Path, table: str, folder: Path, cutoff: float, target_rows: int, counts: dict[str, int]
) -> None:
    for tmp in folder.glob(f".{COMPACTED_PREFIX}*.tmp"):  # of a dead run: we hold the lock
        tmp.unlink(missing_ok=True)
    counts["leftovers"] += remove_leftovers(folder)
    packs = plan_partition(root, table, folder, cutoff=cutoff, target_rows=target_rows)
    written = 0
    for pack in packs:
        try:
            _, rows = write_compacted(folder, table, pack)
        except NotImplementedError as err:  # a type Parquet cannot hold: left as it is
            _log.warning("segments of %s not compacted: %s", folder, err)
            continue
        remove_sources(folder, [segment.path for segment in pack])
        counts["merged"] += len(pack)
        counts["written"] += 1
        counts["rows"] += rows
        written += 1
    counts["partitions"] += bool(written)


def remove_leftovers(folder: Path) -> int:
    """Delete the files a present compacted file of ``folder`` replaces; returns how many."""
    leftovers = sorted(p for p in replaced_files(_segment_files(folder)) if p.exists())
    remove_sources(folder, leftovers)
    return len(leftovers)


def remove_sources(folder: Path, paths: list[Path]) -> None:
    """Delete merged sources (their rows are in a compacted file already renamed into place)."""
    for path in paths:
        path.unlink(missing_ok=True)
    if paths:
        fsync_dir(folder)


def plan_partition(
    root: Path, table: str, folder: Path, *, cutoff: float, target_rows: int
) -> list[list[Segment]]:
    """The groups of segments of ``folder`` to merge, each into one file of <= target_rows rows.

    Candidates: segments last modified before ``cutoff`` (epoch seconds), holding fewer than
    half of ``target_rows`` rows, and, for a sealed journal's segment, whose journal is gone
    (checked after listing: a seal writes its segments before it deletes the journal). JSON
    segments go together, typed ones by identical schema, packed in name (time) order. A lone
    file is rewritten only when it is Arrow IPC (into Parquet).
    """
    journals = journal_dir(root, table)
    groups: dict[str, list[Segment]] = {}
    for path in _segment_files(folder):
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            if _from_journal(path.name) and (journals / f"{path.name[5:-8]}.jsonl").exists():
                continue
            segment = _inspect(path)
        except FileNotFoundError:
            continue
        if segment.rows < max(target_rows // 2, 1):
            groups.setdefault(segment.kind, []).append(segment)
    packs: list[list[Segment]] = []
    for group in groups.values():
        pack: list[Segment] = []
        for segment in group:
            if pack and sum(s.rows for s in pack) + segment.rows > target_rows:
                packs.append(pack)
                pack = []
            pack.append(segment)
        packs.append(pack)
    return [p for p in packs if len(p) > 1 or (p and p[0].path.suffix == ".arrow")]


def _from_journal(name: str) -> bool:
    return not is_typed(name) and not is_compacted(name)


def _inspect(path: Path) -> Segment:
    pa = require_pyarrow()
    if path.suffix == ".arrow":
        with pa.OSFile(str(path)) as source:
            reader = pa.ipc.open_file(source)
            rows = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
            schema = reader.schema
    else:
        meta = pa.parquet.read_metadata(path)
        rows, schema = meta.num_rows, meta.schema.to_arrow_schema()
    if not is_typed(path.name):
        return Segment(path, rows, "json")
    return Segment(
        path, rows, schema.to_string(show_field_metadata=False, show_schema_metadata=False)
    )


def _read(path: Path) -> Any:
    pa = require_pyarrow()
    if path.suffix == ".arrow":
        with pa.OSFile(str(path)) as source:
            data = pa.ipc.open_file(source).read_all()
    else:
        data = pa.parquet.ParquetFile(path).read()
    return data.replace_schema_metadata(None)


def _as_json_segment(data: Any, table: str) -> Any:
    """A JSON segment's table in the columns sealing writes (stored schema, no partition keys)."""
    pa = require_pyarrow()
    in_path = set(PARTITIONS[table])
    target = pa.schema([f for f in stored(table) if f.name not in in_path])
    columns = [
        data.column(f.name).cast(f.type)
        if f.name in data.column_names
        else pa.nulls(len(data), f.type)
        for f in target
    ]
    return pa.Table.from_arrays(columns, schema=target)


def write_compacted(folder: Path, table: str, pack: list[Segment]) -> tuple[Path, int]:
    """Merge ``pack`` into one compacted file of ``folder``, durably; its path and rows.

    The sources are left in place (reads skip them from now on): :func:`remove_sources` deletes
    them, or the next run's :func:`remove_leftovers`.
    """
    pa = require_pyarrow()
    typed = pack[0].kind != "json"
    parts = [_read(s.path) for s in pack]
    if not typed:
        parts = [_as_json_segment(p, table) for p in parts]
    merged = pa.concat_tables(parts).sort_by([("timestamp", "ascending")])
    sources = json.dumps([s.path.name for s in pack]).encode()
    merged = merged.replace_schema_metadata({SOURCES_KEY: sources})
    stamp = f"{time.time_ns() // 1_000_000:013d}-{os.getpid()}-{os.urandom(4).hex()}"
    name = f"{COMPACTED_PREFIX}{stamp}{TYPED_PARQUET_SUFFIX if typed else '.parquet'}"
    path = folder / name
    replace_durably(
        path,
        lambda tmp: pa.parquet.write_table(
            merged, tmp, compression="zstd", row_group_size=_ROW_GROUP
        ),
    )
    return path, merged.num_rows
