"""Checks: declarative rules on a table, grouped in a suite (``loopline.data.suites``) kept as YAML.

A check is a frozen value; :func:`loopline.data.validation.validate` turns a suite into a
pandera schema and runs it. Every kind below has a builder on :class:`Check`::

    Check.dtype("age", "integer")           Check.not_null("age")
    Check.range("age", min=0, max=120)      Check.allowed_values("sex", ["F", "M"])
    Check.unique("id") / ("a", "b")         Check.regex("zip", r"\\d{5}")
    Check.row_count(min=1000)               Check.freshness("updated_at", "7d")
    Check.relation("end >= start")          Check.custom("even", fn, column="n")

Every check takes ``severity`` ("blocking", the default, or "warning") and an optional ``name``.
Nulls are the business of ``not_null`` alone: the other column checks skip missing values.

Examples:
    >>> from loopline.data.suites import CheckSuite
    >>> suite = CheckSuite("people", [Check.range("age", min=0, max=120, severity="warning")])
    >>> CheckSuite.from_yaml(suite.to_yaml()) == suite
    True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, Literal

from loopline.errors import InvalidArgumentError

__all__ = [
    "LOGICAL_TYPES",
    "RELATION_OPERATORS",
    "AllowedValuesCheck",
    "Check",
    "ColumnRelationCheck",
    "CustomCheck",
    "DtypeCheck",
    "FreshnessCheck",
    "NotNullCheck",
    "RangeCheck",
    "RegexCheck",
    "RowCountCheck",
    "Severity",
    "UniqueCheck",
    "parse_duration",
]

Severity = Literal["blocking", "warning"]
LOGICAL_TYPES = (
    "integer", "float", "boolean", "string", "datetime", "date", "duration", "decimal", "binary"
)  # fmt: skip
RELATION_OPERATORS = ("<", "<=", ">", ">=", "==", "!=")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_RELATION = re.compile(r"^\s*(\S+)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")


def _bad(check: Check, name: str, expected: str, got: Any) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"The '{name}' field of a {check.kind} check must be {expected}. Got {got!r} instead.",
        field=name,
    )


def _column(check: Check, name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _bad(check, name, "a non-empty column name", value)
    return value


def _bound(check: Check, name: str, value: Any) -> int | float | str | None:
    if value is None or (isinstance(value, int | float | str) and not isinstance(value, bool)):
        return value
    if isinstance(value, dt.date):  # YAML reads unquoted dates as dates: keep them as ISO text
        return value.isoformat()
    raise _bad(check, name, "a number, an ISO date or datetime string, or null", value)


def parse_duration(text: str) -> dt.timedelta:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"90s"``, ``"2w"`` as a timedelta."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidArgumentError(
            f"A duration must look like '7d' or '12h'. Got {text!r} instead."
        )
    return dt.timedelta(**{_UNITS[match[2]]: float(match[1])})


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """Base of every check: a ``severity`` and an optional ``name``; ``label`` names it."""

    kind: ClassVar[str] = ""
    name: str | None = None
    severity: Severity = "blocking"

    def __post_init__(self) -> None:
        if self.severity not in ("blocking", "warning"):
            raise _bad(self, "severity", "'blocking' or 'warning'", self.severity)
        if self.name is not None and (not isinstance(self.name, str) or not self.name):
            raise _bad(self, "name", "a non-empty string or null", self.name)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the check reads (empty for table-wide checks)."""
        return ()

    @property
    def label(self) -> str:
        if self.name or not self.columns:
            return self.name or self.kind
        return f"{self.kind}({', '.join(self.columns)})"

    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form: ``kind``, the fields, then ``name`` and ``severity`` if set."""
        out: dict[str, Any] = {"kind": self.kind}
        names = [f.name for f in fields(self) if f.name not in ("name", "severity")]
        for key in [*names, "name", "severity"]:
            value = getattr(self, key)
            if (key, value) in (("name", None), ("severity", "blocking")):
                continue
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Check:
        """Build a check from its YAML/JSON form; unknown kinds and fields are refused."""
        if not isinstance(data, Mapping):
            raise InvalidArgumentError(f"A check must be a mapping. Got {data!r} instead.")
        kind = data.get("kind")
        if kind == "custom":
            raise InvalidArgumentError(
                "custom checks hold Python code and can only be declared in Python", field="kind"
            )
        cls = KINDS.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise InvalidArgumentError(
                f"The 'kind' field must be one of {sorted(KINDS)}. Got {kind!r} instead.",
                field="kind",
            )
        allowed = {f.name for f in fields(cls)}
        extra = sorted(set(data) - allowed - {"kind"})
        if extra:
            raise InvalidArgumentError(
                f"Unknown field '{extra[0]}' for a {kind} check (allowed: {sorted(allowed)}).",
                field=extra[0],
            )
        required = [f.name for f in fields(cls) if f.default is MISSING]
        missing = [name for name in required if name not in data]
        if missing:
            raise InvalidArgumentError(
                f"The '{missing[0]}' field of a {kind} check is required.", field=missing[0]
            )
        return cls(**{k: v for k, v in data.items() if k != "kind"})

    # -- builders ------------------------------------------------------------------------------
    @staticmethod
    def dtype(column: str, type: str, **common: Any) -> DtypeCheck:
        return DtypeCheck(column=column, type=type, **common)

    @staticmethod
    def not_null(column: str, **common: Any) -> NotNullCheck:
        return NotNullCheck(column=column, **common)

    @staticmethod
    def range(column: str, *, min: Any = None, max: Any = None, **kw: Any) -> RangeCheck:
        return RangeCheck(column=column, min=min, max=max, **kw)

    @staticmethod
    def allowed_values(column: str, values: Iterable[Any], **common: Any) -> AllowedValuesCheck:
        return AllowedValuesCheck(column=column, values=tuple(values), **common)

    @staticmethod
    def unique(*columns: str | Sequence[str], **common: Any) -> UniqueCheck:
        flat = [c for col in columns for c in ([col] if isinstance(col, str) else col)]
        return UniqueCheck(columns=tuple(flat), **common)

    @staticmethod
    def regex(column: str, pattern: str, **common: Any) -> RegexCheck:
        return RegexCheck(column=column, pattern=pattern, **common)

    @staticmethod
    def row_count(*, min: int | None = None, max: int | None = None, **kw: Any) -> RowCountCheck:
        return RowCountCheck(min=min, max=max, **kw)

    @staticmethod
    def freshness(column: str, max_age: str, **common: Any) -> FreshnessCheck:
        return FreshnessCheck(column=column, max_age=max_age, **common)

    @staticmethod
    def relation(expression: str, **common: Any) -> ColumnRelationCheck:
        """``Check.relation("end >= start")``: left column, operator, right column."""
        match = _RELATION.match(expression) if isinstance(expression, str) else None
        if match is None or match[2] not in RELATION_OPERATORS:
            raise InvalidArgumentError(
                f"A relation must look like 'end >= start'. Got {expression!r} instead."
            )
        return ColumnRelationCheck(left=match[1], op=match[2], right=match[3], **common)

    @staticmethod
    def custom(
        name: str, fn: Callable[[Any], Any], *, column: str | None = None, **common: Any
    ) -> CustomCheck:
        return CustomCheck(name=name, fn=fn, column=column, **common)


@dataclass(frozen=True, slots=True, kw_only=True)
class _ColumnCheck(Check):
    column: str

    def __post_init__(self) -> None:
        Check.__post_init__(self)
        _column(self, "column", self.column)

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)


@dataclass(frozen=True, slots=True, kw_only=True)
class DtypeCheck(_ColumnCheck):
    """The column has this logical type (docs/datasets.md), whatever its physical dtype."""

    kind: ClassVar[str] = "dtype"
    type: str

    def __post_init__(self) -> None:
        _ColumnCheck.__post_init__(self)
        if self.type not in LOGICAL_TYPES:
            raise _bad(self, "type", f"one of {list(LOGICAL_TYPES)}", self.type)


@dataclass(frozen=True, slots=True, kw_only=True)
class NotNullCheck(_ColumnCheck):
    kind: ClassVar[str] = "not_null"


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeCheck(_ColumnCheck):
    """``min <= value <= max`` (bounds inclusive unless told); ISO strings bound dates."""

    kind: ClassVar[str] = "range"
    min: int | float | str | None = None
    max: int | float | str | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    def __post_init__(self) -> None:
        _ColumnCheck.__post_init__(self)
        object.__setattr__(self, "min", _bound(self, "min", self.min))
        object.__setattr__(self, "max", _bound(self, "max", self.max))
        if self.min is None and self.max is None:
            raise _bad(self, "min", "set when 'max' is not", None)
        for flag in ("min_inclusive", "max_inclusive"):
            if not isinstance(getattr(self, flag), bool):
                raise _bad(self, flag, "true or false", getattr(self, flag))
        lo, hi = self.min, self.max
        if lo is None or hi is None:
            return
        if isinstance(lo, str) != isinstance(hi, str):
            raise _bad(self, "max", f"of the same kind as min ({lo!r})", hi)
        if lo > hi:  # type: ignore[operator]
            raise _bad(self, "max", f"at least min ({lo!r})", hi)


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowedValuesCheck(_ColumnCheck):
    kind: ClassVar[str] = "allowed_values"
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        _ColumnCheck.__post_init__(self)
        if isinstance(self.values, str | bytes) or not isinstance(self.values, Iterable):
            raise _bad(self, "values", "a list of values", self.values)
        values = tuple(self.values)
        if not values or any(not isinstance(v, str | int | float | bool) for v in values):
            raise _bad(self, "values", "a non-empty list of strings, numbers or booleans", values)
        object.__setattr__(self, "values", values)


@dataclass(frozen=True, slots=True, kw_only=True)
class UniqueCheck(Check):
    """No two rows share a value of ``columns`` (jointly, when there are several)."""

    kind: ClassVar[str] = "unique"
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        Check.__post_init__(self)
        cols = (self.columns,) if isinstance(self.columns, str) else self.columns
        if not isinstance(cols, Iterable) or not tuple(cols):
            raise _bad(self, "columns", "a non-empty list of column names", self.columns)
        object.__setattr__(self, "columns", tuple(_column(self, "columns", c) for c in cols))


@dataclass(frozen=True, slots=True, kw_only=True)
class RegexCheck(_ColumnCheck):
    """Every value fully matches ``pattern`` (Python ``re`` syntax)."""

    kind: ClassVar[str] = "regex"
    pattern: str

    def __post_init__(self) -> None:
        _ColumnCheck.__post_init__(self)
        try:
            re.compile(self.pattern)
        except (re.error, TypeError) as exc:
            raise _bad(
                self, "pattern", f"a valid regular expression ({exc})", self.pattern
            ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class RowCountCheck(Check):
    kind: ClassVar[str] = "row_count"
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        Check.__post_init__(self)
        for key in ("min", "max"):
            value = getattr(self, key)
            if value is not None and (type(value) is not int or value < 0):
                raise _bad(self, key, "a non-negative integer or null", value)
        if self.min is None and self.max is None:
            raise _bad(self, "min", "set when 'max' is not", None)
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _bad(self, "max", f"at least min ({self.min})", self.max)


@dataclass(frozen=True, slots=True, kw_only=True)
class FreshnessCheck(_ColumnCheck):
    """The newest timestamp of ``column`` is at most ``max_age`` old ("7d", "12h", "30m")."""

    kind: ClassVar[str] = "freshness"
    max_age: str

    def __post_init__(self) -> None:
        _ColumnCheck.__post_init__(self)
        try:
            parse_duration(self.max_age)
        except InvalidArgumentError:
            raise _bad(self, "max_age", "a duration such as '7d' or '12h'", self.max_age) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnRelationCheck(Check):
    """``left op right`` on every row where both sides are present."""

    kind: ClassVar[str] = "column_relation"
    left: str
    op: str
    right: str

    def __post_init__(self) -> None:
        Check.__post_init__(self)
        _column(self, "left", self.left)
        _column(self, "right", self.right)
        if self.op not in RELATION_OPERATORS:
            raise _bad(self, "op", f"one of {list(RELATION_OPERATORS)}", self.op)

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.left, self.right)

    @property
    def label(self) -> str:
        return self.name or f"{self.left} {self.op} {self.right}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomCheck(Check):
    """``fn(series)`` (with ``column``) or ``fn(frame)`` returns a bool or a boolean Series."""

    kind: ClassVar[str] = "custom"
    fn: Callable[[Any], Any] = field(compare=False)
    column: str | None = None

    def __post_init__(self) -> None:
        Check.__post_init__(self)
        if self.name is None:
            raise _bad(self, "name", "given for a custom check", None)
        if not callable(self.fn):
            raise _bad(self, "fn", "callable", self.fn)
        if self.column is not None:
            _column(self, "column", self.column)

    @property
    def columns(self) -> tuple[str, ...]:
        return () if self.column is None else (self.column,)

    def to_dict(self) -> dict[str, Any]:
        raise InvalidArgumentError(
            f"The custom check '{self.name}' holds Python code and cannot be written to YAML.",
            check=self.name,
        )


KINDS: dict[str, type[Check]] = {
    cls.kind: cls
    for cls in (
        DtypeCheck, NotNullCheck, RangeCheck, AllowedValuesCheck, UniqueCheck, RegexCheck,
        RowCountCheck, FreshnessCheck, ColumnRelationCheck,
    )
}  # fmt: skip
