"""/api/models/{name}/versions/{version}/card: a version's model card, its edits and revisions.

``GET .../card?format=markdown|html|json`` renders the card (HTML as ``text/html`` with a
Content-Security-Policy that allows no script), ``PUT .../card`` stores an edit of its human
sections as the next revision (409 CONFLICT when ``expected_revision`` is stale), and
``GET .../card/revisions`` lists every revision. A model name may hold ``/``: it is matched as a
path, and every route ends in fixed words.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from loopline.audit import AuditLog
from loopline.cards import CardService
from loopline.cards.render import render
from loopline.registry import RegistryService
from loopline.release.service import ReleaseService
from loopline.server.auth import Actor
from loopline.server.deps import dataset_service
from loopline.tracking.service import TrackingService
from loopline.wire import encode_json

__all__ = ["card_service", "router"]

router = APIRouter(prefix="/api/models", tags=["model cards"])
CARD = "/{name:path}/versions/{version}/card"
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def card_service(request: Request) -> CardService:
    """The card service over the tracking service's store (rebuilt if the store was swapped).

    It has the release service, so cards show the gates and mark voided approvals.
    """
    state = request.app.state
    tracking: TrackingService = state.tracking
    service: CardService | None = getattr(state, "cards", None)
    if service is None or service.store is not tracking.store:
        audit = AuditLog(tracking.store)
        registry = RegistryService(tracking.store, audit)
        datasets = dataset_service(request)
        release = ReleaseService(tracking, registry, datasets, audit)
        service = state.cards = CardService(
            tracking.store, registry, audit, datasets, release=release
        )
    return service


Service = Annotated[CardService, Depends(card_service)]


class CardEdit(BaseModel):
    """An edit: section name -> Markdown (``null`` removes a section)."""

    model_config = ConfigDict(extra="forbid")
    sections: dict[str, str | None] = Field(
        description="Section name -> Markdown text; null or blank text removes the section."
    )
    expected_revision: int | None = Field(
        default=None,
        description="Refuse the edit (409) unless this is still the latest revision (0: none).",
    )


@router.get(CARD, summary="A version's model card as Markdown, HTML or JSON")
def get_card(
    service: Service,
    name: str,
    version: int,
    format: Annotated[Literal["markdown", "html", "json"], Query()] = "markdown",
    revision: Annotated[int | None, Query(description="Default: the latest.")] = None,
) -> Response:
    card = service.get_card(name, version, revision=revision)
    if format == "json":
        return JSONResponse(encode_json(card.to_dict()))
    if format == "html":
        return Response(
            render(card, "html"),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"},
        )
    return Response(render(card, "markdown"), media_type="text/markdown; charset=utf-8")


@router.put(CARD, summary="Edit the human sections of a version's model card (a new revision)")
def update_card(
    service: Service, actor: Actor, name: str, version: int, edit: CardEdit
) -> dict[str, Any]:
    card = service.update_card(
        name, version, edit.sections, actor=actor, expected_revision=edit.expected_revision
    )
    data: dict[str, Any] = encode_json(card.to_dict())
    return data


@router.get(CARD + "/revisions", summary="Every revision of a model card's human sections")
def list_card_revisions(service: Service, name: str, version: int) -> dict[str, Any]:
    revisions = service.list_card_revisions(name, version)
    return {"revisions": [r.to_dict() for r in revisions]}
