"""/api/models/{name}/policy and .../versions/{version}/...: the governed release over REST.

Every change is recorded with the caller (``current_actor``: the token's user with auth on) as
its actor; no body carries an actor. Deciding on a version (``POST .../approvals``) needs the
approver role; the release service then refuses the version's registrant and the author of its
run (403 naming the ``rule``). A model name may hold ``/``: it is matched as a path, and every
route ends in fixed words after ``/versions/{version}``, ``/aliases/{alias}`` or ``/policy``
(words the registry refuses in a name).

An evaluation runs in the server process: the rows travel as a JSON table (``{"columns",
"data", "dtypes"}``) or the request names a dataset version (``datasets:/name/3``). The server
never loads a model on the caller's word that it is safe: ``trusted`` is not accepted here.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from loopline.audit import AuditLog
from loopline.auth import Role
from loopline.entities import Approval, ModelVersion, StoredEvaluation, Transition
from loopline.release import ReleaseService
from loopline.server.auth import Actor, require_role
from loopline.server.deps import dataset_service
from loopline.server.routes.models import parse_version, registry_service
from loopline.tracking.service import TrackingService
from loopline.wire import encode_json

__all__ = [
    "encode_approval",
    "encode_evaluation",
    "encode_transition",
    "release_service",
    "router",
]

router = APIRouter(prefix="/api/models", tags=["release"])
ONE = "/{name:path}/versions/{version}"


def release_service(request: Request) -> ReleaseService:
    """The release service over the tracking service's store (rebuilt if the store was swapped)."""
    state = request.app.state
    tracking: TrackingService = state.tracking
    service: ReleaseService | None = getattr(state, "release", None)
    if service is None or service.store is not tracking.store:
        registry = registry_service(request)
        hook = getattr(tracking.lineage, "evaluation_event", None)
        service = state.release = ReleaseService(
            tracking, registry, dataset_service(request), AuditLog(tracking.store), lineage=hook
        )
    return service


Service = Annotated[ReleaseService, Depends(release_service)]
Approver = Depends(require_role(Role.APPROVER))


def encode_evaluation(item: StoredEvaluation) -> dict[str, Any]:
    """A stored evaluation as JSON (non-finite numbers as strings, like every float here)."""
    data: dict[str, Any] = encode_json(asdict(item))
    return data


def encode_approval(item: Approval) -> dict[str, Any]:
    return asdict(item)


def encode_transition(item: Transition) -> dict[str, Any]:
    data: dict[str, Any] = encode_json(asdict(item))
    return data


def _version(item: ModelVersion) -> dict[str, Any]:
    return item.to_dict()


_POLICY_FIELDS = (
    "required_approvals (1-20), primary_metric (auc, rmse, ...; null: by task), "
    "baseline_margin (>= 0), fairness_thresholds ({'demographic_parity_ratio': 0.8}), "
    "min_group_size, require_signature."
)
Table = dict[str, JsonValue] | str


class EvaluationBody(BaseModel):
    """What to evaluate the version on; ``data`` and ``train_data`` are JSON tables or refs."""

    model_config = ConfigDict(extra="forbid")

    data: Table = Field(
        description="{'columns': [...], 'data': [[...]], 'dtypes': {...}} or datasets:/name/3."
    )
    target: str = Field(description="The target column.")
    train_data: Table | None = Field(
        default=None, description="The training rows, when the version records no dataset."
    )
    baseline: str = Field(default="auto", description="auto or a baseline strategy name.")
    sensitive_features: str | list[str] | None = Field(
        default=None, description="Column name(s) to compute fairness by group on."
    )
    threshold: float = 0.5
    positive_label: str | int | float | bool | None = None
    importance: bool = True


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why; recorded with the transition and the audit event.")


class OptionalReason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = None


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: str = Field(description="Why; recorded with the decision.")


class Promotion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alias: str = Field(default="champion", description="champion, challenger or shadow.")
    reason: str


def _table(value: Table | None, argument: str) -> Any:
    if value is None or isinstance(value, str):
        return value
    from loopline.release.tables import table_from_json

    return table_from_json(value, argument)


@router.get("/{name:path}/policy", summary="A model's release policy (defaults until set)")
def get_policy(name: str, service: Service) -> dict[str, Any]:
    return service.get_policy(name).to_dict()


@router.put(
    "/{name:path}/policy",
    summary="Set a model's release policy (approver role; audited)",
    dependencies=[Approver],
)
def set_policy(
    name: str,
    body: Annotated[dict[str, JsonValue], Body(description=_POLICY_FIELDS)],
    service: Service,
    actor: Actor,
) -> dict[str, Any]:
    """The whole policy: fields left out take their defaults; unknown fields are refused."""
    return service.set_policy(name, body, actor=actor).to_dict()


@router.post(f"{ONE}/evaluations", status_code=201, summary="Evaluate a version (server-side)")
def evaluate(
    name: str, version: str, body: EvaluationBody, service: Service, actor: Actor
) -> dict[str, Any]:
    """The model is loaded and scored by the server; the stored evaluation is returned."""
    uri = service.registry.get_model_version(name, parse_version(version)).uri
    stored = service.evaluate(
        uri, _table(body.data, "data"), target=body.target, baseline=body.baseline,
        sensitive_features=body.sensitive_features, train_data=_table(body.train_data,
        "train_data"), threshold=body.threshold, positive_label=body.positive_label,
        importance=body.importance, actor=actor,
    )  # fmt: skip
    return encode_evaluation(stored)


@router.get(f"{ONE}/evaluations", summary="A version's stored evaluations, oldest first")
def list_evaluations(name: str, version: str, service: Service) -> dict[str, Any]:
    found = service.list_evaluations(name, parse_version(version))
    return {"evaluations": [encode_evaluation(item) for item in found]}


@router.get(f"{ONE}/evaluations/latest", summary="The evaluation the gates read")
def get_evaluation(name: str, version: str, service: Service) -> dict[str, Any]:
    return encode_evaluation(service.get_evaluation(name, parse_version(version)))


@router.get(f"{ONE}/gates", summary="The automatic gates of a version now")
def gates(name: str, version: str, service: Service) -> dict[str, Any]:
    return service.gates(name, parse_version(version)).to_dict()


@router.post(f"{ONE}/validate", summary="registered -> validated when every gate passes")
def validate(
    name: str, version: str, service: Service, actor: Actor, body: OptionalReason | None = None
) -> dict[str, Any]:
    reason = body.reason if body is not None else None
    return _version(service.validate(name, parse_version(version), actor=actor, reason=reason))


@router.post(f"{ONE}/request-approval", summary="validated -> pending_approval")
def request_approval(
    name: str, version: str, body: Reason, service: Service, actor: Actor
) -> dict[str, Any]:
    found = service.request_approval(name, parse_version(version), actor=actor, reason=body.reason)
    return _version(found)


@router.post(
    f"{ONE}/approvals", status_code=201, dependencies=[Approver],
    summary="Approve or reject a pending version (approver role; not its registrant or author)",
)  # fmt: skip
def decide(
    name: str, version: str, body: Decision, service: Service, actor: Actor
) -> dict[str, Any]:
    act = service.approve if body.decision == "approve" else service.reject
    return encode_approval(act(name, parse_version(version), actor=actor, reason=body.reason))


@router.get(f"{ONE}/approvals", summary="A version's decisions, each marked valid or void")
def list_approvals(name: str, version: str, service: Service) -> dict[str, Any]:
    found = service.list_approvals(name, parse_version(version))
    return {"approvals": [encode_approval(item) for item in found]}


@router.post(f"{ONE}/promote", summary="Point a release alias at an approved version")
def promote(
    name: str, version: str, body: Promotion, service: Service, actor: Actor
) -> dict[str, Any]:
    found = service.promote(
        name, parse_version(version), alias=body.alias, actor=actor, reason=body.reason
    )
    return _version(found)


@router.post("/{name:path}/aliases/{alias}/rollback", summary="Move a release alias back")
def rollback(name: str, alias: str, body: Reason, service: Service, actor: Actor) -> dict[str, Any]:
    return _version(service.rollback(name, alias=alias, actor=actor, reason=body.reason))


@router.post(f"{ONE}/retire", summary="Retire a version; its release aliases go with it")
def retire(name: str, version: str, body: Reason, service: Service, actor: Actor) -> dict[str, Any]:
    return _version(service.retire(name, parse_version(version), actor=actor, reason=body.reason))


@router.get(f"{ONE}/history", summary="Every transition of a version, oldest first")
def history(name: str, version: str, service: Service) -> dict[str, Any]:
    found = service.history(name, parse_version(version))
    return {"transitions": [encode_transition(item) for item in found]}
