"""Where OpenLineage events go: a JSON-lines file, an HTTP endpoint, or nowhere.

A transport either delivers an event or raises; :class:`~loopline.openlineage.emitter.
LineageEmitter` turns failures into warnings so lineage never breaks a training run.

Examples:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "events.jsonl"
    >>> FileTransport(path).emit({"eventType": "START"})
    >>> json.loads(path.read_text())
    {'eventType': 'START'}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

import httpx

__all__ = ["FileTransport", "HttpTransport", "NullTransport", "Transport"]


class Transport(Protocol):
    """Delivers one event (a JSON-ready dict); raises when it cannot."""

    def emit(self, event: dict[str, Any]) -> None: ...


class NullTransport:
    """Drops every event (``LOOPLINE_OPENLINEAGE_TRANSPORT=none``)."""

    def emit(self, event: dict[str, Any]) -> None:
        return None


class FileTransport:
    """Appends one JSON line per event to ``path`` (its folder is created on first use).

    The file is opened with ``O_APPEND`` and each line goes out in one ``write``, so processes
    sharing the file (several trainers, a server) never interleave or overwrite lines.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def emit(self, event: dict[str, Any]) -> None:
        line = (json.dumps(event, separators=(",", ":"), allow_nan=False) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, line)
        finally:
            os.close(fd)
        if written != len(line):
            raise OSError(f"Wrote {written} of {len(line)} bytes of an event to {self.path}.")

    def __repr__(self) -> str:
        return f"FileTransport({str(self.path)!r})"


class HttpTransport:
    """POSTs each event to ``<url>/api/v1/lineage`` (the OpenLineage API), with a bearer key.

    One short-lived connection per event: nothing to close, and a slow endpoint costs at most
    ``timeout`` seconds per event (or the ``timeout`` given to :meth:`emit`). One attempt: the
    retries and the outbox are :class:`~loopline.openlineage.delivery.ReliableHttpTransport`'s.
    """

    def __init__(self, url: str, *, api_key: str | None = None, timeout: float = 2.0) -> None:
        self.endpoint = url.rstrip("/") + "/api/v1/lineage"
        self.headers = {"Content-Type": "application/json", "User-Agent": "loopline"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.timeout = timeout

    def emit(self, event: dict[str, Any]) -> None:
        self.post(event)

    def post(
        self,
        event: dict[str, Any],
        *,
        timeout: float | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        """One POST of ``event`` (through ``client`` when given, to reuse its connection).

        Raises httpx's error for a failure or a non-2xx answer.
        """
        body = json.dumps(event, allow_nan=False).encode()
        wait = self.timeout if timeout is None else timeout
        post = httpx.post if client is None else client.post
        response = post(self.endpoint, content=body, headers=self.headers, timeout=wait)
        response.raise_for_status()

    def __repr__(self) -> str:
        return f"HttpTransport({self.endpoint!r})"
