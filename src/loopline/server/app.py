"""The FastAPI application."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from loopline import __version__
from loopline.server.errors import install_error_handlers
from loopline.server.routes import artifacts, experiments, runs
from loopline.tracking.service import TrackingService

__all__ = ["create_app"]


def create_app(tracking: TrackingService) -> FastAPI:
    """The REST API over the given services."""
    app = FastAPI(
        title="loopline",
        version=__version__,
        description="REST API of loopline: experiments, runs, metrics, params, tags, artifacts.",
    )
    app.state.tracking = tracking
    install_error_handlers(app)

    @app.get("/api/health", tags=["health"], summary="Liveness and the server's version")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    for module in (experiments, runs, artifacts):
        app.include_router(module.router)
    return app
