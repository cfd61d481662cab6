"""/api/lineage"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from loopline.audit import AuditLog
from loopline.data.service import DatasetService
from loopline.graph import LineageService
from loopline.graph.service import DEFAULT_DEPTH, MAX_DEPTH
from loopline.registry.service import RegistryService
from loopline.server.deps import dataset_service, tracking_service
from loopline.tracking.service import TrackingService

router = APIRouter(prefix="/api/lineage", tags=["lineage"])
Tracking = Annotated[TrackingService, Depends(tracking_service)]
Datasets = Annotated[DatasetService, Depends(dataset_service)]


@router.get("", summary="The lineage graph around a dataset version, run or model version")
def get_lineage(
    tracking: Tracking,
    datasets: Datasets,
    ref: Annotated[
        str,
        Query(description="dataset:name/3, run:<id>, models:/name/3 or models:/name@alias"),
    ],
    depth: Annotated[int, Query(description=f"Hops walked, 1 to {MAX_DEPTH}.")] = DEFAULT_DEPTH,
    direction: Annotated[str, Query(description="both, upstream or downstream.")] = "both",
) -> dict[str, Any]:
    """Bounds are checked by the service, so the message is the SDK's (400, INVALID_ARGUMENT)."""
    registry = RegistryService(tracking.store, AuditLog(tracking.store), lineage=tracking.lineage)
    service = LineageService(tracking, datasets, registry)
    return service.graph(ref, depth=depth, direction=direction).to_dict()
