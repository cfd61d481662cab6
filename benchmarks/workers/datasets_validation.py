"""Validation: loopline's inferred suite against pandera with an equivalent, hand-written schema.

The pandera schema is written here from the frame, not from loopline's suite: every column with
the frame's own dtype and nullability, the observed range of numbers (``Check.in_range``), the
categories of the text columns (``Check.isin``), ``unique=True`` for an integer, text or timestamp
column whose values are all present and distinct, and a table-wide check of the row count (at
least half the rows). Then both are compared, so a drift in the inference rules shows up as a
problem instead of as a silently unfair figure.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workers.datasets_common import CATEGORIES, alternate, timed

ROW_COUNT_FRACTION = 0.5  # what infer_checks uses for its row_count minimum
_MODULES = (  # (inference, validation): where the API may live, newest place first
    ("loopline.data.inference", "loopline.data.validation"),
    ("loopline.datasets.inference", "loopline.datasets.validation"),
)


@dataclass(frozen=True)
class ValidationApi:
    """Where loopline's validation lives, and how to get the inferred suite of a version."""

    where: str
    infer: Callable[[Any], Any]  # DatasetVersion -> CheckSuite
    validate: Callable[[pd.DataFrame, Any], Any]  # (frame, suite) -> ValidationReport


def find_api() -> tuple[ValidationApi | None, str]:
    """The first expected place that has both functions; else ``None`` and what was tried.

    The modules are imported by name: ``import loopline.datasets.inference`` would replace the
    ``loopline.datasets`` SDK attribute, so the SDK is reached as ``loopline.client.datasets``.
    """
    tried: list[str] = []
    for inference, validation in _MODULES:
        try:
            infer = importlib.import_module(inference).infer_checks
            validate = importlib.import_module(validation).validate
        except (ImportError, AttributeError) as exc:
            tried.append(f"{inference}: {exc}")
            continue
        where = f"{inference}.infer_checks + {validation}.validate"
        return ValidationApi(where, _of_version(infer), validate), ""
    from loopline.client import datasets

    if hasattr(datasets, "infer_checks") and hasattr(datasets, "validate"):
        where = "loopline.datasets.infer_checks + loopline.datasets.validate"
        return ValidationApi(where, datasets.infer_checks, datasets.validate), ""
    tried.append("loopline.datasets: no infer_checks and validate")
    return None, "; ".join(tried)


def _of_version(infer: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
    """``infer_checks(schema, profile)`` as a function of a DatasetVersion."""

    def infer_version(version: Any) -> Any:
        return infer(version.schema, version.profile)

    return infer_version


# -- the hand-written pandera schema ------------------------------------------------------------


@dataclass(frozen=True)
class ColumnRule:
    """What the hand-written pandera schema asks of one column."""

    dtype: Any
    nullable: bool
    bounds: tuple[Any, Any] | None = None
    allowed: tuple[str, ...] | None = None
    unique: bool = False


def hand_rules(frame: pd.DataFrame) -> dict[str, ColumnRule]:
    """Per column: dtype, nullability, observed range or categories, and uniqueness.

    A column is unique when it could be a key (integer, text or timestamp, never a float) and
    every value is present and distinct.
    """
    rules: dict[str, ColumnRule] = {}
    for name in frame.columns:
        series = frame[name]
        nullable = bool(series.isna().any())
        numeric = pd.api.types.is_numeric_dtype(series.dtype)
        bounds = (_plain(series.min()), _plain(series.max())) if numeric else None
        key_like = series.dtype.kind in "iuM" or name in CATEGORIES
        unique = key_like and not nullable and bool(series.is_unique)
        allowed = tuple(sorted(CATEGORIES[name])) if name in CATEGORIES else None
        rules[str(name)] = ColumnRule(series.dtype, nullable, bounds, allowed, unique)
    return rules


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def row_count_minimum(rows: int) -> int:
    return math.floor(rows * ROW_COUNT_FRACTION)


def pandera_schema(rules: Mapping[str, ColumnRule], min_rows: int) -> Any:
    """The pandera equivalent of the inferred suite, written against pandera directly."""
    import pandera.pandas as pdr

    columns = {}
    for name, rule in rules.items():
        checks = []
        if rule.bounds is not None:
            checks.append(pdr.Check.in_range(*rule.bounds))
        if rule.allowed is not None:
            checks.append(pdr.Check.isin(list(rule.allowed)))
        columns[name] = pdr.Column(
            rule.dtype, checks=checks, nullable=rule.nullable, unique=rule.unique
        )
    row_count = pdr.Check(lambda frame: len(frame) >= min_rows, name="row_count")
    return pdr.DataFrameSchema(columns, checks=[row_count])


# -- is it the same schema? ---------------------------------------------------------------------


def suite_facts(suite: Any) -> dict[str, dict[str, Any]]:
    """The suite per column (``""``: table-wide), as comparable facts (from ``Check.to_dict``)."""
    facts: dict[str, dict[str, Any]] = {}
    for check in suite.checks:
        data = check.to_dict()
        kind = data["kind"]
        columns = data.get("columns") or [data.get("column", "")]
        entry = facts.setdefault(str(columns[0]) if len(columns) == 1 else str(columns), {})
        if kind == "range":
            entry["bounds"] = (data.get("min"), data.get("max"))
        elif kind == "allowed_values":
            entry["allowed"] = tuple(sorted(data["values"]))
        elif kind == "row_count":
            entry["min_rows"] = data.get("min")
        else:
            entry[kind] = data.get("type", True)
    return facts


def rule_facts(rule: ColumnRule) -> dict[str, Any]:
    """The same facts for one hand-written column."""
    facts: dict[str, Any] = {}
    if not rule.nullable:
        facts["not_null"] = True
    if rule.bounds is not None:
        facts["bounds"] = rule.bounds
    if rule.allowed is not None:
        facts["allowed"] = rule.allowed
    if rule.unique:
        facts["unique"] = True
    return facts


def compare(suite: Any, rules: Mapping[str, ColumnRule], min_rows: int) -> list[str]:
    """Where the inferred suite and the hand-written schema differ (dtype checks aside)."""
    inferred = suite_facts(suite)
    differences: list[str] = []
    for name in sorted(set(inferred) | set(rules)):
        got = {k: v for k, v in inferred.get(name, {}).items() if k != "dtype"}
        want = {"min_rows": min_rows} if name == "" else rule_facts(rules[name])
        if name not in rules and name != "":
            want = {}
        if got != want:
            differences.append(f"{name or '<table>'}: suite {got} vs pandera {want}")
    return differences


# -- the figure ---------------------------------------------------------------------------------


@dataclass
class ValidationResult:
    """Both sides of the comparison, and what was compared."""

    where: str
    suite_checks: int
    loopline: list[float]
    pandera: list[float]
    pandera_inplace: list[float]
    infer_seconds: float
    findings: int
    differences: list[str]


def run(frame: pd.DataFrame, version: Any, api: ValidationApi, repeats: int) -> ValidationResult:
    """Infer the suite of ``version``, check both schemas pass, then time both alternately.

    pandera is timed as ``schema.validate(frame, lazy=True)`` (the figure), and also with
    ``inplace=True`` (skips pandera's copy of the frame; loopline's validate passes it).
    """
    import pandera.errors

    infer_seconds, suite = timed(lambda: api.infer(version))
    rules = hand_rules(frame)
    min_rows = row_count_minimum(len(frame))
    schema = pandera_schema(rules, min_rows)
    report = api.validate(frame, suite)
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        raise RuntimeError(f"the hand-written pandera schema rejects the frame: {exc}") from None
    tasks = {
        "loopline": _seconds_of(lambda: api.validate(frame, suite)),
        "pandera": _seconds_of(lambda: schema.validate(frame, lazy=True)),
        "pandera_inplace": _seconds_of(lambda: schema.validate(frame, lazy=True, inplace=True)),
    }
    samples = alternate(tasks, repeats)
    return ValidationResult(
        where=api.where, suite_checks=len(suite.checks), loopline=samples["loopline"],
        pandera=samples["pandera"], pandera_inplace=samples["pandera_inplace"],
        infer_seconds=infer_seconds, findings=len(report.findings),
        differences=compare(suite, rules, min_rows),
    )  # fmt: skip


def _seconds_of(fn: Callable[[], Any]) -> Callable[[], float]:
    """A task for ``alternate``: one timed call of ``fn``."""
    return lambda: timed(fn)[0]
