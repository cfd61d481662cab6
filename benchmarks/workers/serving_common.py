"""Shared parts of the serving benchmark: the model, the data, the request bodies, the client.

Imported by the workers of both tools (loopline's interpreter and MLflow's venv) so both fit
the same model on the same data, and by the load generator, which is stdlib only: a
kept-alive raw socket sending pre-built request bytes and reading ``Content-Length`` bodies.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

SEED = 0
N_FEATURES = 20
N_TRAIN = 5_000
N_TREES = 100
COLUMNS = [f"f{i}" for i in range(N_FEATURES)]
MODEL_NAME = "gbc"


def fit() -> tuple[Any, Any]:
    """The benchmark's model and its training frame (same seed, same data in every worker)."""
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier

    X, y = make_classification(
        n_samples=N_TRAIN, n_features=N_FEATURES, n_informative=10, random_state=SEED
    )
    frame = pd.DataFrame(X, columns=COLUMNS)
    model = GradientBoostingClassifier(n_estimators=N_TREES, random_state=SEED).fit(frame, y)
    return model, frame


def bulk_frame(rows: int) -> Any:
    """``rows`` rows of the benchmark's features (the same generator, another seed)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(SEED + 1)
    return pd.DataFrame(rng.normal(size=(rows, N_FEATURES)) * 2.0, columns=COLUMNS)


def split_body(row: list[float]) -> bytes:
    """MLflow's ``dataframe_split`` body for one row."""
    return json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [row]}}).encode()


def predict_body(row: list[float]) -> bytes:
    """loopline's ``/deployments/{name}/predict`` body for one row (columns + data)."""
    return json.dumps({"columns": COLUMNS, "data": [row]}).encode()


def http_request(path: str, body: bytes | None, port: int) -> bytes:
    """The exact bytes of one keep-alive HTTP/1.1 request."""
    method = "POST" if body is not None else "GET"
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")


class Connection:
    """One kept-alive connection: send bytes, read one response (status, body)."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def call(self, request: bytes) -> tuple[int, bytes]:
        self.sock.sendall(request)
        return self.read()

    def read(self) -> tuple[int, bytes]:
        recv = self.sock.recv
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            chunk = recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buffer += chunk
            end = buffer.find(b"\r\n\r\n")
        head = buffer[:end]
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"content-length:")
        if at < 0:
            if b"transfer-encoding: chunked" in lower:
                return status, self._chunked(buffer[end + 4 :])
            raise ConnectionError(f"no Content-Length in {head[:200]!r}")
        stop = lower.find(b"\r\n", at)
        length = int(head[at + 15 : stop if stop > 0 else len(head)])
        need = end + 4 + length
        while len(buffer) < need:
            chunk = recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buffer += chunk
        self.buffer = buffer[need:]
        return status, buffer[end + 4 : need]

    def _chunked(self, rest: bytes) -> bytes:
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += self.sock.recv(65536)
            line, rest = rest.split(b"\r\n", 1)
            size = int(line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += self.sock.recv(65536)
            if size == 0:
                self.buffer = rest[2:]
                return body
            body += rest[:size]
            rest = rest[size + 2 :]


def healthy(port: int, path: str, timeout: float = 2.0) -> bool:
    """True when ``GET path`` answers 200 on a fresh connection (waiting up to ``timeout``).

    A server that listens before it is ready to answer holds the request in its backlog and
    answers when it is: the wait is part of its start, so the timeout is the whole deadline.
    """
    try:
        connection = Connection(port, timeout=timeout)
    except OSError:
        return False
    try:
        status, _ = connection.call(http_request(path, None, port))
        return status == 200
    except (OSError, ValueError):
        return False
    finally:
        connection.close()


def wait_healthy(port: int, path: str, deadline: float, alive: Any = None) -> float:
    """Poll ``path`` every 5 ms until it answers 200; the perf_counter time it did."""
    while time.perf_counter() < deadline:
        if alive is not None and not alive():
            raise RuntimeError("the server process exited before it was healthy")
        if healthy(port, path, max(0.1, deadline - time.perf_counter())):
            return time.perf_counter()
        time.sleep(0.005)
    raise TimeoutError(f"no 200 from {path} on port {port} in time")
