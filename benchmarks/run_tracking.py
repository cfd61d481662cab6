"""Tracking benchmark: loopline against MLflow 3.17.2, same machine, same run.

Run from the repo root, with loopline installed in the current interpreter::

    python benchmarks/run_tracking.py            # all figures, full sizes
    python benchmarks/run_tracking.py --quick    # smaller sizes, a smoke test
    python benchmarks/run_tracking.py --only search --only import

MLflow runs from its own pinned venv (created on first use, see ``_peer_env``); each
tool is measured by a worker script in its own interpreter (``workers/``), so a crash
in one tool is reported and the run goes on. Prints a table and writes
``benchmarks/results/tracking.json``. See ``benchmarks/README.md`` for what each
figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import importlib.metadata
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _peer_env import VENVS_DIR, ensure_venv
from workers._common import parse_result

BENCH_DIR = Path(__file__).resolve().parent
WORKERS_DIR = BENCH_DIR / "workers"
RESULTS_FILE = BENCH_DIR / "results" / "tracking.json"
PYCACHE_DIR = VENVS_DIR / "pycache"
MLFLOW_VERSION = "3.17.2"
MLFLOW_REQUIREMENTS = (f"mlflow=={MLFLOW_VERSION}", "pyarrow<26")
FIGURE_NAMES = ("local", "async", "server", "search", "import")
WORKER_TIMEOUT = 480.0
SERVER_READY_TIMEOUT = 120.0
SERVER_SETTLE_SECONDS = 3.0
_NO_TRACKING_ENV = {"DO_NOT_TRACK": "true"}
_MLFLOW_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
}
_MLFLOW_ASYNC_ENV = {"MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS": "1"}


# -- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calls:
    """A logging workload: ``count`` log_metric calls per run, ``repeats`` timed runs (median)."""

    count: int
    repeats: int = 1


@dataclass(frozen=True)
class Sizes:
    """How much work each figure does; MLflow's sync paths are slow, so it does fewer calls.

    loopline's runs take a fraction of a second, so it times several and takes the median.
    """

    loopline: Calls = Calls(10_000, repeats=5)
    mlflow_sync: Calls = Calls(2_000)
    mlflow_async: Calls = Calls(10_000)
    mlflow_server: Calls = Calls(500)
    search_runs: int = 10_000
    search_repeats: int = 7
    import_repeats: int = 10


QUICK = Sizes(
    loopline=Calls(2_000, repeats=3),
    mlflow_sync=Calls(300),
    mlflow_async=Calls(2_000),
    mlflow_server=Calls(100),
    search_runs=1_000,
    search_repeats=3,
    import_repeats=5,
)


@dataclass(frozen=True)
class Tool:
    """One tool under test: its interpreter, worker script, module and server command."""

    name: str
    python: Path
    worker: Path
    module: str
    health_path: str
    env: dict[str, str]
    server_argv: Callable[[Path, int], list[str]]
    store_env: Callable[[Path], dict[str, str]] = lambda store: {}
    bulk_env: dict[str, str] = field(default_factory=dict)  # for the untimed bulk population
    isolated: bool = True  # a peer's venv must not see our PYTHONPATH

    def environ(self, store: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The process environment: ours without any tool's settings, plus this tool's.

        Bytecode is cached for both tools alike, in ``PYCACHE_DIR``, so neither is timed
        compiling its sources, even where the shell sets PYTHONDONTWRITEBYTECODE (an
        editable loopline would recompile on every start), and nothing is written into
        a source tree.
        """
        dropped: tuple[str, ...] = ("LOOPLINE_", "MLFLOW_", "PYTHONDONTWRITEBYTECODE")
        dropped += ("PYTHONPATH",) if self.isolated else ()
        clean = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
        cache = {"PYTHONPYCACHEPREFIX": str(PYCACHE_DIR)}
        tool = {**self.env, **self.store_env(store), **(extra or {})}
        return {**clean, **_NO_TRACKING_ENV, **cache, **tool}


def _loopline_server_argv(store: Path, port: int) -> list[str]:
    del store  # the server finds its store through LOOPLINE_HOME, see loopline_tool
    script = Path(sys.executable).with_name("loopline")
    prefix = (
        [str(script)]
        if script.exists()
        else [
            sys.executable,
            "-c",
            "import sys; from loopline.cli.main import main; sys.exit(main())",
        ]
    )
    return [*prefix, "server", "--host", "127.0.0.1", "--port", str(port)]


def _mlflow_server_argv(python: Path) -> Callable[[Path, int], list[str]]:
    def argv(store: Path, port: int) -> list[str]:
        return [
            str(python.with_name("mlflow")), "server",
            "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
            "--artifacts-destination", str(store / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip

    return argv


def loopline_tool() -> Tool:
    return Tool(
        name="loopline",
        python=Path(sys.executable),
        worker=WORKERS_DIR / "loopline_tracking.py",
        module="loopline",
        health_path="/api/health",
        env={},
        server_argv=_loopline_server_argv,
        store_env=lambda store: {"LOOPLINE_HOME": str(store)},
        # Like MlflowClient.create_run, record no environment on the 10,000 populated runs.
        bulk_env={"LOOPLINE_CAPTURE_ENVIRONMENT": "false"},
        isolated=False,
    )


def mlflow_tool() -> Tool:
    python = ensure_venv(f"mlflow-{MLFLOW_VERSION}", MLFLOW_REQUIREMENTS)
    return Tool(
        name="mlflow",
        python=python,
        worker=WORKERS_DIR / "mlflow_tracking.py",
        module="mlflow",
        health_path="/health",
        env=dict(_MLFLOW_ENV),
        server_argv=_mlflow_server_argv(python),
    )


# -- measurements -------------------------------------------------------------------------------


@dataclass
class Measurement:
    """One tool's figure: ``value`` in the figure's unit, or ``error`` when it failed."""

    value: float | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_worker(tool: Tool, store: Path, args: Sequence[str], extra_env: dict[str, str]) -> Any:
    """Run ``tool``'s worker with ``args`` in ``store`` and return its result object."""
    command = [str(tool.python), str(tool.worker), *args]
    done = subprocess.run(
        command,
        cwd=store,
        env=tool.environ(store, extra_env),
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {_tail(done.stderr or done.stdout)}")
    return parse_result(done.stdout, done.stderr)


def _guarded(measure: Callable[[], Measurement]) -> Measurement:
    """Turn any failure of one tool's measurement into a reported error."""
    try:
        return measure()
    except Exception as error:  # one tool failing must not stop the run
        return Measurement(error=f"{type(error).__name__}: {error}")


def _durability_problem(result: dict[str, Any]) -> str | None:
    if result["durable"]:
        return None
    return f"not durable at end_run: {result['calls']} calls per run, stored {result['stored']}"


def _sqlite(store: Path, tool: Tool) -> str:
    return f"sqlite:///{store / (tool.name + '.db')}"


def measure_logging(tool: Tool, store: Path, uri: str, calls: Calls, mode: str) -> Measurement:
    extra = _MLFLOW_ASYNC_ENV if mode == "async" else {}
    args = ["log_metric", "--uri", uri, "--mode", mode]
    args += ["--calls", str(calls.count), "--repeats", str(calls.repeats)]
    result = run_worker(tool, store, args, extra)
    return Measurement(value=result["per_second"], error=_durability_problem(result), detail=result)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}: {_tail(log.read_text())}")
        if _healthy(url):
            time.sleep(SERVER_SETTLE_SECONDS)  # let multi-worker servers finish starting
            return
        time.sleep(0.25)
    raise RuntimeError(f"server not ready in {SERVER_READY_TIMEOUT:.0f}s: {_tail(log.read_text())}")


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and everything it spawned (it leads its own process group)."""
    _signal_group(process, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20.0)
    _signal_group(process, signal.SIGKILL)  # whatever of the group outlived the grace period
    process.wait(timeout=5.0)


@contextlib.contextmanager
def running_server(tool: Tool, store: Path) -> Iterator[str]:
    """Start ``tool``'s server on a free loopback port; yield its base URL."""
    port = _free_port()
    log = store / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            tool.server_argv(store, port),
            cwd=store,
            env=tool.environ(store),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(process, base + tool.health_path, log)
            yield base
        finally:
            _stop(process)


def measure_server(tool: Tool, store: Path, calls: Calls) -> Measurement:
    with running_server(tool, store) as base:
        return measure_logging(tool, store, base, calls, "sync")


def populate_store(tool: Tool, store: Path, runs: int) -> Measurement:
    """Fill ``tool``'s search store; preparation, so no value."""
    args = ["populate", "--uri", _sqlite(store, tool), "--runs", str(runs)]
    return Measurement(detail=run_worker(tool, store, args, tool.bulk_env))


def measure_search(tool: Tool, store: Path, repeats: int) -> Measurement:
    args = ["search", "--uri", _sqlite(store, tool), "--repeats", str(repeats)]
    result = run_worker(tool, store, args, {})
    return Measurement(value=result["seconds"] * 1000.0, detail=result)


def _wall_seconds(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {_tail(done.stderr)}")
    return elapsed


def _median_wall_ms(command: list[str], env: dict[str, str], cwd: Path, repeats: int) -> float:
    _wall_seconds(command, env, cwd)  # warm the OS file cache and the .pyc files
    return 1000.0 * statistics.median(_wall_seconds(command, env, cwd) for _ in range(repeats))


def measure_import(tool: Tool, store: Path, repeats: int) -> Measurement:
    """The figure: ``python -c "import <tool>"``; details: a bare interpreter, first SDK use."""
    env, python, module = tool.environ(store), str(tool.python), tool.module

    def wall_ms(code: str) -> float:
        return _median_wall_ms([python, "-c", code], env, store, repeats)

    importing = wall_ms(f"import {module}")
    return Measurement(
        value=importing,
        detail={
            "repeats": repeats,
            "bare_interpreter_ms": wall_ms("pass"),
            "import_and_first_use_ms": wall_ms(f"import {module}; {module}.log_metric"),
        },
    )


# -- figures ------------------------------------------------------------------------------------

Measure = Callable[[Tool, Path], Measurement]
Prepared = dict[str, Measurement]


@dataclass(frozen=True)
class Figure:
    """A figure of the report: how to measure each tool and what counts as meeting it."""

    name: str
    title: str
    unit: str
    higher_is_better: bool
    target: float
    loopline: Measure
    mlflow: Measure
    prepare: Measure | None = None  # untimed set-up, run for both tools at once

    def ratio(self, ours: Measurement, theirs: Measurement) -> float | None:
        """How many times better loopline is (>1 means loopline wins)."""
        if not (ours.value and theirs.value) or ours.error or theirs.error:
            return None
        if self.higher_is_better:
            return ours.value / theirs.value
        return theirs.value / ours.value


def figures(sizes: Sizes) -> list[Figure]:
    def local(calls: Calls, mode: str) -> Measure:
        return lambda tool, store: measure_logging(tool, store, _sqlite(store, tool), calls, mode)

    def server(calls: Calls) -> Measure:
        return lambda tool, store: measure_server(tool, store, calls)

    def search(tool: Tool, store: Path) -> Measurement:
        return measure_search(tool, store, sizes.search_repeats)

    def populate(tool: Tool, store: Path) -> Measurement:
        return populate_store(tool, store, sizes.search_runs)

    def imports(tool: Tool, store: Path) -> Measurement:
        return measure_import(tool, store, sizes.import_repeats)

    loopline_local = local(sizes.loopline, "sync")
    return [
        Figure("local", "1 log_metric, local sqlite, sync", "calls/s", True, 50.0,
               loopline_local, local(sizes.mlflow_sync, "sync")),
        Figure("async", "2 log_metric, local, vs mlflow async", "calls/s", True, 10.0,
               loopline_local, local(sizes.mlflow_async, "async")),
        Figure("server", "3 log_metric through a server", "calls/s", True, 50.0,
               server(sizes.loopline), server(sizes.mlflow_server)),
        Figure("search", "4 search_runs, 10 params/5 metrics", "ms", False, 10.0,
               search, search, prepare=populate),
        Figure("import", "5 python -c 'import <tool>'", "ms", False, 5.0, imports, imports),
    ]  # fmt: skip


@dataclass
class Row:
    figure: Figure
    loopline: Measurement
    mlflow: Measurement

    @property
    def ratio(self) -> float | None:
        return self.figure.ratio(self.loopline, self.mlflow)

    @property
    def disagreement(self) -> str | None:
        """For search: both tools must return the same number of rows and the same top row."""
        if self.figure.name != "search" or not (self.loopline.detail and self.mlflow.detail):
            return None
        keys = ("matched", "top_m1")
        ours, theirs = ([m.detail.get(k) for k in keys] for m in (self.loopline, self.mlflow))
        if ours == theirs:
            return None
        return f"results differ: loopline (rows, top m1) = {ours}, mlflow = {theirs}"

    @property
    def passed(self) -> bool:
        ratio = self.ratio
        return ratio is not None and ratio >= self.figure.target and not self.disagreement

    def as_json(self) -> dict[str, Any]:
        figure = self.figure
        return {
            "name": figure.name,
            "title": figure.title,
            "unit": figure.unit,
            "higher_is_better": figure.higher_is_better,
            "target_ratio": figure.target,
            "loopline": asdict(self.loopline),
            "mlflow": asdict(self.mlflow),
            "ratio": self.ratio,
            "disagreement": self.disagreement,
            "passed": self.passed,
        }


def _prepare_all(prepare: Measure, tools: dict[str, Tool], stores: dict[str, Path]) -> Prepared:
    """Run the untimed set-up of every tool at once (it is slow and nothing is timed)."""
    with ThreadPoolExecutor(max_workers=len(stores)) as pool:
        futures = {
            name: pool.submit(_guarded, functools.partial(prepare, tools[name], store))
            for name, store in stores.items()
        }
        return {name: future.result() for name, future in futures.items()}


def run_figure(figure: Figure, tools: dict[str, Tool], workdir: Path) -> Row:
    measures = {"loopline": figure.loopline, "mlflow": figure.mlflow}
    stores = {name: workdir / f"{figure.name}-{name}" for name in measures}
    for store in stores.values():
        store.mkdir()
    prepared: Prepared = {}
    if figure.prepare is not None:
        log(f"{figure.name}: preparing both stores concurrently (not timed) ...")
        prepared = _prepare_all(figure.prepare, tools, stores)
    measured = {}
    for name, measure in measures.items():
        before = prepared.get(name, Measurement())
        if before.error:
            measured[name] = before
            continue
        log(f"{figure.name}: measuring {name} ...")
        measurement = _guarded(functools.partial(measure, tools[name], stores[name]))
        measurement.detail = {**before.detail, **measurement.detail}
        measured[name] = measurement
    return Row(figure, measured["loopline"], measured["mlflow"])


# -- report -------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _fmt_value(measurement: Measurement, unit: str) -> str:
    if measurement.value is None:
        return "FAILED"
    digits = 0 if measurement.value >= 100 else 2
    flag = " !" if measurement.error else ""
    return f"{measurement.value:,.{digits}f} {unit}{flag}"


def _fmt_ratio(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:,.1f}x"


def _calls_note(row: Row) -> str:
    counts = [
        f"{name} {m.detail['calls']:,} x {len(m.detail['samples'])} run(s)"
        for name, m in (("loopline", row.loopline), ("mlflow", row.mlflow))
        if "calls" in m.detail
    ]
    return f"calls per timed run: {', '.join(counts)}" if counts else ""


def _detail_note(row: Row) -> str:
    if row.figure.name == "search":
        parts = [
            f"{name}: {m.detail.get('matched')} rows, top m1 {m.detail.get('top_m1')}, "
            f"populated in {m.detail.get('populate_seconds', 0):.0f}s (concurrently, untimed)"
            for name, m in (("loopline", row.loopline), ("mlflow", row.mlflow))
            if m.detail
        ]
        return "; ".join(parts)
    if row.figure.name == "import":
        parts = [
            f"{name}: bare interpreter {m.detail['bare_interpreter_ms']:.1f} ms, "
            f"import + touch {name}.log_metric {m.detail['import_and_first_use_ms']:.1f} ms"
            for name, m in (("loopline", row.loopline), ("mlflow", row.mlflow))
            if m.detail
        ]
        return "; ".join(parts)
    return _calls_note(row)


def render(rows: Sequence[Row]) -> str:
    header = ("figure", "loopline", "mlflow 3.17.2", "ratio", "target", "met")
    table = [header] + [
        (
            row.figure.title,
            _fmt_value(row.loopline, row.figure.unit),
            _fmt_value(row.mlflow, row.figure.unit),
            _fmt_ratio(row.ratio),
            f">= {row.figure.target:g}x",
            "yes" if row.passed else "NO",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {row.figure.name}: {_detail_note(row)}" for row in rows if _detail_note(row)]
    errors = [
        f"  {row.figure.name} / {name}: {m.error}"
        for row in rows
        for name, m in (("loopline", row.loopline), ("mlflow", row.mlflow))
        if m.error
    ] + [f"  {row.figure.name}: {row.disagreement}" for row in rows if row.disagreement]
    out = [*lines, "", "notes:", *notes]
    return "\n".join([*out, "", "problems (! above):", *errors] if errors else out)


def _version(python: Path, package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def _git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "none"


def metadata(tools: dict[str, Tool], sizes: Sizes, quick: bool) -> dict[str, Any]:
    try:
        loopline_version = importlib.metadata.version("loopline")
    except importlib.metadata.PackageNotFoundError:
        loopline_version = "not installed"
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "git_commit": _git_commit(),
        "loopline_version": loopline_version,
        "mlflow_version": _version(tools["mlflow"].python, "mlflow"),
        "quick": quick,
        "sizes": asdict(sizes),
    }


def write_json(path: Path, meta: dict[str, Any], rows: Sequence[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "figures": [r.as_json() for r in rows]}, indent=2))


# -- entry point --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", action="append", choices=FIGURE_NAMES, help="run only this figure (repeatable)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    parser.add_argument("--json", type=Path, default=RESULTS_FILE, help="where to write results")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else Sizes()
    log("preparing the MLflow venv (first run installs it) ...")
    tools = {"loopline": loopline_tool(), "mlflow": mlflow_tool()}
    meta = metadata(tools, sizes, args.quick)
    chosen = [f for f in figures(sizes) if not args.only or f.name in args.only]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="loopline-bench-") as tmp:
        rows = [run_figure(figure, tools, Path(tmp)) for figure in chosen]
    meta["seconds"] = round(time.monotonic() - started, 1)
    meta["load_average_at_end"] = os.getloadavg()
    write_json(args.json, meta, rows)
    print(render(rows))
    print(
        f"\n{meta['seconds']:.0f}s on {meta['cpus']} cores; load average (1 min) "
        f"{meta['load_average_at_start'][0]:.2f} at start, {meta['load_average_at_end'][0]:.2f} "
        f"at end. Results written to {args.json}"
    )
    return 0 if all(row.passed for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
