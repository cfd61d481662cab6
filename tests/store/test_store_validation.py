"""What neither database can store must be refused the same way on both, before it reaches them.

SQLite would store what PostgreSQL rejects with a raw driver error; loopline's checks refuse both.
"""

from __future__ import annotations

from typing import Any

import pytest

from loopline.errors import InvalidArgumentError
from loopline.tracking.service import TrackingService


@pytest.mark.parametrize("user_id", ["u" * 300, "a\x00b"], ids=["too-long", "nul"])
def test_invalid_user_id_is_refused(
    service: TrackingService, experiment_id: str, user_id: str
) -> None:
    with pytest.raises(InvalidArgumentError, match="user_id"):
        service.create_run(experiment_id, user_id=user_id)


@pytest.mark.parametrize("start_time", [2**63, -(2**63) - 1, "soon"])
def test_invalid_start_time_is_refused(
    service: TrackingService, experiment_id: str, start_time: Any
) -> None:
    with pytest.raises(InvalidArgumentError, match="start_time"):
        service.create_run(experiment_id, start_time=start_time)


@pytest.mark.parametrize("end_time", [2**63, "later"])
def test_invalid_end_time_is_refused(
    service: TrackingService, experiment_id: str, end_time: Any
) -> None:
    run_id = service.create_run(experiment_id).info.run_id
    with pytest.raises(InvalidArgumentError, match="end_time"):
        service.update_run(run_id, status="finished", end_time=end_time)


@pytest.mark.parametrize("what", ["param", "tag", "experiment tag"])
def test_nul_in_values_is_refused(service: TrackingService, experiment_id: str, what: str) -> None:
    run_id = service.create_run(experiment_id).info.run_id
    log = {
        "param": lambda: service.log_param(run_id, "p", "a\x00b"),
        "tag": lambda: service.set_tag(run_id, "t", "a\x00b"),
        "experiment tag": lambda: service.set_experiment_tag(experiment_id, "t", "a\x00b"),
    }[what]
    with pytest.raises(InvalidArgumentError):
        log()


def test_lone_surrogates_are_refused(service: TrackingService, experiment_id: str) -> None:
    run_id = service.create_run(experiment_id).info.run_id
    with pytest.raises(InvalidArgumentError):
        service.log_param(run_id, "p", "\ud800")
