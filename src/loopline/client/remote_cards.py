"""The remote model cards: :class:`~loopline.cards.service.CardService`, over HTTP.

Same methods, arguments, return types and exceptions as the local service; arguments are checked
here first, with the local messages, so a bad edit fails before anything is sent. Rendered cards
come from the server as it renders them. The ``actor`` of an edit travels as the
``X-Loopline-Actor`` header: the server records it while auth is off, and the token's user
instead once auth is on.
"""

from __future__ import annotations

from collections.abc import Mapping

from loopline.cards.render import check_format
from loopline.cards.service import check_sections
from loopline.client.remote import RemoteTracking, _q
from loopline.entities.cards import CardRevision, ModelCard
from loopline.errors import InvalidArgumentError
from loopline.registry.service import check_model_name, check_version

__all__ = ["RemoteCards"]

_ACTOR_HEADER = "X-Loopline-Actor"


def _card_url(name: str, version: int) -> str:
    return f"/api/models/{_q(check_model_name(name))}/versions/{check_version(version)}/card"


def _revision(revision: int | None) -> dict[str, int]:
    return {} if revision is None else {"revision": check_version(revision)}


class RemoteCards:
    """Same methods as :class:`~loopline.cards.service.CardService`, served remotely.

    It shares the HTTP connection pool, the token and the error decoding of ``tracking``.
    """

    def __init__(self, tracking: RemoteTracking) -> None:
        self.tracking = tracking

    def get_card(self, name: str, version: int, *, revision: int | None = None) -> ModelCard:
        """The card of a version, with the human text of ``revision`` (default: the latest)."""
        params = {"format": "json", **_revision(revision)}
        data = self.tracking._call("GET", _card_url(name, version), params=params)
        return ModelCard.from_dict(data)

    def render_card(
        self, name: str, version: int, *, format: str = "markdown", revision: int | None = None
    ) -> str:
        """The card as Markdown (``format="markdown"``) or a standalone HTML page (``"html"``)."""
        params = {"format": check_format(format), **_revision(revision)}
        body = self.tracking._call("GET", _card_url(name, version), raw=True, params=params)
        return bytes(body).decode("utf-8")

    def list_card_revisions(self, name: str, version: int) -> list[CardRevision]:
        """Every revision of the card's human text, oldest first."""
        data = self.tracking._call("GET", _card_url(name, version) + "/revisions")
        return [CardRevision.from_dict(item) for item in data["revisions"]]

    def update_card(
        self,
        name: str,
        version: int,
        sections: Mapping[str, str | None],
        *,
        actor: str,
        expected_revision: int | None = None,
    ) -> ModelCard:
        """Store ``sections`` merged over the latest revision as the next revision."""
        url = _card_url(name, version)
        if not isinstance(actor, str) or not actor.strip() or len(actor) > 256:
            raise InvalidArgumentError(
                "The 'actor' parameter of update_card must be a non-empty string of at most "
                f"256 characters. Got {str(actor)[:80]!r} instead.",
                field="actor",
            )
        if expected_revision is not None and (
            isinstance(expected_revision, bool)
            or not isinstance(expected_revision, int)
            or expected_revision < 0
        ):
            raise InvalidArgumentError(
                "The 'expected_revision' parameter of update_card must be None or an integer "
                f">= 0. Got {str(expected_revision)[:40]!r} instead.",
                field="expected_revision",
            )
        body = {"sections": check_sections(sections), "expected_revision": expected_revision}
        headers = {_ACTOR_HEADER: actor} if actor.isascii() and actor.isprintable() else {}
        data = self.tracking._call("PUT", url, json=body, headers=headers)
        return ModelCard.from_dict(data)
