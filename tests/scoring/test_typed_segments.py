"""Typed batch segments read together with journal rows and JSON segments, joined to outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from loopline.entities.eventlog import OutcomeRecord, PredictionRecord
from loopline.eventlog import EventLog, new_prediction_id, now_ms
from loopline.scoring.columns import Scored, new_ids
from loopline.scoring.eventlog import log_table, write_segment


def _typed(root: Path, ts: int, *, proba: bool) -> tuple[list[str], Path]:
    ids = new_ids(3, now_ms=ts)
    if proba:
        p = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
        scored = Scored(ids, np.array([0, 1, 0]), p, [0, 1], None, ts)
    else:
        scored = Scored(ids, np.array([1.5, 2.0, float("nan")]), None, None, None, ts)
    inputs = pa.table({"age": [41, 52, None], "city": ["a", None, "c"], "x": [0.5, np.nan, 1.0]})
    rows = log_table(scored, inputs, deployment="churn", model_name="m", model_version=2)
    path = write_segment(root, rows, deployment="churn", timestamp=ts)
    return ids.to_pylist(), path


@pytest.mark.parametrize("polars", [True, False])
def test_mixed_window_reads_one_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, polars: bool
) -> None:
    if not polars:
        monkeypatch.setattr("loopline.eventlog.typed._polars", lambda: None)
    log = EventLog(tmp_path)
    base = now_ms()
    # a sealed JSON segment (a closed writer) and a live journal row (an open writer)
    sealed = new_prediction_id()
    closed = log.writer("async")
    closed.append([PredictionRecord(sealed, "churn", "m", 1, base, {"age": 30}, {"score": 0.3})])
    closed.close()
    live = log.writer("async")
    journal_id = new_prediction_id()
    live.append(
        [PredictionRecord(journal_id, "churn", "m", 1, base + 1, {"age": 31}, {"score": 0.4})]
    )
    live.flush()
    typed_ids, path = _typed(tmp_path, base + 2, proba=True)
    regress_ids, _ = _typed(tmp_path, base + 3, proba=False)
    assert path.name.endswith("-typed.arrow")
    with pa.OSFile(str(path)) as segment:
        assert pa.types.is_struct(pa.ipc.open_file(segment).schema.field("inputs").type)
    log.log_outcomes(
        [OutcomeRecord(typed_ids[1], label=1, value=5.0), OutcomeRecord(sealed, label=0)]
    )

    table = log.read_predictions("churn")
    assert table.schema.field("inputs").type == pa.string()
    assert table.column("prediction_id").to_pylist() == [
        sealed,
        journal_id,
        *typed_ids,
        *regress_ids,
    ]
    inputs = [json.loads(v) for v in table.column("inputs").to_pylist()]
    assert inputs[2:5] == [
        {"age": 41, "city": "a", "x": 0.5},
        {"age": 52, "city": None, "x": None},
        {"age": None, "city": "c", "x": 1.0},
    ]
    outputs = [json.loads(v) for v in table.column("outputs").to_pylist()]
    assert outputs[3] == {"label": 1, "score": 0.8, "proba": {"0": 0.2, "1": 0.8}}
    assert outputs[5]["label"] == 1.5
    assert outputs[5]["proba"] is None
    assert table.column("decision").to_pylist()[2:] == [None] * 6
    assert table.column("variant").to_pylist()[2:] == ["batch"] * 6
    assert table.column("label_number").to_pylist()[:4] == [0.0, None, None, 1.0]
    assert table.column("value").to_pylist()[3] == 5.0

    open_ids = log.open_predictions("churn").column("prediction_id").to_pylist()
    assert open_ids == [journal_id, typed_ids[0], typed_ids[2], *regress_ids]
    window = log.read_predictions("churn", start=base + 2, end=base + 3, with_outcomes=False)
    assert window.column("prediction_id").to_pylist() == typed_ids
    live.close()
    log.close()


def test_typed_parquet_segments_of_earlier_versions_are_still_read(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    base = now_ms()
    new, arrow = _typed(tmp_path, base + 1, proba=True)
    old, _ = _typed(tmp_path, base, proba=True)
    (older,) = [p for p in arrow.parent.glob("part-*.arrow") if p != arrow]
    with pa.OSFile(str(older)) as source:
        table = pa.ipc.open_file(source).read_all()
    pq.write_table(table, older.with_name(older.name.replace("-typed.arrow", "-typed.parquet")))
    older.unlink()  # as an earlier version left it: a typed Parquet segment
    log = EventLog(tmp_path)
    window = log.read_predictions("churn", with_outcomes=False)
    assert window.column("prediction_id").to_pylist() == [*old, *new]
    inputs = [json.loads(v) for v in window.column("inputs").to_pylist()]
    assert (
        inputs[:3]
        == inputs[3:]
        == [
            {"age": 41, "city": "a", "x": 0.5},
            {"age": 52, "city": None, "x": None},
            {"age": None, "city": "c", "x": 1.0},
        ]
    )
    log.close()


def test_window_reads_do_not_open_chunk_segments_outside_the_window(tmp_path: Path) -> None:
    base = now_ms()
    early, first = _typed(tmp_path, base, proba=True)
    late, _ = _typed(tmp_path, base + 10, proba=True)
    first.write_bytes(b"not an Arrow file")  # only a read that opens it can fail on it
    log = EventLog(tmp_path)
    window = log.read_predictions("churn", start=base + 5, with_outcomes=False)
    assert window.column("prediction_id").to_pylist() == late
    with pytest.raises(pa.ArrowInvalid):
        log.read_predictions("churn", start=base, with_outcomes=False)  # it is in this window
    assert len(early) == 3
    log.close()
