"""Compaction: real segments (JSON, typed IPC, typed Parquet) merged; reads unchanged throughout."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from loopline.cli.main import app
from loopline.entities.eventlog import OutcomeRecord, PredictionRecord
from loopline.errors import ConflictError, InvalidArgumentError
from loopline.eventlog import EventLog, journal, new_prediction_id, reader
from loopline.eventlog.compact import (
    SOURCES_KEY,
    is_compacted,
    parse_older_than,
    plan_partition,
    remove_sources,
    write_compacted,
)
from loopline.scoring.columns import Scored, new_ids
from loopline.scoring.eventlog import log_table, write_segment

DAY = 86_400_000
T0 = 1_795_000_000_000  # 2026-11-18


def prediction(timestamp: int, *, deployment: str = "churn") -> PredictionRecord:
    return PredictionRecord(
        new_prediction_id(now_ms=timestamp), deployment, "churn", 3, timestamp,
        {"age": 41, "plan": "gold"}, {"score": 0.83, "label": 1}, action="review",
        rule="score >= 0.8", decision='{"action": "review"}', latency_ms=0.4,
    )  # fmt: skip


def _typed(root: Path, ts: int, deployment: str, inputs: dict[str, list[Any]], *, version: int,
           parquet: bool = False) -> list[str]:  # fmt: skip
    """One bulk-scoring chunk as a typed segment (IPC, or the older typed Parquet)."""
    n = len(next(iter(inputs.values())))
    ids = new_ids(n, now_ms=ts)
    proba = np.linspace(0.1, 0.9, n)
    scored = Scored(ids, (proba > 0.5).astype(int), np.c_[1 - proba, proba], [0, 1], None, ts)
    rows = log_table(scored, pa.table(inputs), deployment=deployment, model_name="m",
                     model_version=version)  # fmt: skip
    path = write_segment(root, rows, deployment=deployment, timestamp=ts)
    if parquet:
        with pa.OSFile(str(path)) as source:
            data = pa.ipc.open_file(source).read_all()
        pq.write_table(data, path.with_name(path.name[: -len(".arrow")] + ".parquet"))
        path.unlink()
    return list(ids.to_pylist())


def _sealed(log: EventLog, records: list[Any], *, outcomes: bool = False) -> None:
    """One writer, closed: one sealed JSON segment per partition its records fall in."""
    with log.writer("durable") as writer:
        if outcomes:
            writer.append_outcomes(records)
        else:
            writer.append(records)


def _populate(log: EventLog) -> list[str]:
    """Two deployments over two days: JSON, typed IPC (two schemas) and typed Parquet segments."""
    ids: list[str] = []
    for day in (0, 1):
        for k in range(3):
            batch = [prediction(T0 + day * DAY + k * 10 + i) for i in range(3)]
            batch.append(prediction(T0 + day * DAY + k * 10 + 5, deployment="team/fraud"))
            _sealed(log, batch)
            ids += [p.prediction_id for p in batch]
        root = log.root
        ts = T0 + day * DAY + 100
        ids += _typed(
            root, ts, "churn", {"age": [41, 52, None], "city": ["a", None, "c"]}, version=3
        )
        ids += _typed(
            root, ts + 1, "churn", {"age": [30, 31, 32], "city": ["x", "y", "z"]}, version=3
        )
        ids += _typed(root, ts + 2, "churn", {"tenure": [1.5, float("nan")]}, version=4)
        ids += _typed(root, ts + 3, "churn", {"age": [7, 8, 9], "city": ["q", "r", "s"]}, version=3,
                      parquet=True)  # fmt: skip
    # outcomes: several writers, one id with a history of two, some ids left open
    _sealed(log, [OutcomeRecord(pid, timestamp=T0 + 5000, label=1, value=1.0) for pid in ids[:6]],
            outcomes=True)  # fmt: skip
    _sealed(log, [OutcomeRecord(ids[0], timestamp=T0 + 9000, label=0, value=2.0)], outcomes=True)
    _sealed(log, [OutcomeRecord(pid, timestamp=T0 + 7000, label="x") for pid in ids[20:25]],
            outcomes=True)  # fmt: skip
    return ids


def _snapshot(log: EventLog) -> dict[str, Any]:
    def by_id(table: Any) -> list[dict[str, Any]]:
        return sorted(table.to_pylist(), key=lambda r: r["prediction_id"])

    outcomes = log.read_outcomes().to_pylist()
    return {
        "predictions": by_id(log.read_predictions()),
        "churn window": by_id(log.read_predictions("churn", T0 + DAY, T0 + 2 * DAY)),
        "open": by_id(log.open_predictions()),
        "outcomes": sorted(outcomes, key=lambda r: (r["prediction_id"], r["timestamp"])),
    }


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("[po]*/**/part-*") if p.is_file())


def test_compaction_keeps_every_read(log: EventLog) -> None:
    ids = _populate(log)
    before = _snapshot(log)
    files = _files(log.root)
    assert len(before["predictions"]) == len(ids) == len(set(ids))
    assert any(p.name.endswith("-typed.parquet") for p in files)

    summary = log.compact(older_than=0)

    assert _snapshot(log) == before
    after = _files(log.root)
    assert summary.merged + len(after) - summary.written == len(files)
    assert (len(files), len(after)) == (24, 10)  # per day: 2 JSON, 2 typed; 2 of outcomes
    assert not [p for p in after if p.suffix == ".arrow"]  # IPC made Parquet
    churn_day0 = sorted(p.name for p in after if "deployment=churn/date=2026-11-18" in str(p))
    assert len(churn_day0) == 3  # JSON, typed v3 (IPC and Parquet together), typed v4
    for path in after:
        data = pq.read_table(path, partitioning=None)
        assert data.column("timestamp").to_pylist() == sorted(data.column("timestamp").to_pylist())
        if not is_compacted(path.name):  # the one segment of its partition: left as it is
            assert path.parent.name == "date=2026-11-19"
            continue
        sources = json.loads(pq.read_metadata(path).metadata[SOURCES_KEY])
        assert sources
        assert not [s for s in sources if (path.parent / s).exists()]
        if path.name.endswith("-typed.parquet"):
            assert pa.types.is_struct(data.schema.field("inputs").type)
    assert [o.label for o in log.outcome_history(ids[0])] == [1, 0]  # history kept
    assert str(summary).startswith(f"Compacted {summary.merged} segments into ")

    again = log.compact(older_than=0)  # nothing left to merge: a no-op
    assert (again.merged, again.written) == (0, 0)
    assert _snapshot(log) == before


def test_target_rows_and_age(log: EventLog) -> None:
    for k in range(6):
        _sealed(log, [prediction(T0 + k * 10 + i) for i in range(3)])
    before = _snapshot(log)
    assert log.compact().merged == 0  # default: an hour old; these are seconds old
    assert log.compact(older_than=timedelta(hours=1)).merged == 0
    old = time.time() - 7200
    for path in _files(log.root):
        os.utime(path, (old, old))
    summary = log.compact(table="predictions", target_rows=8)
    assert (summary.merged, summary.written, summary.rows) == (6, 3, 18)  # 2 segments a file
    assert log.compact(table="predictions", target_rows=8, older_than=0).merged == 0  # >= half
    summary = log.compact(older_than=0, target_rows=100)  # the compacted files merge again
    assert (summary.merged, summary.written) == (3, 1)
    assert _snapshot(log) == before


def test_a_segment_whose_journal_exists_is_left_alone(log: EventLog) -> None:
    _sealed(log, [prediction(T0)])
    live = log.writer("durable")
    live.append([prediction(T0 + 1), prediction(T0 + 2)])
    journal = next((log.root / "_journal" / "predictions").glob("*.jsonl"))
    kept = journal.with_suffix(".keep")
    shutil.copy(journal, kept)
    live.close()  # sealed: segment written, journal deleted ...
    shutil.move(kept, journal)  # ... and back, as if the sealer died before deleting it
    before = _snapshot(log)
    assert len(before["predictions"]) == 3
    assert log.compact(older_than=0).merged == 0  # the journal's segment is not a candidate
    assert _snapshot(log) == before
    log.recover()  # the segment exists: the journal is deleted, not replayed
    assert log.compact(older_than=0).merged == 2
    assert _snapshot(log) == before


def test_crash_after_rename_reads_each_row_once(log: EventLog) -> None:
    _populate(log)
    before = _snapshot(log)
    files = _files(log.root)
    folders = sorted({p.parent for p in files})
    written, sources = [], []
    for folder in folders:  # every merged file renamed into place, no source deleted
        table = "outcomes" if "outcomes" in folder.parts else "predictions"
        for pack in plan_partition(log.root, table, folder, cutoff=time.time(), target_rows=10**6):
            written.append(write_compacted(folder, table, pack)[0])
            sources += [s.path for s in pack]
    (folders[0] / ".part-compact-1-2-3.parquet.999999.ab.tmp").write_bytes(b"torn")  # earlier
    assert _files(log.root) == sorted([*files, *written])
    assert _snapshot(log) == before  # the sources are skipped, the merged files read

    summary = log.compact(older_than=0)
    assert (summary.merged, summary.leftovers) == (0, len(sources))
    assert _files(log.root) == sorted(set(files).difference(sources).union(written))
    assert not list(log.root.glob("**/.part-compact-*.tmp"))
    assert _snapshot(log) == before
    for path in _files(log.root):
        sources = json.loads((pq.read_metadata(path).metadata or {}).get(SOURCES_KEY, b"[]"))
        assert not [s for s in sources if (path.parent / s).exists()]


def test_reads_during_compaction_never_see_duplicates_or_gaps(log: EventLog) -> None:
    ids = _populate(log)
    for k in range(8):  # more small segments, so compaction has more to race with
        _sealed(log, [prediction(T0 + 1000 + k * 10 + i) for i in range(2)])
    expected = Counter(r["prediction_id"] for r in log.read_predictions().to_pylist())
    outcomes = log.read_outcomes().num_rows
    assert len(expected) > len(ids)
    stop = threading.Event()
    problems: list[str] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            try:
                got = Counter(log.read_predictions().column("prediction_id").to_pylist())
                n = log.read_outcomes().num_rows
                opened = log.open_predictions("churn").num_rows
            except Exception as err:  # any failure is the finding
                problems.append(repr(err))
                return
            if got != expected or n != outcomes or opened == 0:
                problems.append(f"read {sum(got.values())} rows, {n} outcomes")
            reads[0] += 1

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for target in (4, 9, 40, 10**6):  # small files first, then they merge again
            for folder in sorted({p.parent for p in _files(log.root)}):
                table = "outcomes" if "outcomes" in folder.parts else "predictions"
                for pack in plan_partition(log.root, table, folder, cutoff=time.time(),
                                           target_rows=target):  # fmt: skip
                    write_compacted(folder, table, pack)
                    time.sleep(0.005)  # a reader may list between rename and deletion
                    remove_sources(folder, [s.path for s in pack])
            log.compact(older_than=0, target_rows=target)
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert problems == []
    assert reads[0] > 3


def test_a_journal_sealed_and_compacted_during_a_read_counts_once(
    log: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sealed(log, [prediction(T0)])
    live = log.writer("durable")
    live.append([prediction(T0 + 1), prediction(T0 + 2)])
    read = journal.read_complete
    fired: list[bool] = []

    def then_seal_and_compact(path: Path) -> bytes:
        data = read(path)  # the read has the journal's rows; now it is sealed and compacted
        if not fired:
            fired.append(True)
            live.close()
            assert log.compact(older_than=0).merged == 2
        return data

    monkeypatch.setattr(reader, "read_complete", then_seal_and_compact)
    table = log.read_predictions()
    assert fired
    assert table.num_rows == len(set(table.column("prediction_id").to_pylist())) == 3


def test_a_listing_torn_by_a_compaction_is_taken_again(
    log: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _typed(log.root, T0, "churn", {"age": [1, 2]}, version=1)
    ids += _typed(log.root, T0 + 1, "churn", {"age": [3, 4]}, version=1)
    listing = reader._segments
    fired: list[bool] = []

    def torn(base: Path, table: str, bounds: Any) -> list[Path]:
        found = listing(base, table, bounds)
        if fired or table != "predictions":
            return found
        fired.append(True)  # the .parquet glob ran before the rename, the .arrow one after
        assert log.compact(older_than=0).merged == 2
        return [p for p in found if p.suffix != ".arrow"]

    monkeypatch.setattr(reader, "_segments", torn)
    table = log.read_predictions()
    assert fired
    assert sorted(table.column("prediction_id").to_pylist()) == sorted(ids)


def test_compaction_refuses_bad_arguments_and_a_second_run(log: EventLog) -> None:
    with pytest.raises(InvalidArgumentError, match="'table' parameter of compact"):
        log.compact("labels")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="'older_than' parameter"):
        log.compact(older_than="soon")
    with pytest.raises(InvalidArgumentError, match="'older_than' parameter"):
        log.compact(older_than=-1)
    with pytest.raises(InvalidArgumentError, match="'target_rows' parameter"):
        log.compact(target_rows=0)
    assert [parse_older_than(v) for v in ("250ms", "90s", "1.5h", "2d", "1w", "0", 5)] == [
        250, 90_000, 5_400_000, 172_800_000, 604_800_000, 0, 5,
    ]  # fmt: skip
    _sealed(log, [prediction(T0)])
    fd = os.open(log.root / "_compact.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(ConflictError, match="Another compaction"):
            log.compact(older_than=0)
    finally:
        os.close(fd)
    assert EventLog(log.root / "nowhere").compact().merged == 0


def test_cli_compacts_and_refuses_bad_input(log: EventLog, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LOOPLINE_"):
            monkeypatch.delenv(name)
    for k in range(3):
        _sealed(log, [prediction(T0 + k)])
    before = _snapshot(log)
    runner = CliRunner()
    root = str(log.root)
    result = runner.invoke(app, ["eventlog", "compact", "--root", root, "--older-than", "0s",
                                 "--table", "predictions"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Compacted 3 segments into 1 file (3 rows) in 1 partition;")
    assert _snapshot(log) == before
    result = runner.invoke(app, ["eventlog", "compact", "--root", root, "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["merged"] == 0
    monkeypatch.setenv("LOOPLINE_EVENTLOG_ROOT", root)  # the settings' folder without --root
    assert runner.invoke(app, ["eventlog", "compact", "--older-than", "0"]).exit_code == 0
    for args, message in [
        (["--older-than", "soon"], "'older_than' parameter of compact"),
        (["--table", "labels"], "'table' parameter of compact"),
        (["--target-rows", "0"], "'target_rows' parameter of compact"),
        (["--root", str(log.root / "missing")], "event log folder must exist"),
    ]:
        result = runner.invoke(app, ["eventlog", "compact", *args])
        assert result.exit_code == 1, args
        assert result.stderr.startswith("error: ")
        assert message in result.stderr
    monkeypatch.delenv("LOOPLINE_EVENTLOG_ROOT")
    result = runner.invoke(app, ["eventlog", "compact", "--uri", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "--root" in result.stderr
