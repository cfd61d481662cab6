"""The remote registry: :class:`~loopline.registry.service.RegistryService`, over HTTP.

Same methods, arguments, return types and exceptions as the local service; arguments are checked
here first, with the local messages, so a bad call fails before anything is sent. The ``actor``
of a change travels as the ``X-Loopline-Actor`` header: the server records it while auth is off,
and the token's user instead once auth is on.

Two differences, both on the server's side of trust: a new version's digest and flavor are
recomputed by the server from the run's artifacts (a mismatch is an InvalidStateError), and a
version's status cannot be set over REST (it moves through the release process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loopline.client.remote import RemoteTracking, _q
from loopline.entities import (
    DatasetVersion,
    ModelVersion,
    ModelVersionStatus,
    Page,
    RegisteredModel,
)
from loopline.errors import InvalidArgumentError, InvalidStateError
from loopline.registry.checks import (
    check_alias,
    check_digest,
    check_free_alias,
    check_model_name,
    check_optional_text,
    check_text,
    check_version,
)
from loopline.registry.search import DEFAULT_MAX_RESULTS
from loopline.tracking import validation as v
from loopline.tracking.paging import check_max_results
from loopline.wire import decode_dataset_version

__all__ = ["RemoteRegistry"]

_ACTOR_HEADER = "X-Loopline-Actor"


def _model(name: str) -> str:
    return f"/api/models/{_q(check_model_name(name))}"


def _version(name: str, version: int) -> str:
    return f"{_model(name)}/versions/{check_version(version)}"


def _actor(actor: str, where: str) -> dict[str, str]:
    checked = check_text("actor", actor, where, 256)
    return {_ACTOR_HEADER: checked} if checked.isascii() and checked.isprintable() else {}


def _tags(tags: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if tags is None else v.check_string_map(tags, "tag")


class RemoteRegistry:
    """Same methods as :class:`~loopline.registry.service.RegistryService`, served remotely.

    It shares the HTTP connection pool, the token and the error decoding of ``tracking``.
    """

    def __init__(self, tracking: RemoteTracking) -> None:
        self.tracking = tracking

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.tracking._call(method, path, **kwargs)

    def _page(self, path: str, params: dict[str, Any]) -> Any:
        params["max_results"] = check_max_results(params["max_results"], DEFAULT_MAX_RESULTS)
        return self._call("GET", path, params={k: x for k, x in params.items() if x is not None})

    # -- registered models -------------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str,
    ) -> RegisteredModel:
        where = "create_registered_model"
        body = {
            "name": check_model_name(name),
            "description": check_optional_text("description", description, where),
            "tags": _tags(tags) or {},
        }
        data = self._call("POST", "/api/models", json=body, headers=_actor(actor, where))
        return RegisteredModel.from_dict(data)

    def get_registered_model(self, name: str) -> RegisteredModel:
        return RegisteredModel.from_dict(self._call("GET", _model(name)))

    def list_registered_models(
        self,
        max_results: int | None = None,
        page_token: str | None = None,
        *,
        name_contains: str | None = None,
    ) -> Page[RegisteredModel]:
        """Models ordered by name; ``name_contains`` keeps names containing that text."""
        name_contains = check_optional_text(
            "name_contains", name_contains, "list_registered_models"
        )
        params = {"max_results": max_results, "page_token": page_token,
                  "name_contains": name_contains or None}  # fmt: skip
        data = self._page("/api/models", params)
        return Page([RegisteredModel.from_dict(m) for m in data["models"]], data["next_token"])

    def search_registered_models(
        self,
        filter: str | None = None,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Models matching ``filter`` (``name LIKE 'churn%' AND tags.team = 'risk'``), by name."""
        params = {"filter": filter, "max_results": max_results, "page_token": page_token}
        data = self._page("/api/models", params)
        return Page([RegisteredModel.from_dict(m) for m in data["models"]], data["next_token"])

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str,
    ) -> RegisteredModel:
        where = "update_registered_model"
        body = {
            "description": check_optional_text("description", description, where),
            "tags": _tags(tags),
        }
        data = self._call("PATCH", _model(name), json=body, headers=_actor(actor, where))
        return RegisteredModel.from_dict(data)

    def delete_registered_model(self, name: str, *, actor: str) -> None:
        headers = _actor(actor, "delete_registered_model")
        self._call("DELETE", _model(name), headers=headers)

    # -- versions ----------------------------------------------------------------------------

    def create_model_version(
        self,
        name: str,
        *,
        run_id: str,
        artifact_path: str,
        flavor: str,
        digest: str,
        signature: Mapping[str, Any] | None = None,
        actor: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Register a run's logged model; the server checks ``digest`` and ``flavor``."""
        where = "create_model_version"
        path, headers = f"{_model(name)}/versions", _actor(actor, where)
        body = {
            "run_id": run_id, "artifact_path": artifact_path, "flavor": flavor,
            "digest": check_digest(digest, where),
            "signature": None if signature is None else dict(signature),
            "description": check_optional_text("description", description, where),
            "tags": _tags(tags),
        }  # fmt: skip
        data = self._call("POST", path, json=body, headers=headers)
        return ModelVersion.from_dict(data)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return ModelVersion.from_dict(self._call("GET", _version(name, version)))

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        data = self._call("GET", f"{_model(name)}/versions")
        return [ModelVersion.from_dict(item) for item in data["versions"]]

    def search_model_versions(
        self,
        filter: str | None = None,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Versions matching ``filter`` (``name = 'churn' AND status = 'approved'``)."""
        params = {"filter": filter, "max_results": max_results, "page_token": page_token}
        data = self._page("/api/model-versions/search", params)
        return Page([ModelVersion.from_dict(m) for m in data["versions"]], data["next_token"])

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        path = f"{_model(name)}/aliases/{_q(check_alias(alias))}"
        return ModelVersion.from_dict(self._call("GET", path))

    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        status: ModelVersionStatus | str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str,
    ) -> ModelVersion:
        """Set a version's description or tags; a status moves through the release process."""
        where = "update_model_version"
        if status is not None:
            raise InvalidStateError(
                "A version's status cannot be set over REST: it moves through the release "
                "process (`loopline models validate`, `request-approval`, ...).",
                field="status",
            )
        body = {
            "description": check_optional_text("description", description, where),
            "tags": _tags(tags),
        }
        headers = _actor(actor, where)
        data = self._call("PATCH", _version(name, version), json=body, headers=headers)
        return ModelVersion.from_dict(data)

    def delete_model_version(self, name: str, version: int, *, actor: str) -> None:
        headers = _actor(actor, "delete_model_version")
        self._call("DELETE", _version(name, version), headers=headers)

    def training_profile(
        self, name: str, version: int, *, dataset: str | None = None
    ) -> DatasetVersion:
        """The dataset version a model version trained on; its ``profile`` is the reference."""
        params = {} if dataset is None else {"dataset": dataset}
        data = self._call("GET", f"{_version(name, version)}/training-profile", params=params)
        return decode_dataset_version(data)

    # -- aliases -----------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int, *, actor: str) -> ModelVersion:
        """Point ``alias`` at ``version`` (moving it if it named another); audited from/to."""
        path = f"{_model(name)}/aliases/{_q(check_free_alias(alias, 'set_alias'))}"
        body = {"version": check_version(version)}
        data = self._call("PUT", path, json=body, headers=_actor(actor, "set_alias"))
        return ModelVersion.from_dict(data)

    def delete_alias(self, name: str, alias: str, *, actor: str) -> None:
        path = f"{_model(name)}/aliases/{_q(check_free_alias(alias, 'delete_alias'))}"
        self._call("DELETE", path, headers=_actor(actor, "delete_alias"))

    # -- URIs --------------------------------------------------------------------------------

    def resolve(self, uri: str) -> ModelVersion:
        """The version a ``models:/name/3``, ``models:/name@alias`` or ``.../latest`` URI names."""
        if not isinstance(uri, str):
            raise InvalidArgumentError(
                f"A model URI must be a string. Got {str(uri)[:120]!r} instead.", field="uri"
            )
        return ModelVersion.from_dict(self._call("GET", "/api/models/resolve", params={"uri": uri}))
