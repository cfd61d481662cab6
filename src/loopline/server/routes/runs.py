"""/api/runs"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from loopline.server.auth import CurrentPrincipal
from loopline.server.deps import tracking_service
from loopline.server.schemas import LogBatch, RunCreate, RunSearch, RunUpdate
from loopline.tracking.service import TrackingService
from loopline.wire import encode_metric, encode_run, encode_run_info

router = APIRouter(prefix="/api/runs", tags=["runs"])
Service = Annotated[TrackingService, Depends(tracking_service)]


@router.post("", status_code=201, summary="Start a run")
def create_run(body: RunCreate, service: Service, principal: CurrentPrincipal) -> dict[str, Any]:
    """With auth on, the run's user is the token's user (release rules compare it), not a claim."""
    user_id = body.user_id if principal.role is None else principal.name
    run = service.create_run(
        body.experiment_id,
        run_name=body.run_name,
        tags=body.tags,
        parent_run_id=body.parent_run_id,
        start_time=body.start_time,
        user_id=user_id,
    )
    return encode_run(run)


@router.post("/search", summary="Search runs with a filter, an order and paging")
def search_runs(body: RunSearch, service: Service) -> dict[str, Any]:
    page = service.search_runs(
        body.experiment_ids,
        filter=body.filter,
        order_by=body.order_by,
        view=body.view,
        max_results=body.max_results,
        page_token=body.page_token,
    )
    return {"runs": [encode_run(r) for r in page], "next_token": page.next_token}


@router.get("/{run_id}", summary="Get a run")
def get_run(run_id: str, service: Service) -> dict[str, Any]:
    return encode_run(service.get_run(run_id))


@router.patch("/{run_id}", summary="Change a run's status or name")
def update_run(run_id: str, body: RunUpdate, service: Service) -> dict[str, Any]:
    info = service.update_run(
        run_id, status=body.status, end_time=body.end_time, run_name=body.run_name
    )
    return encode_run_info(info)


@router.delete("/{run_id}", summary="Delete a run (restorable)")
def delete_run(run_id: str, service: Service) -> dict[str, Any]:
    service.delete_run(run_id)
    return encode_run(service.get_run(run_id))


@router.post("/{run_id}/restore", summary="Restore a deleted run")
def restore_run(run_id: str, service: Service) -> dict[str, Any]:
    service.restore_run(run_id)
    return encode_run(service.get_run(run_id))


@router.post("/{run_id}/batch", summary="Log metrics, params and tags in one call")
def log_batch(run_id: str, body: LogBatch, service: Service) -> dict[str, Any]:
    metrics = [(m.key, m.value, m.timestamp, m.step) for m in body.metrics]
    service.log_batch(run_id, metrics=metrics, params=body.params, tags=body.tags)
    return {"logged": {"metrics": len(metrics), "params": len(body.params or {}),
                       "tags": len(body.tags or {})}}  # fmt: skip


@router.delete("/{run_id}/tags/{key:path}", summary="Delete a run tag")
def delete_tag(run_id: str, key: str, service: Service) -> dict[str, Any]:
    service.delete_tag(run_id, key)
    return {"deleted": key}


@router.get("/{run_id}/metrics/{key:path}", summary="The full series of one metric")
def get_metric_history(run_id: str, key: str, service: Service) -> dict[str, Any]:
    return {"metrics": [encode_metric(m) for m in service.get_metric_history(run_id, key)]}
