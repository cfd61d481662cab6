"""/api/datasets, and /api/runs/{run_id}/inputs (the dataset versions a run read).

A dataset name may hold ``/`` (it is matched as a path), so every route of one dataset ends in a
fixed word (``/versions``, ``/profile``, ...). A version is a number or ``latest``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from loopline.data.service import DatasetService
from loopline.data.suites import CheckSuite
from loopline.entities import DatasetVersion, RunInput
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.server.deps import dataset_service
from loopline.wire import (
    PARQUET_MEDIA_TYPE,
    PARQUET_META_DESCRIPTION,
    PARQUET_META_SOURCE,
    PARQUET_META_TAGS,
    encode_dataset,
    encode_dataset_version,
    encode_json,
    encode_run_input,
)

__all__ = ["router", "run_inputs_router"]

router = APIRouter(prefix="/api/datasets", tags=["datasets"])
run_inputs_router = APIRouter(prefix="/api/runs/{run_id}/inputs", tags=["datasets"])
Service = Annotated[DatasetService, Depends(dataset_service)]

PARQUET_TYPES = (PARQUET_MEDIA_TYPE, "application/octet-stream")
_INT64 = 2**63
VERSION_DOC = "A version number, or `latest`."
ONE = "/{name:path}/versions/{version}"


def parse_version(text: str) -> int | None:
    """``latest`` is ``None``; anything else must be a 64-bit integer."""
    if text == "latest":
        return None
    try:
        number = int(text)
    except ValueError:
        number = _INT64
    if not -_INT64 <= number < _INT64:
        raise InvalidArgumentError(
            f"The version must be a number or 'latest'; got {text[:40]!r}.", field="version"
        )
    return number


def parse_ref(ref: str, argument: str) -> tuple[str, int | None]:
    """``NAME:VERSION`` (or ``NAME``, the latest); the last ``:`` splits, as names may hold one."""
    name, sep, tail = ref.rpartition(":")
    if not sep or not (tail == "latest" or tail.lstrip("-").isdigit()):
        return ref, None
    try:
        return name, parse_version(tail)
    except InvalidArgumentError:
        raise InvalidArgumentError(
            f"The {argument!r} parameter must be NAME:VERSION; got {ref[:80]!r}.", field=argument
        ) from None


def read_parquet_upload(data: bytes, content_type: str) -> Any:
    """The uploaded Parquet file as an Arrow table, and its description and tags metadata."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    media = content_type.split(";")[0].strip().lower()
    if media not in PARQUET_TYPES:
        raise InvalidArgumentError(
            f"The body must be a Parquet file sent as {' or '.join(PARQUET_TYPES)}; got "
            f"Content-Type {content_type[:80]!r}.",
            field="body",
        )
    if not data:
        raise InvalidArgumentError("The body is empty; send a Parquet file.", field="body")
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidArgumentError(
            f"The body is not a readable Parquet file: {str(exc)[:200]}", field="body"
        ) from None
    meta = table.schema.metadata or {}
    try:
        tags = json.loads(meta[PARQUET_META_TAGS]) if PARQUET_META_TAGS in meta else None
        description = (
            meta[PARQUET_META_DESCRIPTION].decode() if PARQUET_META_DESCRIPTION in meta else None
        )
    except (ValueError, UnicodeError):
        raise InvalidArgumentError(
            "The Parquet metadata 'loopline.description' must be UTF-8 text and "
            "'loopline.tags' a JSON object.",
            field="body",
        ) from None
    if tags is not None and not isinstance(tags, dict):
        raise InvalidArgumentError(
            "The Parquet metadata 'loopline.tags' must be a JSON object.", field="tags"
        )
    origin = meta.get(PARQUET_META_SOURCE, b"").decode("utf-8", errors="replace")[:1000]
    request_source = f"upload:{origin}" if origin else "upload"
    return table.replace_schema_metadata(None), description, tags, request_source


def parse_tags(items: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidArgumentError(
                f"A 'tag' parameter must be KEY=VALUE; got {item[:80]!r}.", field="tag"
            )
        tags[key] = value
    return tags


@router.get("", summary="List datasets, one page")
def list_datasets(
    service: Service,
    max_results: Annotated[int | None, Query(description="Page size (default 1000).")] = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    page = service.list(max_results=max_results, page_token=page_token)
    return {"datasets": [encode_dataset(d) for d in page], "next_token": page.next_token}


@router.get("/diff", summary="What changed between two versions")
def diff_versions(
    service: Service,
    a: Annotated[str, Query(description="The first version: `NAME:VERSION`.")],
    b: Annotated[str, Query(description="The second version: `NAME:VERSION`.")],
) -> dict[str, Any]:
    """Schema changes, the row count change and distribution changes ranked by effect size."""
    result: dict[str, Any] = encode_json(
        service.diff(parse_ref(a, "a"), parse_ref(b, "b")).to_dict()
    )
    return result


@router.get("/{name:path}/versions", summary="Every version of a dataset, oldest first")
def list_versions(name: str, service: Service) -> dict[str, Any]:
    return {"versions": [encode_dataset_version(v) for v in service.versions(name)]}


@router.post(
    "/{name:path}/versions",
    status_code=201,
    summary="Create a version from an uploaded Parquet file",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}} for t in PARQUET_TYPES
            },
        }
    },
)
async def create_version(
    name: str,
    request: Request,
    service: Service,
    description: Annotated[str | None, Query(max_length=8000)] = None,
    tag: Annotated[list[str] | None, Query(description="`KEY=VALUE`; repeat for more.")] = None,
) -> dict[str, Any]:
    """The body is a Parquet file. Identical content returns the existing version.

    Description and tags come from the query (`description`, `tag=KEY=VALUE`), else from the
    file's key-value metadata `loopline.description` and `loopline.tags` (a JSON object).
    """
    data = await request.body()
    content_type = request.headers.get("content-type", "")
    table, meta_description, meta_tags, source = await run_in_threadpool(
        read_parquet_upload, data, content_type
    )
    tags = parse_tags(tag) if tag else meta_tags
    version = await run_in_threadpool(
        lambda: service.create(
            name,
            table,
            description=description or meta_description,
            tags=tags,
            source_description=source,
        )
    )
    return encode_dataset_version(version)


@router.get(ONE, summary="Get a version (or `latest`)")
def get_version(name: str, version: str, service: Service) -> dict[str, Any]:
    return encode_dataset_version(service.get(name, parse_version(version)))


@router.get(f"{ONE}/profile", summary="A version's schema and per-column profile")
def get_profile(name: str, version: str, service: Service) -> dict[str, Any]:
    found = service.get(name, parse_version(version))
    return {"name": found.name, "version": found.version, "num_rows": found.num_rows,
            "schema": encode_json(found.schema), "profile": encode_json(found.profile)}  # fmt: skip


@router.get(
    f"{ONE}/data",
    summary="Download a version's rows (or its fixed-seed sample) as Parquet",
    response_class=Response,
    responses={200: {"content": {PARQUET_MEDIA_TYPE: {}}}},
)
def get_data(
    name: str, version: str, service: Service, sample: bool = False, allow_failed: bool = False
) -> Response:
    """A version that failed a blocking check is refused (409) unless `allow_failed=true`."""
    found = service.get(name, parse_version(version))
    if not allow_failed:
        service.check_consumable(found)
    digest = found.sample_digest if sample and found.sample_digest else found.data_digest
    filename = f"{found.name.replace('/', '_')}-{found.version}{'-sample' if sample else ''}"
    headers = {"Content-Disposition": f'attachment; filename="{_ascii(filename)}.parquet"'}
    path = service.artifacts.local_path(digest)
    if path is not None:
        return FileResponse(path, media_type=PARQUET_MEDIA_TYPE, headers=headers)
    data = service.artifacts.read_bytes(digest)
    return Response(data, media_type=PARQUET_MEDIA_TYPE, headers=headers)


def _ascii(text: str) -> str:
    return "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in text)


@router.get(f"{ONE}/consumers", summary="The runs that read a version")
def get_consumers(name: str, version: str, service: Service) -> dict[str, Any]:
    found = service.get(name, parse_version(version))
    return {"inputs": [encode_run_input(i) for i in service.consumers(name, found.version)]}


@router.get(f"{ONE}/validation", summary="A version's stored validation report")
def get_validation(name: str, version: str, service: Service) -> dict[str, Any]:
    found = service.get(name, parse_version(version))
    if found.validation is None:
        raise NotFoundError(
            f"Dataset {found.name!r} version {found.version} has no validation report.",
            dataset=found.name,
            version=found.version,
        )
    report: dict[str, Any] = encode_json(found.validation)
    return report


class ValidationRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checks: dict[str, Any] = Field(description="A check suite: `{name, checks: [...]}`.")
    max_failure_cases: int = Field(default=100, ge=0, le=100_000)


@router.post(f"{ONE}/validation", summary="Validate a version; the report is stored with it")
def validate_version(
    name: str, version: str, body: ValidationRun, service: Service
) -> dict[str, Any]:
    """Runs the suite on the server, records the report and status, and alerts on failure."""
    found = service.get(name, parse_version(version))
    suite = CheckSuite.from_dict(body.checks)
    report = service.validate(found, suite, max_failure_cases=body.max_failure_cases)
    result: dict[str, Any] = encode_json(report.to_dict())
    return result


class RunInputCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=256, description="The dataset.")
    version: int = Field(ge=-(2**63), lt=2**63, description="The version the run read.")
    context: str = Field(default="training", description="The role: training, evaluation...")


@run_inputs_router.post("", status_code=201, summary="Record that a run read a dataset version")
def log_input(run_id: str, body: RunInputCreate, service: Service) -> dict[str, Any]:
    version: DatasetVersion = service.get(body.name, body.version)
    service.log_input(run_id, version, body.context)
    return encode_run_input(
        RunInput(run_id, version.name, version.version, version.digest, body.context)
    )


@run_inputs_router.get("", summary="The dataset versions a run read")
def run_inputs(run_id: str, service: Service) -> dict[str, Any]:
    return {"inputs": [encode_run_input(i) for i in service.run_inputs(run_id)]}
