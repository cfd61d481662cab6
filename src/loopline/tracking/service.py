"""The tracking service: experiments, runs and what is logged to them.

It holds the business rules and takes its storage by argument. The local SDK backend calls it
in-process; the server's routes call it for remote clients. Both see the same results and errors.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from loopline.artifacts import ArtifactStore, check_relative_path, walk_folder
from loopline.entities import (
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    Page,
    Run,
    RunInfo,
    RunStatus,
    ViewType,
)
from loopline.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
)
from loopline.filters import parse_filter, parse_order_by
from loopline.openlineage import LineageEmitter
from loopline.store import SqlTrackingStore
from loopline.tracking import validation as v
from loopline.tracking.names import random_run_name
from loopline.tracking.paging import check_max_results, decode_token, encode_token
from loopline.tracking.shortcuts import LogShortcuts

__all__ = ["DEFAULT_EXPERIMENT_NAME", "MetricInput", "TrackingService", "now_ms"]

DEFAULT_EXPERIMENT_NAME = "Default"
ARTIFACT_SCHEME = "loopline-artifacts:"
MetricInput = v.MetricInput
_INT64 = 2**63


def now_ms() -> int:
    return int(time.time() * 1000)


class TrackingService(LogShortcuts):
    """Experiments, runs, params, metrics, tags and artifacts over one metadata and blob store."""

    def __init__(
        self,
        store: SqlTrackingStore,
        artifacts: ArtifactStore,
        *,
        lineage: LineageEmitter | None = None,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.lineage = lineage if lineage is not None else LineageEmitter.disabled()

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(self, name: str, *, tags: Mapping[str, Any] | None = None) -> str:
        """Create an experiment; returns its id. Names are unique."""
        return self.store.create_experiment(
            v.check_name(name, "experiment", max_length=256),
            artifact_root=ARTIFACT_SCHEME,
            tags=v.check_string_map(tags, "tag"),
            now=now_ms(),
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment:
        return self.store.get_experiment_by_name(v.check_name(name, "experiment", max_length=256))

    def get_or_create_experiment(self, name: str) -> Experiment:
        """The experiment of that name, created if missing (restored if deleted it is not)."""
        try:
            return self.get_experiment_by_name(name)
        except NotFoundError:
            pass
        try:
            return self.get_experiment(self.create_experiment(name))
        except AlreadyExistsError:
            return self.get_experiment_by_name(name)  # another process created it first

    def default_experiment(self) -> Experiment:
        return self.get_or_create_experiment(DEFAULT_EXPERIMENT_NAME)

    def list_experiments(
        self,
        *,
        view: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        limit = check_max_results(max_results, 1000)
        offset = decode_token(page_token)
        items, more = self.store.list_experiments(
            view=v.check_view(view), offset=offset, limit=limit
        )
        return Page(items, encode_token(offset + limit) if more else None)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        name = v.check_name(new_name, "experiment", max_length=256)
        self.store.update_experiment(str(experiment_id), name=name, now=now_ms())

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        tags = v.check_string_map({key: value}, "tag")
        self.store.update_experiment(str(experiment_id), tags=tags, now=now_ms())

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment; its runs are hidden with it. Restorable."""
        self.store.update_experiment(
            str(experiment_id), lifecycle_stage=LifecycleStage.DELETED, now=now_ms()
        )

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.update_experiment(
            str(experiment_id), lifecycle_stage=LifecycleStage.ACTIVE, now=now_ms()
        )

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        user_id: str | None = None,
    ) -> Run:
        """Start a run in ``running`` status."""
        experiment_id = str(experiment_id)
        if self.store.experiment_stage(experiment_id) is LifecycleStage.DELETED:
            raise InvalidStateError(
                f"Experiment {experiment_id} is deleted; restore it before starting runs in it.",
                experiment_id=experiment_id,
            )
        run_id = uuid.uuid4().hex
        name = v.check_name(run_name, "run") if run_name is not None else random_run_name()
        info = RunInfo(
            run_id=run_id,
            experiment_id=experiment_id,
            run_name=name,
            status=RunStatus.RUNNING,
            start_time=now_ms()
            if start_time is None
            else v.check_epoch_ms(start_time, "start_time"),
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=f"{ARTIFACT_SCHEME}/{experiment_id}/{run_id}",
            parent_run_id=parent_run_id,
            user_id=v.check_user_id(user_id),
        )
        self.store.create_run(info, tags=v.check_string_map(tags, "tag"))
        run = self.store.get_run(run_id)
        self.lineage.training_started(run.info)  # OpenLineage START (one file append by default)
        return run

    def get_run(self, run_id: str) -> Run:
        return self.store.get_run(str(run_id))

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change a run's status (ending it sets ``end_time``) or name."""
        new_status = v.check_status(status) if status is not None else None
        if end_time is not None:
            end_time = v.check_epoch_ms(end_time, "end_time")
        if new_status is not None and new_status.is_terminal and end_time is None:
            end_time = now_ms()
        name = v.check_name(run_name, "run") if run_name is not None else None
        ending = new_status is not None and new_status.is_terminal and self.lineage.enabled
        before = self.store.get_run_info(str(run_id)).status if ending else None
        self.store.update_run(str(run_id), status=new_status, end_time=end_time, run_name=name)
        info = self.store.get_run_info(str(run_id))
        if ending and before is not new_status:  # one end event per change, not per call
            self._emit_run_end(info)
        return info

    def _emit_run_end(self, info: RunInfo) -> None:
        """OpenLineage COMPLETE/FAIL/ABORT: dataset versions read in, model versions out."""
        inputs = [self.store.get_version(i.dataset, i.version)
                  for i in self.store.run_inputs(info.run_id)]  # fmt: skip
        outputs = self.store.list_model_versions_of_run(info.run_id)
        self.lineage.training_ended(info, inputs=inputs, outputs=outputs)

    def end_run(self, run_id: str, status: RunStatus | str = RunStatus.FINISHED) -> RunInfo:
        return self.update_run(run_id, status=status)

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run (hidden from default searches; restorable)."""
        self.store.update_run(str(run_id), lifecycle_stage=LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self.store.update_run(str(run_id), lifecycle_stage=LifecycleStage.ACTIVE)

    def _writable(self, run_id: str) -> RunInfo:
        info = self.store.get_run_info(str(run_id))
        if info.lifecycle_stage is LifecycleStage.DELETED:
            raise InvalidStateError(
                f"Run {run_id} is deleted; restore it before logging to it.", run_id=run_id
            )
        return info

    # -- logging -----------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Iterable[MetricInput | Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Log metrics ``(key, value, timestamp, step)``, params and tags in one transaction.

        A param logged again with the same value is a no-op; with another value it is a
        :class:`~loopline.errors.ConflictError`, and nothing of the batch is written.
        """
        checked = [v.check_metric_input(m) for m in metrics]
        clean_params = v.check_string_map(params, "param")
        clean_tags = v.check_string_map(tags, "tag")
        self._writable(run_id)
        self.store.log_batch(str(run_id), metrics=checked, params=clean_params, tags=clean_tags)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._writable(run_id)
        self.store.delete_tag(str(run_id), v.check_key(key, "tag"))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        self.store.get_run_info(str(run_id))  # unknown runs are NotFound, not an empty series
        return self.store.get_metric_history(str(run_id), v.check_key(key, "metric"))

    # -- search ------------------------------------------------------------------------------

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter: str | None = None,
        order_by: Sequence[str] = (),
        view: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        """Runs of the experiments that match ``filter``, in ``order_by`` order, one page."""
        if isinstance(order_by, str):
            order_by = [order_by]
        ast = parse_filter(filter)
        keys = parse_order_by(list(order_by))
        limit = check_max_results(max_results, 1000)
        offset = decode_token(page_token)
        ids = [str(e) for e in experiment_ids]
        for experiment_id in ids:
            self.store.get_experiment(experiment_id)
        runs, more = self.store.search_runs(
            ids, filter_ast=ast, order_by=keys, view=v.check_view(view), offset=offset, limit=limit
        )
        return Page(runs, encode_token(offset + limit) if more else None)

    # -- artifacts ---------------------------------------------------------------------------

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> str:
        """Store a local file under ``artifact_path/<file name>``; returns its artifact path."""
        folder = check_relative_path(artifact_path)
        source = Path(local_path)
        if not source.is_file():
            raise NotFoundError(
                f"The file {str(local_path)!r} does not exist.", path=str(local_path)
            )
        self._writable(run_id)
        digest, size = self.artifacts.put_file(source)
        path = f"{folder}/{source.name}" if folder else source.name
        self.store.record_artifacts(str(run_id), [(path, digest, size)])
        return path

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[str]:
        """Store every file under a folder, keeping its layout; symlinks out of it are refused."""
        folder = check_relative_path(artifact_path)
        self._writable(run_id)
        files = list(walk_folder(local_dir))  # checks every symlink before anything is stored
        records = []
        for file, relative in files:
            digest, size = self.artifacts.put_file(file)
            records.append((f"{folder}/{relative}" if folder else relative, digest, size))
        self.store.record_artifacts(str(run_id), records)
        return [path for path, _, _ in records]

    def log_artifact_bytes(self, run_id: str, artifact_path: str, data: bytes) -> str:
        """Store bytes as the file ``artifact_path`` of the run."""
        path = check_relative_path(artifact_path)
        if not path:
            raise InvalidArgumentError("The artifact_path must name a file.", field="artifact_path")
        self._writable(run_id)
        digest, size = self.artifacts.put_bytes(data)
        self.store.record_artifacts(str(run_id), [(path, digest, size)])
        return path

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        self.store.get_run_info(str(run_id))
        return self.store.list_artifacts(str(run_id), check_relative_path(path, argument="path"))

    def artifact_files(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """Every file at or under ``path``; NotFoundError when there is none."""
        self.store.get_run_info(str(run_id))
        prefix = check_relative_path(path, argument="path")
        files = self.store.artifact_files(str(run_id), prefix)
        if not files:
            raise NotFoundError(
                f"Run {run_id} has no artifact at {prefix or '/'!r}.", run_id=run_id, path=prefix
            )
        return files

    def read_artifact(self, run_id: str, path: str) -> bytes:
        """The content of one artifact file."""
        files = self.artifact_files(run_id, path)
        exact = [f for f in files if f.path == check_relative_path(path, argument="path")]
        if not exact:
            raise InvalidArgumentError(
                f"{path!r} is a folder of run {run_id}; name a file.", field="path"
            )
        return self.artifacts.read_bytes(exact[0].digest or "")

    def download_artifacts(
        self, run_id: str, path: str | None, destination: str | os.PathLike[str]
    ) -> str:
        """Copy a file or folder of artifacts into a local folder; returns the local path."""
        prefix = check_relative_path(path, argument="path")
        dest = Path(destination)
        for file in self.artifact_files(run_id, prefix):
            self.artifacts.download(file.digest or "", dest / file.path)
        return str(dest / prefix) if prefix else str(dest)
