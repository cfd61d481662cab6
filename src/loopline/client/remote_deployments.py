"""The remote deployments: :class:`~loopline.deploy.DeploymentService`, over HTTP.

Same methods, arguments, return types and exceptions as the local service; arguments are checked
here first, with the local messages, so a bad change fails before anything is sent (checks that
need the registry, such as whether a model URI names a version, run on the server). The
``actor`` of a change travels as the ``X-Loopline-Actor`` header: the server records it while
auth is off, and the token's user instead once auth is on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loopline.client.remote import RemoteTracking, _q
from loopline.deploy.checks import (
    check_actor,
    check_challenger,
    check_deployment_name,
    check_logging,
    check_model_uri_text,
    check_optional_text,
    check_policy,
    check_reason,
    check_revision,
    check_tags,
)
from loopline.deploy.service import UNCHANGED, Unchanged
from loopline.entities import Page
from loopline.entities.deployments import (
    Challenger,
    Deployment,
    DeploymentRevision,
    ResolvedDeployment,
)
from loopline.tracking.paging import check_max_results

__all__ = ["RemoteDeployments"]

_ACTOR_HEADER = "X-Loopline-Actor"
_BASE = "/api/deployments"


def _url(name: str, where: str) -> str:
    return f"{_BASE}/{_q(check_deployment_name(name, where))}"


def _actor(actor: object, where: str) -> dict[str, str]:
    checked = check_actor(actor, where)
    return {_ACTOR_HEADER: checked} if checked.isascii() and checked.isprintable() else {}


def _challenger(challenger: object, where: str) -> dict[str, Any] | None:
    checked = check_challenger(challenger, where)
    return None if checked is None else checked.to_dict()


class RemoteDeployments:
    """Same methods as :class:`~loopline.deploy.DeploymentService`, served remotely.

    It shares the HTTP connection pool, the token and the error decoding of ``tracking``.
    """

    def __init__(self, tracking: RemoteTracking) -> None:
        self.tracking = tracking

    def get_deployment(self, name: str, revision: int | None = None) -> Deployment:
        """The deployment now, or as it was at ``revision``."""
        where = "get_deployment"
        number = check_revision("revision", revision, where)
        params = {} if number is None else {"revision": number}
        return Deployment.from_dict(self.tracking._call("GET", _url(name, where), params=params))

    def list_deployments(
        self,
        max_results: int | None = None,
        page_token: str | None = None,
        *,
        name_contains: str | None = None,
    ) -> Page[Deployment]:
        """Deployments ordered by name; ``name_contains`` keeps names containing that text."""
        params: dict[str, Any] = {}
        if max_results is not None:
            params["max_results"] = check_max_results(max_results, 0)
        if page_token:
            params["page_token"] = page_token
        name_contains = check_optional_text("name_contains", name_contains, "list_deployments")
        if name_contains:
            params["name_contains"] = name_contains
        data = self.tracking._call("GET", _BASE, params=params)
        return Page([Deployment.from_dict(d) for d in data["deployments"]], data["next_token"])

    def list_revisions(self, name: str) -> list[DeploymentRevision]:
        """Every revision of the deployment, oldest first."""
        data = self.tracking._call("GET", _url(name, "list_revisions") + "/revisions")
        return [DeploymentRevision.from_dict(item) for item in data["revisions"]]

    def resolve(self, name: str) -> ResolvedDeployment:
        """The deployment and the versions its champion and challenger URIs name right now."""
        data = self.tracking._call("GET", _url(name, "resolve") + "/resolve")
        return ResolvedDeployment.from_dict(data)

    def create_deployment(
        self,
        name: str,
        model_uri: str,
        *,
        policy: Mapping[str, Any] | None = None,
        logging: str = "async",
        challenger: Challenger | Mapping[str, Any] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str,
    ) -> Deployment:
        """A new deployment at revision 1, enabled; its URIs must name existing versions."""
        where = "create_deployment"
        body = {
            "name": check_deployment_name(name, where),
            "model_uri": check_model_uri_text("model_uri", model_uri, where),
            "policy": check_policy(policy, where),
            "logging": check_logging(logging, where),
            "challenger": _challenger(challenger, where),
            "description": check_optional_text("description", description, where),
            "tags": check_tags(tags),
        }
        headers = _actor(actor, where)
        return Deployment.from_dict(self.tracking._call("POST", _BASE, json=body, headers=headers))

    def update_deployment(
        self,
        name: str,
        *,
        model_uri: str | Unchanged = UNCHANGED,
        policy: Mapping[str, Any] | Unchanged | None = UNCHANGED,
        logging: str | Unchanged = UNCHANGED,
        challenger: Challenger | Mapping[str, Any] | Unchanged | None = UNCHANGED,
        description: str | Unchanged | None = UNCHANGED,
        tags: Mapping[str, str] | Unchanged = UNCHANGED,
        expected_revision: int | None = None,
        actor: str,
        reason: str | None = None,
    ) -> Deployment:
        """Change the given fields (the others keep their value) as the next revision."""
        where = "update_deployment"
        url = _url(name, where)
        headers = _actor(actor, where)
        body: dict[str, Any] = {
            "expected_revision": check_revision("expected_revision", expected_revision, where),
            "reason": check_reason(reason, where),
        }
        if not isinstance(model_uri, Unchanged):
            body["model_uri"] = check_model_uri_text("model_uri", model_uri, where)
        if not isinstance(policy, Unchanged):
            body["policy"] = check_policy(policy, where)
        if not isinstance(logging, Unchanged):
            body["logging"] = check_logging(logging, where)
        if not isinstance(challenger, Unchanged):
            body["challenger"] = _challenger(challenger, where)
        if not isinstance(description, Unchanged):
            body["description"] = check_optional_text("description", description, where)
        if not isinstance(tags, Unchanged):
            body["tags"] = check_tags(tags)
        data = self.tracking._call("PATCH", url, json=body, headers=headers)
        return Deployment.from_dict(data)

    def kill(self, name: str, *, reason: str, actor: str) -> Deployment:
        """Stop serving the deployment: servers answer 503 with ``reason`` until re-enabled."""
        url = _url(name, "kill") + "/kill"
        body = {"reason": check_reason(reason, "kill", required=True)}
        data = self.tracking._call("POST", url, json=body, headers=_actor(actor, "kill"))
        return Deployment.from_dict(data)

    def enable(self, name: str, *, actor: str, reason: str | None = None) -> Deployment:
        """Serve a killed deployment again (a deployment that is enabled stays as it is)."""
        url = _url(name, "enable") + "/enable"
        body = {"reason": check_reason(reason, "enable")}
        data = self.tracking._call("POST", url, json=body, headers=_actor(actor, "enable"))
        return Deployment.from_dict(data)

    def delete_deployment(self, name: str, *, actor: str) -> None:
        """Remove the deployment and its revisions (the audit log keeps the last config)."""
        where = "delete_deployment"
        url = _url(name, where)
        self.tracking._call("DELETE", url, headers=_actor(actor, where))
