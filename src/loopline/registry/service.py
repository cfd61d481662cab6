"""The model registry service: registered models, numbered versions, aliases and model URIs.

Arguments are checked before anything is stored, and every change is recorded in the audit log
after it commits (object types ``registered_model``, ``model_version`` and ``alias``; object ids
``name``, ``name/3`` and ``name@alias``). Model names are capped at 180 characters so those ids
fit the audit log's 256.

A new version records the dataset versions its run read (``loopline.log_input``), one query;
:meth:`RegistryService.training_profile` gives the training data's stored profile, the reference
for monitoring. The release aliases (``champion``, ``challenger``, ``shadow``) are moved by the
release process only; every other alias name is free here.

The argument checks are in :mod:`loopline.registry.checks` (shared with the remote client),
filtered search in :mod:`loopline.registry.search`, audited deletion in
:mod:`loopline.registry.deletion` and model URI resolution in :mod:`loopline.registry.uris`;
the service delegates to them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from loopline.audit import AuditLog
from loopline.entities import (
    DatasetVersion,
    ModelVersion,
    ModelVersionStatus,
    Page,
    RegisteredModel,
    TrainingDataset,
)
from loopline.entities.models import RELEASE_ALIASES
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.openlineage import LineageEmitter
from loopline.registry import deletion, search
from loopline.registry.checks import (
    MAX_MODEL_NAME_LENGTH,
    check_alias,
    check_digest,
    check_free_alias,
    check_model_name,
    check_optional_text,
    check_signature,
    check_text,
    check_version,
    invalid,
)
from loopline.registry.search import DEFAULT_MAX_RESULTS
from loopline.registry.uris import resolve_model_uri
from loopline.store import SqlTrackingStore
from loopline.tracking.paging import check_max_results, decode_token, encode_token
from loopline.tracking.validation import check_string_map

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "MAX_MODEL_NAME_LENGTH",
    "RELEASE_ALIASES",
    "RegistryService",
    "check_alias",
    "check_digest",
    "check_free_alias",
    "check_model_name",
    "check_version",
]


def _now_ms() -> int:
    return int(time.time() * 1000)


class RegistryService:
    """Registered models, their versions and aliases, with every change audited.

    Unknown names, versions and aliases raise :class:`~loopline.errors.NotFoundError`.

    Examples:
        >>> import tempfile
        >>> from loopline.audit import AuditLog
        >>> from loopline.store import SqlTrackingStore
        >>> store = SqlTrackingStore(f"sqlite:///{tempfile.mkdtemp()}/r.db")
        >>> registry = RegistryService(store, AuditLog(store))
        >>> registry.create_registered_model("churn", actor="ana").name
        'churn'
        >>> registry.resolve("models:/churn/latest")
        Traceback (most recent call last):
        ...
        loopline.errors.NotFoundError: Registered model 'churn' has no versions yet.
    """

    def __init__(
        self,
        store: SqlTrackingStore,
        audit: AuditLog,
        *,
        clock: Callable[[], int] = _now_ms,
        lineage: LineageEmitter | None = None,
    ) -> None:
        self.store = store
        self.audit = audit
        self.clock = clock
        self.lineage = lineage if lineage is not None else LineageEmitter.disabled()

    # -- registered models -------------------------------------------------------------------

    def create_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str,
    ) -> RegisteredModel:
        where = "create_registered_model"
        name = check_model_name(name)
        actor = check_text("actor", actor, where, 256)
        description = check_optional_text("description", description, where)
        checked_tags = check_string_map(tags, "tag")
        model = self.store.create_registered_model(
            name, description=description, tags=checked_tags, now=self.clock()
        )
        self.audit.record(
            actor, "registered_model.create", "registered_model", name,
            {"description": description, "tags": checked_tags},
        )  # fmt: skip
        return model

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.store.get_registered_model(check_model_name(name))

    def list_registered_models(
        self,
        max_results: int | None = None,
        page_token: str | None = None,
        *,
        name_contains: str | None = None,
    ) -> Page[RegisteredModel]:
        """Models ordered by name; ``name_contains`` keeps names containing that text."""
        limit = check_max_results(max_results, DEFAULT_MAX_RESULTS)
        offset = decode_token(page_token)
        name_contains = check_optional_text(
            "name_contains", name_contains, "list_registered_models"
        )
        models, more = self.store.list_registered_models(
            offset=offset, limit=limit, name_contains=name_contains
        )
        return Page(models, encode_token(offset + limit) if more else None)

    def search_registered_models(
        self,
        filter: str | None = None,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        """Models matching ``filter`` (``name LIKE 'churn%' AND tags.team = 'risk'``), by name.

        Attributes: ``name``, ``description``, ``created_at``, ``updated_at``; tags as
        ``tags.<key>`` (:func:`loopline.registry.search.search_registered_models`).
        """
        return search.search_registered_models(
            self.store, filter, max_results=max_results, page_token=page_token
        )

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str,
    ) -> RegisteredModel:
        """Set a model's description or tags (``None`` leaves one as it is; tags are replaced)."""
        where = "update_registered_model"
        name = check_model_name(name)
        actor = check_text("actor", actor, where, 256)
        description = check_optional_text("description", description, where)
        new_tags = None if tags is None else check_string_map(tags, "tag")
        before, after = self.store.update_registered_model(
            name, description=description, tags=new_tags, now=self.clock()
        )
        changes = {
            field: {"from": old, "to": new}
            for field, old, new in (
                ("description", before.description, after.description),
                ("tags", before.tags, after.tags),
            )
            if old != new
        }
        if changes:
            self.audit.record(actor, "registered_model.update", "registered_model", name, changes)
        return after

    def delete_registered_model(self, name: str, *, actor: str) -> None:
        """Delete a model without versions (delete or keep those first) and release policy."""
        deletion.delete_registered_model(self.store, self.audit, name, actor=actor)

    # -- versions ----------------------------------------------------------------------------

    def create_model_version(
        self,
        name: str,
        *,
        run_id: str,
        artifact_path: str,
        flavor: str,
        digest: str,
        signature: Mapping[str, Any] | None = None,
        actor: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        """Register the artifact of an existing run as the model's next version."""
        where = "create_model_version"
        name = check_model_name(name)
        actor = check_text("actor", actor, where, 256)
        run_id = check_text("run_id", run_id, where, 32)
        artifact_path = check_text("artifact_path", artifact_path, where, 4096)
        flavor = check_text("flavor", flavor, where, 64)
        digest = check_digest(digest, where)
        run_id = self.store.get_run_info(run_id).run_id
        training = [
            TrainingDataset(i.dataset, i.version, i.digest, i.context)
            for i in self.store.run_inputs(run_id)
        ]
        draft = ModelVersion(
            name=name, version=0, run_id=run_id,
            artifact_path=artifact_path, flavor=flavor, digest=digest, created_by=actor,
            created_at=self.clock(), signature=check_signature(signature),
            description=check_optional_text("description", description, where),
            tags=check_string_map(tags, "tag"), training_datasets=training,
        )  # fmt: skip
        version, model_created = self.store.create_model_version(
            draft, model_description=None, now=draft.created_at
        )
        if model_created:
            self.audit.record(actor, "registered_model.create", "registered_model", name,
                              {"description": None, "tags": {}})  # fmt: skip
        self.audit.record(
            actor, "model_version.create", "model_version", f"{name}/{version.version}",
            {"run_id": run_id, "artifact_path": artifact_path, "flavor": flavor,
             "digest": digest, "status": version.status.value,
             "training_datasets": [d.to_dict() for d in training]},
        )  # fmt: skip
        self.lineage.model_registered(version)  # OpenLineage START + COMPLETE (never raises)
        return version

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return self.store.get_model_version(check_model_name(name), check_version(version))

    def list_model_versions(self, name: str) -> list[ModelVersion]:
        return self.store.list_model_versions(check_model_name(name))

    def search_model_versions(
        self,
        filter: str | None = None,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        """Versions matching ``filter`` (``name = 'churn' AND status = 'approved'``).

        Attributes: ``name`` (the model's), ``version``, ``run_id``, ``artifact_path``,
        ``flavor``, ``digest``, ``status``, ``created_by``, ``created_at``, ``description``; tags
        as ``tags.<key>``. Ordered by model name, then version
        (:func:`loopline.registry.search.search_model_versions`).
        """
        return search.search_model_versions(
            self.store, filter, max_results=max_results, page_token=page_token
        )

    def delete_model_version(self, name: str, version: int, *, actor: str) -> None:
        """Delete a version nothing of whose release was recorded yet (else retire it).

        Refused (InvalidStateError) while it is the champion, challenger or shadow, or once it
        has an evaluation, a transition, an approval or a card. Its other aliases go with it.
        """
        deletion.delete_model_version(
            self.store, self.audit, name, version, actor=actor, clock=self.clock
        )

    def training_profile(
        self, name: str, version: int, *, dataset: str | None = None
    ) -> DatasetVersion:
        """The dataset version a model version trained on; its ``profile`` is the reference.

        With several training inputs, ``dataset`` names the one wanted.
        """
        found = self.get_model_version(name, version)
        training = [d for d in found.training_datasets if d.context == "training"]
        if dataset is not None:
            training = [d for d in training if d.name == dataset]
        if not training:
            which = f" from dataset {dataset!r}" if dataset is not None else ""
            raise NotFoundError(
                f"Version {found.version} of {found.name!r} has no training data{which} on "
                "record: its run logged no input with context 'training' (loopline.log_input).",
                model=found.name, version=found.version,
            )  # fmt: skip
        if len(training) > 1:
            names = sorted({d.name for d in training})
            raise InvalidArgumentError(
                f"Version {found.version} of {found.name!r} trained on {len(training)} dataset "
                f"versions ({', '.join(names)}); pass dataset= to choose one.",
                field="dataset",
            )
        return self.store.get_version(training[0].name, training[0].version)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.store.get_model_version_by_alias(check_model_name(name), check_alias(alias))

    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        status: ModelVersionStatus | str | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str,
    ) -> ModelVersion:
        """Set a version's status, description or tags (``None`` leaves a field as it is)."""
        where = "update_model_version"
        name, version = check_model_name(name), check_version(version)
        actor = check_text("actor", actor, where, 256)
        new_status = None
        if status is not None:
            try:
                new_status = ModelVersionStatus(status)
            except ValueError:
                choices = [s.value for s in ModelVersionStatus]
                raise invalid("status", where, f"one of {choices}", status) from None
        description = check_optional_text("description", description, where)
        new_tags = None if tags is None else check_string_map(tags, "tag")
        before, after = self.store.update_model_version(
            name, version, status=new_status, description=description, tags=new_tags,
            now=self.clock(),
        )  # fmt: skip
        changes = {
            field: {"from": old, "to": new}
            for field, old, new in (
                ("status", before.status.value, after.status.value),
                ("description", before.description, after.description),
                ("tags", before.tags, after.tags),
            )
            if old != new
        }
        if changes:
            self.audit.record(
                actor, "model_version.update", "model_version", f"{name}/{version}", changes
            )
        return after

    # -- aliases -----------------------------------------------------------------------------

    def set_alias(self, name: str, alias: str, version: int, *, actor: str) -> ModelVersion:
        """Point ``alias`` at ``version`` (moving it if it named another); audited from/to."""
        name, version = check_model_name(name), check_version(version)
        alias = check_free_alias(alias, "set_alias")
        actor = check_text("actor", actor, "set_alias", 256)
        previous = self.store.set_model_alias(name, alias, version, now=self.clock())
        self.audit.record(
            actor, "alias.set", "alias", f"{name}@{alias}",
            {"model": name, "alias": alias, "from": previous, "to": version},
        )  # fmt: skip
        return self.store.get_model_version(name, version)

    def delete_alias(self, name: str, alias: str, *, actor: str) -> None:
        name, alias = check_model_name(name), check_free_alias(alias, "delete_alias")
        actor = check_text("actor", actor, "delete_alias", 256)
        previous = self.store.delete_model_alias(name, alias, now=self.clock())
        self.audit.record(
            actor, "alias.delete", "alias", f"{name}@{alias}",
            {"model": name, "alias": alias, "from": previous, "to": None},
        )  # fmt: skip

    # -- URIs --------------------------------------------------------------------------------

    def resolve(self, uri: str) -> ModelVersion:
        """The version ``models:/name/3``, ``models:/name@alias`` or ``models:/name/latest`` names.

        The version form is tried first (the text after the last ``/`` is a number or
        ``latest``), so model names may themselves contain ``/`` or ``@``.
        """
        return resolve_model_uri(self.store, uri)
