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
    from loopline.entities import Approval, GateReport, ReleasePolicy, Transition
    from loopline.entities.cards import CardRevision, ModelCard
    from loopline.registry.service import RegistryService
    from loopline.release.service import ReleaseService

__all__ = [
    "approvals",
    "approve",
    "card",
    "card_history",
    "delete_alias",
    "delete_model",
    "delete_version",
    "gates",
    "get",
    "get_card",
    "get_policy",
    "get_version",
    "history",
    "promote",
    "register",
    "reject",
    "request_approval",
    "resolve",
    "retire",
    "rollback",
    "search",
    "search_versions",
    "set_alias",
    "set_policy",
    "set_tags",
    "training_profile",
    "update",
    "update_card",
    "validate",
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


# -- release ---------------------------------------------------------------------------------


def _release() -> ReleaseService:
    from loopline.client.fluent import get_client

    return get_client().release


def get_policy(name: str) -> ReleasePolicy:
    """The model's release policy (the defaults until one is set)."""
    return _release().get_policy(name)


def set_policy(
    name: str,
    policy: ReleasePolicy | Mapping[str, object] | None = None,
    *,
    required_approvals: int | None = None,
    baseline_margin: float | None = None,
    primary_metric: str | None = None,
    fairness_thresholds: Mapping[str, float] | None = None,
    min_group_size: int | None = None,
    require_signature: bool | None = None,
) -> ReleasePolicy:
    """Store the model's release policy: ``policy`` whole, or these fields over the current one.

    Examples:
        >>> import tempfile, loopline
        >>> from sklearn.linear_model import LinearRegression
        >>> loopline.set_uri(tempfile.mkdtemp())
        >>> with loopline.start_run() as run:
        ...     _ = loopline.log_model(LinearRegression().fit([[0], [1]], [0, 1]), "model")
        >>> _ = loopline.models.register(run.id, "model", "demo")
        >>> loopline.models.set_policy("demo", required_approvals=2).required_approvals
        2
        >>> [(g.name, g.passed) for g in loopline.models.gates("demo", 1).gates][:2]
        [('evaluation_present', False), ('beats_baseline', False)]
    """
    from loopline.entities import ReleasePolicy

    service = _release()
    if policy is None:
        policy = service.get_policy(name)
    fields = dict(policy.to_dict() if isinstance(policy, ReleasePolicy) else policy)
    changes = {
        "required_approvals": required_approvals, "baseline_margin": baseline_margin,
        "primary_metric": primary_metric, "min_group_size": min_group_size,
        "require_signature": require_signature,
        "fairness_thresholds": None if fairness_thresholds is None else dict(fairness_thresholds),
    }  # fmt: skip
    fields.update({key: value for key, value in changes.items() if value is not None})
    return service.set_policy(name, fields, actor=_actor())


def gates(name: str, version: int) -> GateReport:
    """The automatic release gates of a version now (``.passed``, ``.failed``, ``.gates``)."""
    return _release().gates(name, version)


def validate(name: str, version: int, *, reason: str | None = None) -> ModelVersion:
    """registered -> validated, when every gate passes (else InvalidStateError naming them)."""
    return _release().validate(name, version, actor=_actor(), reason=reason)


def request_approval(name: str, version: int, *, reason: str) -> ModelVersion:
    """validated -> pending_approval: ask approvers to review the version."""
    return _release().request_approval(name, version, actor=_actor(), reason=reason)


def approve(name: str, version: int, *, reason: str) -> Approval:
    """Approve a pending version (not as its registrant or its run's author)."""
    return _release().approve(name, version, actor=_actor(), reason=reason)


def reject(name: str, version: int, *, reason: str) -> Approval:
    """Reject a pending version: it becomes rejected at once."""
    return _release().reject(name, version, actor=_actor(), reason=reason)


def approvals(name: str, version: int) -> builtins.list[Approval]:
    """The version's decisions, oldest first, each marked valid or void (and why)."""
    return _release().list_approvals(name, version)


def promote(name: str, version: int, *, alias: str = "champion", reason: str) -> ModelVersion:
    """Point ``champion``, ``challenger`` or ``shadow`` at an approved version."""
    return _release().promote(name, version, alias=alias, actor=_actor(), reason=reason)


def rollback(name: str, *, alias: str = "champion", reason: str) -> ModelVersion:
    """Move a release alias back to the previous approved version that held it."""
    return _release().rollback(name, alias=alias, actor=_actor(), reason=reason)


def retire(name: str, version: int, *, reason: str) -> ModelVersion:
    """Retire a version; its release aliases are removed with it."""
    return _release().retire(name, version, actor=_actor(), reason=reason)


def history(name: str, version: int) -> builtins.list[Transition]:
    """Every release transition of the version, oldest first."""
    return _release().history(name, version)
