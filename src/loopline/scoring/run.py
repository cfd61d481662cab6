"""Running chunks: on local threads, or on a Dask cluster; in input order either way.

Locally, chunks are scored on a small thread pool (NumPy, pyarrow, polars and scikit-learn's
tree and linear code release the GIL), a few chunks ahead of the one being written, so reading,
scoring, logging and writing overlap. On Dask (``dask_address``), the predictor is sent to every
worker once (``scatter(..., broadcast=True)``: each worker process unpickles it once and keeps
it) and each task carries a chunk; workers write the event log segments themselves, so the
event log folder must be one the workers can reach (the same machine or a shared filesystem).
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopline.eventlog.ids import now_ms
from loopline.scoring.chunks import Job, score_chunk

if TYPE_CHECKING:
    from loopline.scoring.predictor import ChunkPredictor
    from loopline.scoring.sinks import Sink

__all__ = ["RunStats", "run_chunks"]


@dataclass(frozen=True, slots=True)
class RunStats:
    """What a bulk run did: rows scored and logged, chunks, wall seconds."""

    rows: int
    logged: int
    chunks: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def _progress(enabled: bool, total: int | None, label: str) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("rows"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), disable=not enabled, transient=False,
    )  # fmt: skip
    task = progress.add_task(label, total=total)
    return progress, task


def _in_order(futures: Iterator[Any], ahead: int) -> Iterator[tuple[Any, int]]:
    """The futures' results in submission order, at most ``ahead`` + 1 of them in flight (the
    next one is taken from ``futures``, i.e. submitted, only as an earlier result is read)."""
    window: deque[Any] = deque()
    try:
        for future in futures:
            window.append(future)
            if len(window) > ahead:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        for future in window:
            future.cancel()


def _local(
    job: Job, predictor: ChunkPredictor, chunks: Iterator[Any], workers: int
) -> Iterator[tuple[Any, int]]:
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loopline-score") as pool:
        submitted = (pool.submit(score_chunk, job, predictor, t, now_ms()) for t in chunks)
        yield from _in_order(submitted, workers)


def _dask_task(job: Job, predictor: ChunkPredictor, table: Any) -> tuple[Any, int]:
    return score_chunk(job, predictor, table, now_ms())


def _dask(
    job: Job, predictor: ChunkPredictor, chunks: Iterator[Any], address: str
) -> Iterator[tuple[Any, int]]:
    try:
        from distributed import Client
    except ImportError:
        from loopline.errors import MissingDependencyError

        raise MissingDependencyError(
            "Scoring on a Dask cluster needs dask.distributed: pip install 'loopline[dask]'.",
            extra="dask",
        ) from None
    with Client(address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        shared = client.scatter(predictor, broadcast=True, hash=False)
        submitted = (client.submit(_dask_task, job, shared, t, pure=False) for t in chunks)
        yield from _in_order(submitted, 2 * workers)


def run_chunks(
    job: Job,
    predictor: ChunkPredictor,
    chunks: Iterator[Any],
    sink: Sink,
    *,
    total: int | None = None,
    workers: int | None = None,
    dask_address: str | None = None,
    progress: bool = True,
    label: str = "scoring",
    on_chunk: Callable[[Any], None] | None = None,
) -> RunStats:
    """Score every chunk, write each output to ``sink`` in input order; the run's counts."""
    started = time.perf_counter()
    rows = logged = count = 0
    threads = workers or min(4, os.cpu_count() or 1)
    results = (
        _dask(job, predictor, chunks, dask_address)
        if dask_address
        else _local(job, predictor, chunks, threads)
    )
    bar, task = _progress(progress, total, label)
    with bar:
        try:
            for out, n in results:
                sink.write(out)
                if on_chunk is not None:
                    on_chunk(out)
                rows += out.num_rows
                logged += n
                count += 1
                bar.update(task, advance=out.num_rows)
        except BaseException:
            sink.abort()
            raise
    return RunStats(rows, logged, count, time.perf_counter() - started)
