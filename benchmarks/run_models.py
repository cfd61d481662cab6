"""Models benchmark: log_model + register + load_model, loopline against MLflow 3.17.2.

Run from the repo root, with loopline (and scikit-learn) installed in the current interpreter::

    python benchmarks/run_models.py              # 5 timed cycles per tool
    python benchmarks/run_models.py --cycles 3   # fewer, a smoke test

Each tool runs in its own interpreter (loopline with ``sys.executable``, MLflow from its pinned
venv, see ``_peer_env``) through a worker in ``workers/``, on a fresh temp store. Each worker
fits the same GradientBoostingClassifier on the same data itself, so nothing is pickled across
interpreters. Prints a table and writes ``benchmarks/results/models.json``; exits 1 when the
target is missed. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _peer_env import VENVS_DIR, ensure_venv

BENCH_DIR = Path(__file__).resolve().parent
WORKERS_DIR = BENCH_DIR / "workers"
RESULTS_FILE = BENCH_DIR / "results" / "models.json"
PYCACHE_DIR = VENVS_DIR / "pycache"
MLFLOW_VERSION = "3.17.2"
MLFLOW_REQUIREMENTS = (f"mlflow=={MLFLOW_VERSION}", "pyarrow<26")
TARGET = 3.0
WORKER_TIMEOUT = 600.0
RECORDS = {
    "loopline": "loopline: model.skops + loopline-model.json (flavor, inferred signature) in a "
    "content-addressed blob store, a tree digest checked on load, an audit event per version, "
    "run tags for platform, python, git source and user (environment capture on, the default)",
    "mlflow": "mlflow: model.skops, MLmodel (signature), input_example.json, "
    "serving_input_example.json, requirements.txt, conda.yaml, python_env.yaml (inferred pip "
    "requirements), registered_model_meta, a LoggedModel entity; skops_trusted_types="
    "['sklearn.tree._tree.Tree'], which MLflow requires to log a tree model with skops",
}
_NO_TRACKING_ENV = {
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
}


@dataclass(frozen=True)
class Tool:
    """One tool under test: its interpreter and worker script."""

    name: str
    python: Path
    worker: Path
    isolated: bool  # a peer's venv must not see our PYTHONPATH

    def environ(self, store: Path) -> dict[str, str]:
        """Ours without any tool's settings, plus no-telemetry switches and a shared pycache."""
        dropped: tuple[str, ...] = ("LOOPLINE_", "MLFLOW_", "PYTHONDONTWRITEBYTECODE")
        dropped += ("PYTHONPATH",) if self.isolated else ()
        clean = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
        extra = {"PYTHONPYCACHEPREFIX": str(PYCACHE_DIR), "LOOPLINE_HOME": str(store / "home")}
        return {**clean, **_NO_TRACKING_ENV, **extra}


@dataclass
class Outcome:
    """What a worker reported, or why it failed."""

    tool: str
    result: dict[str, Any] | None
    error: str | None

    @property
    def seconds(self) -> float | None:
        return None if self.result is None else float(self.result["median_seconds"])


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_worker(tool: Tool, root: Path, cycles: int) -> Outcome:
    store = root / tool.name
    store.mkdir(parents=True)
    argv = [str(tool.python), str(tool.worker), "--store", str(store), "--cycles", str(cycles)]
    log(f"{tool.name}: warm-up + {cycles} timed cycles ...")
    try:
        done = subprocess.run(
            argv,
            env=tool.environ(store),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Outcome(tool.name, None, f"timed out after {WORKER_TIMEOUT:.0f}s")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        return Outcome(tool.name, None, f"exit {done.returncode}: {tail}")
    return Outcome(tool.name, json.loads(lines[-1]), None)


def _fmt(seconds: float | None) -> str:
    return "FAILED" if seconds is None else f"{seconds * 1000:,.0f} ms"


def render(loopline: Outcome, mlflow: Outcome, ratio: float | None, met: bool) -> str:
    header = ("figure", "loopline", f"mlflow {MLFLOW_VERSION}", "ratio", "target", "met")
    row = (
        "log_model+register+load_model+predict (median/cycle)",
        _fmt(loopline.seconds),
        _fmt(mlflow.seconds),
        "n/a" if ratio is None else f"{ratio:,.1f}x",
        f">= {TARGET:g}x",
        "yes" if met else "NO",
    )
    widths = [max(len(a), len(b)) for a, b in zip(header, row, strict=True)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True))
        for line in (header, tuple("-" * w for w in widths), row)
    ]
    notes = ["", "notes:"]
    for outcome in (loopline, mlflow):
        if outcome.result is None:
            continue
        r = outcome.result
        growth = r["per_cycle_store_growth"]
        samples = ", ".join(f"{s * 1000:.0f}" for s in r["samples"])
        warmup = r["warmup_seconds"] * 1000
        notes.append(
            f"  {outcome.tool}: samples [{samples}] ms; warm-up {warmup:.0f} ms;"
            f" import {r['import_seconds'] * 1000:.0f} ms (untimed); registered versions "
            f"{r['versions'][0]}..{r['versions'][-1]}; predictions equal the fitted model's on "
            f"{r['rows']} rows; store grew {growth['files']:.0f} files, "
            f"{growth['bytes'] / 1e6:.2f} MB per cycle"
        )
    notes += [f"  records: {RECORDS[o.tool]}" for o in (loopline, mlflow)]
    problems = [f"  {o.tool}: {o.error}" for o in (loopline, mlflow) if o.error]
    return "\n".join([*lines, *notes, *(["", "problems:", *problems] if problems else [])])


def _version(python: Path, package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=5, help="timed cycles per tool (median)")
    parser.add_argument("--json", type=Path, default=RESULTS_FILE, help="where to write results")
    args = parser.parse_args(argv)
    log("preparing the MLflow venv (first run installs it) ...")
    mlflow_python = ensure_venv(f"mlflow-{MLFLOW_VERSION}", MLFLOW_REQUIREMENTS)
    loopline_tool = Tool(
        "loopline", Path(sys.executable), WORKERS_DIR / "models_loopline.py", False
    )
    mlflow_tool = Tool("mlflow", mlflow_python, WORKERS_DIR / "models_mlflow.py", True)
    meta: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "cycles": args.cycles,
        "loopline_version": _version(loopline_tool.python, "loopline"),
        "mlflow_version": _version(mlflow_python, "mlflow"),
        "scikit_learn": {
            "loopline": _version(loopline_tool.python, "scikit-learn"),
            "mlflow": _version(mlflow_python, "scikit-learn"),
        },
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="loopline-bench-models-") as tmp:
        loopline = run_worker(loopline_tool, Path(tmp), args.cycles)
        mlflow = run_worker(mlflow_tool, Path(tmp), args.cycles)
    ratio = (
        mlflow.seconds / loopline.seconds
        if loopline.seconds is not None and mlflow.seconds is not None and loopline.seconds > 0
        else None
    )
    met = ratio is not None and ratio >= TARGET
    meta["seconds"] = round(time.monotonic() - started, 1)
    meta["load_average_at_end"] = os.getloadavg()
    figure = {
        "name": "models",
        "unit": "seconds per cycle (median)",
        "target": TARGET,
        "ratio": ratio,
        "met": met,
        "loopline": {"result": loopline.result, "error": loopline.error},
        "mlflow": {"result": mlflow.result, "error": mlflow.error},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "figures": [figure]}, indent=2))
    print(render(loopline, mlflow, ratio, met))
    print(
        f"\n{meta['seconds']:.0f}s on {meta['cpus']} cores; load average (1 min) "
        f"{meta['load_average_at_start'][0]:.2f} at start, {meta['load_average_at_end'][0]:.2f} "
        f"at end. Results written to {args.json}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
