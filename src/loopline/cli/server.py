"""``loopline server``: the REST API over the local store, served by uvicorn."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from loopline.cli import UriOption, render
from loopline.errors import InvalidArgumentError

__all__ = ["LogLevel", "server"]


class LogLevel(enum.StrEnum):
    """uvicorn's log levels."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"
    TRACE = "trace"


def server(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
    log_level: Annotated[LogLevel, typer.Option(help="uvicorn's log level.")] = LogLevel.INFO,
    uri: UriOption = None,
    auth: Annotated[
        bool,
        typer.Option("--auth", help="Require an API token with a role on every call (see docs)."),
    ] = False,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs) over a local store."""
    import uvicorn

    from loopline.config import Settings, is_remote_uri
    from loopline.server.app import API_HTTP_PROTOCOL, create_app
    from loopline.tracking.factory import tracking_service

    settings = Settings()
    if uri is not None:
        settings = settings.model_copy(update={"uri": uri})
    if auth:
        settings = settings.model_copy(update={"auth": True})
    if is_remote_uri(settings.uri):
        raise InvalidArgumentError(
            f"loopline server serves a local store; the URI {settings.uri!r} names a server. "
            "Give a folder or a database URL.",
            field="uri",
        )
    tracking = tracking_service(settings)
    app = create_app(tracking, settings)
    out = render.console()
    if settings.auth and tracking.store.count_admins() == 0:
        out.print(
            "auth is on and the store has no admin yet; create one on the store, then a token:\n"
            f"  loopline users create NAME --role admin --uri {settings.resolved_database_url()}\n"
            f"  loopline tokens create --user NAME --uri {settings.resolved_database_url()}",
            soft_wrap=True,
        )
    out.print(f"loopline store: {settings.resolved_database_url()}", soft_wrap=True)
    out.print(f"artifacts:      {settings.resolved_artifact_root()}", soft_wrap=True)
    state = "tokens required" if settings.auth else "auth off"
    out.print(f"serving on http://{host}:{port} ({state}; API docs at /docs)", soft_wrap=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level.value, http=API_HTTP_PROTOCOL)
