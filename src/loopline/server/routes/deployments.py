"""/api/deployments: deployments over REST (create, list, read, change, kill, enable, delete).

Every change is recorded with the caller (``current_actor``: the token's user with auth on) as
its actor and needs the editor role; reads need the viewer role. ``PATCH /{name}`` changes only
the fields the body names (``null`` removes the policy, the challenger or the description) and
answers 409 CONFLICT when ``expected_revision`` is no longer current. ``GET /{name}/resolve``
gives the versions the deployment's URIs name right now, as an inference server sees them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from loopline.audit import AuditLog
from loopline.auth import Role
from loopline.deploy import DeploymentService
from loopline.server.auth import Actor, require_role
from loopline.server.routes.models import registry_service
from loopline.tracking.service import TrackingService

__all__ = ["deployment_service", "router"]

router = APIRouter(prefix="/api/deployments", tags=["deployments"])
Editor = Depends(require_role(Role.EDITOR))


def deployment_service(request: Request) -> DeploymentService:
    """The deployment service over the tracking service's store (rebuilt if it was swapped)."""
    state = request.app.state
    tracking: TrackingService = state.tracking
    service: DeploymentService | None = getattr(state, "deployments", None)
    if service is None or service.store is not tracking.store:
        service = state.deployments = DeploymentService(
            tracking.store, registry_service(request), AuditLog(tracking.store)
        )
    return service


Service = Annotated[DeploymentService, Depends(deployment_service)]
_CHALLENGER = "{'model_uri', 'mode': 'shadow'|'canary', 'share' (canary, 0-1), 'sticky_key'}"


class CreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1-128 letters, digits, '-', '_' or '.'.")
    model_uri: str = Field(description="models:/<name>@<alias> or models:/<name>/<version>.")
    policy: dict[str, JsonValue] | None = Field(
        default=None, description="A decision policy (DecisionPolicy.to_dict())."
    )
    logging: str = Field(default="async", description="off, async or durable.")
    challenger: dict[str, JsonValue] | None = Field(default=None, description=_CHALLENGER)
    description: str | None = None
    tags: dict[str, str] | None = None


class UpdateBody(BaseModel):
    """The fields to change; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    model_uri: str | None = None
    policy: dict[str, JsonValue] | None = None
    logging: str | None = None
    challenger: dict[str, JsonValue] | None = Field(default=None, description=_CHALLENGER)
    description: str | None = None
    tags: dict[str, str] | None = None
    expected_revision: int | None = Field(
        default=None, description="Refuse the change (409) unless this is the current revision."
    )
    reason: str | None = None


class KillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why; servers answer 503 with it until re-enabled.")


class EnableBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = None


_FIELDS = ("model_uri", "policy", "logging", "challenger", "description", "tags")


@router.post("", status_code=201, summary="Create a deployment", dependencies=[Editor])
def create_deployment(service: Service, actor: Actor, body: CreateBody) -> dict[str, Any]:
    made = service.create_deployment(
        body.name, body.model_uri, policy=body.policy, logging=body.logging,
        challenger=body.challenger, description=body.description, tags=body.tags, actor=actor,
    )  # fmt: skip
    return made.to_dict()


@router.get("", summary="Deployments by name, a page at a time")
def list_deployments(
    service: Service,
    max_results: Annotated[int | None, Query()] = None,
    page_token: Annotated[str | None, Query()] = None,
    name_contains: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    page = service.list_deployments(max_results, page_token, name_contains=name_contains)
    return {"deployments": [d.to_dict() for d in page], "next_token": page.next_token}


@router.get("/{name}", summary="A deployment now, or at one revision")
def get_deployment(
    service: Service, name: str, revision: Annotated[int | None, Query()] = None
) -> dict[str, Any]:
    return service.get_deployment(name, revision).to_dict()


@router.patch("/{name}", summary="Change a deployment (a new revision)", dependencies=[Editor])
def update_deployment(
    service: Service, actor: Actor, name: str, body: UpdateBody
) -> dict[str, Any]:
    given = {f: getattr(body, f) for f in _FIELDS if f in body.model_fields_set}
    updated = service.update_deployment(
        name, **given, expected_revision=body.expected_revision, actor=actor, reason=body.reason
    )
    return updated.to_dict()


@router.delete("/{name}", summary="Delete a deployment and its revisions", dependencies=[Editor])
def delete_deployment(service: Service, actor: Actor, name: str) -> dict[str, Any]:
    service.delete_deployment(name, actor=actor)
    return {}


@router.post("/{name}/kill", summary="Stop serving a deployment", dependencies=[Editor])
def kill(service: Service, actor: Actor, name: str, body: KillBody) -> dict[str, Any]:
    return service.kill(name, reason=body.reason, actor=actor).to_dict()


@router.post("/{name}/enable", summary="Serve a killed deployment again", dependencies=[Editor])
def enable(
    service: Service, actor: Actor, name: str, body: EnableBody | None = None
) -> dict[str, Any]:
    reason = body.reason if body is not None else None
    return service.enable(name, actor=actor, reason=reason).to_dict()


@router.get("/{name}/revisions", summary="Every revision of a deployment, oldest first")
def list_revisions(service: Service, name: str) -> dict[str, Any]:
    return {"revisions": [r.to_dict() for r in service.list_revisions(name)]}


@router.get("/{name}/resolve", summary="The deployment and the versions its URIs name now")
def resolve(service: Service, name: str) -> dict[str, Any]:
    return service.resolve(name).to_dict()
