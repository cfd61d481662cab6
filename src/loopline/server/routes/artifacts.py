"""/api/runs/{run_id}/artifacts"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from loopline.server.deps import tracking_service
from loopline.tracking.service import TrackingService
from loopline.wire import encode_file_info

router = APIRouter(prefix="/api/runs/{run_id}", tags=["artifacts"])
Service = Annotated[TrackingService, Depends(tracking_service)]


@router.get("/artifacts", summary="List artifacts directly under a path")
def list_artifacts(run_id: str, service: Service, path: str | None = None) -> dict[str, Any]:
    return {"files": [encode_file_info(f) for f in service.list_artifacts(run_id, path)]}


@router.get("/artifact-files", summary="Every artifact file at or under a path")
def artifact_files(run_id: str, service: Service, path: str | None = None) -> dict[str, Any]:
    return {"files": [encode_file_info(f) for f in service.artifact_files(run_id, path)]}


@router.get("/artifacts/{path:path}", summary="Download one artifact file")
def read_artifact(run_id: str, path: str, service: Service) -> Response:
    return Response(service.read_artifact(run_id, path), media_type="application/octet-stream")


@router.put("/artifacts/{path:path}", status_code=201, summary="Upload one artifact file")
async def upload_artifact(
    run_id: str, path: str, request: Request, service: Service
) -> dict[str, Any]:
    data = await request.body()
    return {"path": await run_in_threadpool(service.log_artifact_bytes, run_id, path, data)}
