"""The FastAPI application."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from loopline import __version__
from loopline.config import Settings
from loopline.data.factory import dataset_service
from loopline.server.auth import install_auth
from loopline.server.errors import install_error_handlers
from loopline.server.routes import artifacts, datasets, experiments, models, runs, users
from loopline.server.routes import cards as card_routes
from loopline.server.routes import deployments as deployment_routes
from loopline.server.routes import eventlog as eventlog_routes
from loopline.server.routes import lineage as lineage_routes
from loopline.server.routes import release as release_routes
from loopline.tracking.service import TrackingService

__all__ = ["API_HTTP_PROTOCOL", "create_app"]

API_HTTP_PROTOCOL = "h11"
"""uvicorn's HTTP parser for the REST API: h11 hands every request it can parse to the app (which
answers with the JSON error envelope); httptools rejects some long request lines itself with a
text/plain 400. The inference server, whose hot path needs the speed, uses httptools."""


def create_app(tracking: TrackingService, settings: Settings | None = None) -> FastAPI:
    """The REST API over the given services (``settings`` configure the alert sinks and auth)."""
    app = FastAPI(
        title="loopline",
        version=__version__,
        description=(
            "REST API of loopline: experiments, runs, metrics, params, tags, artifacts, "
            "datasets (versions, profiles, data, diffs, validation reports, run inputs)."
        ),
    )
    app.state.tracking = tracking
    app.state.settings = settings
    app.state.datasets = dataset_service(tracking.store, tracking.artifacts, settings)
    install_error_handlers(app)
    install_auth(app)  # before any route: settings.auth turns token checks on

    @app.get("/api/health", tags=["health"], summary="Liveness and the server's version")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    for module in (experiments, runs, artifacts):
        app.include_router(module.router)
    app.include_router(datasets.router)
    app.include_router(datasets.run_inputs_router)
    app.include_router(card_routes.router)  # before models: its GET /models/{name:path} is greedy
    app.include_router(release_routes.router)  # before models, for the same reason
    app.include_router(models.router)
    app.include_router(users.users_router)
    app.include_router(users.tokens_router)
    app.include_router(lineage_routes.router)
    app.include_router(users.whoami_router)
    app.include_router(eventlog_routes.router)
    app.include_router(deployment_routes.router)
    return app
