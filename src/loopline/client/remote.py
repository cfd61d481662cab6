"""The remote backend: the tracking service's methods, over HTTP to a loopline server.

Errors in the server's JSON envelope come back as the same exception classes the local backend
raises, so code behaves the same against either.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from loopline.artifacts import check_relative_path, walk_folder
from loopline.client.environment import os_user
from loopline.entities import (
    Experiment,
    FileInfo,
    Metric,
    Page,
    Run,
    RunInfo,
    RunStatus,
    ViewType,
)
from loopline.errors import (
    ConnectionFailedError,
    InvalidArgumentError,
    NotFoundError,
    restore_error,
)
from loopline.tracking import validation as v
from loopline.tracking.paging import check_max_results
from loopline.tracking.shortcuts import LogShortcuts
from loopline.wire import (
    decode_experiment,
    decode_file_info,
    decode_metric,
    decode_run,
    decode_run_info,
    encode_float,
)

__all__ = ["RemoteTracking"]

_BATCH_LIMIT = 50_000  # metrics per request


def _q(text: str) -> str:
    """``text`` as one URL path segment. Dots are escaped too, or ``.`` and ``..`` would be
    resolved as path steps before the request leaves (and the server would see another path)."""
    return quote(str(text), safe="").replace(".", "%2E")


def _run(run_id: str) -> str:
    """The URL of a run. No route can carry an empty id or one with a ``/`` (servers decode
    ``%2F``), and no run has one: such ids are not found, as the local store says."""
    run_id = str(run_id)
    if not run_id or "/" in run_id:
        raise NotFoundError(f"No run with id {run_id!r}.", run_id=run_id)
    return f"/api/runs/{_q(run_id)}"


def _experiment(experiment_id: str) -> str:
    """The URL of an experiment; unroutable ids are not found (see :func:`_run`)."""
    experiment_id = str(experiment_id)
    if not experiment_id or "/" in experiment_id:
        raise NotFoundError(
            f"No experiment with id {experiment_id!r}.", experiment_id=experiment_id
        )
    return f"/api/experiments/{_q(experiment_id)}"


class RemoteTracking(LogShortcuts):
    """Same methods as :class:`~loopline.tracking.service.TrackingService`, served remotely."""

    def __init__(self, uri: str, *, token: str | None = None, timeout: float = 30.0) -> None:
        self.uri = uri.rstrip("/")
        headers = {"User-Agent": "loopline-python"}
        actor = os_user()
        if actor.isascii() and actor.isprintable() and 0 < len(actor) <= 256:
            headers["X-Loopline-Actor"] = actor  # who acts when the server runs without auth
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=self.uri, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, *, raw: bool = False, **kwargs: Any) -> Any:
        """The JSON answer (or, with ``raw``, the bytes) of a request; errors as exceptions."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ConnectionFailedError(
                f"Could not reach the loopline server at {self.uri}: {exc}", uri=self.uri
            ) from None
        if response.status_code >= 300:  # redirects are not followed: nothing was done
            raise self._error(response)
        if raw:
            return response.content
        try:
            return response.json()
        except ValueError:
            raise ConnectionFailedError(
                f"{self.uri} answered {method} {path} with something that is not JSON; is it "
                "a loopline server?",
                uri=self.uri,
                status=response.status_code,
            ) from None

    def _error(self, response: httpx.Response) -> Exception:
        try:
            payload = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            return ConnectionFailedError(
                f"{self.uri} answered HTTP {response.status_code} without a loopline error "
                "body; is it a loopline server?",
                uri=self.uri,
                status=response.status_code,
            )
        return restore_error(payload)

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(self, name: str, *, tags: Mapping[str, Any] | None = None) -> str:
        body = {"name": v.check_name(name, "experiment", max_length=256),
                "tags": v.check_string_map(tags, "tag")}  # fmt: skip
        return str(self._call("POST", "/api/experiments", json=body)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        return decode_experiment(self._call("GET", _experiment(experiment_id)))

    def get_experiment_by_name(self, name: str) -> Experiment:
        name = v.check_name(name, "experiment", max_length=256)
        return decode_experiment(self._call("GET", f"/api/experiments/by-name/{_q(name)}"))

    def get_or_create_experiment(self, name: str) -> Experiment:
        try:
            return self.get_experiment_by_name(name)
        except NotFoundError:
            pass
        try:
            return self.get_experiment(self.create_experiment(name))
        except Exception:
            return self.get_experiment_by_name(name)

    def default_experiment(self) -> Experiment:
        return self.get_or_create_experiment("Default")

    def list_experiments(
        self,
        *,
        view: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        params: dict[str, Any] = {
            "view": v.check_view(view).value,
            "max_results": check_max_results(max_results, 1000),
        }
        if page_token:
            params["page_token"] = page_token
        data = self._call("GET", "/api/experiments", params=params)
        return Page([decode_experiment(e) for e in data["experiments"]], data["next_token"])

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        name = v.check_name(new_name, "experiment", max_length=256)
        self._call("PATCH", _experiment(experiment_id), json={"name": name})

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        tags = v.check_string_map({key: value}, "tag")
        self._call("POST", f"{_experiment(experiment_id)}/tags",
                   json={"key": key, "value": tags[key]})  # fmt: skip

    def delete_experiment(self, experiment_id: str) -> None:
        self._call("DELETE", _experiment(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self._call("POST", f"{_experiment(experiment_id)}/restore")

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        start_time: int | None = None,
        user_id: str | None = None,
    ) -> Run:
        body = {
            "experiment_id": str(experiment_id),
            "run_name": v.check_name(run_name, "run") if run_name is not None else None,
            "tags": v.check_string_map(tags, "tag"),
            "parent_run_id": parent_run_id,
            "start_time": start_time,
            "user_id": user_id,
        }
        return decode_run(self._call("POST", "/api/runs", json=body))

    def get_run(self, run_id: str) -> Run:
        return decode_run(self._call("GET", _run(run_id)))

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        body = {
            "status": v.check_status(status).value if status is not None else None,
            "end_time": end_time,
            "run_name": v.check_name(run_name, "run") if run_name is not None else None,
        }
        return decode_run_info(self._call("PATCH", _run(run_id), json=body))

    def end_run(self, run_id: str, status: RunStatus | str = RunStatus.FINISHED) -> RunInfo:
        return self.update_run(run_id, status=status)

    def delete_run(self, run_id: str) -> None:
        self._call("DELETE", _run(run_id))

    def restore_run(self, run_id: str) -> None:
        self._call("POST", f"{_run(run_id)}/restore")

    # -- logging -----------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Iterable[v.MetricInput | Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        checked = [v.check_metric_input(m) for m in metrics]
        body: dict[str, Any] = {"params": v.check_string_map(params, "param"),
                                "tags": v.check_string_map(tags, "tag")}  # fmt: skip
        path = f"{_run(run_id)}/batch"
        for start in range(0, max(len(checked), 1), _BATCH_LIMIT):
            body["metrics"] = [
                {"key": k, "value": encode_float(val), "timestamp": ts, "step": st}
                for k, val, ts, st in checked[start : start + _BATCH_LIMIT]
            ]
            self._call("POST", path, json=body)
            body = {}

    def delete_tag(self, run_id: str, key: str) -> None:
        self._call("DELETE", f"{_run(run_id)}/tags/{_q(v.check_key(key, 'tag'))}")

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        key = v.check_key(key, "metric")
        data = self._call("GET", f"{_run(run_id)}/metrics/{_q(key)}")
        return [decode_metric(m) for m in data["metrics"]]

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter: str | None = None,
        order_by: Sequence[str] = (),
        view: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        body = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "filter": filter,
            "order_by": [order_by] if isinstance(order_by, str) else list(order_by),
            "view": v.check_view(view).value,
            "max_results": check_max_results(max_results, 1000),
            "page_token": page_token,
        }
        data = self._call("POST", "/api/runs/search", json=body)
        return Page([decode_run(r) for r in data["runs"]], data["next_token"])

    # -- artifacts ---------------------------------------------------------------------------

    def log_artifact_bytes(self, run_id: str, artifact_path: str, data: bytes) -> str:
        path = check_relative_path(artifact_path)
        if not path:
            raise InvalidArgumentError("The artifact_path must name a file.", field="artifact_path")
        url = f"{_run(run_id)}/artifacts/{quote(path)}"
        return str(self._call("PUT", url, content=data)["path"])

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> str:
        folder = check_relative_path(artifact_path)
        source = Path(local_path)
        if not source.is_file():
            raise NotFoundError(
                f"The file {str(local_path)!r} does not exist.", path=str(local_path)
            )
        path = f"{folder}/{source.name}" if folder else source.name
        return self.log_artifact_bytes(run_id, path, source.read_bytes())

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> list[str]:
        folder = check_relative_path(artifact_path)
        self.log_batch(run_id)  # an empty batch: the run must exist and not be deleted, first
        files = list(walk_folder(local_dir))
        return [
            self.log_artifact_bytes(run_id, f"{folder}/{rel}" if folder else rel, f.read_bytes())
            for f, rel in files
        ]

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        params = {"path": check_relative_path(path, argument="path")}
        data = self._call("GET", f"{_run(run_id)}/artifacts", params=params)
        return [decode_file_info(f) for f in data["files"]]

    def artifact_files(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        params = {"path": check_relative_path(path, argument="path")}
        data = self._call("GET", f"{_run(run_id)}/artifact-files", params=params)
        return [decode_file_info(f) for f in data["files"]]

    def read_artifact(self, run_id: str, path: str) -> bytes:
        clean = check_relative_path(path, argument="path")
        data: bytes = self._call("GET", f"{_run(run_id)}/artifacts/{quote(clean)}", raw=True)
        return data

    def download_artifacts(
        self, run_id: str, path: str | None, destination: str | os.PathLike[str]
    ) -> str:
        prefix = check_relative_path(path, argument="path")
        dest = Path(destination)
        for file in self.artifact_files(run_id, prefix):
            target = dest / check_relative_path(file.path, argument="path")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read_artifact(run_id, file.path))
        return str(dest / prefix) if prefix else str(dest)
