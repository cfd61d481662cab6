"""Dependencies the routes receive; tests override them through ``app.dependency_overrides``."""

from __future__ import annotations

from fastapi import Request

from loopline.data.factory import dataset_service as build_dataset_service
from loopline.data.service import DatasetService
from loopline.tracking.service import TrackingService

__all__ = ["dataset_service", "tracking_service"]


def tracking_service(request: Request) -> TrackingService:
    service: TrackingService = request.app.state.tracking
    return service


def dataset_service(request: Request) -> DatasetService:
    """The datasets service over the tracking service's store and artifacts.

    Rebuilt when ``app.state.tracking`` has been swapped for another store since (a cheap object),
    so the two never serve different stores.
    """
    state = request.app.state
    tracking: TrackingService = state.tracking
    service: DatasetService | None = getattr(state, "datasets", None)
    if service is None or service.store is not tracking.store:
        settings = getattr(state, "settings", None)
        service = state.datasets = build_dataset_service(
            tracking.store, tracking.artifacts, settings
        )
    return service
