"""Fixtures of the event log tests: a log in a temporary folder and a prediction factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loopline.entities.eventlog import PredictionRecord
from loopline.eventlog import EventLog, new_prediction_id

DAY = 86_400_000
T0 = 1_795_000_000_000  # 2026-11-18


def prediction(
    timestamp: int = T0, *, deployment: str = "churn", prediction_id: str | None = None, **kw: Any
) -> PredictionRecord:
    fields: dict[str, Any] = {
        "model_name": "churn",
        "model_version": 3,
        "inputs": {"age": 41, "plan": "gold"},
        "outputs": {"score": 0.83, "proba": [0.17, 0.83], "label": 1},
        "action": "review",
        "rule": "score >= 0.8",
        "decision": '{"action": "review"}',
        "policy_version": "p1",
        "latency_ms": 0.4,
    }
    fields.update(kw)
    return PredictionRecord(
        prediction_id=prediction_id or new_prediction_id(now_ms=timestamp),
        deployment=deployment,
        timestamp=timestamp,
        **fields,
    )


@pytest.fixture
def make_prediction() -> Callable[..., PredictionRecord]:
    return prediction


@pytest.fixture
def log(tmp_path: Path) -> Iterator[EventLog]:
    event_log = EventLog(tmp_path / "eventlog")
    yield event_log
    event_log.close()
