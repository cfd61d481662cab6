"""A window of 1,000,000 predictions joined to its outcomes: the time is printed, not asserted."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopline.eventlog import EventLog
from loopline.eventlog.schema import stored

N = 1_000_000
T0 = 1_795_000_000_000  # 2026-11-18


def _segment(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _predictions(start: int, n: int, offset: int) -> pa.Table:
    schema = stored("predictions").remove(1)  # no deployment: it is in the folder name
    ts = T0 + offset * 86_400_000 + np.arange(n, dtype=np.int64) * 80
    columns = {
        "prediction_id": pa.array([f"p{start + i:09d}" for i in range(n)]),
        "model_name": pa.array(["churn"] * n),
        "model_version": pa.array(np.full(n, 3)),
        "variant": pa.array(["champion"] * n),
        "timestamp": pa.array(ts).cast(pa.timestamp("ms", tz="UTC")),
        "inputs": pa.array(['{"age":41,"plan":"gold"}'] * n),
        "outputs": pa.array(['{"score":0.8}'] * n),
        "action": pa.array(["review"] * n),
        "control": pa.array(np.zeros(n, dtype=bool)),
        "latency_ms": pa.array(np.full(n, 0.3)),
    }
    return pa.table({f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in schema})


@pytest.mark.slow
def test_million_row_window_join(tmp_path: Path) -> None:
    root = tmp_path / "eventlog"
    half = N // 2
    for day in (0, 1):
        path = root / f"predictions/deployment=churn/date=2026-11-{18 + day}/part-0-{day}.parquet"
        _segment(path, _predictions(day * half, half, day))
    rng = np.random.default_rng(0)
    picked = rng.choice(N, size=600_000, replace=False)
    picked = np.concatenate([picked, picked[:100_000]])  # 100,000 predictions get two outcomes
    ts = T0 + 2 * 86_400_000 + np.arange(len(picked), dtype=np.int64)
    outcomes = pa.table({
        "prediction_id": pa.array([f"p{i:09d}" for i in picked]),
        "timestamp": pa.array(ts).cast(pa.timestamp("ms", tz="UTC")),
        "label": pa.array(np.where(picked % 2 == 0, "1", "0")),
        "label_number": pa.array((picked % 2 == 0).astype(float)),
        "value": pa.array(rng.random(len(picked))),
        "accepted": pa.array(np.ones(len(picked), dtype=bool)),
        "source": pa.nulls(len(picked), pa.string()),
        "received_at": pa.array(np.arange(len(picked), dtype=np.int64)),
    })  # fmt: skip
    _segment(root / "outcomes/date=2026-11-20/part-0.parquet", outcomes)

    log = EventLog(root)
    began = time.perf_counter()
    table = log.read_predictions("churn", T0, T0 + 2 * 86_400_000)
    elapsed = time.perf_counter() - began
    print(f"\n1,000,000-row window joined to 700,000 outcomes in {elapsed:.2f} s")
    assert table.num_rows == N
    assert table.column("outcome_timestamp").null_count == N - 600_000
    began = time.perf_counter()
    assert log.open_predictions("churn").num_rows == N - 600_000
    print(f"open predictions of 1,000,000 in {time.perf_counter() - began:.2f} s")
    twice = table.filter(pa.compute.equal(table.column("prediction_id"), f"p{picked[0]:09d}"))
    assert twice.column("outcome_timestamp")[0].value == ts[600_000]  # the later of two
