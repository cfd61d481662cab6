"""Sealing: a closed journal becomes Parquet segments, crash-safely, then goes away.

For each partition in the journal the segment ``part-<journal id>.parquet`` is written to a
hidden temporary name, fsynced, renamed into place and its folder fsynced; only when every
partition's segment exists is the journal deleted. A crash at any point leaves either the
journal (sealed again later: a partition whose segment already exists is skipped, so nothing is
written twice) or the segments alone. Readers skip a segment whose journal they already read.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from loopline.eventlog.journal import (
    fsync_dir,
    list_journals,
    read_complete,
    replace_durably,
    try_lock,
)
from loopline.eventlog.schema import PARTITIONS, TABLES, journal_schema, require_pyarrow, stored

__all__ = ["parse_journal", "recover", "seal_journal", "segment_name", "to_stored"]

_log = logging.getLogger("loopline.eventlog")


def segment_name(journal_id: str) -> str:
    return f"part-{journal_id}.parquet"


def parse_journal(data: bytes, table: str, rejected: list[bytes] | None = None) -> Any:
    """A journal's whole lines as an Arrow table of the journal schema.

    Lines Arrow cannot read (none that ``append`` wrote: it checks every field) are left out
    and added to ``rejected``, so one bad line never blocks the reads and seals of a journal.
    """
    pa = require_pyarrow()
    schema = journal_schema(table)
    if not data:
        return schema.empty_table()
    parse = pa.json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    block = 1 << 23
    while True:
        try:
            options = pa.json.ReadOptions(block_size=block)
            return pa.json.read_json(
                pa.BufferReader(data), read_options=options, parse_options=parse
            )
        except pa.ArrowInvalid as err:
            if "straddling" in str(err) and block < len(data):  # a line longer than a block
                block = len(data) + 1
                continue
            _log.warning("a %s journal has lines Arrow cannot read: %s", table, err)
            break
    parts = []
    for line in data.splitlines(keepends=True):
        try:
            options = pa.json.ReadOptions(block_size=len(line) + 1)
            parts.append(pa.json.read_json(pa.BufferReader(line), read_options=options,
                                           parse_options=parse))  # fmt: skip
        except pa.ArrowInvalid:
            if rejected is not None:
                rejected.append(line)
    return pa.concat_tables(parts) if parts else schema.empty_table()


def to_stored(table: Any, name: str) -> Any:
    """A journal-schema table in the stored schema (UTC timestamps, no ``date``)."""
    pa = require_pyarrow()
    target = stored(name)
    columns = [table.column(field.name).cast(field.type) for field in target]
    return pa.Table.from_arrays(columns, schema=target)


def _partitions(table: Any, name: str) -> list[tuple[tuple[str, ...], Any]]:
    pc = require_pyarrow().compute
    keys = PARTITIONS[name]
    values = table.select(list(keys)).group_by(list(keys)).aggregate([]).to_pylist()
    out = []
    for value in values:
        mask = None
        for key in keys:
            cond = pc.equal(table.column(key), value[key])
            mask = cond if mask is None else pc.and_(mask, cond)
        out.append((tuple(value[k] for k in keys), table.filter(mask)))
    return out


def _write_segment(path: Path, table: Any) -> None:
    pq = require_pyarrow().parquet
    folder = path.parent
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    replace_durably(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    if created:
        fsync_dir(folder.parent)
        fsync_dir(folder.parent.parent)


def seal_journal(root: Path, table: str, path: Path) -> int:
    """Seal one journal nobody writes any more; returns the rows written to new segments."""
    try:
        data = read_complete(path)
    except FileNotFoundError:  # sealed meanwhile by another process
        return 0
    journal_id = path.stem
    written = 0
    rejected: list[bytes] = []
    rows = parse_journal(data, table, rejected)
    for keys, part in _partitions(rows, table):
        folder = root / table
        for key, value in zip(PARTITIONS[table], keys, strict=True):
            folder = folder / f"{key}={quote(value, safe='')}"  # "/" in a name stays inside
        segment = folder / segment_name(journal_id)
        if segment.exists():
            continue
        order = part.sort_by([("timestamp", "ascending")])
        in_path = [key for key in PARTITIONS[table] if key in stored(table).names]
        _write_segment(segment, to_stored(order, table).drop_columns(in_path))
        written += part.num_rows
    if rejected:  # kept for a person to look at, out of every read
        _write_rejected(root / "_rejected" / table / f"{journal_id}.jsonl", rejected)
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)
    return written


def _write_rejected(path: Path, lines: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(b"".join(lines))
        fh.flush()
        os.fsync(fh.fileno())
    fsync_dir(path.parent)
    _log.warning("%d unreadable journal lines set aside in %s", len(lines), path)


def recover(root: Path) -> int:
    """Seal every journal whose writer is gone (closed, crashed or killed); returns rows sealed."""
    sealed = 0
    for table in TABLES:
        for path in list_journals(root, table):
            fd = try_lock(path)
            if fd is None:
                continue
            try:
                sealed += seal_journal(root, table, path)
            finally:
                os.close(fd)
        _sweep_temporaries(root / table)
    return sealed


def _sweep_temporaries(folder: Path) -> None:
    """Remove temporaries a crashed sealer left (never renamed, so never part of the log)."""
    for tmp in folder.glob("**/.part-*.tmp") if folder.exists() else ():
        pid = tmp.name.split(".")[-3]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
