"""``loopline.Client``: explicit, run-id based access to tracking (like ``MlflowClient``).

The client talks to the in-process service when its URI names a local store (or is unset), and to
a loopline server when the URI is ``http(s)://``. Both backends take the same arguments, return the
same entities and raise the same exceptions.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from loopline.config import Settings, is_remote_uri
from loopline.entities import (
    Experiment,
    FileInfo,
    Metric,
    Page,
    Run,
    RunInfo,
    RunStatus,
    ViewType,
)
from loopline.errors import NotFoundError
from loopline.tracking.validation import MetricInput

if TYPE_CHECKING:
    from loopline.cards.service import CardService
    from loopline.client.remote import RemoteTracking
    from loopline.client.remote_datasets import RemoteDatasets
    from loopline.data.service import DatasetService
    from loopline.deploy import DeploymentService
    from loopline.registry.service import RegistryService
    from loopline.release.service import ReleaseService
    from loopline.tracking.service import TrackingService

__all__ = ["Client", "open_backend"]


def open_backend(settings: Settings) -> TrackingService | RemoteTracking:
    """The backend ``settings`` point at: a server for an http(s) URI, else the local store.

    Each backend is imported here, when chosen: a local user never loads the HTTP client, and a
    remote one never loads SQLAlchemy.
    """
    if is_remote_uri(settings.uri):
        from loopline.client.remote import RemoteTracking

        return RemoteTracking(
            str(settings.uri),
            token=settings.token.get_secret_value() if settings.token else None,
            timeout=settings.http_timeout,
        )
    from loopline.tracking.factory import tracking_service

    return tracking_service(settings)


class Client:
    """Tracking by explicit ids.

    Args:
        uri: ``http(s)://host:port`` for a loopline server, a database URL or a folder for a
            local store; ``None`` reads ``LOOPLINE_URI`` and falls back to ``./.loopline``.
        settings: settings to use instead of reading the environment.

    Examples:
        >>> import tempfile, loopline
        >>> client = loopline.Client(tempfile.mkdtemp())
        >>> experiment_id = client.create_experiment("doc-example")
        >>> run = client.create_run(experiment_id, run_name="first")
        >>> client.log_metric(run.id, "auc", 0.91, step=1)
        >>> client.get_run(run.id).data.metrics
        {'auc': 0.91}
    """

    def __init__(self, uri: str | None = None, *, settings: Settings | None = None) -> None:
        base = settings if settings is not None else Settings()
        self.settings = base.model_copy(update={"uri": uri}) if uri is not None else base
        self.backend: TrackingService | RemoteTracking = open_backend(self.settings)
        self._datasets: DatasetService | RemoteDatasets | None = None
        self._registry: RegistryService | None = None
        self._release: ReleaseService | None = None
        self._cards: CardService | None = None
        self._deployments: DeploymentService | None = None

    @property
    def uri(self) -> str:
        if is_remote_uri(self.settings.uri):
            return str(self.settings.uri)
        return self.settings.resolved_database_url()

    @property
    def datasets(self) -> DatasetService:
        """The datasets service of this client's store, or of its server (over HTTP)."""
        if self._datasets is None:
            backend = self.backend
            if self.is_remote:
                from loopline.client.remote import RemoteTracking
                from loopline.client.remote_datasets import RemoteDatasets

                assert isinstance(backend, RemoteTracking)
                self._datasets = RemoteDatasets(backend)
            else:
                from loopline.data.factory import dataset_service
                from loopline.tracking.service import TrackingService

                assert isinstance(backend, TrackingService)
                self._datasets = dataset_service(backend.store, backend.artifacts, self.settings)
        # RemoteDatasets has DatasetService's methods and types (tests compare the signatures);
        # the annotation stays DatasetService until loopline.datasets names both.
        return cast("DatasetService", self._datasets)

    @property
    def registry(self) -> RegistryService:
        """The model registry of this client's store, or of its server (over HTTP)."""
        if self._registry is None:
            backend = self.backend
            if self.is_remote:
                from loopline.client.remote import RemoteTracking
                from loopline.client.remote_registry import RemoteRegistry

                assert isinstance(backend, RemoteTracking)
                # Same methods and types as RegistryService (tests compare the signatures).
                self._registry = cast("RegistryService", RemoteRegistry(backend))
                return self._registry
            from loopline.audit import AuditLog
            from loopline.registry.service import RegistryService
            from loopline.tracking.service import TrackingService

            assert isinstance(backend, TrackingService)
            self._registry = RegistryService(
                backend.store, AuditLog(backend.store), lineage=backend.lineage
            )
        return self._registry

    @property
    def release(self) -> ReleaseService:
        """The governed release of this client's registered versions, local or over HTTP."""
        if self._release is None:
            if self.is_remote:
                from loopline.client.remote import RemoteTracking
                from loopline.client.remote_registry import RemoteRegistry
                from loopline.client.remote_release import RemoteRelease

                assert isinstance(self.backend, RemoteTracking)
                registry = self.registry
                assert isinstance(registry, RemoteRegistry)
                # Same methods and types as ReleaseService (tests compare the signatures).
                self._release = cast("ReleaseService", RemoteRelease(self.backend, registry))
                return self._release
            from loopline.release.service import ReleaseService
            from loopline.tracking.service import TrackingService

            backend = self.backend
            assert isinstance(backend, TrackingService)
            registry = self.registry
            self._release = ReleaseService(
                backend, registry, self.datasets, registry.audit,
                lineage=backend.lineage.evaluation_event,  # OpenLineage events of evaluations
            )  # fmt: skip
        return self._release

    @property
    def cards(self) -> CardService:
        """Model cards of this client's registered versions, local or over HTTP."""
        if self._cards is None:
            backend = self.backend
            if self.is_remote:
                from loopline.client.remote import RemoteTracking
                from loopline.client.remote_cards import RemoteCards

                assert isinstance(backend, RemoteTracking)
                # Same methods and types as CardService (tests compare the signatures).
                self._cards = cast("CardService", RemoteCards(backend))
            else:
                from loopline.cards.service import CardService

                registry = self.registry
                self._cards = CardService(
                    registry.store, registry, registry.audit, release=self.release
                )
        return self._cards

    @property
    def deployments(self) -> DeploymentService:
        """Deployments (what inference servers serve), in this client's store or over HTTP."""
        if self._deployments is None:
            backend = self.backend
            if self.is_remote:
                from loopline.client.remote import RemoteTracking
                from loopline.client.remote_deployments import RemoteDeployments

                assert isinstance(backend, RemoteTracking)
                # Same methods and types as DeploymentService (tests compare the signatures).
                self._deployments = cast("DeploymentService", RemoteDeployments(backend))
            else:
                from loopline.deploy import DeploymentService

                registry = self.registry
                self._deployments = DeploymentService(registry.store, registry, registry.audit)
        return self._deployments

    @property
    def is_remote(self) -> bool:
        return is_remote_uri(self.settings.uri)

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(self, name: str, *, tags: Mapping[str, Any] | None = None) -> str:
        """Create an experiment and return its id; names are unique (AlreadyExistsError)."""
        return self.backend.create_experiment(name, tags=tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.backend.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment:
        return self.backend.get_experiment_by_name(name)

    def get_or_create_experiment(self, name: str) -> Experiment:
        return self.backend.get_or_create_experiment(name)

    def list_experiments(
        self,
        *,
        view: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        return self.backend.list_experiments(
            view=view, max_results=max_results, page_token=page_token
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.backend.rename_experiment(experiment_id, new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.backend.set_experiment_tag(experiment_id, key, value)

    def delete_experiment(self, experiment_id: str) -> None:
        self.backend.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.backend.restore_experiment(experiment_id)

    def resolve_experiment_ids(self, experiments: str | Sequence[str] | None) -> list[str]:
        """Ids for experiment names or ids (a name wins over an id that looks the same)."""
        if experiments is None:
            return [self.backend.default_experiment().experiment_id]
        items = [experiments] if isinstance(experiments, str) else list(experiments)
        ids = []
        for item in items:
            try:
                ids.append(self.backend.get_experiment_by_name(str(item)).experiment_id)
            except NotFoundError:
                try:
                    ids.append(self.backend.get_experiment(str(item)).experiment_id)
                except NotFoundError:
                    raise NotFoundError(
                        f"No experiment named or with id {item!r}.", experiment=str(item)
                    ) from None
        return ids

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
        return self.backend.create_run(
            experiment_id, run_name=run_name, tags=tags, parent_run_id=parent_run_id,
            start_time=start_time, user_id=user_id,
        )  # fmt: skip

    def get_run(self, run_id: str) -> Run:
        return self.backend.get_run(run_id)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        return self.backend.update_run(run_id, status=status, end_time=end_time, run_name=run_name)

    def set_terminated(self, run_id: str, status: RunStatus | str = RunStatus.FINISHED) -> RunInfo:
        """End a run with a terminal status (finished, failed or killed)."""
        return self.backend.end_run(run_id, status)

    def delete_run(self, run_id: str) -> None:
        self.backend.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.backend.restore_run(run_id)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        *,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        self.backend.log_metric(run_id, key, value, step=step, timestamp=timestamp)

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self.backend.log_param(run_id, key, value)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.backend.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        self.backend.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Iterable[MetricInput | Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        self.backend.log_batch(run_id, metrics=metrics, params=params, tags=tags)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self.backend.get_metric_history(run_id, key)

    def search_runs(
        self,
        experiments: str | Sequence[str] | None = None,
        *,
        filter: str | None = None,
        order_by: Sequence[str] | str = (),
        view: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        """Runs of the experiments (names or ids) that match ``filter``, one page.

        Filter: ``metrics.auc > 0.8 and params.model = 'rf' and tags.team != 'x' and
        attributes.status = 'finished'`` (``or`` and parentheses too). Order: ``["metrics.auc
        DESC", "start_time"]``.
        """
        return self.backend.search_runs(
            self.resolve_experiment_ids(experiments),
            filter=filter,
            order_by=[order_by] if isinstance(order_by, str) else order_by,
            view=view,
            max_results=max_results,
            page_token=page_token,
        )

    # -- artifacts ---------------------------------------------------------------------------

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> str:
        return self.backend.log_artifact(run_id, local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[str]:
        return self.backend.log_artifacts(run_id, local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> str:
        return self.backend.log_artifact_bytes(run_id, artifact_file, text.encode("utf-8"))

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self.backend.list_artifacts(run_id, path)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        return self.backend.read_artifact(run_id, path)

    def download_artifacts(
        self, run_id: str, path: str | None, destination: str | os.PathLike[str]
    ) -> str:
        return self.backend.download_artifacts(run_id, path, destination)
