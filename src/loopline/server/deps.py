"""Dependencies the routes receive; tests override them through ``app.dependency_overrides``."""

from __future__ import annotations

from fastapi import Request

from loopline.tracking.service import TrackingService

__all__ = ["tracking_service"]


def tracking_service(request: Request) -> TrackingService:
    service: TrackingService = request.app.state.tracking
    return service
