"""The REST API on a real uvicorn server in a daemon thread: the one copy every suite uses.

Why a plain module: the suites' servers live for a session or for a module and most of them are
classes of their own (users and tokens, ``plug``, HTTP helpers) built on this one, so they need a
class to subclass and to name in annotations; a fixture would fix one scope and hide the type, and
``from conftest import ...`` picks whichever of the several ``conftest.py`` was imported first.
pytest puts ``tests/`` on ``sys.path`` (the "prepend" import mode, no ``__init__.py``), so any
conftest or test module can ``from api_server_support import ApiServer``; the basename is unique
in ``tests/`` and does not match ``test_*.py``, so the module is never collected as tests.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Self

import httpx
import uvicorn
from fastapi import FastAPI

from loopline.server.app import API_HTTP_PROTOCOL

STARTUP_TIMEOUT_S = 15.0


class ApiServer:
    """``app`` served by uvicorn on a free port of 127.0.0.1, in a daemon thread.

    uvicorn parses HTTP with ``API_HTTP_PROTOCOL`` (h11), as ``loopline server`` does. Use it as
    a context manager, or call ``start()`` and ``stop()``: ``start`` returns once ``/api/health``
    answers 200; ``stop`` asks uvicorn to exit and waits for its thread. Subclasses add their
    domain helpers and release their own resources by extending ``stop``.

    Attributes: ``app``, ``port`` and ``url`` (``http://127.0.0.1:<port>``).
    """

    def __init__(self, app: FastAPI, *, log_level: str = "critical") -> None:
        self.app = app
        # Bound here and handed to uvicorn (which closes it): nothing can take the port between
        # choosing it and serving on it.
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, http=API_HTTP_PROTOCOL,
                                log_level=log_level, access_log=False, lifespan="off",
                                ws="none")  # fmt: skip
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._uvicorn.run,
            kwargs={"sockets": [self._socket]},
            name=f"loopline-api-{self.port}",
            daemon=True,
        )

    def start(self) -> None:
        """Start serving; return once the health endpoint answers 200."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the test server on {self.url} did not come up")
            time.sleep(0.01)
        health = httpx.get(f"{self.url}/api/health", timeout=STARTUP_TIMEOUT_S)
        if health.status_code != 200:
            self.stop()
            raise RuntimeError(f"the test server on {self.url} is not healthy: {health.text}")

    def stop(self) -> None:
        """Ask uvicorn to exit and wait (10 s at most) for its thread to end."""
        self._uvicorn.should_exit = True
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
