"""Validate a table against a :class:`CheckSuite`: pandera runs the checks, lazily.

The suite becomes one pandera ``DataFrameSchema`` (builtin checks where pandera has one, custom
checks for freshness, row counts, relations and joint uniqueness) run with ``lazy=True``; its
failure cases become :class:`Finding` values in a :class:`ValidationReport`. Bad data never raises:
a missing column, a wrong type or a check that crashes on the data is a finding. Only a bad suite or
an unsupported input type raises :class:`~loopline.errors.InvalidArgumentError`.

Reading the input as a pandas frame and naming a column's logical type live in
:mod:`loopline.data.frames`; :func:`to_pandas` and :func:`logical_type` are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from loopline.data.checks import (
    AllowedValuesCheck,
    Check,
    ColumnRelationCheck,
    CustomCheck,
    DtypeCheck,
    FreshnessCheck,
    NotNullCheck,
    RangeCheck,
    RegexCheck,
    RowCountCheck,
    Severity,
    UniqueCheck,
    parse_duration,
)
from loopline.data.frames import logical_type, to_pandas
from loopline.data.suites import CheckSuite
from loopline.errors import InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Finding", "ValidationReport", "logical_type", "to_pandas", "validate"]

Status = Literal["passed", "warned", "failed"]
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}  # fmt: skip
_TAG = re.compile(r"^loopline#(\d+)$")


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed check: what failed, how often, and the first offending values by row index."""

    check_index: int
    check: str
    kind: str
    columns: tuple[str, ...]
    severity: Severity
    message: str
    failure_count: int
    failure_cases: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**out, "columns": list(self.columns), "failure_cases": list(self.failure_cases)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        columns, cases = tuple(data["columns"]), tuple(data["failure_cases"])
        return cls(**{**data, "columns": columns, "failure_cases": cases})


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The result of a suite on a table; ``passed`` is True iff no blocking check failed."""

    suite: str
    findings: tuple[Finding, ...]
    checked_rows: int
    checked_at: int

    @property
    def status(self) -> Status:
        if any(f.severity == "blocking" for f in self.findings):
            return "failed"
        return "warned" if self.findings else "passed"

    @property
    def passed(self) -> bool:
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        findings = [finding.to_dict() for finding in self.findings]
        return {"suite": self.suite, "passed": self.passed, "status": self.status,
                "checked_rows": self.checked_rows, "checked_at": self.checked_at,
                "findings": findings}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationReport:
        findings = tuple(Finding.from_dict(f) for f in data["findings"])
        return cls(data["suite"], findings, data["checked_rows"], data["checked_at"])


def validate(
    data: Any, suite: CheckSuite, *, max_failure_cases: int = 100, now: dt.datetime | None = None
) -> ValidationReport:
    """Run ``suite`` on a pandas or polars DataFrame or a pyarrow Table; never raises on bad data.

    ``now`` (default: the current UTC time) is what freshness is measured against; naive
    timestamps are read as UTC. Each finding keeps at most ``max_failure_cases`` cases.
    """
    if not isinstance(suite, CheckSuite):
        raise InvalidArgumentError(f"validate needs a CheckSuite. Got {type(suite).__name__}.")
    if type(max_failure_cases) is not int or max_failure_cases < 0:
        raise InvalidArgumentError(
            f"max_failure_cases must be a non-negative integer. Got {max_failure_cases!r} instead."
        )
    frame = to_pandas(data)
    now = now or dt.datetime.now(dt.UTC)
    now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    run = _Run(frame, now, max_failure_cases)
    for index, check in enumerate(suite.checks):
        missing = [c for c in check.columns if c not in frame.columns]
        if missing:
            run.add(index, check, f"column '{missing[0]}' is missing", 1, [(None, missing[0])])
        else:
            run.plan(index, check)
    findings = run.execute()
    return ValidationReport(suite.name, findings, len(frame), int(time.time() * 1000))


class _Run:
    """Translates checks into one pandera schema and its failure cases back into findings."""

    def __init__(self, frame: pd.DataFrame, now: dt.datetime, cap: int) -> None:
        self.frame, self.now, self.cap = frame, now, cap
        self.checks: dict[int, Check] = {}
        self.findings: dict[int, Finding] = {}
        self.column_checks: dict[str, list[Any]] = {}
        self.not_null: dict[str, list[int]] = {}
        self.unique: dict[str, list[int]] = {}
        self.frame_checks: list[Any] = []
        self.masks: dict[int, Any] = {}  # row masks kept by relation and joint-unique checks
        self.observed: dict[int, Any] = {}  # the value a table-wide check saw

    def add(self, index: int, check: Check, message: str, count: int, cases: list[Any]) -> None:
        found = tuple({"index": _json(i), "value": _json(v)} for i, v in cases[: self.cap])
        self.findings[index] = Finding(
            index, check.label, check.kind, check.columns, check.severity, message, count, found
        )

    def plan(self, index: int, check: Check) -> None:
        import pandera.pandas as pa

        self.checks[index] = check
        tag: dict[str, Any] = {"name": f"loopline#{index}", "error": f"loopline#{index}"}
        column = check.columns[0] if check.columns else ""
        series = self.frame[column] if column else None
        on_column = self.column_checks.setdefault(column, []).append if column else None
        if isinstance(check, DtypeCheck):
            actual = logical_type(self.frame[column])
            if actual not in (None, check.type):
                message = f"'{column}' is {actual}, not {check.type}"
                self.add(index, check, message, 1, [(None, actual)])
        elif isinstance(check, NotNullCheck):
            self.not_null.setdefault(column, []).append(index)
        elif isinstance(check, UniqueCheck) and len(check.columns) == 1:
            self.unique.setdefault(column, []).append(index)
        elif isinstance(check, RangeCheck) and on_column:
            lo, hi = _bound(check.min, series), _bound(check.max, series)
            if lo is not None and hi is not None:
                incl = {"include_min": check.min_inclusive, "include_max": check.max_inclusive}
                on_column(pa.Check.in_range(lo, hi, **incl, **tag))
            elif lo is not None:
                on_column((pa.Check.ge if check.min_inclusive else pa.Check.gt)(lo, **tag))
            else:
                on_column((pa.Check.le if check.max_inclusive else pa.Check.lt)(hi, **tag))
        elif isinstance(check, AllowedValuesCheck) and on_column:
            on_column(pa.Check.isin(list(check.values), **tag))
        elif isinstance(check, RegexCheck) and on_column:
            pattern = check.pattern
            on_column(pa.Check(lambda s: s.str.fullmatch(pattern, na=False), **tag))
        elif isinstance(check, CustomCheck) and on_column:
            on_column(pa.Check(check.fn, **tag))
        elif isinstance(check, CustomCheck):
            fn = check.fn
            self.frame_checks.append(pa.Check(lambda f: self._keep(index, fn(f)), **tag))
        elif isinstance(check, FreshnessCheck) and on_column:
            cutoff = self.now - parse_duration(check.max_age)
            on_column(pa.Check(lambda s: self._fresh(index, s, cutoff), ignore_na=False, **tag))
        elif isinstance(check, RowCountCheck):
            lo, hi = check.min or 0, math.inf if check.max is None else check.max
            self.observed[index] = len(self.frame)
            self.frame_checks.append(pa.Check(lambda f: lo <= len(f) <= hi, **tag))
        elif on_column:  # a relation, or uniqueness over several columns
            on_column(pa.Check(lambda s: self._rows(index, check), ignore_na=False, **tag))

    def _fresh(self, index: int, series: pd.Series, cutoff: dt.datetime) -> bool:
        import pandas as pd

        stamps = series
        if series.dtype.kind != "M":
            stamps = pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce")
        latest = stamps.max()
        self.observed[index] = latest
        if latest is pd.NaT or latest is None:
            return False
        limit = pd.Timestamp(cutoff)
        if latest.tzinfo is None:
            limit = limit.tz_convert("UTC").tz_localize(None)
        return bool(latest >= limit)

    def _keep(self, index: int, result: Any) -> Any:
        if hasattr(result, "to_numpy"):  # a boolean Series (or a frame of them) by row
            mask = result.fillna(False).astype(bool)
            self.masks[index] = mask.all(axis=1) if mask.ndim == 2 else mask
        return result

    def _rows(self, index: int, check: Check) -> Any:
        frame = self.frame
        if isinstance(check, ColumnRelationCheck):
            left, right = frame[check.left], frame[check.right]
            result = _OPS[check.op](left, right)
            ok = result.fillna(False).astype(bool) | left.isna() | right.isna()
        else:
            ok = ~frame.duplicated(list(check.columns), keep=False)
        self.masks[index] = ok
        return ok

    def execute(self) -> tuple[Finding, ...]:
        if self.checks:
            self._run_pandera()
        return tuple(self.findings[i] for i in sorted(self.findings))

    def _run_pandera(self) -> None:
        import pandera.pandas as pa
        from pandera.errors import SchemaErrors

        names = set(self.column_checks) | set(self.not_null) | set(self.unique)
        columns = {
            name: pa.Column(
                checks=self.column_checks.get(name, []),
                nullable=name not in self.not_null,
                unique=name in self.unique,
            )
            for name in names
        }
        schema = pa.DataFrameSchema(columns, checks=self.frame_checks)
        try:
            with warnings.catch_warnings():
                # pandera concatenates failure cases in a way pandas 2.x deprecates; the
                # findings are unaffected, and the warning is not the caller's to act on.
                warnings.filterwarnings("ignore", category=FutureWarning)
                schema.validate(self.frame, lazy=True, inplace=True)
        except SchemaErrors as exc:
            crashed = {
                str(getattr(err.check, "name", err.check)): err.failure_cases
                for err in exc.schema_errors
                if err.reason_code is not None and err.reason_code.name == "CHECK_ERROR"
            }
            self._collect(exc.failure_cases, crashed)

    def _collect(self, cases: pd.DataFrame, crashed: dict[str, Any]) -> None:
        groups = cases.groupby(["check", "column"], sort=False, dropna=False)
        for (label, column), rows in groups:
            for index in self._targets(str(label), str(column)):
                if index not in self.findings:  # a frame-wide check fails once per column
                    self._report(index, str(label) in crashed, rows)

    def _targets(self, label: str, column: str) -> list[int]:
        tag = _TAG.match(label)
        if tag:
            return [int(tag[1])]
        by_column = {"not_nullable": self.not_null, "field_uniqueness": self.unique}.get(label)
        return by_column.get(column, []) if by_column else []

    def _report(self, index: int, crashed: bool, rows: pd.DataFrame) -> None:
        check = self.checks[index]
        if crashed:
            reason = rows["failure_case"].iloc[0]
            self.add(index, check, f"the check failed to run: {reason}", 1, [])
        elif index in self.masks:  # read the rows from the table, not pandera's long format
            failed = (~self.masks[index].to_numpy()).nonzero()[0]
            sub = self.frame.iloc[failed[: self.cap]][list(check.columns or self.frame.columns)]
            cases = list(zip(sub.index, sub.to_dict("records"), strict=True))
            self.add(index, check, _message(check, len(failed)), len(failed), cases)
        elif index in self.observed:
            seen = self.observed[index]
            self.add(index, check, _message(check, 1, seen), 1, [(None, seen)])
        else:
            head = rows.head(self.cap)
            cases = list(zip(head["index"], head["failure_case"], strict=True))
            self.add(index, check, _message(check, len(rows)), len(rows), cases)


def _bound(value: Any, series: Any) -> Any:
    """A range bound in the column's terms: ISO strings become timestamps or dates."""
    import pandas as pd

    if not isinstance(value, str):
        return value
    kind = logical_type(series)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind != "datetime":
        return value
    stamp = pd.Timestamp(value)
    tz = getattr(series.dtype, "tz", None)
    if tz is None:
        return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
    return stamp.tz_convert(tz) if stamp.tzinfo else stamp.tz_localize("UTC").tz_convert(tz)


def _message(check: Check, count: int, seen: Any = None) -> str:
    where = f"'{check.columns[0]}'" if len(check.columns) == 1 else str(list(check.columns))
    if isinstance(check, NotNullCheck):
        return f"{count} missing values in {where}"
    if isinstance(check, RangeCheck):
        lo = (
            "(-inf" if check.min is None else ("[" if check.min_inclusive else "(") + str(check.min)
        )
        hi = "inf)" if check.max is None else str(check.max) + ("]" if check.max_inclusive else ")")
        return f"{count} values of {where} outside {lo}, {hi}"
    if isinstance(check, AllowedValuesCheck):
        return f"{count} values of {where} not among the {len(check.values)} allowed values"
    if isinstance(check, UniqueCheck):
        return f"{count} rows share their value of {where} with another row"
    if isinstance(check, RegexCheck):
        return f"{count} values of {where} do not fully match {check.pattern!r}"
    if isinstance(check, RowCountCheck):
        return f"{seen} rows, expected between {check.min or 0} and {check.max or 'any number'}"
    if isinstance(check, FreshnessCheck):
        return f"the newest {where} is {_json(seen)}, older than {check.max_age}"
    return f"{count} rows fail {check.label}"


def _json(value: Any) -> Any:
    """A JSON-ready copy: NaN, NaT and NA become None, timestamps ISO text, numpy scalars Python."""
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, np.datetime64 | np.timedelta64):
        value = pd.Timestamp(value) if isinstance(value, np.datetime64) else pd.Timedelta(value)
    if isinstance(value, np.generic):
        return _json(value.item())
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    if pd.isna(value):
        return None
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)  # Decimal and anything else: its text
