"""Durable prediction logging survives ``kill -9`` of a loaded ``loopline serve`` process.

The issue's requirement: a load test of 60 s on 127.0.0.1 in durable mode, then kill -9 of the
server during load. Client threads post one-row requests for 60 s and keep every prediction id
answered with a 200; the server is killed (SIGKILL) at ~48 s and started again on the same port
(its event log writer recovers the killed process's journal); the load goes on against the new
process to the end. Every acknowledged id must then be in the log exactly once.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from serving_support import Models, row

import loopline
from loopline.deploy import DeploymentService
from loopline.eventlog import EventLog
from loopline.modeling.logged import log_model

LOOPLINE = [sys.executable, "-c", "from loopline.cli.main import main; main()"]
LOAD_SECONDS = 60.0
KILL_AT = 48.0
THREADS = 3


def _store(models: Models, root: Path) -> str:
    """A store of its own with one durable deployment of a logistic regression."""
    from sklearn.linear_model import LogisticRegression

    frame = models.frame
    y = (frame["f0"] + frame["f1"] > 0).astype(int)
    client = loopline.Client(str(root / "store"))
    run_id = client.create_run(client.create_experiment("durability")).info.run_id
    model = LogisticRegression(max_iter=500).fit(frame, y)
    tracking: Any = client.backend
    log_model(tracking, client.registry, run_id, model, "model", input_example=frame.head(20),
              registered_model_name="dur", actor="tester")  # fmt: skip
    registry = client.registry
    DeploymentService(registry.store, registry, registry.audit).create_deployment(
        "dur", "models:/dur/1", logging="durable", actor="tester"
    )
    return str(root / "store")


def _start(store: str, events: Path, port: int, log: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "LOOPLINE_EVENTLOG_ROOT": str(events)}
    out = log.open("a")
    process = subprocess.Popen(
        [*LOOPLINE, "serve", "--uri", store, "--port", str(port)],
        stdout=out, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        found = re.findall(r"on (http://127\.0\.0\.1:\d+)", log.read_text())
        if found and len(found) >= (2 if port else 1):
            return process, found[-1]
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


@pytest.mark.slow
def test_every_acknowledged_prediction_survives_kill_9(models: Models, tmp_path: Path) -> None:
    store = _store(models, tmp_path)
    events = tmp_path / "events"
    log = tmp_path / "serve.log"
    process, url = _start(store, events, 0, log)
    port = int(url.rsplit(":", 1)[1])
    acked: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = time.monotonic()
    stop = start + LOAD_SECONDS
    bodies = [{"rows": [row(models.X, i)], "request_keys": [f"k{i}"]} for i in range(50)]

    def load(worker: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            i = worker
            while time.monotonic() < stop:
                i += 1
                try:
                    answer = client.post("/deployments/dur/predict", json=bodies[i % 50])
                except httpx.TransportError as exc:  # the server is down (killed, restarting)
                    with lock:
                        failures.append(type(exc).__name__)
                    time.sleep(0.02)
                    continue
                if answer.status_code == 200:
                    ids = [p["prediction_id"] for p in answer.json()["predictions"]]
                    with lock:
                        acked.extend(ids)
                else:
                    with lock:
                        failures.append(str(answer.status_code))

    threads = [threading.Thread(target=load, args=(w,), daemon=True) for w in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, start + KILL_AT - time.monotonic()))
        with lock:
            before_kill = len(acked)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        journals = list((events / "_journal" / "predictions").rglob("*.jsonl"))
        process, _ = _start(store, events, port, log)  # recovers the killed journal
        for thread in threads:
            thread.join(timeout=LOAD_SECONDS)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert before_kill > 1000, "too little load before the kill"
    assert len(acked) > before_kill, "no load after the restart"
    assert journals, "the killed server left no journal"
    assert process.returncode == 0, log.read_text()[-2000:]
    assert set(failures) <= {"ConnectError", "ReadError", "RemoteProtocolError"}, failures[:5]
    logged = EventLog(events).read_predictions("dur", as_="arrow")
    ids = pd.Series(logged.column("prediction_id").to_pylist())
    assert not ids.duplicated().any(), ids[ids.duplicated()].head().tolist()
    assert len(set(acked)) == len(acked)
    missing = set(acked) - set(ids)
    assert not missing, f"{len(missing)} acknowledged predictions are not in the log"
