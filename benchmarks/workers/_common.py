"""Shared, stdlib-only plumbing for the benchmark workers.

A worker runs in the interpreter of the tool it measures (loopline's, or a peer's
pinned venv), is told what to do on its command line, and reports one JSON object
on a stdout line that starts with ``RESULT_MARKER``. The orchestrator parses only
that line, so library chatter on stdout or stderr does not matter.

The data for the search benchmark is generated here so that every tool stores
exactly the same runs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

RESULT_MARKER = "@@BENCH-RESULT@@ "
EXPERIMENT = "bench"
METRIC_KEY = "m"
WARMUP_CALLS = 20
SEARCH_FILTER = "metrics.m0 > 0.5 and params.p0 = 'a'"
SEARCH_ORDER_BY = ["metrics.m1 DESC"]
SEARCH_MAX_RESULTS = 1000
N_PARAMS = 10
N_METRICS = 5
_SEED = 20240611

Result = dict[str, Any]


@dataclass(frozen=True)
class RunFields:
    """The params and metrics of one synthetic run of the search benchmark."""

    params: dict[str, str]
    metrics: dict[str, float]


def synthetic_runs(count: int) -> list[RunFields]:
    """Deterministic runs: p0 = 'a' for 3 runs in 4, m0 > 0.5 for about 2 in 3.

    So about half of the runs (0.75 * 2/3) match ``SEARCH_FILTER``.
    """
    rng = random.Random(_SEED)
    runs = []
    for i in range(count):
        params = {f"p{k}": f"v{(i * (k + 1)) % 7}" for k in range(1, N_PARAMS)}
        params["p0"] = "b" if i % 4 == 0 else "a"
        metrics = {f"m{k}": rng.random() for k in range(N_METRICS)}
        metrics["m0"] = 0.25 + 0.75 * metrics["m0"]
        runs.append(RunFields(params=params, metrics=metrics))
    return runs


def metric_value(step: int) -> float:
    """The value logged at ``step`` by the log_metric benchmarks."""
    return step / 1000.0


def timed(action: Callable[[], object]) -> float:
    """Seconds that ``action()`` took, on the monotonic high-resolution clock."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def throughput(calls: int, seconds: float) -> Result:
    return {"calls": calls, "seconds": seconds, "per_second": calls / seconds}


class Tracker(Protocol):
    """What a worker adapts its tool to; the generic tasks below drive it."""

    def connect(self, uri: str, mode: str) -> None:
        """Point the tool at ``uri``; ``mode`` is "sync" or "async" logging."""

    def start_run(self, name: str) -> str:
        """Start a run in ``EXPERIMENT`` and return its id."""
        ...

    def log_metric_calls(self, calls: int) -> None:
        """Call log_metric ``calls`` times: key ``METRIC_KEY``, ``metric_value(step)``."""

    def end_run(self) -> None:
        """End the active run; logged data must be durable when this returns."""

    def count_points(self, run_id: str) -> int:
        """How many points of ``METRIC_KEY`` the store holds for ``run_id``."""
        ...

    def populate(self, runs: list[RunFields]) -> None:
        """Store ``runs`` as runs of a new experiment ``EXPERIMENT``, in bulk."""

    def search(self) -> Sequence[Any]:
        """Run the benchmark query (``SEARCH_*``) on ``EXPERIMENT``; return the runs found."""
        ...

    def metric_of(self, run: Any, key: str) -> float:
        """The latest value of metric ``key`` of a run returned by ``search``."""
        ...


def _log_and_end(tracker: Tracker, calls: int) -> None:
    tracker.log_metric_calls(calls)
    tracker.end_run()


def _stored_in_fresh_process(args: argparse.Namespace, run_id: str) -> int | str:
    """Ask a new interpreter of this worker how many points run ``run_id`` stored.

    A fresh process cannot see an in-memory buffer, so a count that matches the
    number of calls proves the data was durable when ``end_run`` returned. Returns
    the count, or the error the counting process met.
    """
    command = [sys.executable, sys.argv[0], "count", "--uri", args.uri, "--run-id", run_id]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    try:
        return int(parse_result(done.stdout, done.stderr)["count"])
    except RuntimeError as error:
        return str(error)


def log_metric_task(tracker: Tracker, args: argparse.Namespace) -> Result:
    """Time ``args.repeats`` runs of ``args.calls`` log_metric calls plus end_run each.

    An untimed warm-up run comes first; each timed run is checked for durability.
    """
    tracker.connect(args.uri, args.mode)
    tracker.start_run("warmup")
    _log_and_end(tracker, WARMUP_CALLS)
    samples, stored = [], []
    for repeat in range(args.repeats):
        run_id = tracker.start_run(f"timed-{repeat}")
        samples.append(timed(lambda: _log_and_end(tracker, args.calls)))
        stored.append(_stored_in_fresh_process(args, run_id))
    durable = all(count == args.calls for count in stored)
    result = throughput(args.calls, statistics.median(samples))
    return {**result, "samples": samples, "stored": stored, "durable": durable}


def count_task(tracker: Tracker, args: argparse.Namespace) -> Result:
    tracker.connect(args.uri, args.mode)
    return {"count": tracker.count_points(args.run_id)}


def populate_task(tracker: Tracker, args: argparse.Namespace) -> Result:
    """Store ``args.runs`` synthetic runs for the search benchmark (not a timed figure)."""
    tracker.connect(args.uri, args.mode)
    runs = synthetic_runs(args.runs)
    return {"runs": args.runs, "populate_seconds": timed(lambda: tracker.populate(runs))}


def search_task(tracker: Tracker, args: argparse.Namespace) -> Result:
    """Median of ``args.repeats`` timed benchmark queries, after an untimed warm-up query."""
    tracker.connect(args.uri, args.mode)
    found = tracker.search()
    samples = [timed(tracker.search) for _ in range(args.repeats)]
    return {
        "seconds": statistics.median(samples),
        "samples": samples,
        "matched": len(found),
        "top_m1": tracker.metric_of(found[0], "m1") if found else None,
    }


TASKS: dict[str, Callable[[Tracker, argparse.Namespace], Result]] = {
    "log_metric": log_metric_task,
    "count": count_task,
    "populate": populate_task,
    "search": search_task,
}


def parse_result(stdout: str, stderr: str = "") -> Result:
    """The JSON object after the last ``RESULT_MARKER`` line of a worker's stdout."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith(RESULT_MARKER)]
    if not lines:
        tail = "\n".join((stdout + stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"worker reported no result; output ends with:\n{tail}")
    result: Result = json.loads(lines[-1][len(RESULT_MARKER) :])
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="benchmark worker")
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--uri", required=True, help="tracking URI of the store or server")
    parser.add_argument("--calls", type=int, default=10_000, help="log_metric calls")
    parser.add_argument("--runs", type=int, default=10_000, help="runs to populate for search")
    parser.add_argument("--repeats", type=int, default=1, help="timed repeats")
    parser.add_argument("--mode", choices=["sync", "async"], default="sync")
    parser.add_argument("--run-id", default="", help="run to count points of (task count)")
    return parser


def main(tracker: Tracker) -> None:
    """Parse the command line, run the chosen task on ``tracker``, print its result line."""
    args = _parser().parse_args()
    result = TASKS[args.task](tracker, args)
    sys.stdout.write(RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
