"""Micro-batching: concurrent requests of one endpoint scored in one call on a worker thread.

A request that finds the worker idle and nothing queued is sent to it at once (a lone request
never waits for company). Requests that arrive while the worker is busy queue up; when it
finishes, the queue goes to it as one batch (up to ``max_batch_size`` rows, requests of the same
model version only). When the previous batch held several requests, i.e. under concurrent load,
the next one waits up to ``max_wait`` seconds for more to arrive before it is sent.

If scoring a batch fails, each request of it is scored alone, so one request's bad input cannot
fail its neighbours.

A model cheaper to call than the hop to the worker thread (about 25-80 us; ``inline_below``,
measured per model version when loaded: ``ModelRuntime.cost``) is scored on the event loop
itself when the worker is idle and nothing is queued.
"""

from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from loopline.serving.runtime import ModelRuntime, Scores, batch_rows, concat_batches

__all__ = ["MicroBatcher"]

_Item = tuple[ModelRuntime, Any, "asyncio.Future[Scores]"]


class MicroBatcher:
    """Gathers concurrent scoring calls of one endpoint into batches.

    Args:
        max_batch_size: most rows scored in one call (a single larger request is scored whole).
        max_wait: seconds a batch waits for company under concurrent load; 0 never waits.
        name: thread name of the worker.
        inline_below: a model whose one-row call costs less (seconds) is scored on the event
            loop when the worker is idle; 0 always uses the worker.
    """

    def __init__(
        self,
        *,
        max_batch_size: int = 64,
        max_wait: float = 0.001,
        name: str = "serving",
        inline_below: float = 50e-6,
    ) -> None:
        self.max_batch_size = max(1, int(max_batch_size))
        self.max_wait = max(0.0, float(max_wait))
        self.inline_below = inline_below
        self.inline = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"loopline-{name}")
        self._pending: deque[_Item] = deque()
        self._busy = False
        self._waiting = False
        self._last_size = 0
        self.batches = 0
        self.requests = 0

    async def score(self, runtime: ModelRuntime, batch: Any) -> Scores:
        """The scores of ``batch``, computed with ``runtime`` (maybe with other requests)."""
        if (
            runtime.cost < self.inline_below
            and not self._busy
            and not self._waiting
            and not self._pending
        ):
            self.inline += 1
            return runtime.score(batch)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Scores] = loop.create_future()
        self._pending.append((runtime, batch, future))
        if not self._busy and not self._waiting:
            self._dispatch(loop)
        return await future

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        self._waiting = False
        if self._busy or not self._pending:
            return
        runtime = self._pending[0][0]
        group: list[_Item] = []
        rows = 0
        while self._pending and self._pending[0][0] is runtime:
            size = batch_rows(self._pending[0][1])
            if group and rows + size > self.max_batch_size:
                break
            group.append(self._pending.popleft())
            rows += size
        self._busy = True
        self._last_size = len(group)
        self.batches += 1
        self.requests += len(group)
        work = self._executor.submit(_score_group, runtime, [item[1] for item in group])
        work.add_done_callback(
            lambda done: loop.call_soon_threadsafe(self._done, loop, group, done)
        )

    def _done(
        self, loop: asyncio.AbstractEventLoop, group: list[_Item], done: Future[list[Any]]
    ) -> None:
        self._busy = False
        try:
            results = done.result()
        except BaseException as exc:  # _score_group returns errors; this is a last resort
            results = [exc] * len(group)
        for (_, _, future), result in zip(group, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        if not self._pending:
            return
        if self._last_size > 1 and self.max_wait > 0 and len(self._pending) < self.max_batch_size:
            self._waiting = True
            loop.call_later(self.max_wait, self._dispatch, loop)
        else:
            self._dispatch(loop)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _score_group(runtime: ModelRuntime, batches: list[Any]) -> list[Any]:
    """Scores per request; on a failure of the whole batch, each request alone."""
    if len(batches) == 1:
        try:
            return [runtime.score(batches[0])]
        except Exception as exc:
            return [exc]
    try:
        scores = runtime.score(concat_batches(batches))
    except Exception:
        return _score_group_one_by_one(runtime, batches)
    results: list[Any] = []
    start = 0
    for batch in batches:
        stop = start + batch_rows(batch)
        results.append(scores.rows(start, stop))
        start = stop
    return results


def _score_group_one_by_one(runtime: ModelRuntime, batches: list[Any]) -> list[Any]:
    results: list[Any] = []
    for batch in batches:
        try:
            results.append(runtime.score(batch))
        except Exception as exc:
            results.append(exc)
    return results
