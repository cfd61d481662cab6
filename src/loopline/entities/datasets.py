"""Dataset entities: named tables and their immutable, content-addressed versions.

The ``schema`` and ``profile`` of a version are plain JSON-ready structures, described field by
field in ``docs/datasets.md``; monitoring compares live data with a profile without re-reading the
data it came from.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Dataset", "DatasetVersion", "RunInput", "VersionStatus"]


class VersionStatus(enum.StrEnum):
    """Whether a version may be consumed: validated (passed or only warnings) or failed."""

    UNVALIDATED = "unvalidated"
    PASSED = "passed"
    WARNED = "warned"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Dataset:
    """A named table; its content lives in versions."""

    name: str
    description: str | None
    created_at: int
    updated_at: int
    latest_version: int | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable snapshot of a dataset.

    ``digest`` covers the full content in canonical form (column names and types, and the
    multiset of rows: row order and column order do not change it). ``data_digest`` is the blob
    of the stored Parquet file; ``sample_digest`` the blob of a fixed-seed sample.
    """

    name: str
    version: int
    digest: str
    data_digest: str
    sample_digest: str | None
    num_rows: int
    num_columns: int
    num_bytes: int
    schema: list[dict[str, Any]]
    profile: dict[str, dict[str, Any]]
    source: str
    created_at: int
    status: VersionStatus = VersionStatus.UNVALIDATED
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    validation: dict[str, Any] | None = None

    @property
    def uri(self) -> str:
        """``datasets:/<name>/<version>``, the reference runs and pipelines record."""
        return f"datasets:/{self.name}/{self.version}"

    @property
    def columns(self) -> list[str]:
        return [column["name"] for column in self.schema]


@dataclass(frozen=True, slots=True)
class RunInput:
    """A dataset version a run read, and in what role (``training``, ``evaluation``...)."""

    run_id: str
    dataset: str
    version: int
    digest: str
    context: str
