"""The outbox: OpenLineage events not delivered yet, one JSON line each, re-sent oldest first.

Several processes (trainers, a server) may share one outbox, so two locks guard it, each an
``flock`` on a file beside it: ``<outbox>.lock`` for the short reads and writes of the file, and
``<outbox>.flush.lock``, held for a whole flush, so that only one process or thread sends from
the outbox at a time and no event goes out twice. Appending never waits for a flush. Delivered
events leave the file in batches: a process killed mid-flush re-sends at most one batch
(delivery is at least once). Windows has no ``flock``: there, only the threads of one process
are kept apart (every :class:`Outbox` of one file shares the same thread locks), so one process
at a time should use an outbox. A writer killed mid-line leaves a torn last line: the next
append ends it first, so that only the torn event is lost, never the one appended after it.

Examples:
    >>> import tempfile
    >>> from pathlib import Path
    >>> outbox = Outbox(Path(tempfile.mkdtemp()) / "outbox.jsonl")
    >>> outbox.append({"eventType": "START"}); outbox.append({"eventType": "COMPLETE"})
    >>> outbox.pending()
    2
    >>> sent = []
    >>> outbox.flush(sent.append)
    FlushResult(delivered=2, dropped=0, remaining=0, error=None)
    >>> [e["eventType"] for e in sent], outbox.pending()
    (['START', 'COMPLETE'], 0)
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopline.errors import LineageDeliveryError

if sys.platform != "win32":
    import fcntl

__all__ = ["FlushResult", "Outbox"]

logger = logging.getLogger("loopline.openlineage")
_BATCH = 100  # events delivered between two rewrites of the file


_SUFFIXES = (".lock", ".flush.lock")
_THREAD_LOCKS: dict[str, threading.Lock] = {}  # one per lock file, for the whole process
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock(path: Path, suffix: str) -> threading.Lock:
    """The process-wide thread lock of the lock file ``<path><suffix>``."""
    key = f"{path.resolve()}{suffix}"
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.Lock())


def _fsync_folder(path: Path) -> None:
    if sys.platform == "win32":  # folders cannot be opened there; NTFS journals renames
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class FlushResult:
    """What a flush did: events delivered, dropped (refused for good), still waiting, and why."""

    delivered: int
    dropped: int
    remaining: int
    error: str | None = None


class Outbox:
    """A JSON-lines file of undelivered events, appended at the end and flushed from the front."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # flock keeps processes apart; these keep this process's threads apart (and all of
        # them apart on Windows), shared by every Outbox of the same file
        self._threads = {suffix: _thread_lock(self.path, suffix) for suffix in _SUFFIXES}

    def __repr__(self) -> str:
        return f"Outbox({str(self.path)!r})"

    @contextmanager
    def _locked(self, suffix: str, *, wait: bool = True) -> Iterator[bool]:
        """Hold the lock ``<outbox><suffix>``; yields False when ``wait`` is off and it is taken."""
        threads = self._threads[suffix]
        if not threads.acquire(blocking=wait):
            yield False
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(f"{self.path}{suffix}", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if sys.platform != "win32":
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                    except BlockingIOError:
                        yield False
                        return
                yield True
            finally:
                os.close(fd)  # closing the descriptor releases the flock
        finally:
            threads.release()

    def append(self, event: dict[str, Any]) -> None:
        """Add ``event`` after every event already waiting."""
        line = (json.dumps(event, separators=(",", ":"), allow_nan=False) + "\n").encode()
        with self._locked(".lock"):
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size > 0:
                    os.lseek(fd, size - 1, os.SEEK_SET)
                    if os.read(fd, 1) != b"\n":  # a writer killed mid-line: end its line
                        line = b"\n" + line
                os.write(fd, line)
            finally:
                os.close(fd)

    def is_empty(self) -> bool:
        """True when no event waits (one ``stat``)."""
        try:
            return self.path.stat().st_size == 0
        except FileNotFoundError:
            return True

    def pending(self) -> int:
        """How many events wait."""
        return 0 if self.is_empty() else len(self._lines())

    def _lines(self) -> list[bytes]:
        with self._locked(".lock"):
            try:
                return self.path.read_bytes().splitlines()
            except FileNotFoundError:
                return []

    def _forget(self, count: int) -> None:
        """Remove the first ``count`` lines (only a flush, holding the flush lock, removes)."""
        if count == 0:
            return
        with self._locked(".lock"):
            rest = self.path.read_bytes().splitlines(keepends=True)[count:]
            if not rest:
                self.path.unlink()
                return
            scratch = self.path.with_name(self.path.name + ".tmp")
            with scratch.open("wb") as out:
                out.write(b"".join(rest))
                out.flush()
                os.fsync(out.fileno())  # on disk before it replaces the outbox ...
            os.replace(scratch, self.path)
            _fsync_folder(self.path.parent)  # ... and the rename on disk after

    def flush(
        self,
        send: Callable[[dict[str, Any]], None],
        *,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> FlushResult:
        """Send waiting events oldest first through ``send`` until none is left.

        Stops at the first :class:`LineageDeliveryError` whose ``keep`` is true (retryable, or
        not the event's fault, such as a refused credential: that event and the later ones
        stay, in order) or once ``clock()`` passes ``deadline``. An event ``send`` refuses for
        good is dropped with a warning. When another flush is running, returns at once.
        """
        with self._locked(".flush.lock", wait=False) as owned:
            if not owned:
                return FlushResult(0, 0, self.pending())
            return self._flush(send, deadline, clock)

    def _flush(
        self,
        send: Callable[[dict[str, Any]], None],
        deadline: float | None,
        clock: Callable[[], float],
    ) -> FlushResult:
        delivered = dropped = 0
        error: str | None = None
        stopped = False
        while not stopped and (lines := self._lines()):
            done = 0
            for line in lines[:_BATCH]:
                if deadline is not None and clock() >= deadline:
                    stopped = True
                    break
                try:
                    event = json.loads(line)
                except ValueError as exc:  # a torn or hand-edited line: nothing to resend
                    logger.warning("Unreadable line dropped from %r: %s", self, exc)
                    dropped, done = dropped + 1, done + 1
                    continue
                try:
                    send(event)
                except LineageDeliveryError as exc:
                    if exc.keep:
                        error, stopped = str(exc), True
                        break
                    logger.warning("OpenLineage event dropped from %r: %s", self, exc)
                    dropped += 1
                else:
                    delivered += 1
                done += 1
            self._forget(done)
        return FlushResult(delivered, dropped, self.pending(), error)
