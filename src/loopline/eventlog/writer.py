"""Writers: the hot-path side of the event log (``append`` is thread-safe and cheap).

Every ``append`` checks and encodes its records in the caller's thread (bad input raises there,
nothing is written) and then, by mode:

* ``durable``: returns once the lines are in the journal *and* fsynced. Concurrent appenders
  share one fsync (group commit, leader/follower): the first to arrive writes and fsyncs every
  batch queued so far while the others wait on a condition, so eight request threads pay one
  fsync, not eight.
* ``async``: queues the lines in memory and returns; a background thread writes them within
  ``flush_interval`` (100 ms) or as soon as ``batch_records`` are queued. A full queue makes
  ``append`` wait (counted in ``stats()["stalls"]``), never drop. ``flush()``, ``close()`` and
  interpreter exit write what is queued.
* ``off``: counts and drops.

The background thread also rotates a journal once it passes ``rotate_bytes`` or
``rotate_seconds`` and seals rotated journals into Parquet segments; ``close()`` seals the rest.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from loopline.errors import InvalidArgumentError, InvalidStateError, StorageError
from loopline.eventlog.encode import encode_outcomes, encode_predictions
from loopline.eventlog.journal import Journal
from loopline.eventlog.seal import seal_journal

__all__ = ["MODES", "Mode", "Writer"]

Mode = Literal["async", "durable", "off"]
MODES: tuple[str, ...] = ("async", "durable", "off")
_log = logging.getLogger("loopline.eventlog")
_live: weakref.WeakSet[Writer] = weakref.WeakSet()


@atexit.register
def _close_live_writers() -> None:
    for writer in list(_live):
        try:
            writer.close()
        except Exception:  # exit goes on; the journal is left for recovery
            _log.exception("closing an event log writer at exit failed")


class Writer:
    """Appends predictions and outcomes to this process's journals (see the module)."""

    def __init__(
        self,
        root: Path,
        mode: Mode = "async",
        *,
        rotate_bytes: int = 64 << 20,
        rotate_seconds: float = 300.0,
        flush_interval: float = 0.1,
        batch_records: int = 1000,
        max_queue: int = 100_000,
    ) -> None:
        if mode not in MODES:
            raise InvalidArgumentError(
                f"The 'mode' parameter of EventLog.writer must be one of {', '.join(MODES)}. "
                f"Got {mode!r} instead.",
                field="mode",
            )
        self.root, self.mode = root, mode
        self._rotate_bytes, self._rotate_seconds = rotate_bytes, rotate_seconds
        self._flush_interval, self._batch_records = flush_interval, batch_records
        self._max_queue = max_queue
        self._journals: dict[str, Journal] = {}
        self._to_seal: list[Journal] = []
        self._io = threading.Lock()
        self._cond = threading.Condition()
        self._pending: list[tuple[str, bytes, int]] = []
        self._queued = 0
        self._seq = self._done = 0
        self._leader = False
        self._failed: tuple[int, int, BaseException] | None = None
        self._closing = self._closed = False
        self._counts = dict.fromkeys(
            ("appended", "written", "fsyncs", "stalls", "dropped", "failed"), 0
        )
        self._thread = threading.Thread(
            target=self._run, name=f"loopline-eventlog-{mode}", daemon=True
        )
        if mode != "off":
            self._thread.start()
            _live.add(self)

    # -- the hot path --------------------------------------------------------------------------

    def append(self, records: Iterable[Any]) -> None:
        """Log prediction records (:class:`~loopline.entities.eventlog.PredictionRecord`)."""
        if self.mode == "off":
            self._counts["dropped"] += sum(1 for _ in records)
            return
        self._submit("predictions", encode_predictions(records))

    def append_outcomes(self, records: Iterable[Any]) -> None:
        """Log outcome records (:class:`~loopline.entities.eventlog.OutcomeRecord`)."""
        if self.mode == "off":
            self._counts["dropped"] += sum(1 for _ in records)
            return
        self._submit("outcomes", encode_outcomes(records))

    def _submit(self, table: str, lines: list[bytes]) -> None:
        if not lines:
            return
        data, n = b"".join(lines), len(lines)
        with self._cond:
            if self.mode == "async" and self._queued >= self._max_queue:
                self._counts["stalls"] += 1
                self._cond.notify_all()
                while self._queued >= self._max_queue and not self._closing:
                    self._cond.wait(0.05)
            if self._closing:
                raise InvalidStateError("The event log writer is closed; open a new one.")
            self._seq += 1
            mine = self._seq
            self._pending.append((table, data, n))
            self._queued += n
            self._counts["appended"] += n
            if self.mode == "async":
                if self._queued >= self._batch_records:
                    self._cond.notify_all()
                return
            while self._done < mine:
                if self._leader:
                    self._cond.wait()
                else:
                    self._lead()
            failed = self._failed
            if failed is not None and failed[0] <= mine <= failed[1]:
                raise StorageError(f"The event log could not store the records: {failed[2]}")

    def _lead(self) -> None:
        """Write every pending batch (called with the condition held; released while writing)."""
        self._leader = True
        batch, self._pending = self._pending, []
        self._queued = 0
        upto, error = self._seq, None
        self._cond.release()
        try:
            self._write(batch, sync=self.mode == "durable")
        except BaseException as err:
            error = err
        finally:
            self._cond.acquire()
            self._leader = False
            if error is not None:
                self._failed = (self._done + 1, upto, error)
                self._counts["failed"] += sum(n for _, _, n in batch)
                _log.error("event log write failed: %s", error)
            self._done = upto
            self._cond.notify_all()

    def _write(self, batch: list[tuple[str, bytes, int]], *, sync: bool) -> None:
        with self._io:
            chunks: dict[str, list[bytes]] = {}
            for table, data, _ in batch:
                chunks.setdefault(table, []).append(data)
            for table, parts in chunks.items():
                journal = self._journals.get(table)
                if journal is None:
                    journal = self._journals[table] = Journal(self.root, table)
                journal.write(b"".join(parts))
                if sync:
                    journal.sync()
                    self._counts["fsyncs"] += 1
                if journal.size >= self._rotate_bytes:
                    self._to_seal.append(self._journals.pop(table))
            self._counts["written"] += sum(n for _, _, n in batch)

    # -- background: flushing, rotation, sealing -------------------------------------------------

    def _run(self) -> None:
        tick = self._flush_interval if self.mode == "async" else min(1.0, self._rotate_seconds)
        while True:
            with self._cond:
                if not self._closing and self._queued < self._batch_records:
                    self._cond.wait(tick)
                if self._pending and not self._leader and self.mode == "async":
                    self._lead()
                done = self._closing and not self._pending and not self._leader
            self._maintain()
            if done:
                return

    def _maintain(self) -> None:
        now = time.monotonic()
        with self._io:
            for table, journal in list(self._journals.items()):
                if now - journal.created >= self._rotate_seconds:
                    self._to_seal.append(self._journals.pop(table))
            sealing, self._to_seal = self._to_seal, []
        for journal in sealing:
            try:
                seal_journal(self.root, journal.table, journal.path)
            except Exception:
                _log.exception("sealing %s failed; it stays for recovery", journal.path)
            journal.close()

    def flush(self) -> None:
        """Wait until everything appended so far is written to the journal."""
        with self._cond:
            target = self._seq
            while self._done < target and not self._closed:
                if not self._leader:
                    self._lead()
                else:
                    self._cond.wait()

    def close(self) -> None:
        """Write what is queued, seal every journal of this writer; appends after it raise."""
        with self._cond:
            if self._closing:
                return
            self._closing = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        with self._cond:
            while self._pending or self._leader:
                if self._leader:
                    self._cond.wait()
                else:
                    self._lead()
        with self._io:
            self._to_seal.extend(self._journals.values())
            self._journals.clear()
        self._maintain()
        self._closed = True
        _live.discard(self)

    def stats(self) -> dict[str, int]:
        """Counters: records appended, written, fsyncs, stalls on a full queue, dropped (off),
        failed (a write error: durable appenders got a StorageError, async ones only this)."""
        with self._cond:
            return {**self._counts, "queued": self._queued}

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Writer mode={self.mode} root={str(self.root)!r}>"
