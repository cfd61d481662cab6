"""Journals: append-only JSON-lines files, one per writer and table, locked while written.

A journal lives at ``<root>/_journal/<table>/<id>.jsonl``; its id sorts by creation time and
names every segment sealed from it (``part-<id>.parquet``). The writing process holds an
exclusive ``flock`` on it until it is sealed; the kernel drops that lock when the process dies,
even by SIGKILL, which is how recovery tells a dead writer's journal from a live one.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

from loopline.errors import StorageError

__all__ = [
    "Journal", "fsync_dir", "journal_dir", "list_journals", "read_complete", "replace_durably",
    "try_lock",
]  # fmt: skip


def journal_dir(root: Path, table: str) -> Path:
    return root / "_journal" / table


def fsync_dir(path: Path) -> None:
    """Make the entries of a folder (a new or renamed file in it) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(path: Path, write: Callable[[Path], None]) -> None:
    """Put a file at ``path`` whole or not at all: ``write`` fills a hidden temporary file in
    the same folder, which is fsynced, renamed over ``path`` and its folder fsynced. A reader
    sees no file or the complete one; a crash leaves at most a ``.part-*.tmp`` file behind
    (removed by the next seal or compaction). The folder must exist.

    Examples:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "part-1.txt"
        >>> replace_durably(target, lambda tmp: tmp.write_text("rows"))
        >>> target.read_text(), [p.name for p in target.parent.iterdir()]
        ('rows', ['part-1.txt'])
    """
    tmp = path.parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def list_journals(root: Path, table: str) -> list[Path]:
    folder = journal_dir(root, table)
    try:
        return sorted(p for p in folder.iterdir() if p.suffix == ".jsonl")
    except (FileNotFoundError, NotADirectoryError):
        return []


def read_complete(path: Path) -> bytes:
    """The journal's whole lines: a torn last line (a crash mid-write) is left out."""
    with path.open("rb") as fh:
        data = fh.read()
    return data[: data.rfind(b"\n") + 1]


def try_lock(path: Path) -> int | None:
    """A descriptor holding the journal's lock, or None while a live writer holds it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class Journal:
    """One open journal file of a writer: ``write`` appends whole lines, ``sync`` fsyncs."""

    def __init__(self, root: Path, table: str) -> None:
        folder = journal_dir(root, table)
        folder.mkdir(parents=True, exist_ok=True)
        self.table = table
        self.id = f"{time.time_ns() // 1_000_000:013d}-{os.getpid()}-{os.urandom(4).hex()}"
        self.path = folder / f"{self.id}.jsonl"
        self.created = time.monotonic()
        self.size = 0
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fsync_dir(folder)  # the file's name survives a crash, not only its bytes

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as err:
            raise StorageError(f"Writing the event log journal {self.path} failed: {err}") from err
        self.size += len(data)

    def sync(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as err:
            raise StorageError(f"fsync of the event log journal {self.path} failed: {err}") from err

    def close(self) -> None:
        """Release the file and its lock (after sealing, or to leave it to recovery)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
