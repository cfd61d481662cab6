"""``loopline.datasets``: versioned, profiled, validated tables (the SDK side).

Examples:
    >>> import tempfile, pandas as pd, loopline
    >>> loopline.set_uri(tempfile.mkdtemp())
    >>> v1 = loopline.datasets.create("scores", pd.DataFrame({"x": [1, 2, 3]}))
    >>> (v1.version, v1.num_rows, v1.schema[0]["type"])
    (1, 3, 'integer')
    >>> loopline.datasets.create("scores", pd.DataFrame({"x": [3, 1, 2]})).version  # same rows
    1
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loopline.entities import Dataset, DatasetVersion, Page, RunInput

if TYPE_CHECKING:
    from loopline.data.checks import Check
    from loopline.data.diff import DatasetDiff
    from loopline.data.service import DatasetService
    from loopline.data.sources import SqlQuery
    from loopline.data.suites import CheckSuite
    from loopline.data.validation import ValidationReport

__all__ = [
    "Check",
    "CheckSuite",
    "consumers",
    "create",
    "diff",
    "get",
    "infer_checks",
    "list",
    "load",
    "sql",
    "validate",
    "versions",
]


def _service() -> DatasetService:
    from loopline.client.fluent import get_client

    return get_client().datasets


def sql(url: str, query: str) -> SqlQuery:
    """A SQL query against a SQLAlchemy URL, to use as a dataset source."""
    from loopline.data.sources import SqlQuery

    return SqlQuery(url, query)


def create(
    name: str,
    source: Any,
    *,
    description: str | None = None,
    tags: Mapping[str, Any] | None = None,
    checks: CheckSuite | None = None,
) -> DatasetVersion:
    """Create a version of ``name`` from a DataFrame, Arrow table, file, folder or ``sql(...)``.

    Identical content (the same rows and columns, in any order) returns the existing version.
    With ``checks`` the version is validated at once; a blocking failure records it as failed.
    """
    return _service().create(name, source, description=description, tags=tags, checks=checks)


def infer_checks(version: DatasetVersion) -> CheckSuite:
    """A starting suite of checks from a version's schema and profile."""
    return _service().infer_checks(version)


def validate(data_or_version: Any, checks: CheckSuite) -> ValidationReport:
    """Run a suite; on a version, the report and status are stored with it (and alerted)."""
    return _service().validate(data_or_version, checks)


def __getattr__(name: str) -> Any:
    if name == "Check":
        from loopline.data.checks import Check

        return Check
    if name == "CheckSuite":
        from loopline.data.suites import CheckSuite

        return CheckSuite
    raise AttributeError(f"module 'loopline.datasets' has no attribute {name!r}")


def get(name: str, version: int | None = None) -> DatasetVersion:
    """A version of a dataset; ``None`` is the latest."""
    return _service().get(name, version)


def versions(name: str) -> builtins.list[DatasetVersion]:
    """Every version of a dataset, oldest first."""
    return _service().versions(name)


def list(*, max_results: int | None = None, page_token: str | None = None) -> Page[Dataset]:
    """Datasets by name, one page."""
    return _service().list(max_results=max_results, page_token=page_token)


def load(
    name: str,
    version: int | None = None,
    *,
    format: str = "pandas",
    sample: bool = False,
    allow_failed: bool = False,
) -> Any:
    """The rows of a version as ``"pandas"``, ``"polars"`` or ``"arrow"`` (or its sample).

    A version that failed a blocking check raises ValidationFailedError unless
    ``allow_failed=True``.
    """
    return _service().load(name, version, format=format, sample=sample, allow_failed=allow_failed)


def diff(a: DatasetVersion, b: DatasetVersion) -> DatasetDiff:
    """Schema changes, row count change and distribution changes ranked by effect size."""
    return _service().diff(a, b)


def consumers(name: str, version: int) -> builtins.list[RunInput]:
    """The runs that read a version."""
    return _service().consumers(name, version)
