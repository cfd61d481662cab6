"""Params (immutable), tags (upserted) and metric series (ordered, NaN and infinities kept)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopline.entities import Metric
from loopline.errors import ConflictError, InvalidArgumentError, NotFoundError
from loopline.tracking.service import TrackingService


@pytest.fixture
def run_id(service: TrackingService, experiment_id: str) -> str:
    return service.create_run(experiment_id).info.run_id


# -- params -------------------------------------------------------------------------------------


def test_params_are_stored_as_strings(service: TrackingService, run_id: str) -> None:
    service.log_param(run_id, "alpha", 0.5)
    service.log_batch(run_id, params={"depth": 3, "name": "forêt ✓", "none": None})
    params = service.get_run(run_id).data.params
    assert params == {"alpha": "0.5", "depth": "3", "name": "forêt ✓", "none": "None"}


def test_relogging_the_same_value_is_a_noop(service: TrackingService, run_id: str) -> None:
    service.log_param(run_id, "alpha", 0.5)
    service.log_param(run_id, "alpha", "0.5")
    service.log_batch(run_id, params={"alpha": 0.5, "beta": 1})
    assert service.get_run(run_id).data.params == {"alpha": "0.5", "beta": "1"}


def test_changing_a_param_is_a_conflict(service: TrackingService, run_id: str) -> None:
    service.log_param(run_id, "alpha", 0.5)
    with pytest.raises(ConflictError, match="alpha") as caught:
        service.log_param(run_id, "alpha", 0.6)
    assert caught.value.details["old_value"] == "0.5"
    assert caught.value.details["new_value"] == "0.6"
    assert service.get_run(run_id).data.params == {"alpha": "0.5"}


def test_nothing_of_a_conflicting_batch_is_written(service: TrackingService, run_id: str) -> None:
    service.log_batch(run_id, params={"alpha": "1"}, tags={"t": "old"})
    with pytest.raises(ConflictError):
        service.log_batch(
            run_id,
            params={"fresh": "x", "alpha": "2", "other": "y"},
            tags={"t": "new", "u": "1"},
            metrics=[("m", 1.0, 1, 0)],
        )
    data = service.get_run(run_id).data
    assert data.params == {"alpha": "1"}
    assert data.tags == {"t": "old"}
    assert data.metrics == {}
    assert service.get_metric_history(run_id, "m") == []


def test_large_param_batches(service: TrackingService, run_id: str) -> None:
    """More keys than one SQL IN list holds (500): read back, compared and written in chunks."""
    params = {f"p{i:04d}": i for i in range(1_203)}
    service.log_batch(run_id, params=params)
    service.log_batch(run_id, params=params)  # every key already stored: a no-op
    with pytest.raises(ConflictError, match="p1100"):
        service.log_batch(run_id, params={**params, "p1100": "changed", "new": 1})
    stored = service.get_run(run_id).data.params
    assert stored == {k: str(v) for k, v in params.items()}


def test_param_value_length(service: TrackingService, run_id: str) -> None:
    service.log_param(run_id, "long", "x" * 6000)
    assert service.get_run(run_id).data.params["long"] == "x" * 6000
    with pytest.raises(InvalidArgumentError):
        service.log_param(run_id, "longer", "x" * 6001)


def test_params_are_per_run(service: TrackingService, experiment_id: str, run_id: str) -> None:
    other = service.create_run(experiment_id).info.run_id
    service.log_param(run_id, "alpha", 1)
    service.log_param(other, "alpha", 2)
    assert service.get_run(run_id).data.params == {"alpha": "1"}
    assert service.get_run(other).data.params == {"alpha": "2"}


@pytest.mark.parametrize("key", ["", "a" * 251, "bad!key", "../up", "/abs", 7])
def test_invalid_keys(service: TrackingService, run_id: str, key: object) -> None:
    with pytest.raises(InvalidArgumentError):
        service.log_param(run_id, key, 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        service.log_metric(run_id, key, 1.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        service.set_tag(run_id, key, 1)  # type: ignore[arg-type]


def test_logging_to_an_unknown_run(service: TrackingService, experiment_id: str) -> None:
    with pytest.raises(NotFoundError):
        service.log_param("0" * 32, "a", 1)
    with pytest.raises(NotFoundError):
        service.log_metric("0" * 32, "a", 1.0)
    with pytest.raises(NotFoundError):
        service.get_metric_history("0" * 32, "a")


# -- tags ---------------------------------------------------------------------------------------


def test_tags_upsert_and_delete(service: TrackingService, experiment_id: str) -> None:
    run_id = service.create_run(experiment_id, tags={"a": "1", "b": "2"}).info.run_id
    service.set_tag(run_id, "a", "changed")
    service.log_batch(run_id, tags={"b": 3, "c": "new"})
    assert service.get_run(run_id).data.tags == {"a": "changed", "b": "3", "c": "new"}
    service.delete_tag(run_id, "b")
    assert service.get_run(run_id).data.tags == {"a": "changed", "c": "new"}
    with pytest.raises(NotFoundError):
        service.delete_tag(run_id, "b")
    service.set_tag(run_id, "b", "back")
    assert service.get_run(run_id).data.tags["b"] == "back"


def test_long_tag_values(service: TrackingService, run_id: str) -> None:
    service.set_tag(run_id, "note", "n" * 8000)
    assert service.get_run(run_id).data.tags["note"] == "n" * 8000
    with pytest.raises(InvalidArgumentError):
        service.set_tag(run_id, "note", "n" * 8001)


# -- metrics ------------------------------------------------------------------------------------


def test_history_is_ordered_by_step_then_timestamp(service: TrackingService, run_id: str) -> None:
    points = [(3, 10, 0.3), (1, 20, 0.12), (1, 10, 0.11), (-2, 99, -0.2), (2, 5, 0.2)]
    for step, timestamp, value in points:
        service.log_metric(run_id, "loss", value, step=step, timestamp=timestamp)
    history = service.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in history] == sorted(points)
    assert all(isinstance(m, Metric) and m.key == "loss" for m in history)
    assert service.get_metric_history(run_id, "absent") == []


def test_duplicate_points_are_kept(service: TrackingService, run_id: str) -> None:
    for _ in range(3):
        service.log_metric(run_id, "m", 1.0, step=0, timestamp=7)
    service.log_batch(run_id, metrics=[("m", 1.0, 7, 0), ("m", 1.0, 7, 0)])
    assert len(service.get_metric_history(run_id, "m")) == 5
    assert service.store.count_metrics(run_id) == 5


def test_default_step_and_timestamp(service: TrackingService, run_id: str) -> None:
    service.log_metric(run_id, "m", 2)
    (point,) = service.get_metric_history(run_id, "m")
    assert point.step == 0
    assert point.timestamp > 1_600_000_000_000
    assert point.value == 2.0
    assert isinstance(point.value, float)


def test_int64_steps_and_timestamps(service: TrackingService, run_id: str) -> None:
    lo, hi = -(2**63), 2**63 - 1
    service.log_metric(run_id, "m", 1.0, step=lo, timestamp=hi)
    service.log_metric(run_id, "m", 2.0, step=hi, timestamp=lo)
    history = service.get_metric_history(run_id, "m")
    assert [(m.step, m.timestamp) for m in history] == [(lo, hi), (hi, lo)]
    assert service.get_run(run_id).data.metrics == {"m": 2.0}
    with pytest.raises(InvalidArgumentError):
        service.log_metric(run_id, "m", 1.0, step=2**63)


@pytest.mark.parametrize("value", [True, "1.0", None, [1.0], b"1"])
def test_metric_values_must_be_numbers(
    service: TrackingService, run_id: str, value: object
) -> None:
    with pytest.raises(InvalidArgumentError):
        service.log_metric(run_id, "m", value)  # type: ignore[arg-type]


def test_extreme_values_round_trip(service: TrackingService, run_id: str) -> None:
    values = [0.1, -0.0, 5e-324, 1.7976931348623157e308, -1e-300, 1 / 3]
    service.log_batch(run_id, metrics=[("m", v, 1, i) for i, v in enumerate(values)])
    stored = [m.value for m in service.get_metric_history(run_id, "m")]
    assert stored == values  # bit-exact doubles on both databases
    assert service.get_run(run_id).data.metrics["m"] == 1 / 3


@pytest.mark.parametrize("special", [math.nan, math.inf, -math.inf])
def test_non_finite_values_round_trip(
    service: TrackingService, run_id: str, special: float
) -> None:
    service.log_metric(run_id, "single", special)
    service.log_batch(run_id, metrics=[("batch", 1.0, 1, 0), ("batch", special, 1, 1)])
    service.log_metric(run_id, "earlier", special, step=0)
    service.log_metric(run_id, "earlier", 4.0, step=1)
    for key in ("single", "batch"):
        last = service.get_metric_history(run_id, key)[-1].value
        latest = service.get_run(run_id).data.metrics[key]
        for got in (last, latest):
            assert got == special or (math.isnan(special) and math.isnan(got))
    first = service.get_metric_history(run_id, "earlier")[0].value
    assert first == special or (math.isnan(special) and math.isnan(first))
    assert service.get_run(run_id).data.metrics["earlier"] == 4.0


def test_latest_metric_is_highest_step_then_timestamp(
    service: TrackingService, run_id: str
) -> None:
    service.log_metric(run_id, "m", 1.0, step=5, timestamp=1)
    service.log_metric(run_id, "m", 2.0, step=4, timestamp=100)  # lower step: not latest
    assert service.get_run(run_id).data.metrics["m"] == 1.0
    service.log_metric(run_id, "m", 3.0, step=5, timestamp=2)  # same step, later
    assert service.get_run(run_id).data.metrics["m"] == 3.0
    service.log_metric(run_id, "m", 4.0, step=5, timestamp=0)  # same step, earlier
    assert service.get_run(run_id).data.metrics["m"] == 3.0
    service.log_metric(run_id, "m", math.nan, step=6, timestamp=0)
    assert math.isnan(service.get_run(run_id).data.metrics["m"])
    service.log_metric(run_id, "m", 5.0, step=7, timestamp=0)
    assert service.get_run(run_id).data.metrics["m"] == 5.0


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0]),
)
points = st.tuples(st.integers(-3, 3), st.integers(0, 4), values)  # (step, timestamp, value)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _model_latest(history: list[tuple[int, int, float]]) -> float:
    """Highest step, then highest timestamp; of equal points, the one logged last."""
    best = max(range(len(history)), key=lambda i: (history[i][0], history[i][1], i))
    return history[best][2]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=st.lists(st.lists(points, min_size=1, max_size=4), min_size=1, max_size=4))
def test_latest_metric_model(
    service: TrackingService, experiment_id: str, batches: list[list[tuple[int, int, float]]]
) -> None:
    """Whatever the order and batching, the latest value follows the rule and ends the history."""
    run_id = service.create_run(experiment_id).info.run_id
    logged: list[tuple[int, int, float]] = []
    for batch in batches:
        service.log_batch(run_id, metrics=[("m", v, ts, step) for step, ts, v in batch])
        logged += batch
    latest = service.get_run(run_id).data.metrics["m"]
    assert _same(latest, _model_latest(logged))
    history = service.get_metric_history(run_id, "m")
    expected = sorted(logged, key=lambda p: (p[0], p[1]))  # stable: insert order among equals
    assert len(history) == len(expected)
    for got, (step, ts, value) in zip(history, expected, strict=True):
        assert (got.step, got.timestamp) == (step, ts)
        assert _same(got.value, value)
    assert _same(history[-1].value, latest)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.data(),
    keys=st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 4)), min_size=1, unique=True),
)
def test_latest_metric_ignores_insert_order(
    service: TrackingService,
    experiment_id: str,
    data: st.DataObject,
    keys: list[tuple[int, int]],
) -> None:
    """With distinct (step, timestamp) points, every insert order gives the same latest value."""
    logged = [(step, ts, float(i)) for i, (step, ts) in enumerate(keys)]
    order = data.draw(st.permutations(logged))
    run_id = service.create_run(experiment_id).info.run_id
    for step, ts, value in order:
        service.log_metric(run_id, "m", value, step=step, timestamp=ts)
    assert service.get_run(run_id).data.metrics["m"] == max(logged)[2]
