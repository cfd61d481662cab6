"""Build and run a serving app: ad hoc for one model URI, under uvicorn with sane settings.

uvicorn runs one process with httptools and uvloop when they are installed
(``pip install 'loopline[serve]'``), the access log off and a listening socket bound here with
``TCP_NODELAY`` (accepted connections inherit it; see the Nagle trap in ``docs/serving.md``).
"""

from __future__ import annotations

import importlib.util
import logging
import socket
from typing import TYPE_CHECKING, Any

from loopline.serving.app import ServingApp
from loopline.serving.endpoint import DeploymentSource, Endpoint, RegistrySource
from loopline.serving.sink import EventLogs

if TYPE_CHECKING:
    from loopline.client.client import Client
    from loopline.config import Settings

__all__ = ["adhoc_app", "bind", "deployments_app", "uvicorn_server"]

log = logging.getLogger("loopline.serving")


def adhoc_app(client: Client, uri: str, settings: Settings, *, trusted: Any = False) -> ServingApp:
    """An app serving the model ``uri`` names, under the registered model's name.

    The model is loaded before this returns; with an alias URI the app follows the alias every
    ``settings.serve_poll_interval`` seconds.
    """
    source = RegistrySource(client.registry, client.release, uri, trusted=trusted)
    endpoint = Endpoint(
        source.name,
        source=source,
        max_batch_size=settings.serve_max_batch_size,
        max_wait=settings.serve_max_batch_wait,
    )
    endpoint.load_now()
    follows = "@" in uri.rsplit("/", 1)[-1] or uri.endswith("/latest")
    interval = settings.serve_poll_interval if follows else 0.0
    eventlogs = EventLogs(settings.resolved_eventlog_root())
    return ServingApp([endpoint], poll_interval=interval, eventlogs=eventlogs)


def deployments_app(client: Client, settings: Settings, *, trusted: Any = False) -> ServingApp:
    """An app serving every deployment of the client's local store, each under its name.

    Each endpoint follows its deployment (model URI, challenger, policy, logging mode and kill
    switch) every ``settings.serve_poll_interval`` seconds and logs every prediction of every
    route to the event log in the deployment's ``logging`` mode. A deployment whose model
    cannot be loaded yet starts not ready and is retried at each poll.
    """
    from loopline.deploy import DeploymentService
    from loopline.errors import InvalidArgumentError, LooplineError

    if client.is_remote:
        raise InvalidArgumentError(
            "loopline serve without a MODEL_URI serves the deployments of a local store; "
            f"{client.uri!r} is a server. Give --uri a folder or a database URL.",
            field="uri",
        )
    registry = client.registry
    service = DeploymentService(registry.store, registry, registry.audit)
    found: list[Any] = []
    token: str | None = None
    while True:
        page = service.list_deployments(page_token=token)
        found.extend(page)
        token = page.next_token
        if not token:
            break
    if not found:
        raise InvalidArgumentError(
            "The store has no deployments; create one (loopline deployments create NAME "
            "MODEL_URI) or give loopline serve a MODEL_URI.",
            field="model_uri",
        )
    endpoints = []
    eventlogs = EventLogs(settings.resolved_eventlog_root())
    for deployment in found:
        source = DeploymentSource(service, registry, client.release, deployment.name,
                                  trusted=trusted)  # fmt: skip
        endpoint = Endpoint(
            deployment.name,
            source=source,
            sinks=eventlogs,
            max_batch_size=settings.serve_max_batch_size,
            max_wait=settings.serve_max_batch_wait,
        )
        try:
            endpoint.load_now()
        except LooplineError as exc:
            endpoint.last_error = exc.message
            log.warning("deployment %s is not ready: %s", deployment.name, exc.message)
        endpoints.append(endpoint)
    return ServingApp(endpoints, poll_interval=settings.serve_poll_interval, eventlogs=eventlogs)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket with ``TCP_NODELAY`` (port 0 picks a free port).

    Examples:
        >>> import socket
        >>> sock = bind("127.0.0.1", 0)
        >>> sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        True
        >>> sock.close()
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def uvicorn_server(app: ServingApp, *, log_level: str = "warning") -> Any:
    """A uvicorn server for ``app`` (run it with ``server.run(sockets=[bind(...)])``)."""
    import uvicorn

    has = importlib.util.find_spec
    config = uvicorn.Config(
        app,
        http="httptools" if has("httptools") else "h11",
        loop="uvloop" if has("uvloop") else "asyncio",
        lifespan="on",
        ws="none",
        access_log=False,
        log_level=log_level,
        server_header=False,
        date_header=False,
    )
    return uvicorn.Server(config)
