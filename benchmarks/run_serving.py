"""Serving benchmark: ``loopline serve`` against ``mlflow models serve`` (MLflow 3.17.2).

Run from the repo root, with loopline (``[serve,sklearn,data]``) installed in this interpreter::

    python benchmarks/run_serving.py            # every figure, ~3 minutes on 2 cores
    python benchmarks/run_serving.py --quick    # short windows, 100,000 bulk rows (a smoke test)
    python benchmarks/run_serving.py --only sequential --only concurrent

Both tools serve the same scikit-learn GradientBoostingClassifier (100 trees, 20 features,
``make_classification``, seed 0), each fitted by its own worker. loopline serves the deployment
``gbc`` (``models:/gbc@prod``, async prediction logging, a threshold DecisionPolicy); MLflow
serves ``models:/gbc/1`` with ``--env-manager local -w 1``. One server runs at a time. The load
clients (``workers/serving_client.py``, one process each) send pre-built request bytes on
kept-alive sockets. Prints a table and writes ``benchmarks/results/serving.json``; exits 1 when
a target is missed. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _peer_env import VENVS_DIR, ensure_venv

BENCH_DIR = Path(__file__).resolve().parent
WORKERS_DIR = BENCH_DIR / "workers"
sys.path.insert(0, str(WORKERS_DIR))
from serving_common import (  # noqa: E402
    Connection,
    http_request,
    predict_body,
    split_body,
    wait_healthy,
)

RESULTS_FILE = BENCH_DIR / "results" / "serving.json"
PYCACHE_DIR = VENVS_DIR / "pycache"
MLFLOW_VERSION = "3.17.2"
MLFLOW_REQUIREMENTS = (f"mlflow=={MLFLOW_VERSION}", "pyarrow<26")
HEALTH_PATH = "/ping"
CLIENTS = 8
FIGURES = ("cold", "sequential", "concurrent", "bulk")
_NO_TRACKING_ENV = {
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def environ(isolated: bool, extra: dict[str, str]) -> dict[str, str]:
    """Ours without any tool's settings, plus no-telemetry switches and a shared pycache."""
    dropped: tuple[str, ...] = ("LOOPLINE_", "MLFLOW_", "PYTHONDONTWRITEBYTECODE")
    dropped += ("PYTHONPATH",) if isolated else ()
    clean = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    return {**clean, **_NO_TRACKING_ENV, "PYTHONPYCACHEPREFIX": str(PYCACHE_DIR), **extra}


def run_json(argv: Sequence[str], env: dict[str, str], timeout: float = 900.0) -> dict[str, Any]:
    done = subprocess.run(
        list(argv), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = " | ".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{Path(argv[1]).name} exit {done.returncode}: {tail}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One server process group: started, waited for, stopped."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name, self.argv, self.env, self.port = name, argv, env, port
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)

    def start(self, timeout: float = 120.0) -> float:
        """Spawn it; seconds from spawn to the first 200 of the health route."""
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        process = self.process
        try:
            ready = wait_healthy(
                self.port, HEALTH_PATH, started + timeout, lambda: process.poll() is None
            )
        except (RuntimeError, TimeoutError) as exc:
            self.log.seek(0)
            tail = self.log.read().decode(errors="replace").strip().splitlines()[-5:]
            self.stop()
            raise RuntimeError(f"{self.name}: {exc}: {' | '.join(tail)}") from None
        return ready - started

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
        self.log.close()


def load(port: int, request: bytes, clients: int, warmup: float, duration: float,
         tmp: Path) -> dict[str, Any]:  # fmt: skip
    """``clients`` closed-loop client processes on one kind of request; merged figures."""
    path = tmp / f"request-{port}-{abs(hash(request))}.bin"
    path.write_bytes(request)
    start = time.monotonic() + 1.0 + 0.15 * clients  # every client connected before the start
    argv = [sys.executable, str(WORKERS_DIR / "serving_client.py"), "--port", str(port),
            "--request", str(path), "--start", f"{start:.6f}", "--warmup", str(warmup),
            "--duration", str(duration)]  # fmt: skip
    load_before = os.getloadavg()[0]
    procs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(clients)
    ]
    outputs = [p.communicate(timeout=warmup + duration + 120) for p in procs]
    results = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        lines = out.strip().splitlines()
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"client exit {proc.returncode}: {(lines or [err])[-1][-300:]}")
        results.append(json.loads(lines[-1]))
    latencies = sorted(v for r in results for v in r["latencies_us"])
    per_second = [0] * int(duration)
    for r in results:
        for s in r["seconds"]:
            if 0 <= s < len(per_second):
                per_second[s] += 1
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": sum(r["errors"] for r in results),
        "rps": len(latencies) / duration,
        "rps_per_second_median": statistics.median(per_second) if per_second else None,
        "rps_per_second": per_second,
        "p50_ms": _quantile(latencies, 0.50) / 1000,
        "p90_ms": _quantile(latencies, 0.90) / 1000,
        "p99_ms": _quantile(latencies, 0.99) / 1000,
        "max_ms": latencies[-1] / 1000,
        "first_body": results[0]["first_body"],
        "load_average_1m": [load_before, os.getloadavg()[0]],
    }


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check_answer(port: int, request: bytes) -> str:
    connection = Connection(port)
    try:
        status, body = connection.call(request)
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"status {status}: {body[:300]!r}")
    return body.decode()


def _version(python: Path, package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def loopline_command() -> list[str]:
    script = Path(sys.executable).parent / "loopline"
    return [str(script)] if script.exists() else [sys.executable, "-m", "loopline.cli.main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short windows, 100,000 bulk rows")
    parser.add_argument("--only", action="append", choices=FIGURES, help="some figures only")
    parser.add_argument("--duration", type=float, help="seconds measured per load figure")
    parser.add_argument("--rows", type=int, help="rows of the bulk figure")
    parser.add_argument("--json", type=Path, default=RESULTS_FILE, help="where to write results")
    args = parser.parse_args(argv)
    only = set(args.only or FIGURES)
    warmup = 1.0 if args.quick else 2.0
    duration = args.duration or (2.0 if args.quick else 8.0)
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    cold_repeats = 2 if args.quick else 3
    log("preparing the MLflow venv (first run installs it) ...")
    mlflow_python = ensure_venv(f"mlflow-{MLFLOW_VERSION}", MLFLOW_REQUIREMENTS)
    mlflow_bin = mlflow_python.parent / "mlflow"
    meta: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "loopline_version": _version(Path(sys.executable), "loopline"),
        "mlflow_version": _version(mlflow_python, "mlflow"),
        "scikit_learn": {
            "loopline": _version(Path(sys.executable), "scikit-learn"),
            "mlflow": _version(mlflow_python, "scikit-learn"),
        },
        "warmup_seconds": warmup,
        "duration_seconds": duration,
        "clients_concurrent": CLIENTS,
    }
    figures: list[dict[str, Any]] = []
    problems: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="loopline-bench-serving-") as tmp_name:
        tmp = Path(tmp_name)
        ll_store, ml_store = tmp / "loopline", tmp / "mlflow"
        ll_store.mkdir()
        ml_store.mkdir()
        ll_env = environ(False, {"LOOPLINE_HOME": str(ll_store / "home")})
        log("fitting, logging and registering the model in both tools ...")
        ll_setup = run_json(
            [sys.executable, str(WORKERS_DIR / "serving_loopline.py"), "setup", "--store",
             str(ll_store)], ll_env,
        )  # fmt: skip
        ml_setup = run_json(
            [str(mlflow_python), str(WORKERS_DIR / "serving_mlflow.py"), "--store", str(ml_store)],
            environ(True, {}),
        )
        if ll_setup["row"] != ml_setup["row"]:
            raise RuntimeError("the two workers did not fit on the same data")
        row = ll_setup["row"]
        ml_env = environ(True, {"MLFLOW_TRACKING_URI": ml_setup["tracking_uri"]})
        # as with an activated venv: `mlflow models serve` execs `uvicorn` from PATH
        ml_env["PATH"] = f"{mlflow_bin.parent}{os.pathsep}{ml_env.get('PATH', '')}"

        def loopline_server() -> Server:
            port = free_port()
            argv = [*loopline_command(), "serve", "--uri", str(ll_store), "--port", str(port)]
            return Server("loopline", argv, ll_env, port)

        def mlflow_server() -> Server:
            port = free_port()
            argv = [str(mlflow_bin), "models", "serve", "-m", ml_setup["model_uri"], "-w", "1",
                    "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
            return Server("mlflow", argv, ml_env, port)

        if "cold" in only:
            cold: dict[str, list[float]] = {"loopline": [], "mlflow": []}
            for i in range(cold_repeats + 1):  # the first of each is untimed (disk cache)
                for name, make in (("loopline", loopline_server), ("mlflow", mlflow_server)):
                    server = make()
                    try:
                        seconds = server.start()
                    finally:
                        server.stop()
                    if i:
                        cold[name].append(seconds)
                    log(f"cold start {name}: {seconds:.2f} s" + ("" if i else " (warm-up)"))
            ll, ml = statistics.median(cold["loopline"]), statistics.median(cold["mlflow"])
            figures.append({
                "name": "cold_start", "unit": "seconds from spawn to the first 200 of GET "
                f"{HEALTH_PATH} (median)", "loopline": ll, "mlflow": ml,
                "samples": cold, "ratio": ll / ml, "target": "<= 0.5x MLflow's",
                "met": ll <= 0.5 * ml,
            })  # fmt: skip

        loads: dict[str, dict[str, Any]] = {}
        if only & {"sequential", "concurrent"}:
            kinds = [k for k in ("sequential", "concurrent") if k in only]
            for name, make in (("loopline", loopline_server), ("mlflow", mlflow_server)):
                server = make()
                server.start()
                try:
                    port = server.port
                    requests = {"invocations": http_request("/invocations", split_body(row), port)}
                    if name == "loopline":
                        requests["predict"] = http_request(
                            f"/deployments/{ll_setup['deployment']}/predict",
                            predict_body(row),
                            port,
                        )
                    for route, request in requests.items():
                        loads[f"{name}.{route}.answer"] = {"body": check_answer(port, request)}
                        for kind in kinds:
                            clients = 1 if kind == "sequential" else CLIENTS
                            log(f"{name} {route} {kind} ({clients} client(s), {duration:g} s) ...")
                            figure = load(port, request, clients, warmup, duration, tmp)
                            loads[f"{name}.{route}.{kind}"] = figure
                            log(
                                f"  {figure['rps']:,.0f} req/s, p50 {figure['p50_ms']:.3f} ms, "
                                f"p99 {figure['p99_ms']:.3f} ms, errors {figure['errors']}"
                            )
                finally:
                    server.stop()
            for kind in kinds:
                ml = loads[f"mlflow.invocations.{kind}"]
                for route in ("invocations", "predict"):
                    ll = loads[f"loopline.{route}.{kind}"]
                    ratio = ll["rps"] / ml["rps"]
                    target = 8.0 if kind == "sequential" else 15.0
                    met = ratio >= target and not ll["errors"] and not ml["errors"]
                    if kind == "concurrent":
                        met = met and ll["p99_ms"] < ml["p50_ms"]
                    figures.append({
                        "name": f"{kind}_{route}", "unit": "requests/s",
                        "loopline": ll, "mlflow": ml, "ratio": ratio,
                        "target": f">= {target:g}x MLflow's requests/s"
                        + (", loopline p99 < MLflow p50" if kind == "concurrent" else ""),
                        "target_applies": route == "invocations", "met": met,
                    })  # fmt: skip

        if "bulk" in only:
            log(f"bulk scoring {rows:,} rows (loopline.score vs bare predict_proba) ...")
            try:
                bulk = run_json(
                    [sys.executable, str(WORKERS_DIR / "serving_loopline.py"), "bulk",
                     "--store", str(ll_store), "--rows", str(rows),
                     "--repeats", "2" if args.quick else "3"], ll_env, timeout=1800,
                )  # fmt: skip
            except RuntimeError as exc:
                bulk = {"error": str(exc)}
            if bulk.get("error"):
                problems.append(f"bulk: {bulk['error']}")
            ll_rps = bulk.get("score_rows_per_second")
            bare_rps = bulk.get("bare_rows_per_second")
            ratio = ll_rps / bare_rps if ll_rps and bare_rps else None
            figures.append({
                "name": "bulk", "unit": "rows/s", "loopline": ll_rps, "bare_predict_proba":
                bare_rps, "ratio": ratio, "target": ">= 0.8x bare predict_proba's rows/s",
                "met": ratio is not None and ratio >= 0.8, "detail": bulk,
            })  # fmt: skip

    meta["seconds"] = round(time.monotonic() - started, 1)
    meta["load_average_at_end"] = os.getloadavg()
    meta["setup"] = {"loopline": ll_setup, "mlflow": ml_setup}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"meta": meta, "figures": figures, "loads": loads, "problems": problems},
                   indent=2)
    )  # fmt: skip
    print(render(figures, loads, problems))
    print(
        f"\n{meta['seconds']:.0f}s on {meta['cpus']} cores; load average (1 min) "
        f"{meta['load_average_at_start'][0]:.2f} at start, {meta['load_average_at_end'][0]:.2f} "
        f"at end. Results written to {args.json}"
    )
    return 0 if all(f["met"] for f in figures if f.get("target_applies", True)) else 1


def render(figures: list[dict[str, Any]], loads: dict[str, Any], problems: list[str]) -> str:
    header = ("figure", "loopline", f"mlflow {MLFLOW_VERSION}", "ratio", "target", "met")
    rows = []
    for f in figures:
        met = "yes" if f["met"] else "NO"
        if not f.get("target_applies", True):
            met += " (info)"
        if f["name"] == "cold_start":
            rows.append(("cold start (spawn -> 200)", f"{f['loopline']:.2f} s",
                         f"{f['mlflow']:.2f} s", f"{f['ratio']:.2f}x", "<= 0.5x", met))  # fmt: skip
        elif f["name"] == "bulk":
            ll, bare = f["loopline"], f["bare_predict_proba"]
            rows.append((
                "bulk 1 score vs bare predict_proba", "n/a" if ll is None else f"{ll:,.0f} rows/s",
                "n/a" if bare is None else f"bare {bare:,.0f} rows/s",
                "n/a" if f["ratio"] is None else f"{f['ratio']:.2f}x", ">= 0.8x", met,
            ))  # fmt: skip
        else:
            ll, ml = f["loopline"], f["mlflow"]
            route = (
                "/invocations" if f["name"].endswith("invocations") else "/deployments/.../predict"
            )
            kind = "1 client" if f["name"].startswith("sequential") else f"{CLIENTS} clients"
            target = ">= 8x" if kind == "1 client" else ">= 15x, p99<p50"
            for label, value in (("req/s", "rps"), ("p50 ms", "p50_ms"), ("p99 ms", "p99_ms")):
                first = label == "req/s"
                rows.append((
                    f"{kind} {route} {label}" if first else f"  {label}",
                    f"{ll[value]:,.0f}" if first else f"{ll[value]:.3f}",
                    f"{ml[value]:,.0f}" if first else f"{ml[value]:.3f}",
                    f"{f['ratio']:.1f}x" if first else "", target if first else "",
                    met if first else "",
                ))  # fmt: skip
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))
             for r in [header, tuple("-" * w for w in widths), *rows]]  # fmt: skip
    notes = ["", "notes:"]
    for key in (
        "loopline.invocations.answer",
        "loopline.predict.answer",
        "mlflow.invocations.answer",
    ):
        if key in loads:
            notes.append(f"  {key.rsplit('.', 1)[0]} answers: {loads[key]['body'][:160]}")
    for f in figures:
        if f["name"] == "bulk" and f["detail"].get("call"):
            notes.append(f"  bulk call: {f['detail']['call']}; {f['detail'].get('checked', '')}")
    notes.append("  the targets apply to /invocations (like for like); the predict rows are info")
    if problems:
        notes += ["", "problems:", *(f"  {p}" for p in problems)]
    return "\n".join(lines + notes)


if __name__ == "__main__":
    raise SystemExit(main())
