"""OpenLineage RunEvents (spec 2-0-2) built from loopline entities, as JSON-ready dicts.

Names follow loopline's own references so a consumer such as Marquez shows familiar ones: a
dataset version is the dataset ``datasets/<name>`` with a ``version`` facet, a registered model
version is ``models/<name>`` with its version number, a training run is a run of the job
``experiments/<experiment id>`` (ids, not names: renaming an experiment does not split its history).

Examples:
    >>> event = run_event("START", run_id=run_uuid("run", "abc"), namespace="loopline",
    ...                   job_name="experiments/1", event_time="2026-01-01T00:00:00Z")
    >>> event["eventType"], event["job"]
    ('START', {'namespace': 'loopline', 'name': 'experiments/1'})
    >>> run_uuid("run", "0f" * 16)  # a loopline run id is already a UUID
    '0f0f0f0f-0f0f-0f0f-0f0f-0f0f0f0f0f0f'
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from loopline import __version__
from loopline.entities import DatasetVersion, ModelVersion

__all__ = [
    "PRODUCER",
    "RUN_EVENT_SCHEMA_URL",
    "EventType",
    "dataset_version_dataset",
    "facet",
    "iso_time",
    "model_version_dataset",
    "run_event",
    "run_uuid",
]

EventType = Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]
PRODUCER = f"https://github.com/loopline/loopline/tree/v{__version__}"
RUN_EVENT_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_FACETS = "https://openlineage.io/spec/facets"
FACET_SCHEMAS = {
    "schema": f"{_FACETS}/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "version": f"{_FACETS}/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
    "documentation": (
        f"{_FACETS}/1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet"
    ),
    "jobType": f"{_FACETS}/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
    "errorMessage": f"{_FACETS}/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "loopline": "https://github.com/loopline/loopline/blob/main/docs/lineage.md#the-loopline-facet",
}
# uuid5 namespace of the run ids loopline derives (a fixed, random UUID: never change it).
_RUN_NAMESPACE = uuid.UUID("6b1f4f1e-2f5e-4c8a-9a57-0c6f3f1d2b44")


def run_uuid(kind: str, key: str) -> str:
    """A stable OpenLineage runId for a loopline object: the same object, the same UUID.

    A run id that is already 32 hex digits (every loopline run's) is used as it is, so the
    OpenLineage run and the loopline run share one id; anything else becomes a uuid5.
    """
    if kind == "run":
        try:
            return str(uuid.UUID(hex=key))
        except ValueError:
            pass
    return str(uuid.uuid5(_RUN_NAMESPACE, f"{kind}:{key}"))


_MIN_MS = -62_135_596_800_000  # 0001-01-01T00:00:00Z
_MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def iso_time(epoch_ms: int | None = None) -> str:
    """An ISO 8601 UTC timestamp (``now`` when ``epoch_ms`` is None).

    Run times are client-supplied; one outside the years 1 to 9999 is clamped to that range
    rather than failing the run that carries it.

    Examples:
        >>> iso_time(0)
        '1970-01-01T00:00:00.000Z'
        >>> iso_time(2**62)
        '9999-12-31T23:59:59.999Z'
    """
    if epoch_ms is None:
        moment = datetime.now(UTC)
    else:
        clamped = min(max(epoch_ms, _MIN_MS), _MAX_MS)
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=clamped)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def facet(kind: str, producer: str = PRODUCER, **fields: Any) -> dict[str, Any]:
    """A facet of a known ``kind`` (``schema``, ``version``...) with its producer and schema URL."""
    return {"_producer": producer, "_schemaURL": FACET_SCHEMAS[kind], **fields}


def dataset_version_dataset(
    version: DatasetVersion, namespace: str, producer: str = PRODUCER
) -> dict[str, Any]:
    """A dataset version as an OpenLineage dataset: schema, version and description facets."""
    fields = [
        {"name": str(column["name"]), "type": str(column.get("type", "")), "ordinal_position": i}
        for i, column in enumerate(version.schema, start=1)
    ]
    facets = {
        "schema": facet("schema", producer, fields=fields),
        "version": facet("version", producer, datasetVersion=str(version.version)),
    }
    if version.description:
        facets["documentation"] = facet("documentation", producer, description=version.description)
    return {"namespace": namespace, "name": f"datasets/{version.name}", "facets": facets}


def model_version_dataset(
    version: ModelVersion, namespace: str, producer: str = PRODUCER
) -> dict[str, Any]:
    """A registered model version as an OpenLineage dataset; its signature's inputs as schema."""
    facets: dict[str, Any] = {
        "version": facet("version", producer, datasetVersion=str(version.version)),
    }
    inputs = (version.signature or {}).get("inputs") or []
    if inputs:
        fields = [
            {"name": str(c.get("name")), "type": str(c.get("type", "")), "ordinal_position": i}
            for i, c in enumerate(inputs, start=1)
            if isinstance(c, Mapping)
        ]
        facets["schema"] = facet("schema", producer, fields=fields)
    return {"namespace": namespace, "name": f"models/{version.name}", "facets": facets}


def run_event(
    event_type: EventType,
    *,
    run_id: str,
    namespace: str,
    job_name: str,
    event_time: str | None = None,
    inputs: Sequence[Mapping[str, Any]] = (),
    outputs: Sequence[Mapping[str, Any]] = (),
    run_facets: Mapping[str, Any] | None = None,
    job_facets: Mapping[str, Any] | None = None,
    producer: str = PRODUCER,
) -> dict[str, Any]:
    """One RunEvent: the run's state change, the job it belongs to, and what it read and wrote."""
    run: dict[str, Any] = {"runId": run_id}
    if run_facets:
        run["facets"] = dict(run_facets)
    job: dict[str, Any] = {"namespace": namespace, "name": job_name}
    if job_facets:
        job["facets"] = dict(job_facets)
    return {
        "eventType": event_type,
        "eventTime": event_time or iso_time(),
        "run": run,
        "job": job,
        "inputs": [dict(d) for d in inputs],
        "outputs": [dict(d) for d in outputs],
        "producer": producer,
        "schemaURL": RUN_EVENT_SCHEMA_URL,
    }
