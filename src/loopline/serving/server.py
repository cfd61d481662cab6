"""Build and run a serving app: ad hoc for one model URI, under uvicorn with sane settings.

uvicorn runs one process with httptools and uvloop when they are installed
(``pip install 'loopline[serve]'``), the access log off and a listening socket bound here with
``TCP_NODELAY`` (accepted connections inherit it; see the Nagle trap in ``docs/serving.md``).
"""

from __future__ import annotations

import importlib.util
import socket
from typing import TYPE_CHECKING, Any

from loopline.serving.app import ServingApp
from loopline.serving.endpoint import Endpoint, RegistrySource

if TYPE_CHECKING:
    from loopline.client.client import Client
    from loopline.config import Settings

__all__ = ["adhoc_app", "bind", "uvicorn_server"]


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
    return ServingApp([endpoint], poll_interval=interval)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket with ``TCP_NODELAY`` (port 0 picks a free port)."""
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
