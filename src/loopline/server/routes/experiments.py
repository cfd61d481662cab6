"""/api/experiments"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from loopline.entities import ViewType
from loopline.server.deps import tracking_service
from loopline.server.schemas import ExperimentCreate, ExperimentUpdate, TagSet
from loopline.tracking.service import TrackingService
from loopline.wire import encode_experiment

router = APIRouter(prefix="/api/experiments", tags=["experiments"])
Service = Annotated[TrackingService, Depends(tracking_service)]


@router.post("", status_code=201, summary="Create an experiment")
def create_experiment(body: ExperimentCreate, service: Service) -> dict[str, Any]:
    experiment_id = service.create_experiment(body.name, tags=body.tags)
    return encode_experiment(service.get_experiment(experiment_id))


@router.get("", summary="List experiments, one page")
def list_experiments(
    service: Service,
    view: ViewType = ViewType.ACTIVE_ONLY,
    max_results: Annotated[int, Query(ge=1, le=50_000)] = 1000,
    page_token: str | None = None,
) -> dict[str, Any]:
    page = service.list_experiments(view=view, max_results=max_results, page_token=page_token)
    return {"experiments": [encode_experiment(e) for e in page], "next_token": page.next_token}


@router.get("/by-name/{name:path}", summary="Get an experiment by name (it may contain '/')")
def get_experiment_by_name(name: str, service: Service) -> dict[str, Any]:
    return encode_experiment(service.get_experiment_by_name(name))


@router.get("/{experiment_id}", summary="Get an experiment")
def get_experiment(experiment_id: str, service: Service) -> dict[str, Any]:
    return encode_experiment(service.get_experiment(experiment_id))


@router.patch("/{experiment_id}", summary="Rename an experiment")
def update_experiment(
    experiment_id: str, body: ExperimentUpdate, service: Service
) -> dict[str, Any]:
    if body.name is not None:
        service.rename_experiment(experiment_id, body.name)
    return encode_experiment(service.get_experiment(experiment_id))


@router.post("/{experiment_id}/tags", summary="Set an experiment tag")
def set_experiment_tag(experiment_id: str, body: TagSet, service: Service) -> dict[str, Any]:
    service.set_experiment_tag(experiment_id, body.key, body.value)
    return encode_experiment(service.get_experiment(experiment_id))


@router.delete("/{experiment_id}", summary="Delete an experiment (restorable)")
def delete_experiment(experiment_id: str, service: Service) -> dict[str, Any]:
    service.delete_experiment(experiment_id)
    return encode_experiment(service.get_experiment(experiment_id))


@router.post("/{experiment_id}/restore", summary="Restore a deleted experiment")
def restore_experiment(experiment_id: str, service: Service) -> dict[str, Any]:
    service.restore_experiment(experiment_id)
    return encode_experiment(service.get_experiment(experiment_id))
