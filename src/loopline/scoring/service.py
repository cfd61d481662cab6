"""Bulk scoring and rescoring over explicit services (the SDK's ``loopline.score`` wraps these).

:func:`score` reads ``input`` in chunks, scores each with one resolved model version, applies
the decision policy, writes the output and logs every row to the event log (variant ``batch``).
:func:`rescore` takes the predictions of a deployment (or model) that have no outcome yet,
scores their logged inputs with the current model, and logs the new predictions linked to the
old ones (``outputs.rescored_from``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidArgumentError, InvalidStateError
from loopline.policies.model import resolve_policy
from loopline.scoring.chunks import Job
from loopline.scoring.predictor import ChunkPredictor
from loopline.scoring.run import RunStats, run_chunks
from loopline.scoring.sinks import open_output
from loopline.scoring.sources import open_input

if TYPE_CHECKING:
    from loopline.deploy import DeploymentService
    from loopline.registry.service import RegistryService
    from loopline.release.service import ReleaseService

__all__ = ["ScoreSummary", "Services", "load_predictor", "resolve_policy", "score"]


@dataclass(frozen=True, slots=True)
class Services:
    """The services a run needs: the registry and release (models), deployments (optional)."""

    registry: RegistryService
    release: ReleaseService
    deployments: DeploymentService | None = None
    eventlog_root: Path | None = None


@dataclass(frozen=True, slots=True)
class ScoreSummary(RunStats):
    """What :func:`score` did when it wrote its output somewhere (else it returns the table):
    the run's counts and seconds (:class:`RunStats`), where it wrote, and what scored."""

    output: str
    model_name: str
    model_version: int
    deployment: str


def load_predictor(
    services: Services, model_uri: str, *, trusted: Any = False
) -> tuple[ChunkPredictor, str, int]:
    """The predictor of the version ``model_uri`` names now, with its model name and version."""
    if not isinstance(model_uri, str) or not model_uri.startswith("models:/"):
        raise InvalidArgumentError(
            "Bulk scoring takes a registered model: models:/<name>/<version>, "
            f"models:/<name>@<alias> or models:/<name>/latest. Got {model_uri!r} instead.",
            field="model_uri",
        )
    version = services.registry.resolve(model_uri)
    fixed = f"models:/{version.name}/{version.version}"
    logged = services.release.load_model(fixed, trusted=trusted)
    return ChunkPredictor(logged), version.name, int(version.version)


def score(
    services: Services,
    model_uri: str | None,
    input: Any,
    output: Any = None,
    *,
    policy: Any = None,
    deployment: str | None = None,
    chunk_size: int = 100_000,
    log: bool = True,
    dask_address: str | None = None,
    progress: bool = True,
    key_column: str | None = None,
    keep_columns: Any = None,
    overwrite: bool = False,
    workers: int | None = None,
    trusted: Any = False,
    as_: str | None = None,
) -> Any:
    """Score ``input`` in chunks; the scored table when ``output`` is None, else a summary."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidArgumentError(
            f"The 'chunk_size' parameter must be a positive int. Got {chunk_size!r} instead.",
            field="chunk_size",
        )
    if as_ not in (None, "arrow", "pandas"):
        raise InvalidArgumentError(
            f"The 'as_' parameter must be 'arrow' or 'pandas'. Got {as_!r} instead.", field="as_"
        )
    chosen = resolve_policy(policy)
    if deployment is not None:
        if services.deployments is None:
            raise InvalidArgumentError("deployment= needs the deployments service.")
        found = services.deployments.get_deployment(deployment)
        if not found.enabled:
            raise InvalidStateError(
                f"The deployment {deployment!r} is stopped (kill switch): {found.kill_reason}. "
                "Enable it to score under its name.",
                field="deployment",
            )
        model_uri = model_uri or found.model_uri
        if chosen is None and found.policy:
            chosen = resolve_policy(found.policy)
    if model_uri is None:
        raise InvalidArgumentError(
            "Name a model URI (or a deployment whose model to use).", field="model_uri"
        )
    predictor, name, version = load_predictor(services, model_uri, trusted=trusted)
    root = _log_root(services, log)
    chunks, total, _described = open_input(input, chunk_size)
    keep = _keep(keep_columns)
    job = Job(name, version, deployment or f"batch:{name}", chosen, key_column,
              keep, root)  # fmt: skip
    sink = open_output(output, overwrite=overwrite)
    stats = run_chunks(job, predictor, _checked(chunks, predictor, job, keep_columns), sink,
                       total=total, workers=workers, dask_address=dask_address,
                       progress=progress, label=f"scoring {name} v{version}")  # fmt: skip
    result = sink.close()
    if output is None:
        if result is None:
            result = _empty(predictor, job)
        pandas_in = type(input).__module__.split(".")[0] == "pandas"
        return result.to_pandas() if (as_ or ("pandas" if pandas_in else "arrow")) == "pandas" \
            else result  # fmt: skip
    return _summary(sink.description, name, version, job.deployment, stats)


def _summary(where: str, name: str, version: int, deployment: str, stats: RunStats) -> Any:
    return ScoreSummary(stats.rows, stats.logged, stats.chunks, stats.seconds,
                        where, name, version, deployment)  # fmt: skip


def _empty(predictor: ChunkPredictor, job: Job) -> Any:
    import pyarrow as pa

    return pa.table({"prediction_id": pa.array([], pa.string())})


def _keep(columns: Any) -> tuple[str, ...]:
    if columns is None:
        return ()
    if isinstance(columns, str):
        return (columns,) if columns != "all" else ("*",)
    return tuple(str(c) for c in columns)


def _checked(chunks: Any, predictor: ChunkPredictor, job: Job, keep: Any) -> Any:
    """Chunks checked once on the first (missing columns name themselves before any work)."""
    first = True
    for table in chunks:
        if first:
            predictor.check(table)
            if job.policy is not None:
                job.policy.check_inputs(table.column_names)
            missing = [c for c in job.keep_columns if c != "*" and c not in table.column_names]
            if missing:
                raise InvalidArgumentError(
                    f"The keep_columns {missing} are not in the input.", field="keep_columns"
                )
            first = False
        yield table


def _log_root(services: Services, log: bool) -> str | None:
    if not log:
        return None
    if services.eventlog_root is None:
        raise InvalidArgumentError(
            "Logging bulk predictions needs the event log folder (LOOPLINE_EVENTLOG_ROOT); "
            "pass log=False to score without logging.",
            field="log",
        )
    from loopline.eventlog.schema import require_pyarrow

    require_pyarrow()
    return str(services.eventlog_root)
