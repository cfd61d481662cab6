"""Fixtures of the release API tests: one real uvicorn server with auth on, per module.

- ``server``: a :class:`ReleaseServer` over ``module_db_url`` (a SQLite file, then a new
  PostgreSQL database) and a folder of artifacts, with the users ``alice`` (editor),
  ``bob`` and ``carol`` (approvers), ``dave`` (viewer), ``eve`` (editor) and ``ana`` (an approver
  who also trains and registers models), each with a real API token.
- ``cancer``: the breast-cancer data split into train and test frames, target column ``y``.
- ``name``: a model name of its own for each test (the server is shared by the module).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from api_server_support import ApiServer
from loopline.audit import AuditLog
from loopline.auth import AuthService, Role
from loopline.client.client import Client
from loopline.config import Settings
from loopline.modeling.logged import log_model
from loopline.release.tables import table_to_json
from loopline.server.app import create_app
from loopline.tracking.factory import tracking_service

collect_ignore = ["conftest.py"]

USERS = {
    "alice": Role.EDITOR,
    "bob": Role.APPROVER,
    "carol": Role.APPROVER,
    "dave": Role.VIEWER,
    "eve": Role.EDITOR,
    "ana": Role.APPROVER,
}
_names = itertools.count(1)


class ReleaseServer(ApiServer):
    """The API with auth on over a store, and its users' tokens."""

    def __init__(self, folder: Path, db_url: str) -> None:
        self.folder = folder
        self.store_uri = db_url
        settings = Settings(uri=db_url, artifact_root=str(folder / "artifacts"), auth=True)
        self.tracking = tracking_service(settings)
        self.audit = AuditLog(self.tracking.store)
        auth = AuthService(self.tracking.store, self.audit)
        self.tokens: dict[str, str] = {}
        for user, role in USERS.items():
            auth.create_user(user, role, actor="setup")
            self.tokens[user] = auth.create_token(user, actor="setup")[1]
        self._http: dict[str, httpx.Client] = {}
        super().__init__(create_app(self.tracking, settings))

    def stop(self) -> None:
        for client in self._http.values():
            client.close()
        super().stop()
        self.tracking.store.engine.dispose()

    def http(self, user: str | None) -> httpx.Client:
        """An HTTP client that sends ``user``'s token (none for ``None``)."""
        key = user or ""
        if key not in self._http:
            headers = {} if user is None else {"Authorization": f"Bearer {self.tokens[user]}"}
            self._http[key] = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        return self._http[key]

    def sdk(self, user: str) -> Client:
        """The SDK's client against this server with ``user``'s token."""
        return Client(settings=Settings(uri=self.url, token=self.tokens[user]))

    def train(self, user: str, model: Any, example: pd.DataFrame, *, name: str | None) -> str:
        """Log ``model`` in a new run of ``user`` (registering it as ``name`` if given).

        Returns the run id.
        """
        client = self.sdk(user)
        experiment_id = client.get_or_create_experiment("release-api").experiment_id
        run_id = client.create_run(experiment_id).info.run_id
        log_model(client.backend, client.registry, run_id, model, "model",  # type: ignore[arg-type]
                  input_example=example, registered_model_name=name, actor=user)  # fmt: skip
        return run_id

    @staticmethod
    def path(name: str, version: int | str | None = None) -> str:
        """The REST path of a model (or of one of its versions); ``/`` in names stays a slash."""
        base = f"/api/models/{name}"
        return base if version is None else f"{base}/versions/{version}"

    @staticmethod
    def evaluation(test: pd.DataFrame, train: pd.DataFrame, **extra: Any) -> dict[str, Any]:
        """The body of ``POST .../evaluations`` for these frames (target ``y``)."""
        return {"data": table_to_json(test), "train_data": table_to_json(train), "target": "y",
                "importance": False, **extra}  # fmt: skip

    def status(self, name: str, version: int) -> str:
        """The version's status, read by the viewer."""
        return str(self.ok("dave", "GET", self.path(name, version))["status"])

    def call(self, user: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http(user).request(method, path, **kwargs)

    def ok(self, user: str | None, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of a request that must succeed."""
        response = self.call(user, method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> Iterator[ReleaseServer]:
    with ReleaseServer(tmp_path_factory.mktemp("release-api"), module_db_url) as running:
        yield running


@pytest.fixture(scope="session")
def cancer() -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    frame = load_breast_cancer(as_frame=True).frame.rename(columns={"target": "y"})
    train, test = train_test_split(frame, test_size=0.4, random_state=0, stratify=frame["y"])
    return train.reset_index(drop=True), test.reset_index(drop=True)


@pytest.fixture
def name() -> str:
    return f"team/cancer-{next(_names)}"
