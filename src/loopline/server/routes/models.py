"""/api/models, /api/model-versions: the model registry over REST.

A model name may hold ``/`` (it is matched as a path); the registry refuses names whose parts
after the first are ``versions`` or ``aliases``, and the name ``resolve``, so these routes never
shadow each other. A version in a path is a number from 1 to 2**31 - 1.

A new version is registered from a run's logged model (``run_id`` and ``artifact_path``): the
server reads its ``loopline-model.json`` and digests its files itself; a digest or flavor sent
along must match what it finds. Statuses are not set here: they move through the release process.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from loopline.audit import AuditLog
from loopline.entities import ModelVersion
from loopline.errors import InvalidStateError
from loopline.registry.artifacts import read_model_document
from loopline.registry.service import RegistryService, check_digest, check_version
from loopline.server.auth import Actor
from loopline.server.deps import tracking_service
from loopline.tracking.service import TrackingService
from loopline.wire import encode_dataset_version

__all__ = ["parse_version", "registry_service", "router"]

router = APIRouter(prefix="/api", tags=["models"])


def registry_service(request: Request) -> RegistryService:
    """The registry over the tracking service's store (rebuilt if the store was swapped)."""
    state = request.app.state
    store = state.tracking.store
    service: RegistryService | None = getattr(state, "registry", None)
    if service is None or service.store is not store:
        service = state.registry = RegistryService(store, AuditLog(store))
    return service


Service = Annotated[RegistryService, Depends(registry_service)]
Tracking = Annotated[TrackingService, Depends(tracking_service)]
Filter = Annotated[str | None, Query(max_length=10_000, description="A registry filter.")]
MaxResults = Annotated[int | None, Query(description="Page size (default 100).")]
ONE = "/models/{name:path}/versions/{version}"
ALIAS = "/models/{name:path}/aliases/{alias}"


def parse_version(text: str) -> int:
    """A version number from a path; anything else is a 400 that names the value."""
    number: object = int(text) if text.lstrip("-").isdecimal() and len(text) < 20 else text
    return check_version(number)


class ModelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The model's name (may hold '/').")
    description: str | None = None
    tags: dict[str, str] | None = None


class ModelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    tags: dict[str, str] | None = Field(default=None, description="Replaces every tag.")


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(description="The run that logged the model.")
    artifact_path: str = Field(description="Where in the run's artifacts (e.g. `model`).")
    flavor: str | None = Field(default=None, description="If sent, must match the model's.")
    digest: str | None = Field(default=None, description="If sent, must match the files'.")
    signature: dict[str, Any] | None = Field(default=None, description="Else the model's own.")
    description: str | None = None
    tags: dict[str, str] | None = None


class AliasSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="The version the alias names.")


def _page(key: str, items: list[Any], next_token: str | None) -> dict[str, Any]:
    return {key: [item.to_dict() for item in items], "next_token": next_token}


@router.get("/models", summary="Search registered models, one page")
def search_models(
    service: Service,
    filter: Filter = None,
    name_contains: Annotated[str | None, Query(max_length=256)] = None,
    max_results: MaxResults = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """`filter`: `name LIKE 'churn%' AND tags.team = 'risk'`; or `name_contains`."""
    if name_contains is not None:
        page = service.list_registered_models(max_results, page_token, name_contains=name_contains)
    else:
        page = service.search_registered_models(
            filter, max_results=max_results, page_token=page_token
        )
    return _page("models", page, page.next_token)


@router.post("/models", status_code=201, summary="Create a registered model")
def create_model(body: ModelCreate, service: Service, actor: Actor) -> dict[str, Any]:
    return service.create_registered_model(
        body.name, description=body.description, tags=body.tags, actor=actor
    ).to_dict()


@router.get("/models/resolve", summary="The version a models:/ URI names")
def resolve(
    uri: Annotated[str, Query(max_length=1000, description="`models:/name/3`, `@alias`...")],
    service: Service,
) -> dict[str, Any]:
    return service.resolve(uri).to_dict()


@router.get("/model-versions/search", summary="Search model versions, one page")
def search_versions(
    service: Service,
    filter: Filter = None,
    max_results: MaxResults = None,
    page_token: str | None = None,
) -> dict[str, Any]:
    """`filter`: `name = 'churn' AND status = 'approved' AND tags.owner = 'ana'`."""
    page = service.search_model_versions(filter, max_results=max_results, page_token=page_token)
    return _page("versions", page, page.next_token)


@router.get("/models/{name:path}/versions", summary="Every version of a model, oldest first")
def list_versions(name: str, service: Service) -> dict[str, Any]:
    return {"versions": [v.to_dict() for v in service.list_model_versions(name)]}


@router.post("/models/{name:path}/versions", status_code=201, summary="Register a logged model")
def create_version(
    name: str, body: VersionCreate, service: Service, tracking: Tracking, actor: Actor
) -> dict[str, Any]:
    """The server reads the model's description and digests its files."""
    if body.digest is not None:
        check_digest(body.digest, "create_model_version")
    document, digest = read_model_document(tracking, body.run_id, body.artifact_path)
    flavor = str(document["flavor"]["flavor"])
    for field, sent, found in (("digest", body.digest, digest), ("flavor", body.flavor, flavor)):
        if sent is not None and sent != found:
            raise InvalidStateError(
                f"The model at {body.artifact_path!r} of run {body.run_id} has {field} "
                f"{found!r}, not the {sent!r} sent; its files changed or the request is wrong.",
                field=field,
            )
    signature = body.signature if body.signature is not None else document.get("signature")
    return service.create_model_version(
        name, run_id=body.run_id, artifact_path=body.artifact_path, flavor=flavor,
        digest=digest, signature=signature, actor=actor, description=body.description,
        tags=body.tags,
    ).to_dict()  # fmt: skip


@router.get(ONE, summary="Get a version")
def get_version(name: str, version: str, service: Service) -> dict[str, Any]:
    return service.get_model_version(name, parse_version(version)).to_dict()


@router.patch(ONE, summary="Update a version's description or tags")
def update_version(
    name: str, version: str, body: ModelUpdate, service: Service, actor: Actor
) -> dict[str, Any]:
    found: ModelVersion = service.update_model_version(
        name, parse_version(version), description=body.description, tags=body.tags, actor=actor
    )
    return found.to_dict()


@router.delete(ONE, summary="Delete a version with no release records")
def delete_version(name: str, version: str, service: Service, actor: Actor) -> dict[str, Any]:
    number = parse_version(version)
    service.delete_model_version(name, number, actor=actor)
    return {"name": name, "version": number, "deleted": True}


@router.get(f"{ONE}/training-profile", summary="The dataset version the version trained on")
def training_profile(
    name: str, version: str, service: Service, dataset: str | None = None
) -> dict[str, Any]:
    """Its `profile` and `schema` are the reference for monitoring."""
    found = service.training_profile(name, parse_version(version), dataset=dataset)
    return encode_dataset_version(found)


@router.get(ALIAS, summary="The version an alias names")
def get_alias(name: str, alias: str, service: Service) -> dict[str, Any]:
    return service.get_model_version_by_alias(name, alias).to_dict()


@router.put(ALIAS, summary="Point an alias at a version (not a release alias)")
def set_alias(
    name: str, alias: str, body: AliasSet, service: Service, actor: Actor
) -> dict[str, Any]:
    return service.set_alias(name, alias, body.version, actor=actor).to_dict()


@router.delete(ALIAS, summary="Remove an alias (not a release alias)")
def delete_alias(name: str, alias: str, service: Service, actor: Actor) -> dict[str, Any]:
    service.delete_alias(name, alias, actor=actor)
    return {"name": name, "alias": alias, "deleted": True}


@router.get("/models/{name:path}", summary="Get a registered model")
def get_model(name: str, service: Service) -> dict[str, Any]:
    return service.get_registered_model(name).to_dict()


@router.patch("/models/{name:path}", summary="Update a model's description or tags")
def update_model(name: str, body: ModelUpdate, service: Service, actor: Actor) -> dict[str, Any]:
    return service.update_registered_model(
        name, description=body.description, tags=body.tags, actor=actor
    ).to_dict()


@router.delete("/models/{name:path}", summary="Delete a model that has no versions")
def delete_model(name: str, service: Service, actor: Actor) -> dict[str, Any]:
    service.delete_registered_model(name, actor=actor)
    return {"name": name, "deleted": True}
