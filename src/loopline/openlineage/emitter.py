"""The lineage emitter: the OpenLineage events of training runs, evaluations and registrations.

Services hold one emitter, built from settings where the services are built
(:func:`emitter_from_settings`) and passed down. Emitting never raises: a transport failure is
logged as a warning on the ``loopline.openlineage`` logger and the caller's work goes on. With
the HTTP transport, failures are retried and then kept in an outbox that later emissions, or
:func:`flush_outbox`, re-send in order (:mod:`loopline.openlineage.delivery`).

Examples:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from loopline.entities import LifecycleStage, RunInfo, RunStatus
    >>> path = Path(tempfile.mkdtemp()) / "events.jsonl"
    >>> emitter = LineageEmitter(FileTransport(path))
    >>> info = RunInfo("0f" * 16, "1", "first", RunStatus.RUNNING, 0, None,
    ...                LifecycleStage.ACTIVE, "loopline-artifacts:/1/x")
    >>> emitter.training_started(info)
    >>> event = json.loads(path.read_text())
    >>> event["eventType"], event["job"]["name"], event["run"]["runId"][:8]
    ('START', 'experiments/1', '0f0f0f0f')
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from loopline.config import Settings
from loopline.entities import DatasetVersion, ModelVersion, RunInfo, RunStatus
from loopline.errors import InvalidArgumentError
from loopline.openlineage.delivery import ReliableHttpTransport
from loopline.openlineage.events import (
    PRODUCER,
    EventType,
    dataset_version_dataset,
    facet,
    iso_time,
    model_version_dataset,
    run_event,
    run_uuid,
)
from loopline.openlineage.outbox import FlushResult, Outbox
from loopline.openlineage.retry import RetryPolicy
from loopline.openlineage.transports import FileTransport, NullTransport, Transport

__all__ = [
    "LineageEmitter",
    "default_outbox_path",
    "default_path",
    "emitter_from_settings",
    "flush_outbox",
]

logger = logging.getLogger("loopline.openlineage")
_END_EVENTS: dict[RunStatus, EventType] = {
    RunStatus.FINISHED: "COMPLETE",
    RunStatus.FAILED: "FAIL",
    RunStatus.KILLED: "ABORT",
}
_EVALUATION_EVENTS: dict[str, EventType] = {s: s for s in ("START", "COMPLETE", "FAIL")}


class LineageEmitter:
    """Builds OpenLineage RunEvents from loopline entities and hands them to a transport."""

    def __init__(
        self, transport: Transport, *, namespace: str = "loopline", producer: str = PRODUCER
    ) -> None:
        self.transport = transport
        self.namespace = namespace
        self.producer = producer
        self._evaluations: dict[tuple[int, str, int], str] = {}

    @classmethod
    def disabled(cls) -> LineageEmitter:
        """An emitter that sends nothing (services built without settings use it)."""
        return cls(NullTransport())

    @property
    def enabled(self) -> bool:
        """False for the ``none`` transport: callers skip gathering inputs and outputs."""
        return not isinstance(self.transport, NullTransport)

    def emit(self, event: dict[str, Any]) -> None:
        """Send one event; a failure is a logged warning, never an exception."""
        if not self.enabled:
            return
        try:
            self.transport.emit(event)
        except Exception as exc:
            logger.warning(
                "OpenLineage event %s of job %s not delivered through %r: %s",
                event.get("eventType"), event.get("job", {}).get("name"), self.transport, exc,
            )  # fmt: skip

    def flush(self) -> FlushResult:
        """Re-send the events waiting in the outbox now, oldest first (HTTP transport only).

        Examples:
            >>> LineageEmitter.disabled().flush()
            FlushResult(delivered=0, dropped=0, remaining=0, error=None)
        """
        if isinstance(self.transport, ReliableHttpTransport):
            return self.transport.flush()
        return FlushResult(0, 0, 0)

    def _job_type(self, job_type: str) -> dict[str, Any]:
        return {"jobType": facet("jobType", self.producer, processingType="BATCH",
                                 integration="LOOPLINE", jobType=job_type)}  # fmt: skip

    # -- training runs -----------------------------------------------------------------------

    def _training_event(
        self,
        event_type: EventType,
        info: RunInfo,
        *,
        event_time: str,
        inputs: Sequence[DatasetVersion] = (),
        outputs: Sequence[ModelVersion] = (),
    ) -> dict[str, Any]:
        loopline = facet("loopline", self.producer, runId=info.run_id, runName=info.run_name,
                         experimentId=info.experiment_id, status=info.status.value)  # fmt: skip
        return run_event(
            event_type, run_id=run_uuid("run", info.run_id), namespace=self.namespace,
            job_name=f"experiments/{info.experiment_id}", event_time=event_time,
            inputs=[dataset_version_dataset(v, self.namespace, self.producer) for v in inputs],
            outputs=[model_version_dataset(m, self.namespace, self.producer) for m in outputs],
            run_facets={"loopline": loopline}, job_facets=self._job_type("TRAINING"),
            producer=self.producer,
        )  # fmt: skip

    def training_started(self, info: RunInfo) -> None:
        """START of a training run (the run was just created: nothing read or written yet)."""
        if self.enabled:
            self.emit(self._training_event("START", info, event_time=iso_time(info.start_time)))

    def training_ended(
        self,
        info: RunInfo,
        *,
        inputs: Sequence[DatasetVersion] = (),
        outputs: Sequence[ModelVersion] = (),
    ) -> None:
        """COMPLETE (finished), FAIL (failed) or ABORT (killed) with what the run read and wrote."""
        event_type = _END_EVENTS.get(info.status)
        if event_type is None or not self.enabled:
            return
        self.emit(self._training_event(event_type, info, event_time=iso_time(info.end_time),
                                       inputs=inputs, outputs=outputs))  # fmt: skip

    # -- registrations -----------------------------------------------------------------------

    def model_registered(self, version: ModelVersion) -> None:
        """START and COMPLETE of a registration: the run's model became a numbered version."""
        if not self.enabled:
            return
        loopline = facet("loopline", self.producer, sourceRunId=version.run_id,
                         artifactPath=version.artifact_path, digest=version.digest,
                         registeredBy=version.created_by)  # fmt: skip
        common: dict[str, Any] = {
            "run_id": run_uuid("registration", f"{version.name}/{version.version}"),
            "namespace": self.namespace,
            "job_name": f"models/{version.name}/register",
            "event_time": iso_time(version.created_at),
            "run_facets": {"loopline": loopline},
            "job_facets": self._job_type("REGISTRATION"),
            "producer": self.producer,
        }
        self.emit(run_event("START", **common))
        output = model_version_dataset(version, self.namespace, self.producer)
        self.emit(run_event("COMPLETE", outputs=[output], **common))

    # -- evaluations -------------------------------------------------------------------------

    def _evaluation_event(
        self,
        event_type: EventType,
        version: ModelVersion,
        run_id: str,
        data: Sequence[dict[str, Any]],
        run_facets: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        model = model_version_dataset(version, self.namespace, self.producer)
        return run_event(
            event_type, run_id=run_id, namespace=self.namespace,
            job_name=f"models/{version.name}/evaluate", inputs=[model, *data],
            run_facets=run_facets, job_facets=self._job_type("EVALUATION"),
            producer=self.producer,
        )  # fmt: skip

    def _error(self, message: str) -> dict[str, Any]:
        return {"errorMessage": facet("errorMessage", self.producer, message=message,
                                      programmingLanguage="PYTHON")}  # fmt: skip

    def evaluation_event(
        self, state: str, version: ModelVersion, details: Mapping[str, Any]
    ) -> None:
        """ReleaseService's lineage hook: one call at START, then COMPLETE or FAIL.

        The calls of one evaluation share a run id (kept per thread and version between START
        and its end). Dataset versions named in ``details`` (``datasets:/name/3`` sources of
        ``data`` and ``training_data``) are inputs beside the model version; an ``error`` in
        ``details`` becomes the errorMessage facet.
        """
        event_type = _EVALUATION_EVENTS.get(state)
        if not self.enabled or event_type is None:
            return
        key = (threading.get_ident(), version.name, version.version)
        if state == "START":
            run_id = self._evaluations[key] = str(uuid.uuid4())
        else:
            run_id = self._evaluations.pop(key, "") or str(uuid.uuid4())
        data = [self._named_dataset(uri) for uri in _dataset_uris(details)]
        facets = self._error(str(details["error"])) if details.get("error") else None
        self.emit(self._evaluation_event(event_type, version, run_id, data, facets))

    def _named_dataset(self, uri: str) -> dict[str, Any]:
        name, _, number = uri.removeprefix("datasets:/").rpartition("/")
        return {
            "namespace": self.namespace,
            "name": f"datasets/{name}",
            "facets": {"version": facet("version", self.producer, datasetVersion=number)},
        }

    @contextmanager
    def evaluation(
        self, version: ModelVersion, *, inputs: Sequence[DatasetVersion] = ()
    ) -> Iterator[str]:
        """START on entry, COMPLETE on a normal exit, FAIL (with the error) when it raises.

        Yields the evaluation's OpenLineage run id. The evaluated model version and the
        dataset versions it was scored on are the inputs.

        Examples:
            >>> emitter = LineageEmitter.disabled()
            >>> version = ModelVersion("churn", 1, "r" * 32, "model", "sklearn",
            ...                        "sha256:" + "0" * 64, "ana", 0)
            >>> with emitter.evaluation(version) as run_id:
            ...     len(run_id)
            36
        """
        run_id = str(uuid.uuid4())  # each evaluation is its own run, known to no store yet
        data = [dataset_version_dataset(v, self.namespace, self.producer) for v in inputs]
        self.emit(self._evaluation_event("START", version, run_id, data))
        try:
            yield run_id
        except BaseException as exc:
            error = self._error(str(exc) or type(exc).__name__)
            self.emit(self._evaluation_event("FAIL", version, run_id, data, error))
            raise
        self.emit(self._evaluation_event("COMPLETE", version, run_id, data))


def _dataset_uris(details: Mapping[str, Any]) -> list[str]:
    """The distinct ``datasets:/name/<n>`` sources found in an evaluation's details."""
    found: list[str] = []

    def visit(value: Any) -> None:
        if isinstance(value, Mapping):
            source = value.get("source")
            if isinstance(source, str) and source.startswith("datasets:/") and source not in found:
                found.append(source)
            for item in value.values():
                visit(item)
        elif isinstance(value, list | tuple):
            for item in value:
                visit(item)

    visit({key: details.get(key) for key in ("data", "training_data")})
    return found


def default_path(settings: Settings) -> Path:
    """``openlineage.jsonl`` beside a SQLite store file, else under ``home``."""
    url = settings.resolved_database_url()
    database = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ""
    if database and database != ":memory:":
        return Path(database).parent / "openlineage.jsonl"
    return settings.home.absolute() / "openlineage.jsonl"


def default_outbox_path(settings: Settings) -> Path:
    """``LOOPLINE_OPENLINEAGE_OUTBOX_PATH``, else ``openlineage-outbox.jsonl`` by the events file.

    Examples:
        >>> str(default_outbox_path(Settings(home="/tmp/ll")))
        '/tmp/ll/openlineage-outbox.jsonl'
    """
    if settings.openlineage_outbox_path is not None:
        return settings.openlineage_outbox_path.absolute()
    return default_path(settings).with_name("openlineage-outbox.jsonl")


def flush_outbox(settings: Settings | None = None) -> FlushResult:
    """Re-send the OpenLineage events kept in the outbox, in order (``LOOPLINE_*`` when None).

    Emissions flush the outbox on their own once the endpoint answers again; call this to
    deliver what waits without waiting for the next run, e.g. from a scheduled job. Nothing
    happens unless the transport is ``http``.

    Examples:
        >>> flush_outbox(Settings(openlineage_transport="none"))
        FlushResult(delivered=0, dropped=0, remaining=0, error=None)
    """
    return emitter_from_settings(settings if settings is not None else Settings()).flush()


def emitter_from_settings(settings: Settings) -> LineageEmitter:
    """The emitter ``LOOPLINE_OPENLINEAGE_*`` describe (``file`` transport by default)."""
    kind = settings.openlineage_transport
    transport: Transport
    if kind == "none":
        transport = NullTransport()
    elif kind == "http":
        if not settings.openlineage_url:
            raise InvalidArgumentError(
                "LOOPLINE_OPENLINEAGE_URL must be set when LOOPLINE_OPENLINEAGE_TRANSPORT is "
                "'http'. Got None instead.",
                field="openlineage_url",
            )
        key = settings.openlineage_api_key
        policy = RetryPolicy(retries=settings.openlineage_retries,
                             backoff=settings.openlineage_retry_backoff,
                             budget=settings.openlineage_retry_budget)  # fmt: skip
        transport = ReliableHttpTransport(
            settings.openlineage_url,
            outbox=Outbox(default_outbox_path(settings)),
            api_key=key.get_secret_value() if key is not None else None,
            timeout=settings.openlineage_timeout,
            policy=policy,
        )
    else:
        transport = FileTransport(settings.openlineage_path or default_path(settings))
    return LineageEmitter(transport, namespace=settings.openlineage_namespace)
