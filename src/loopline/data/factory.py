"""Build the datasets service over a store, with the alert sinks a set of settings describes."""

from __future__ import annotations

from loopline.alerts import AlertService, sinks_from_settings
from loopline.artifacts import ArtifactStore
from loopline.config import Settings
from loopline.data.service import DatasetService
from loopline.store import SqlTrackingStore

__all__ = ["dataset_service"]


def dataset_service(
    store: SqlTrackingStore, artifacts: ArtifactStore, settings: Settings | None = None
) -> DatasetService:
    """A DatasetService whose validation failures go to the configured alert sinks."""
    settings = settings if settings is not None else Settings()
    alerts = AlertService(
        store, sinks_from_settings(settings), dedup_window_s=settings.alert_dedup_window
    )
    return DatasetService(store, artifacts, alerts=alerts)
