"""Buffered metric values of the fluent SDK, and the thread that flushes them.

Loggers append to a deque without a lock; flushes pop from its other end. Both are atomic, so no
value is lost or written twice whichever thread flushes.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING

from loopline.errors import ConnectionFailedError, StorageError

if TYPE_CHECKING:
    from loopline.client.client import Client

__all__ = ["Flusher", "MetricBuffer"]


class MetricBuffer:
    """Checked metric values of one run waiting to be written."""

    def __init__(self, run_id: str, client: Client, limit: int) -> None:
        self.run_id = run_id
        self.client = client
        self.limit = limit
        self.items: deque[tuple[str, float, int, int]] = deque()
        self.lock = threading.Lock()
        self.error: BaseException | None = None

    def _send(self) -> None:
        """Write what is buffered; call with the lock held."""
        items = self.items
        batch = [items.popleft() for _ in range(len(items))]
        if not batch:
            return
        try:
            self.client.backend.log_batch(self.run_id, metrics=batch)
        except (ConnectionFailedError, StorageError) as exc:
            items.extendleft(reversed(batch))  # transient: keep the values for the next flush
            self.error = exc
        except Exception as exc:
            self.error = exc

    def flush(self) -> None:
        """Write what is buffered and raise the first error any flush met since the last one."""
        with self.lock:
            self._send()
            error, self.error = self.error, None
        if error is not None:
            raise error


class Flusher:
    """One daemon thread per process that flushes every live buffer on an interval."""

    def __init__(self) -> None:
        self.buffers: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()
        self.interval = 1.0
        self.thread: threading.Thread | None = None

    def register(self, buffer: MetricBuffer, interval: float) -> None:
        self.buffers.add(buffer)
        self.interval = interval
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._loop, name="loopline-flush", daemon=True)
            self.thread.start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            for buffer in list(self.buffers):
                if buffer.items:
                    with buffer.lock:
                        buffer._send()  # errors wait in buffer.error for the caller's flush
