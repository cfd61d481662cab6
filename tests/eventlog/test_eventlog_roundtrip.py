"""Round trips through journals and segments: modes, window reads, outcomes, bad input."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from loopline.entities.eventlog import OutcomeRecord, PredictionRecord
from loopline.errors import InvalidArgumentError, InvalidStateError, StorageError
from loopline.eventlog import EventLog, new_prediction_id

Make = Callable[..., PredictionRecord]
DAY = 86_400_000
T0 = 1_795_000_000_000  # 2026-11-18, as in conftest.py


def _files(root: Path, pattern: str) -> list[Path]:
    return sorted(root.glob(pattern))


def test_durable_append_is_on_disk_and_readable_before_sealing(
    log: EventLog, make_prediction: Make
) -> None:
    records = [make_prediction(T0 + i) for i in range(5)]
    writer = log.writer("durable")
    writer.append(records)
    (journal,) = _files(log.root, "_journal/predictions/*.jsonl")
    assert len(journal.read_bytes().splitlines()) == 5  # in the journal when append returned
    table = log.read_predictions("churn")  # the live journal is read too
    assert table.column("prediction_id").to_pylist() == [r.prediction_id for r in records]
    writer.close()
    assert not _files(log.root, "_journal/predictions/*.jsonl")
    (segment,) = _files(log.root, "predictions/deployment=churn/date=2026-11-18/part-*.parquet")
    assert segment.name == f"part-{journal.stem}.parquet"  # named after its journal
    assert log.read_predictions("churn").column("prediction_id").to_pylist() == [
        r.prediction_id for r in records
    ]


def test_every_field_round_trips(log: EventLog, make_prediction: Make) -> None:
    record = make_prediction(
        variant="shadow", queue="retention", control=True, request_key="cust-9",
        inputs={"age": np.int64(41), "income": float("nan"), "tags": ["a"]},
        outputs={"proba": np.array([0.25, 0.75]), "score": np.float32(0.75)},
        decision={"action": "review", "candidates": [1, 2]},
    )  # fmt: skip
    with log.writer("async") as writer:
        writer.append([record])
    (row,) = log.read_predictions(with_outcomes=False).to_pylist()
    assert row["timestamp"] == datetime.fromtimestamp(T0 / 1000, UTC)
    assert json.loads(row["inputs"]) == {"age": 41, "income": None, "tags": ["a"]}
    assert json.loads(row["outputs"]) == {"proba": [0.25, 0.75], "score": 0.75}
    assert json.loads(row["decision"]) == {"action": "review", "candidates": [1, 2]}
    expected = {"deployment": "churn", "model_name": "churn", "model_version": 3,
                "variant": "shadow", "action": "review", "rule": "score >= 0.8",
                "queue": "retention", "policy_version": "p1", "control": True,
                "latency_ms": 0.4, "request_key": "cust-9"}  # fmt: skip
    assert {k: row[k] for k in expected} == expected


def test_async_writes_within_the_flush_interval(log: EventLog, make_prediction: Make) -> None:
    writer = log.writer("async")
    writer.append([make_prediction()])
    deadline = datetime.now(UTC).timestamp() + 2
    while log.read_predictions().num_rows == 0:
        assert datetime.now(UTC).timestamp() < deadline, "async record not written within 2 s"
    writer.flush()
    assert writer.stats()["written"] == 1
    writer.close()
    with pytest.raises(InvalidStateError):
        writer.append([make_prediction()])


def test_off_mode_drops_and_counts(log: EventLog, make_prediction: Make) -> None:
    writer = log.writer("off")
    writer.append([make_prediction(), make_prediction()])
    writer.close()
    assert writer.stats()["dropped"] == 2
    assert log.read_predictions().num_rows == 0


def test_window_deployment_and_columns(log: EventLog, make_prediction: Make) -> None:
    with log.writer("durable") as writer:
        writer.append([make_prediction(T0 + d * DAY) for d in range(4)])
        writer.append([make_prediction(T0, deployment="fraud")])
    assert log.read_predictions().num_rows == 5
    window = log.read_predictions("churn", T0 + DAY, T0 + 3 * DAY)
    assert [t.day for t in window.column("timestamp").to_pylist()] == [19, 20]
    assert log.read_predictions("churn", start="2026-11-20").num_rows == 2
    assert log.read_predictions("fraud", end=datetime(2026, 11, 19)).num_rows == 1
    frame = log.read_predictions("churn", columns=["prediction_id", "label"], as_="pandas")
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["prediction_id", "label"]
    with pytest.raises(InvalidArgumentError, match="columns"):
        log.read_predictions(columns=["nope"])
    with pytest.raises(InvalidArgumentError, match="'start'"):
        log.read_predictions(start="yesterday")


def test_any_deployment_name_stays_in_its_folder(log: EventLog, make_prediction: Make) -> None:
    names = ["team/churn v2", "../up", "50%"]
    with log.writer("durable") as writer:
        writer.append([make_prediction(deployment=name) for name in names])
    folders = sorted(p.name for p in (log.root / "predictions").iterdir())
    assert folders == ["deployment=..%2Fup", "deployment=50%25", "deployment=team%2Fchurn%20v2"]
    for name in names:
        assert log.read_predictions(name).column("deployment").to_pylist() == [name]


def test_segments_are_a_hive_dataset(log: EventLog, make_prediction: Make) -> None:
    with log.writer("durable") as writer:
        writer.append([make_prediction(T0 + d * DAY) for d in range(3)])
    dataset = ds.dataset(log.root / "predictions", format="parquet", partitioning="hive")
    table = dataset.to_table(filter=ds.field("date") >= "2026-11-19")
    assert table.num_rows == 2
    assert set(table.column("deployment").to_pylist()) == {"churn"}


def test_outcomes_last_wins_history_kept(log: EventLog, make_prediction: Make) -> None:
    first, second, third = (make_prediction(T0 + i) for i in range(3))
    with log.writer("durable") as writer:
        writer.append([first, second, third])
    assert log.log_outcomes([OutcomeRecord(first.prediction_id, T0 + 10, label=0, value=1.0)]) == 1
    log.close()  # sealed: the later outcomes land in journals, the read merges both
    log.log_outcomes([
        {"prediction_id": first.prediction_id, "timestamp": T0 + 20, "label": 1, "accepted": True},
        {"prediction_id": first.prediction_id, "timestamp": T0 + 5, "label": 2},  # older: loses
        {"prediction_id": second.prediction_id, "timestamp": T0 + 30, "label": "churned"},
        {"prediction_id": second.prediction_id, "timestamp": T0 + 30, "label": "stayed"},  # tie
    ])  # fmt: skip
    rows = {r["prediction_id"]: r for r in log.read_predictions().to_pylist()}
    winner = rows[first.prediction_id]
    assert (winner["label"], winner["accepted"]) == ("1", True)
    assert rows[first.prediction_id]["label_number"] == 1.0
    assert rows[second.prediction_id]["label"] == '"stayed"'  # a tie goes to the later arrival
    assert rows[third.prediction_id]["outcome_timestamp"] is None
    history = log.outcome_history(first.prediction_id)
    assert [h.label for h in history] == [2, 0, 1]
    assert [h.timestamp for h in history] == [T0 + 5, T0 + 10, T0 + 20]
    open_ = log.open_predictions("churn")
    assert open_.column("prediction_id").to_pylist() == [third.prediction_id]
    assert log.read_outcomes().num_rows == 5


def test_outcomes_from_a_dataframe_and_arrow(log: EventLog, make_prediction: Make) -> None:
    records = [make_prediction(T0 + i) for i in range(3)]
    log.log_predictions(records)
    frame = pd.DataFrame({
        "prediction_id": [r.prediction_id for r in records],
        "label": [1, 0, np.nan],
        "value": [10.5, np.nan, 3.0],
        "accepted": [True, False, True],
        "timestamp": pd.to_datetime([T0 + 100] * 3, unit="ms"),
    })  # fmt: skip
    assert log.log_outcomes(frame) == 3
    rows = log.read_predictions().to_pylist()
    assert [r["label"] for r in rows] == ["1.0", "0.0", None]
    assert [r["value"] for r in rows] == [10.5, None, 3.0]
    assert rows[0]["outcome_timestamp"] == datetime.fromtimestamp((T0 + 100) / 1000, UTC)
    arrow = pa.Table.from_pylist([{"prediction_id": records[2].prediction_id, "label": 7}])
    assert log.log_outcomes(arrow) == 1
    assert log.read_predictions().to_pylist()[2]["label"] == "7"


def test_outcomes_of_unknown_or_foreign_ids_are_kept(log: EventLog) -> None:
    log.log_outcomes([OutcomeRecord("order-17", T0, label=1)])
    assert [h.label for h in log.outcome_history("order-17")] == [1]
    assert log.outcome_history(new_prediction_id()) == []


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"deployment": "churn"}, "prediction_id"),
        ({"prediction_id": 5}, "prediction_id"),
        ({"prediction_id": "p", "label": [1]}, "label"),
        ({"prediction_id": "p", "value": "high"}, "value"),
        ({"prediction_id": "p", "accepted": "yes"}, "accepted"),
        ({"prediction_id": "p", "timestamp": -1}, "timestamp"),
        ({"prediction_id": "p", "timestamp": "now"}, "timestamp"),
        ({"prediction_id": "p", "colour": "red"}, "record"),
        ({"prediction_id": "p\ud800"}, "prediction_id"),
        ({"prediction_id": "p", "source": "\udfff"}, "source"),
        ({"prediction_id": "p", "value": 10**400}, "value"),
        ({"prediction_id": "p", "label": 10**400}, "label"),
    ],
)
def test_bad_outcomes_name_field_and_index_and_write_nothing(
    log: EventLog, record: dict[str, object], field: str
) -> None:
    good = {"prediction_id": "ok", "label": 1}
    with pytest.raises(InvalidArgumentError, match=f"Outcome 1: '{field}'") as info:
        log.log_outcomes([good, record])
    assert info.value.details == {"field": field, "index": 1}
    assert log.read_outcomes().num_rows == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"inputs": {"when": datetime.now()}}, "inputs"),
        ({"outputs": {"obj": object()}}, "outputs"),
        ({"inputs": ["not", "a", "mapping"]}, "inputs"),
        ({"model_version": "3"}, "model_version"),
        ({"variant": "blue"}, "variant"),
        ({"deployment": "churn\n"}, "deployment"),
        ({"control": 1}, "control"),
        ({"timestamp": 1.5}, "timestamp"),
        ({"latency_ms": "fast"}, "latency_ms"),
        ({"decision": {"x": {1, 2}}}, "decision"),
        ({"decision": "\ud800"}, "decision"),
        ({"action": "review\udfff"}, "action"),
        ({"model_version": 1 << 63}, "model_version"),
        ({"latency_ms": 10**400}, "latency_ms"),
    ],
)
def test_bad_predictions_name_field_and_index_and_write_nothing(
    log: EventLog, make_prediction: Make, change: dict[str, object], field: str
) -> None:
    bad = make_prediction(**{"prediction_id": "bad-1", **change})
    writer = log.writer("durable")
    with pytest.raises(InvalidArgumentError, match=f"Prediction 2: '{field}'") as info:
        writer.append([make_prediction(), make_prediction(), bad])
    assert info.value.details == {"field": field, "index": 2}
    writer.close()
    assert log.read_predictions().num_rows == 0


def test_text_beyond_ascii_round_trips(log: EventLog, make_prediction: Make) -> None:
    record = make_prediction(
        deployment="仮説", action="prüfen", inputs={"name": "Zoë \ud800"}, request_key="🔑"
    )
    log.log_predictions([record])
    log.log_outcomes([OutcomeRecord(record.prediction_id, label="ja ✓", source="crm-é")])
    (row,) = log.read_predictions("仮説").to_pylist()
    assert (row["action"], row["request_key"], row["outcome_source"]) == ("prüfen", "🔑", "crm-é")
    assert json.loads(row["inputs"]) == {"name": "Zoë \ud800"}  # escaped inside the JSON text
    assert json.loads(row["label"]) == "ja ✓"


def test_non_finite_values_are_strict_json(log: EventLog, make_prediction: Make) -> None:
    log.log_predictions([make_prediction(inputs={"x": math.inf}, outputs={"s": [math.nan]})])
    (row,) = log.read_predictions().to_pylist()
    assert (row["inputs"], row["outputs"]) == ('{"x":null}', '{"s":[null]}')


def test_a_full_async_queue_blocks_and_counts_never_drops(
    tmp_path: Path, make_prediction: Make
) -> None:
    log = EventLog(tmp_path / "small", max_queue=5)
    writer = log.writer("async")
    records = [make_prediction(T0 + i) for i in range(200)]
    for record in records:
        writer.append([record])
    writer.close()
    stats = writer.stats()
    assert stats["stalls"] > 0
    assert stats["written"] == stats["appended"] == 200
    assert log.read_predictions().num_rows == 200


def test_a_failed_durable_write_raises_and_is_counted(log: EventLog, make_prediction: Make) -> None:
    (log.root / "_journal").mkdir(parents=True)
    (log.root / "_journal" / "predictions").write_text("a file where the folder should be")
    writer = log.writer("durable")
    with pytest.raises(StorageError, match="could not store"):
        writer.append([make_prediction()])
    assert writer.stats()["failed"] == 1
    writer.append_outcomes([OutcomeRecord("p", label=1)])  # the other table still works
    writer.close()
    assert log.read_outcomes().num_rows == 1
