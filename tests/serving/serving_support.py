"""Helpers of the serving tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pandas as pd

import loopline
from loopline.config import Settings
from loopline.serving.app import ServingApp
from loopline.serving.server import bind, uvicorn_server

COLUMNS = [f"f{i}" for i in range(20)]


@dataclass
class Models:
    client: loopline.Client
    X: Any  # test rows, float64 (200, 20)
    frame: pd.DataFrame  # the same rows as a DataFrame
    gbc: Any
    gbc2: Any
    logit: Any


class Running:
    """uvicorn serving ``app`` in a daemon thread on a free port of 127.0.0.1."""

    def __init__(self, app: ServingApp) -> None:
        self.app = app
        self.sock = bind("127.0.0.1", 0)
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn_server(app, log_level="critical")
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v2/health/live", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"the serving test server on {self.url} did not come up")

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def settings(**overrides: Any) -> Settings:
    return Settings().model_copy(update=overrides)


def row(X: Any, i: int = 0) -> dict[str, float]:
    return {c: float(v) for c, v in zip(COLUMNS, X[i], strict=True)}


def expected_proba(model: Any, X: Any) -> Any:
    return model.predict_proba(pd.DataFrame(np.asarray(X), columns=COLUMNS))


Serve = Callable[..., Running]
"""The ``serve`` fixture: ``serve(uri, **settings) -> Running``."""
