"""The fluent SDK's runs: the active run, ``start_run``, ``end_run`` and where they log to.

The active run lives on a per-thread stack. Metric values are buffered per run: a background thread
flushes them every ``metric_flush_interval`` seconds or every ``metric_buffer_size`` values, and
``end_run`` (or leaving the ``with`` block) flushes before it returns, so everything logged is
durable and visible to other processes when it does. Runs still active when the process exits are
ended as finished.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from loopline.client import environment
from loopline.client.buffer import Flusher, MetricBuffer
from loopline.client.client import Client
from loopline.entities import (
    Experiment,
    LifecycleStage,
    Page,
    Run,
    RunStatus,
    ViewType,
)
from loopline.errors import (
    InvalidArgumentError,
    InvalidStateError,
)

__all__ = [
    "ActiveRun",
    "active_run",
    "end_run",
    "flush",
    "get_client",
    "get_run",
    "get_uri",
    "search_runs",
    "set_experiment",
    "set_uri",
    "start_run",
]


class ActiveRun:
    """The run a ``with loopline.start_run():`` block works in."""

    def __init__(self, run: Run, client: Client, buffer: MetricBuffer) -> None:
        self.ended = False
        self._run = run
        self.client = client
        self.buffer = buffer

    @property
    def id(self) -> str:
        return self._run.info.run_id

    @property
    def info(self) -> Any:
        return self._run.info

    @property
    def data(self) -> Any:
        """The run's data as stored now (metrics flushed first)."""
        self.buffer.flush()
        return self.client.get_run(self.id).data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.ended:  # end_run() inside the block already set the status it wanted
            return
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        _end(self, status, suppress=exc_type is not None)

    def __repr__(self) -> str:
        return f"<ActiveRun id={self.id} name={self._run.info.run_name!r}>"


class _State:
    def __init__(self) -> None:
        self.uri: str | None = None
        self.client: Client | None = None
        self.experiment_id: str | None = None
        self.local = threading.local()
        self.lock = threading.Lock()
        self.all_runs: weakref.WeakSet[ActiveRun] = weakref.WeakSet()

    def get_client(self) -> Client:
        if self.client is None:
            with self.lock:
                if self.client is None:
                    self.client = Client(self.uri)
        return self.client

    def stack(self) -> list[ActiveRun]:
        stack: list[ActiveRun] | None = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        return stack


_state = _State()
_flusher = Flusher()


def set_uri(uri: str | None) -> None:
    """Point the fluent SDK at a server (``http://host:port``) or a local store (URL or folder).

    ``None`` goes back to ``LOOPLINE_URI`` or the embedded default. Active runs are ended first.
    """
    for run in list(_state.stack()):
        _end(run, RunStatus.FINISHED, suppress=False)
    with _state.lock:
        _state.uri = uri
        _state.client = None
        _state.experiment_id = None


def get_uri() -> str:
    return _state.get_client().uri


def get_client() -> Client:
    """The client the fluent functions use."""
    return _state.get_client()


def set_experiment(name: str | None = None, *, experiment_id: str | None = None) -> Experiment:
    """Make an experiment current for new runs, creating it by name if it does not exist."""
    client = _state.get_client()
    if experiment_id is not None:
        experiment = client.get_experiment(experiment_id)
    elif name is not None:
        experiment = client.get_or_create_experiment(name)
    else:
        raise InvalidArgumentError("set_experiment needs a name or an experiment_id.", field="name")
    if experiment.lifecycle_stage is LifecycleStage.DELETED:
        raise InvalidStateError(
            f"Experiment {experiment.name!r} is deleted; restore it first "
            f"(loopline.Client().restore_experiment({experiment.experiment_id!r})).",
            experiment_id=experiment.experiment_id,
        )
    _state.experiment_id = experiment.experiment_id
    return experiment


def _capture_tags(client: Client) -> dict[str, str]:
    if not client.settings.capture_environment:
        return {}
    return {**environment.environment_tags(), **environment.code_version_tags()}


def start_run(
    run_id: str | None = None,
    *,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it active; use it as a context manager.

    Examples:
        >>> import tempfile, loopline
        >>> loopline.set_uri(tempfile.mkdtemp())
        >>> with loopline.start_run(run_name="doc") as run:
        ...     _ = loopline.log_param("alpha", 0.5)
        ...     loopline.log_metric("rmse", 0.73, step=1)
        >>> loopline.get_run(run.id).data.metrics
        {'rmse': 0.73}
    """
    client = _state.get_client()
    stack = _state.stack()
    if stack and not nested:
        raise InvalidStateError(
            f"Run {stack[-1].id} is already active; end it first, or pass nested=True to start "
            "a child run.",
            run_id=stack[-1].id,
        )
    if run_id is not None:
        run = client.get_run(run_id)
        if run.info.lifecycle_stage is LifecycleStage.DELETED:
            raise InvalidStateError(
                f"Run {run_id} is deleted; restore it before resuming it.", run_id=run_id
            )
        if run.info.status is not RunStatus.RUNNING:
            client.update_run(run_id, status=RunStatus.RUNNING)
            run = client.get_run(run_id)
    else:
        all_tags = _capture_tags(client)
        all_tags.update(tags or {})
        if description is not None:
            all_tags["loopline.note.content"] = description
        run = client.create_run(
            experiment_id or _current_experiment(client),
            run_name=run_name,
            tags=all_tags,
            parent_run_id=stack[-1].id if stack else None,
            user_id=all_tags.get("loopline.user"),
        )
        if client.settings.capture_environment:
            client.log_text(
                run.id, environment.installed_packages(), "environment/requirements.txt"
            )
    buffer = MetricBuffer(run.info.run_id, client, client.settings.metric_buffer_size)
    _flusher.register(buffer, client.settings.metric_flush_interval)
    active = ActiveRun(run, client, buffer)
    stack.append(active)
    _state.all_runs.add(active)
    return active


def _current_experiment(client: Client) -> str:
    if _state.experiment_id is None:
        _state.experiment_id = client.backend.default_experiment().experiment_id
    return _state.experiment_id


def _end(run: ActiveRun, status: RunStatus, *, suppress: bool) -> None:
    stack = _state.stack()
    try:
        try:
            run.buffer.flush()
        finally:
            run.client.set_terminated(run.id, status)
    except Exception:
        if not suppress:
            raise
    finally:
        run.ended = True
        if run in stack:
            stack.remove(run)


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run: flush its metrics, then set its status. No active run: nothing."""
    stack = _state.stack()
    if stack:
        _end(stack[-1], RunStatus(str(status).lower()), suppress=False)


def active_run() -> ActiveRun | None:
    stack = _state.stack()
    return stack[-1] if stack else None


def _run_for_logging() -> ActiveRun:
    stack = _state.stack()
    return stack[-1] if stack else start_run()


def flush() -> None:
    """Write every buffered metric value of this process now."""
    for run in list(_state.all_runs):
        run.buffer.flush()


def get_run(run_id: str) -> Run:
    flush()
    return _state.get_client().get_run(run_id)


def search_runs(
    experiment: str | Sequence[str] | None = None,
    *,
    filter: str | None = None,
    order_by: Sequence[str] | str = (),
    max_results: int | None = 1000,
    page_token: str | None = None,
    view: ViewType | str = ViewType.ACTIVE_ONLY,
) -> Page[Run]:
    """Search runs of an experiment (name or id; default: the current one); see Client."""
    flush()
    client = _state.get_client()
    target = experiment if experiment is not None else _current_experiment(client)
    return client.search_runs(
        target,
        filter=filter,
        order_by=order_by,
        view=view,
        max_results=max_results,
        page_token=page_token,
    )


@atexit.register
def _at_exit() -> None:
    for run in list(_state.all_runs):
        if not run.ended:
            _end(run, RunStatus.FINISHED, suppress=True)
