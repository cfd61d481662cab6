"""Build the tracking service a set of settings describes."""

from __future__ import annotations

from typing import Any

from loopline.artifacts import ArtifactStore
from loopline.config import Settings
from loopline.openlineage import emitter_from_settings
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService

__all__ = ["artifact_store", "tracking_service"]


def artifact_store(settings: Settings) -> ArtifactStore:
    root = settings.resolved_artifact_root()
    options: dict[str, Any] = {}
    if root.startswith("s3://") and settings.s3_endpoint_url:
        options["client_kwargs"] = {"endpoint_url": settings.s3_endpoint_url}
    return ArtifactStore(root, storage_options=options)


def tracking_service(settings: Settings) -> TrackingService:
    """The in-process service over the metadata database and artifact root of ``settings``."""
    return TrackingService(
        SqlTrackingStore(settings.resolved_database_url()),
        artifact_store(settings),
        lineage=emitter_from_settings(settings),
    )
