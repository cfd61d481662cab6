"""The remote datasets backend: :class:`~loopline.data.service.DatasetService`, over HTTP.

Same methods, arguments, return types and exceptions as the local service. A new version is read
and canonicalised here (so a bad source fails before anything is sent, with the local message),
written to Parquet in memory and uploaded; the server profiles and stores it. Loading downloads
the stored Parquet file.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from loopline.client.remote import RemoteTracking, _q, _run
from loopline.data.formats import check_format, convert
from loopline.entities import Dataset, DatasetVersion, Page, RunInput
from loopline.errors import InvalidArgumentError
from loopline.tracking import validation as v
from loopline.tracking.paging import check_max_results
from loopline.wire import (
    PARQUET_MEDIA_TYPE,
    PARQUET_META_DESCRIPTION,
    PARQUET_META_SOURCE,
    PARQUET_META_TAGS,
    decode_dataset,
    decode_dataset_version,
    decode_float,
    decode_run_input,
)

if TYPE_CHECKING:
    from loopline.data.diff import DatasetDiff
    from loopline.data.suites import CheckSuite
    from loopline.data.validation import ValidationReport

__all__ = ["RemoteDatasets"]

Ref = DatasetVersion | tuple[str, int | None]


def _name(name: str) -> str:
    return v.check_name(name, "dataset", max_length=256)


def _label(version: int | None) -> str:
    """A version as the server's URLs spell it: a number, or ``latest`` for ``None``."""
    if version is None:
        return "latest"
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidArgumentError(
            f"The version must be an integer or None; got {version!r}.", field="version"
        )
    return str(version)


def _version_url(name: str, version: int | None) -> str:
    return f"/api/datasets/{_q(_name(name))}/versions/{_label(version)}"


def _ref(ref: Ref) -> str:
    """``NAME:VERSION`` for the diff endpoint (it splits on the last ``:``)."""
    name, version = (ref.name, ref.version) if isinstance(ref, DatasetVersion) else ref
    return f"{_name(name)}:{_label(version)}"


def _parquet_bytes(table: Any, description: str | None, tags: dict[str, str], origin: str) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = {
        PARQUET_META_TAGS: json.dumps(tags).encode(),
        PARQUET_META_SOURCE: origin.encode("utf-8", errors="replace"),
    }
    if description is not None:
        try:
            meta[PARQUET_META_DESCRIPTION] = str(description).encode()
        except UnicodeEncodeError:
            raise InvalidArgumentError(
                "The description must be valid Unicode text (it holds a lone surrogate).",
                field="description",
            ) from None
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(meta), sink)
    return bytes(sink.getvalue().to_pybytes())


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _check_suite(checks: Any) -> None:
    from loopline.data.suites import CheckSuite

    if not isinstance(checks, CheckSuite):
        raise InvalidArgumentError(
            f"The 'checks' parameter must be a CheckSuite; got {type(checks).__name__}.",
            field="checks",
        )


def _suite(checks: Any) -> dict[str, Any]:
    """A suite as the server takes it; a custom check (Python code) refuses to travel."""
    _check_suite(checks)
    suite: dict[str, Any] = checks.to_dict()
    return suite


def _decode_diff(data: dict[str, Any]) -> DatasetDiff:
    from loopline.data.diff import ColumnChange, DatasetDiff

    changes = [
        ColumnChange(
            c["column"], c["kind"], decode_float(c["effect_size"]), c["measure"], c["details"]
        )
        for c in data["changes"]
    ]
    return DatasetDiff(
        a=data["a"], b=data["b"], added=data["added"], removed=data["removed"],
        retyped=data["retyped"], rows_a=data["rows_a"], rows_b=data["rows_b"], changes=changes,
    )  # fmt: skip


class RemoteDatasets:
    """Same methods as :class:`~loopline.data.service.DatasetService`, served remotely.

    It shares the HTTP connection pool, the token and the error decoding of ``tracking``.
    """

    def __init__(self, tracking: RemoteTracking) -> None:
        self.tracking = tracking

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.tracking._call(method, path, **kwargs)

    def create(
        self,
        name: str,
        source: Any,
        *,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        checks: CheckSuite | None = None,
        source_description: str | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> DatasetVersion:
        """A version of ``name`` holding ``source``; identical content returns the existing one.

        With ``checks``, the server then validates the version (as the local service does).
        """
        from loopline.data.canonical import canonicalize
        from loopline.data.sources import describe_source, read_source

        name = _name(name)
        clean_tags = v.check_string_map(tags, "tag")
        suite = _suite(checks) if checks is not None else None
        steps = ("reading", "canonicalizing", "uploading")
        if progress is not None:
            progress("reading", 0, len(steps))
        table = read_source(source)
        if progress is not None:
            progress("canonicalizing", 1, len(steps))
        table = canonicalize(table)
        origin = source_description or describe_source(source)
        body = _parquet_bytes(table, description, clean_tags, origin)
        if progress is not None:
            progress("uploading", 2, len(steps))
        headers = {"Content-Type": PARQUET_MEDIA_TYPE}
        data = self._call("POST", f"/api/datasets/{_q(name)}/versions", content=body,
                          headers=headers)  # fmt: skip
        version = decode_dataset_version(data)
        if suite is None:
            return version
        self._validate_remotely(version, suite, 100)
        return self.get(version.name, version.version)

    def infer_checks(self, version: DatasetVersion) -> CheckSuite:
        """A starting suite from a version's schema and profile (passes on that version)."""
        from loopline.data.inference import infer_checks

        return infer_checks(version.schema, version.profile, name=f"{version.name}-inferred")

    def validate(
        self, target: Any, checks: CheckSuite, *, max_failure_cases: int = 100
    ) -> ValidationReport:
        """Run a suite on a version (on the server, which records the report) or on any data.

        A suite with custom (Python) checks cannot travel; run it on loaded data instead.
        """
        from loopline.data import validation

        _check_suite(checks)
        if isinstance(target, DatasetVersion):
            return self._validate_remotely(target, checks.to_dict(), max_failure_cases)
        return validation.validate(target, checks, max_failure_cases=max_failure_cases)

    def _validate_remotely(
        self, version: DatasetVersion, suite: dict[str, Any], max_failure_cases: int
    ) -> ValidationReport:
        from loopline.data.validation import ValidationReport

        body = {"checks": suite, "max_failure_cases": max_failure_cases}
        url = f"{_version_url(version.name, version.version)}/validation"
        return ValidationReport.from_dict(self._call("POST", url, json=body))

    def get(self, name: str, version: int | None = None) -> DatasetVersion:
        """A version (``None``: the latest)."""
        return decode_dataset_version(self._call("GET", _version_url(name, version)))

    def versions(self, name: str) -> builtins.list[DatasetVersion]:
        data = self._call("GET", f"/api/datasets/{_q(_name(name))}/versions")
        return [decode_dataset_version(item) for item in data["versions"]]

    def list(
        self, *, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Dataset]:
        params: dict[str, Any] = {"max_results": check_max_results(max_results, 1000)}
        if page_token:
            params["page_token"] = page_token
        data = self._call("GET", "/api/datasets", params=params)
        return Page([decode_dataset(item) for item in data["datasets"]], data["next_token"])

    def check_consumable(self, version: DatasetVersion) -> DatasetVersion:
        """The version, unless it failed a blocking check (then ValidationFailedError)."""
        from loopline.data.status import check_consumable

        return check_consumable(version)

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
        import pyarrow as pa
        import pyarrow.parquet as pq

        check_format(format)
        params = {"sample": _flag(sample), "allow_failed": _flag(allow_failed)}
        data = self._call("GET", f"{_version_url(name, version)}/data", raw=True, params=params)
        table = pq.read_table(pa.BufferReader(data))
        return convert(table, format)

    def diff(self, a: Ref, b: Ref) -> DatasetDiff:
        """What changed from version ``a`` to version ``b``."""
        data = self._call("GET", "/api/datasets/diff", params={"a": _ref(a), "b": _ref(b)})
        return _decode_diff(data)

    def log_input(self, run_id: str, version: DatasetVersion, context: str = "training") -> None:
        """Record that a run read a version, in a role (``training``, ``evaluation``...)."""
        context = v.check_key(context, "context")
        body = {"name": version.name, "version": version.version, "context": context}
        self._call("POST", f"{_run(str(run_id))}/inputs", json=body)

    def run_inputs(self, run_id: str) -> builtins.list[RunInput]:
        data = self._call("GET", f"{_run(str(run_id))}/inputs")
        return [decode_run_input(item) for item in data["inputs"]]

    def consumers(self, name: str, version: int) -> builtins.list[RunInput]:
        """The runs that read a version."""
        data = self._call("GET", f"{_version_url(name, version)}/consumers")
        return [decode_run_input(item) for item in data["inputs"]]
