"""The check model: builders, field validation, and the YAML form of a suite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopline.data.checks import (
    LOGICAL_TYPES,
    Check,
    ColumnRelationCheck,
    RangeCheck,
    UniqueCheck,
    parse_duration,
)
from loopline.data.suites import CheckSuite
from loopline.errors import InvalidArgumentError

names = st.text(st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=12)
common = st.fixed_dictionaries(
    {}, optional={"severity": st.sampled_from(["blocking", "warning"]), "name": names}
)
numbers = st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6, allow_nan=False)
scalars = st.text(max_size=8) | st.integers() | st.booleans() | st.floats(allow_nan=False)


@st.composite
def ranges(draw: st.DrawFn) -> Check:
    lo, hi = sorted([draw(numbers), draw(numbers)])
    lo_or_none = draw(st.sampled_from([lo, None])) if hi is not None else lo
    return Check.range(
        draw(names),
        min=lo_or_none,
        max=hi,
        min_inclusive=draw(st.booleans()),
        max_inclusive=draw(st.booleans()),
        **draw(common),
    )


checks = st.one_of(
    st.builds(Check.dtype, names, st.sampled_from(LOGICAL_TYPES)),
    st.builds(Check.not_null, names),
    ranges(),
    st.builds(Check.allowed_values, names, st.lists(scalars, min_size=1, max_size=5)),
    st.builds(
        lambda cols, kw: Check.unique(cols, **kw), st.lists(names, min_size=1, max_size=3), common
    ),
    st.builds(Check.regex, names, st.sampled_from([r"\d+", "[A-Z]{2}", "a|b", ".*"])),
    st.builds(lambda lo, kw: Check.row_count(min=lo, **kw), st.integers(0, 10**9), common),
    st.builds(Check.freshness, names, st.sampled_from(["7d", "12h", "30m", "90s", "2w", "1.5d"])),
    st.builds(
        lambda a, op, b, kw: ColumnRelationCheck(left=a, op=op, right=b, **kw),
        names,
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        names,
        common,
    ),
)


@given(st.lists(checks, max_size=8), names)
def test_yaml_round_trip(items: list[Check], name: str) -> None:
    suite = CheckSuite(name, items)
    assert CheckSuite.from_yaml(suite.to_yaml()) == suite
    assert CheckSuite.from_dict(suite.to_dict()) == suite


def test_builders_and_labels() -> None:
    assert Check.range("age", min=0, max=120) == RangeCheck(column="age", min=0, max=120)
    assert Check.unique("a", "b") == Check.unique(["a", "b"]) == UniqueCheck(columns=("a", "b"))
    assert Check.relation("end >= start") == ColumnRelationCheck(left="end", op=">=", right="start")
    assert Check.relation("end>=start").label == "end >= start"
    assert Check.range("age", max=1).label == "range(age)"
    assert Check.row_count(min=1).label == "row_count"
    assert Check.not_null("a", name="a present").label == "a present"
    assert Check.unique("a").columns == ("a",)
    assert Check.range("age", max=1).severity == "blocking"


def test_yaml_is_readable() -> None:
    suite = CheckSuite(
        "people", [Check.range("age", min=0, max=120, severity="warning"), Check.relation("b < c")]
    )
    assert suite.to_yaml() == (
        "name: people\nchecks:\n"
        "- kind: range\n  column: age\n  min: 0\n  max: 120\n  min_inclusive: true\n"
        "  max_inclusive: true\n  severity: warning\n"
        "- kind: column_relation\n  left: b\n  op: <\n  right: c\n"
    )


def test_yaml_from_a_file(tmp_path: Path) -> None:
    suite = CheckSuite("s", [Check.freshness("t", "7d")])
    path = tmp_path / "suite.yaml"
    path.write_text(suite.to_yaml(), encoding="utf-8")
    assert CheckSuite.from_yaml(path) == suite
    assert CheckSuite.from_yaml(str(path)) == suite
    with pytest.raises(InvalidArgumentError, match="Cannot read"):
        CheckSuite.from_yaml(str(tmp_path / "missing.yaml"))


def test_unquoted_yaml_dates_become_iso_bounds() -> None:
    suite = CheckSuite.from_yaml("name: s\nchecks:\n- {kind: range, column: d, min: 2020-01-01}\n")
    assert suite.checks[0] == Check.range("d", min="2020-01-01")
    assert Check.range("d", max=dt.date(2021, 5, 1)).max == "2021-05-01"


@pytest.mark.parametrize(
    ("check_yaml", "where", "message"),
    [
        ("{kind: rnage, column: a}", "checks[1].kind", "must be one of"),
        ("{column: a}", "checks[1].kind", "must be one of"),
        ("{kind: dtype, column: a}", "checks[1].type", "is required"),
        ("{kind: dtype, column: a, type: int}", "checks[1].type", "one of"),
        ("{kind: range, column: a, mn: 1}", "checks[1].mn", "Unknown field"),
        ("{kind: range, column: a}", "checks[1].min", "set when 'max' is not"),
        ("{kind: range, column: a, min: 5, max: 1}", "checks[1].max", "at least min"),
        ("{kind: range, column: a, min: [1]}", "checks[1].min", "a number"),
        (
            "{kind: range, column: a, min: 1, max_inclusive: maybe}",
            "checks[1].max_inclusive",
            "true",
        ),
        ("{kind: not_null, column: ''}", "checks[1].column", "non-empty column name"),
        ("{kind: not_null, column: 3}", "checks[1].column", "non-empty column name"),
        ("{kind: not_null, column: a, severity: fatal}", "checks[1].severity", "'blocking'"),
        ("{kind: allowed_values, column: a, values: []}", "checks[1].values", "non-empty list"),
        ("{kind: allowed_values, column: a, values: x}", "checks[1].values", "a list"),
        ("{kind: unique, columns: []}", "checks[1].columns", "non-empty list"),
        ("{kind: regex, column: a, pattern: '('}", "checks[1].pattern", "valid regular expression"),
        ("{kind: row_count, min: -1}", "checks[1].min", "non-negative integer"),
        ("{kind: row_count, min: 1.5}", "checks[1].min", "non-negative integer"),
        ("{kind: freshness, column: t, max_age: soon}", "checks[1].max_age", "duration"),
        ("{kind: column_relation, left: a, op: '=~', right: b}", "checks[1].op", "one of"),
        ("{kind: custom, name: x}", "checks[1].kind", "only be declared in Python"),
        ("7", "checks[1]", "must be a mapping"),
    ],
)
def test_bad_yaml_names_the_check_and_the_field(check_yaml: str, where: str, message: str) -> None:
    text = f"name: s\nchecks:\n- {{kind: not_null, column: ok}}\n- {check_yaml}\n"
    with pytest.raises(InvalidArgumentError, match=message) as raised:
        CheckSuite.from_yaml(text)
    assert str(raised.value).startswith(f"{where}:")
    assert raised.value.details["index"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("checks: []", "'name' must be a non-empty string"),
        ("name: s\nchecks: {a: 1}", "'checks' must be a list"),
        ("name: s\nextra: 1", "Unknown suite field 'extra'"),
        ("- 1", "must be a mapping"),
        ("name: [unclosed", "not valid YAML"),
    ],
)
def test_bad_suites(text: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        CheckSuite.from_yaml(text)


def test_custom_checks_stay_in_python() -> None:
    check = Check.custom("even", lambda s: s % 2 == 0, column="n", severity="warning")
    assert (check.label, check.columns, check.severity) == ("even", ("n",), "warning")
    with pytest.raises(
        InvalidArgumentError, match="'even' holds Python code and cannot be written"
    ):
        CheckSuite("s", [check]).to_yaml()
    with pytest.raises(InvalidArgumentError, match="given for a custom check"):
        Check.custom(None, len)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="callable"):
        Check.custom("x", 3)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [[1], ("x",), None])
def test_a_suite_holds_only_checks(bad: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        CheckSuite("s", bad)


def test_relations_parse() -> None:
    with pytest.raises(InvalidArgumentError, match="look like 'end >= start'"):
        Check.relation("end => start")


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("7d", dt.timedelta(days=7)),
        ("12h", dt.timedelta(hours=12)),
        ("1.5 w", dt.timedelta(weeks=1.5)),
    ],
)
def test_durations(text: str, delta: dt.timedelta) -> None:
    assert parse_duration(text) == delta
