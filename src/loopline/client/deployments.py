"""``loopline.deployments``: deployments (the SDK side), locally or against a server.

One thin function per call, over ``get_client().deployments`` (a DeploymentService, or its
remote twin for an ``http(s)://`` URI). Changes are recorded with the OS user as the actor (with
auth on, the server records the token's user instead).

Examples:
    >>> import tempfile, loopline
    >>> from sklearn.linear_model import LinearRegression
    >>> loopline.set_uri(tempfile.mkdtemp())
    >>> with loopline.start_run() as run:
    ...     info = loopline.log_model(LinearRegression().fit([[0], [1]], [0, 1]), "model")
    >>> _ = loopline.models.register(run.id, "model", "churn")
    >>> _ = loopline.models.set_alias("churn", "prod", 1)
    >>> d = loopline.deployments.create("churn-api", "models:/churn@prod", logging="durable")
    >>> (d.revision, d.enabled, d.logging)
    (1, True, 'durable')
    >>> loopline.deployments.update("churn-api", description="Churn scores").revision
    2
    >>> loopline.deployments.kill("churn-api", reason="drift").kill_reason
    'drift'
    >>> loopline.deployments.resolve("churn-api").champion.uri
    'models:/churn/1'
    >>> [r.revision for r in loopline.deployments.revisions("churn-api")]
    [1, 2, 3]
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loopline.entities import Page
from loopline.entities.deployments import (
    Challenger,
    Deployment,
    DeploymentRevision,
    ResolvedDeployment,
)

if TYPE_CHECKING:
    from loopline.deploy import DeploymentService

__all__ = [
    "create",
    "delete",
    "enable",
    "get",
    "kill",
    "list",
    "resolve",
    "revisions",
    "update",
]


def _service() -> DeploymentService:
    from loopline.client.fluent import get_client

    return get_client().deployments


def _actor() -> str:
    from loopline.client.environment import os_user

    return os_user()


def create(
    name: str,
    model_uri: str,
    *,
    policy: Mapping[str, Any] | None = None,
    logging: str = "async",
    challenger: Challenger | Mapping[str, Any] | None = None,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Deployment:
    """Create a deployment of ``model_uri`` (``models:/name@alias`` or ``models:/name/3``)."""
    return _service().create_deployment(
        name, model_uri, policy=policy, logging=logging, challenger=challenger,
        description=description, tags=tags, actor=_actor(),
    )  # fmt: skip


def get(name: str, revision: int | None = None) -> Deployment:
    """The deployment now, or as it was at ``revision``."""
    return _service().get_deployment(name, revision)


def list(
    max_results: int | None = None,
    page_token: str | None = None,
    *,
    name_contains: str | None = None,
) -> Page[Deployment]:
    """Deployments by name, a page at a time."""
    return _service().list_deployments(max_results, page_token, name_contains=name_contains)


def update(name: str, *, expected_revision: int | None = None, reason: str | None = None,
           **changes: Any) -> Deployment:  # fmt: skip
    """Change ``model_uri``, ``policy``, ``logging``, ``challenger``, ``description`` or
    ``tags`` (fields not given keep their value; ``None`` removes a policy or challenger)."""
    return _service().update_deployment(
        name, **changes, expected_revision=expected_revision, reason=reason, actor=_actor()
    )


def kill(name: str, *, reason: str) -> Deployment:
    """The kill switch: servers answer 503 with ``reason`` until :func:`enable`."""
    return _service().kill(name, reason=reason, actor=_actor())


def enable(name: str, *, reason: str | None = None) -> Deployment:
    """Serve a killed deployment again."""
    return _service().enable(name, actor=_actor(), reason=reason)


def delete(name: str) -> None:
    """Delete the deployment and its revisions (the audit log keeps them)."""
    _service().delete_deployment(name, actor=_actor())


def revisions(name: str) -> builtins.list[DeploymentRevision]:
    """Every revision of the deployment, oldest first."""
    return _service().list_revisions(name)


def resolve(name: str) -> ResolvedDeployment:
    """The deployment and the model versions its URIs name right now."""
    return _service().resolve(name)
