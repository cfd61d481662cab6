"""Metric series through the fluent SDK, locally and against a server."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from typing import Any

import pytest

import loopline
from loopline.errors import InvalidArgumentError, NotFoundError


def test_log_metric_with_steps_and_timestamps(experiment: Any, client: loopline.Client) -> None:
    logged = [(0.9, 0, 1_700_000_000_000), (0.7, 1, 1_700_000_000_500), (0.4, 2, 1_700_000_001_000)]
    with loopline.start_run() as run:
        for value, step, timestamp in logged:
            loopline.log_metric("loss", value, step=step, timestamp=timestamp)

    history = client.get_metric_history(run.id, "loss")
    assert [(m.key, m.value, m.step, m.timestamp) for m in history] == [
        ("loss", v, s, t) for v, s, t in logged
    ]
    assert client.get_run(run.id).data.metrics == {"loss": logged[-1][0]}


def test_log_metric_defaults_step_zero_and_now(experiment: Any, client: loopline.Client) -> None:
    before = int(time.time() * 1000)
    with loopline.start_run() as run:
        loopline.log_metric("acc", 1)
    after = int(time.time() * 1000)

    (metric,) = client.get_metric_history(run.id, "acc")
    assert metric.step == 0
    assert before <= metric.timestamp <= after
    assert metric.value == 1.0
    assert isinstance(metric.value, float)


def test_latest_metric_is_the_highest_step(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        loopline.log_metric("auc", 0.8, step=5)
        loopline.log_metric("auc", 0.6, step=1)  # logged later, but an earlier step

    assert client.get_run(run.id).data.metrics["auc"] == 0.8
    assert [m.step for m in client.get_metric_history(run.id, "auc")] == [1, 5]


def test_log_metrics_share_step_and_timestamp(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        loopline.log_metrics({"precision": 0.5, "recall": 0.25}, step=3)

    precision = client.get_metric_history(run.id, "precision")
    recall = client.get_metric_history(run.id, "recall")
    assert [(m.value, m.step) for m in precision] == [(0.5, 3)]
    assert [(m.value, m.step) for m in recall] == [(0.25, 3)]
    assert precision[0].timestamp == recall[0].timestamp
    assert client.get_run(run.id).data.metrics == {"precision": 0.5, "recall": 0.25}


def test_huge_step_numbers_round_trip(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        loopline.log_metric("m", 1.0, step=2**63 - 1)
        loopline.log_metric("m", 2.0, step=-(2**63))

    assert [m.step for m in client.get_metric_history(run.id, "m")] == [-(2**63), 2**63 - 1]


@pytest.mark.parametrize("step", [2**63, -(2**63) - 1, 1.5, "3", math.nan])
def test_bad_step_is_invalid_argument(experiment: Any, step: Any) -> None:
    with loopline.start_run(), pytest.raises(InvalidArgumentError, match="step"):
        loopline.log_metric("m", 1.0, step=step)


@pytest.mark.parametrize("value", ["0.5", None, True, b"1", [1.0]])
def test_non_number_metric_value_is_invalid_argument(experiment: Any, value: Any) -> None:
    with loopline.start_run(), pytest.raises(InvalidArgumentError, match="value"):
        loopline.log_metric("m", value)


def test_nan_and_infinities_are_kept_as_values(experiment: Any, client: loopline.Client) -> None:
    values = [math.nan, math.inf, -math.inf, 1.5]
    with loopline.start_run() as run:
        for step, value in enumerate(values):
            loopline.log_metric("series", value, step=step)
        loopline.log_metrics({"last_nan": math.nan, "last_inf": math.inf, "last_ninf": -math.inf})

    history = [m.value for m in client.get_metric_history(run.id, "series")]
    assert math.isnan(history[0])
    assert history[1:] == values[1:]
    metrics = client.get_run(run.id).data.metrics
    assert math.isnan(metrics["last_nan"])
    assert metrics["last_inf"] == math.inf
    assert metrics["last_ninf"] == -math.inf
    assert metrics["series"] == 1.5


def test_metric_history_of_unknown_run_is_not_found(client: loopline.Client) -> None:
    with pytest.raises(NotFoundError):
        client.get_metric_history("0" * 32, "loss")


def test_metric_history_of_unlogged_key_is_empty(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        pass

    assert client.get_metric_history(run.id, "never") == []


def test_many_values_are_all_stored(experiment: Any, client: loopline.Client) -> None:
    with loopline.start_run() as run:
        for step in range(3000):
            loopline.log_metric("curve", step / 10, step=step)

    history = client.get_metric_history(run.id, "curve")
    assert [m.step for m in history] == list(range(3000))
    assert [m.value for m in history] == [s / 10 for s in range(3000)]


_READER = """
import json, math, sys
import loopline
run = loopline.Client().get_run(sys.argv[1])
history = loopline.Client().get_metric_history(sys.argv[1], "loss")
print(json.dumps({
    "status": run.info.status.value,
    "steps": [m.step for m in history],
    "values": [repr(m.value) for m in history],
}))
"""


def test_everything_is_visible_to_another_process_when_the_block_ends(
    experiment: Any, uri: str
) -> None:
    values = [1.0 / (step + 1) for step in range(500)] + [math.nan, math.inf]
    with loopline.start_run() as run:
        for step, value in enumerate(values):
            loopline.log_metric("loss", value, step=step)

    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPLINE_")}
    env["LOOPLINE_URI"] = uri
    done = subprocess.run(
        [sys.executable, "-c", _READER, run.id],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["status"] == "finished"
    assert seen["steps"] == list(range(len(values)))
    assert seen["values"] == [repr(v) for v in values]
