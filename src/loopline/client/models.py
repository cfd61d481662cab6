"""``loopline.models``: the model registry (the SDK side), locally or against a server.

One thin function per call, over ``get_client().registry`` (a RegistryService, or its remote
twin for an ``http(s)://`` URI). Changes are recorded with the OS user as the actor (with auth on,
the server records the token's user instead).

Examples:
    >>> import tempfile, loopline
    >>> from sklearn.linear_model import LinearRegression
    >>> loopline.set_uri(tempfile.mkdtemp())
    >>> with loopline.start_run() as run:
    ...     info = loopline.log_model(LinearRegression().fit([[0], [1]], [0, 1]), "model")
    >>> version = loopline.models.register(run.id, "model", "team/churn", tags={"owner": "ana"})
    >>> (version.version, version.flavor, version.digest == info.digest)
    (1, 'sklearn', True)
    >>> loopline.models.update("team/churn", tags={"team": "risk"}).tags
    {'team': 'risk'}
    >>> loopline.models.set_alias("team/churn", "candidate", 1).aliases
    ['candidate']
    >>> [m.name for m in loopline.models.search("tags.team = 'risk'")]
    ['team/churn']
    >>> loopline.models.resolve("models:/team/churn@candidate").version
    1
    >>> [v.uri for v in loopline.models.search_versions("tags.owner = 'ana' AND version >= 1")]
    ['models:/team/churn/1']
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING

from loopline.entities import DatasetVersion, ModelVersion, Page, RegisteredModel

if TYPE_CHECKING:
    from loopline.entities.cards import CardRevision, ModelCard
    from loopline.registry.service import RegistryService

__all__ = [
    "card",
    "card_history",
    "delete_alias",
    "delete_model",
    "delete_version",
    "get",
    "get_card",
    "get_version",
    "register",
    "resolve",
    "search",
    "search_versions",
    "set_alias",
    "set_tags",
    "training_profile",
    "update",
    "update_card",
    "versions",
]


def _registry() -> RegistryService:
    from loopline.client.fluent import get_client

    return get_client().registry


def _actor() -> str:
    from loopline.client.environment import os_user

    return os_user()


def register(
    run_id: str,
    artifact_path: str,
    name: str,
    *,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """Register the model ``loopline.log_model`` stored at ``artifact_path`` of a run.

    Flavor and signature come from its ``loopline-model.json``, the digest from its files.
    """
    from loopline.client.fluent import get_client
    from loopline.registry.artifacts import register_logged_model

    client = get_client()
    return register_logged_model(
        client.backend, client.registry, run_id, artifact_path, name, actor=_actor(),
        description=description, tags=tags,
    )  # fmt: skip


def get(name: str) -> RegisteredModel:
    """A registered model (its tags, aliases and latest version number)."""
    return _registry().get_registered_model(name)


def get_version(name: str, version: int) -> ModelVersion:
    return _registry().get_model_version(name, version)


def versions(name: str) -> builtins.list[ModelVersion]:
    """Every version of a model, oldest first."""
    return _registry().list_model_versions(name)


def search(
    filter: str | None = None, *, max_results: int | None = None, page_token: str | None = None
) -> Page[RegisteredModel]:
    """Models matching ``filter`` (``name LIKE 'churn%' AND tags.team = 'risk'``), one page."""
    return _registry().search_registered_models(
        filter, max_results=max_results, page_token=page_token
    )


def search_versions(
    filter: str | None = None, *, max_results: int | None = None, page_token: str | None = None
) -> Page[ModelVersion]:
    """Versions matching ``filter`` (``name = 'churn' AND status = 'approved'``), one page."""
    return _registry().search_model_versions(filter, max_results=max_results, page_token=page_token)


def update(
    name: str,
    version: int | None = None,
    *,
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> RegisteredModel | ModelVersion:
    """Set the description or tags (replacing them all) of a model, or of one of its versions."""
    if version is None:
        return _registry().update_registered_model(
            name, description=description, tags=tags, actor=_actor()
        )
    return _registry().update_model_version(
        name, version, description=description, tags=tags, actor=_actor()
    )


def set_tags(
    name: str, tags: Mapping[str, str], *, version: int | None = None
) -> RegisteredModel | ModelVersion:
    """Add or change some tags of a model (or of a version), keeping the others."""
    current = get(name).tags if version is None else get_version(name, version).tags
    return update(name, version, tags={**current, **tags})


def set_alias(name: str, alias: str, version: int) -> ModelVersion:
    """Point an alias at a version (``champion``, ``challenger``, ``shadow``: release only)."""
    return _registry().set_alias(name, alias, version, actor=_actor())


def delete_alias(name: str, alias: str) -> None:
    _registry().delete_alias(name, alias, actor=_actor())


def delete_version(name: str, version: int) -> None:
    """Delete a version nothing of whose release was recorded yet (else retire it)."""
    _registry().delete_model_version(name, version, actor=_actor())


def delete_model(name: str) -> None:
    """Delete a registered model that has no versions left."""
    _registry().delete_registered_model(name, actor=_actor())


def resolve(uri: str) -> ModelVersion:
    """The version ``models:/name/3``, ``models:/name@alias`` or ``models:/name/latest`` names."""
    return _registry().resolve(uri)


def training_profile(name: str, version: int, *, dataset: str | None = None) -> DatasetVersion:
    """The dataset version a model version trained on; its ``profile`` is the reference."""
    return _registry().training_profile(name, version, dataset=dataset)


# -- model cards -----------------------------------------------------------------------------


def card(name: str, version: int, *, format: str = "markdown", revision: int | None = None) -> str:
    """The version's model card (Mitchell et al. 2019) as Markdown or (``format="html"``) HTML.

    The registry fills model details, metrics, evaluation and training data and the
    quantitative analyses; the human sections come from the latest revision (or ``revision``).
    """
    from loopline.client.fluent import get_client

    return get_client().cards.render_card(name, version, format=format, revision=revision)


def get_card(name: str, version: int, *, revision: int | None = None) -> ModelCard:
    """The version's model card as an object (facts, sections, revision)."""
    from loopline.client.fluent import get_client

    return get_client().cards.get_card(name, version, revision=revision)


def update_card(
    name: str,
    version: int,
    sections: Mapping[str, str | None],
    *,
    expected_revision: int | None = None,
) -> ModelCard:
    """Edit the card's human sections (``{"intended_use": "...", ...}``; ``None`` removes one).

    Each edit that changes something is a new revision. With ``expected_revision``, a card
    edited by someone else since raises ConflictError; unknown sections raise
    InvalidArgumentError and store nothing.
    """
    from loopline.client.fluent import get_client

    return get_client().cards.update_card(
        name, version, sections, actor=_actor(), expected_revision=expected_revision
    )


def card_history(name: str, version: int) -> builtins.list[CardRevision]:
    """Every revision of the card's human sections, oldest first."""
    from loopline.client.fluent import get_client

    return get_client().cards.list_card_revisions(name, version)
