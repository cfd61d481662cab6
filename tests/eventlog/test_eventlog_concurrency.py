"""Many threads and several processes writing one root: every record exactly once."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from loopline.entities.eventlog import PredictionRecord
from loopline.eventlog import EventLog

CHILD = Path(__file__).with_name("eventlog_child.py")


@pytest.mark.parametrize("mode", ["durable", "async"])
def test_threads_each_record_once_and_group_commit(
    log: EventLog, make_prediction: Callable[..., PredictionRecord], mode: str
) -> None:
    writer = log.writer(mode)  # type: ignore[arg-type]
    batches = [[make_prediction() for _ in range(300)] for _ in range(8)]

    def run(records: list[PredictionRecord]) -> None:
        for record in records:
            writer.append([record])

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    stats = writer.stats()
    print(mode, stats)
    assert stats["written"] == stats["appended"] == 2400
    if mode == "durable":  # concurrent appenders shared fsyncs
        assert 0 < stats["fsyncs"] < 2400
    ids = Counter(log.read_predictions().column("prediction_id").to_pylist())
    assert set(ids) == {r.prediction_id for b in batches for r in b}
    assert set(ids.values()) == {1}


@pytest.mark.slow
def test_processes_share_a_root(tmp_path: Path) -> None:
    root = tmp_path / "eventlog"
    procs = [
        subprocess.Popen(
            [sys.executable, str(CHILD), str(root), mode, "200", "2"],
            stdout=subprocess.PIPE, text=True,
        )
        for mode in ("durable", "async", "durable")
    ]  # fmt: skip
    printed: list[str] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        printed += out.split()
    assert len(printed) == 3 * 2 * 200
    log = EventLog(root)
    assert not list(root.glob("_journal/*/*.jsonl"))  # every writer sealed on close
    ids = Counter(log.read_predictions().column("prediction_id").to_pylist())
    assert ids == Counter(printed)
    assert ids.most_common(1)[0][1] == 1
    assert log.read_predictions("fraud").num_rows == 6 * 67  # i % 3 == 0 of 200 per thread
