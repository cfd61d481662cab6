"""The datasets service: create, read, list, load and diff versions; record what runs read."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Mapping
from typing import Any

from loopline.alerts import AlertService
from loopline.artifacts import ArtifactStore
from loopline.data.canonical import canonicalize, content_digest
from loopline.data.diff import DatasetDiff, diff_versions
from loopline.data.formats import check_format, convert
from loopline.data.inference import infer_checks
from loopline.data.profile import profile_table, sample_indices
from loopline.data.sources import describe_source, read_source
from loopline.data.status import check_consumable
from loopline.data.suites import CheckSuite
from loopline.data.validation import ValidationReport, validate
from loopline.data.writer import ParquetWriter
from loopline.entities import Dataset, DatasetVersion, Page, RunInput, VersionStatus
from loopline.errors import InvalidArgumentError
from loopline.store import SqlTrackingStore
from loopline.tracking import validation as v
from loopline.tracking.paging import check_max_results, decode_token, encode_token

__all__ = ["DatasetService"]

CREATE_STEPS = ("reading", "canonicalizing", "hashing", "profiling", "writing", "recording")
ProgressCallback = Callable[[str, int, int], None]


def _reporter(callback: ProgressCallback | None, steps: tuple[str, ...]) -> Callable[[str], None]:
    """``report(step)`` calls ``callback(step, steps done so far, total steps)``."""

    def report(step: str) -> None:
        if callback is not None:
            callback(step, steps.index(step), len(steps))

    return report


def _now() -> int:
    return int(time.time() * 1000)


class DatasetService:
    """Versions of named tables over a metadata store and an artifact store."""

    def __init__(
        self,
        store: SqlTrackingStore,
        artifacts: ArtifactStore,
        *,
        alerts: AlertService | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.alerts = alerts

    def create(
        self,
        name: str,
        source: Any,
        *,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        checks: CheckSuite | None = None,
        source_description: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> DatasetVersion:
        """A version of ``name`` holding ``source``; identical content returns the existing one.

        The Parquet file, profile and sample are written before the version row, so a failure
        leaves no version behind (at most an unreferenced blob). With ``checks``, the version is
        validated at once: a blocking failure records it as ``failed`` (and raises an alert), so
        ``load`` and ``log_input`` refuse it. ``progress(step, done, total)`` is told each step.
        """
        name = v.check_name(name, "dataset", max_length=256)
        clean_tags = v.check_string_map(tags, "tag")
        report = _reporter(progress, CREATE_STEPS)
        report("reading")
        table = read_source(source)
        report("canonicalizing")
        table = canonicalize(table)
        writer = ParquetWriter(table, self.artifacts)  # writes while this thread hashes, profiles
        try:
            report("hashing")
            digest = content_digest(table)
            existing = self.store.find_version_by_digest(name, digest)
            if existing is None:
                report("profiling")
                schema, profile = profile_table(table)
        except BaseException:
            writer.discard()
            raise
        if existing is not None:
            writer.discard()
            if checks is not None:
                self._record(existing, validate(table, checks))
                return self.get(existing.name, existing.version)
            return existing
        report("writing")
        data_digest, size = writer.keep()
        sample_digest, _ = ParquetWriter(table.take(sample_indices(table.num_rows)),
                                         self.artifacts).keep()  # fmt: skip
        version = DatasetVersion(
            name=name, version=0, digest=digest, data_digest=data_digest,
            sample_digest=sample_digest, num_rows=table.num_rows,
            num_columns=table.num_columns, num_bytes=size, schema=schema, profile=profile,
            source=source_description or describe_source(source), created_at=_now(),
            description=description, tags=clean_tags,
        )  # fmt: skip
        report("recording")
        created = self.store.create_version(version, now=_now())
        if checks is None:
            return created
        self._record(created, validate(table, checks))
        return self.get(created.name, created.version)

    def infer_checks(self, version: DatasetVersion) -> CheckSuite:
        """A starting suite from a version's schema and profile (passes on that version)."""
        return infer_checks(version.schema, version.profile, name=f"{version.name}-inferred")

    def validate(
        self, target: Any, checks: CheckSuite, *, max_failure_cases: int = 100
    ) -> ValidationReport:
        """Run a suite on a version (recording the report and status with it) or on any data.

        Findings are results: the report says passed, warned or failed. A version whose
        blocking checks fail is recorded as failed, and an alert is raised.
        """
        if not isinstance(checks, CheckSuite):
            raise InvalidArgumentError(
                f"The 'checks' parameter must be a CheckSuite; got {type(checks).__name__}.",
                field="checks",
            )
        if isinstance(target, DatasetVersion):
            table = self._read_parquet(target.data_digest)
            report = validate(table, checks, max_failure_cases=max_failure_cases)
            self._record(target, report)
            return report
        return validate(target, checks, max_failure_cases=max_failure_cases)

    def _record(self, version: DatasetVersion, report: ValidationReport) -> None:
        status = VersionStatus(report.status)
        self.store.set_validation(version.name, version.version, status=status,
                                  report=report.to_dict())  # fmt: skip
        if status in (VersionStatus.FAILED, VersionStatus.WARNED) and self.alerts is not None:
            failing = [f for f in report.findings if f.failure_count]
            summary = "; ".join(f"{f.check}: {f.failure_count} failing" for f in failing[:10])
            self.alerts.raise_alert(
                version.uri,
                f"Validation {status.value} for {version.uri}",
                summary or f"Suite {report.suite!r} {status.value}.",
                severity="critical" if status is VersionStatus.FAILED else "warning",
                details={
                    "suite": report.suite,
                    "status": status.value,
                    "findings": len(report.findings),
                },
                dedup_key=f"validation:{version.uri}:{status.value}",
            )

    def check_consumable(self, version: DatasetVersion) -> DatasetVersion:
        """The version, unless it failed a blocking check (then ValidationFailedError)."""
        return check_consumable(version)

    def get(self, name: str, version: int | None = None) -> DatasetVersion:
        """A version (``None``: the latest)."""
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 2**31
        ):
            raise InvalidArgumentError(
                f"The 'version' parameter must be a positive integer; got {version!r}.",
                field="version",
            )
        return self.store.get_version(v.check_name(name, "dataset", max_length=256), version)

    def versions(self, name: str) -> builtins.list[DatasetVersion]:
        return self.store.list_versions(v.check_name(name, "dataset", max_length=256))

    def list(
        self, *, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Dataset]:
        limit = check_max_results(max_results, 1000)
        offset = decode_token(page_token)
        items, more = self.store.list_datasets(offset=offset, limit=limit)
        return Page(items, encode_token(offset + limit) if more else None)

    def load(
        self,
        name: str,
        version: int | None = None,
        *,
        format: str = "pandas",
        sample: bool = False,
        allow_failed: bool = False,
    ) -> Any:
        """The version's rows as a pandas DataFrame, a polars DataFrame or an Arrow table.

        A version that failed a blocking check raises ValidationFailedError unless
        ``allow_failed=True``.
        """
        check_format(format)
        found = self.get(name, version)
        if not allow_failed:
            self.check_consumable(found)
        digest = found.sample_digest if sample and found.sample_digest else found.data_digest
        table = self._read_parquet(digest)
        return convert(table, format)

    def _read_parquet(self, digest: str) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self.artifacts.local_path(digest)
        if path is not None:
            return pq.read_table(path)
        return pq.read_table(pa.BufferReader(self.artifacts.read_bytes(digest)))

    def diff(
        self, a: DatasetVersion | tuple[str, int | None], b: DatasetVersion | tuple[str, int | None]
    ) -> DatasetDiff:
        """What changed from version ``a`` to version ``b``."""
        first = a if isinstance(a, DatasetVersion) else self.get(*a)
        second = b if isinstance(b, DatasetVersion) else self.get(*b)
        return diff_versions(first, second)

    def log_input(self, run_id: str, version: DatasetVersion, context: str = "training") -> None:
        """Record that a run read a version, in a role (``training``, ``evaluation``...)."""
        context = v.check_key(context, "context")
        self.check_consumable(self.get(version.name, version.version))
        self.store.record_input(str(run_id), version.name, version.version, context)

    def run_inputs(self, run_id: str) -> builtins.list[RunInput]:
        self.store.get_run_info(str(run_id))
        return self.store.run_inputs(str(run_id))

    def consumers(self, name: str, version: int) -> builtins.list[RunInput]:
        """The runs that read a version."""
        self.get(name, version)
        return self.store.version_consumers(name, version)
