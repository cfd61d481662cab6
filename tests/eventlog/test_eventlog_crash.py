"""Crashes: SIGKILL mid-stream, a torn journal line, a seal cut short: nothing lost or doubled."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from loopline.entities.eventlog import PredictionRecord
from loopline.eventlog import EventLog

CHILD = Path(__file__).with_name("eventlog_child.py")
Make = Callable[..., PredictionRecord]


def _ids(log: EventLog) -> Counter[str]:
    return Counter(log.read_predictions().column("prediction_id").to_pylist())


@pytest.mark.slow
def test_sigkill_mid_stream_loses_no_acknowledged_record(tmp_path: Path) -> None:
    root = tmp_path / "eventlog"
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(root), "durable", "0", "4", "--forever"],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 3000 or not list(root.glob("predictions/*/*/part-*.parquet")):
        assert time.monotonic() < deadline, "the child wrote too slowly"
        acknowledged.append(proc.stdout.readline().decode().strip())
    os.kill(proc.pid, signal.SIGKILL)
    rest = proc.stdout.read()
    proc.wait()
    lines = rest.split(b"\n")
    acknowledged += [line.decode() for line in lines[:-1]]  # the last one may be cut short
    assert proc.returncode == -signal.SIGKILL

    log = EventLog(root)
    before = _ids(log)  # readable before recovery too: journals are read with the segments
    log.recover()
    assert not list(root.glob("_journal/*/*.jsonl"))
    after = _ids(log)
    print(f"acknowledged {len(acknowledged)}, logged {sum(after.values())}")
    assert after == before
    assert max(after.values()) == 1, "a record was stored twice"
    missing = set(acknowledged) - set(after)
    assert not missing, f"{len(missing)} acknowledged records lost"


def _two_day_journal(
    log: EventLog, make_prediction: Make, tmp_path: Path
) -> tuple[Path, Path, list[str]]:
    """A sealed two-partition journal and a copy of it as it was before sealing."""
    records = [make_prediction(1_795_000_000_000 + d * 86_400_000) for d in (0, 0, 1)]
    writer = log.writer("durable")
    writer.append(records)
    (journal,) = log.root.glob("_journal/predictions/*.jsonl")
    copy = tmp_path / "journal.copy"
    shutil.copy(journal, copy)
    writer.close()
    return journal, copy, [r.prediction_id for r in records]


def test_journal_whose_segments_exist_is_deleted_not_replayed(
    log: EventLog, make_prediction: Make, tmp_path: Path
) -> None:
    journal, copy, ids = _two_day_journal(log, make_prediction, tmp_path)
    shutil.copy(copy, journal)  # a crash after the segments were renamed, before the unlink
    assert _ids(log) == Counter(ids)  # read once: the journal's segments are skipped
    log.recover()
    assert not journal.exists()
    assert _ids(log) == Counter(ids)


def test_seal_cut_between_partitions_is_completed(
    log: EventLog, make_prediction: Make, tmp_path: Path
) -> None:
    journal, copy, ids = _two_day_journal(log, make_prediction, tmp_path)
    (second,) = log.root.glob("predictions/*/date=2026-11-19/part-*.parquet")
    first_segment = next(log.root.glob("predictions/*/date=2026-11-18/part-*.parquet"))
    stamp = first_segment.stat().st_mtime_ns
    second.unlink()  # the crash came after the first partition's segment only
    shutil.copy(copy, journal)
    (second.parent / f".{second.name}.999999.dead.tmp").write_bytes(b"half a parquet")
    assert log.recover() == 1  # one row re-sealed, the existing segment left alone
    assert first_segment.stat().st_mtime_ns == stamp
    assert second.exists()
    assert not list(log.root.glob("predictions/**/.part-*.tmp"))  # the dead sealer's temporary
    assert _ids(log) == Counter(ids)


def test_torn_last_line_is_dropped(log: EventLog, make_prediction: Make, tmp_path: Path) -> None:
    journal, copy, ids = _two_day_journal(log, make_prediction, tmp_path)
    for segment in log.root.glob("predictions/*/*/part-*.parquet"):
        segment.unlink()
    torn = copy.read_bytes() + b'{"prediction_id":"01a2-torn","deployment":"ch'
    journal.write_bytes(torn)  # a crash in the middle of a write
    assert _ids(log) == Counter(ids)
    log.recover()
    assert _ids(log) == Counter(ids)
    assert not journal.exists()


def test_a_live_writers_journal_is_not_sealed_by_recovery(
    log: EventLog, make_prediction: Make
) -> None:
    writer = log.writer("durable")
    writer.append([make_prediction()])
    other = EventLog(log.root)
    assert other.recover() == 0  # the writer holds its journal's lock
    assert len(list(log.root.glob("_journal/predictions/*.jsonl"))) == 1
    writer.append([make_prediction()])
    writer.close()
    assert sum(_ids(other).values()) == 2


def test_an_unreadable_line_is_set_aside_not_blocking(
    log: EventLog, make_prediction: Make, tmp_path: Path
) -> None:
    journal, copy, ids = _two_day_journal(log, make_prediction, tmp_path)
    for segment in log.root.glob("predictions/*/*/part-*.parquet"):
        segment.unlink()
    first, rest = copy.read_bytes().split(b"\n", 1)
    bad = b'{"prediction_id":"x","model_version":"not a number"}\n'
    journal.write_bytes(first + b"\n" + bad + rest)  # say, written by hand or a foreign tool
    assert _ids(log) == Counter(ids)  # reads skip it
    log.recover()
    assert _ids(log) == Counter(ids)
    (aside,) = log.root.glob("_rejected/predictions/*.jsonl")
    assert aside.read_bytes() == bad
