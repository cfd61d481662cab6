"""The deployment service: named, versioned, audited configurations of what a server serves.

Arguments are checked, and every model URI resolved to an existing version, before anything is
stored. Every change stores the whole configuration as the next revision and is recorded in the
audit log after it commits (object type ``deployment``, object id its name; actions
``deployment.create``, ``.update``, ``.kill``, ``.enable``, ``.delete``). A change that changes
nothing stores nothing and records nothing.

:meth:`DeploymentService.resolve` is what an inference server polls (about once a second per
deployment) to swap models when an alias moves and to apply the kill switch: one read
transaction of a few indexed lookups, no registry round trips.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from loopline.audit import AuditLog
from loopline.deploy.checks import (
    check_actor,
    check_challenger,
    check_deployment_name,
    check_logging,
    check_model_uri_text,
    check_optional_text,
    check_policy,
    check_reason,
    check_revision,
    check_tags,
    invalid,
)
from loopline.entities import ModelVersion, Page
from loopline.entities.deployments import (
    Challenger,
    Deployment,
    DeploymentRevision,
    ResolvedDeployment,
)
from loopline.errors import InvalidArgumentError
from loopline.registry import RegistryService
from loopline.store import SqlTrackingStore
from loopline.tracking.paging import check_max_results, decode_token, encode_token

__all__ = ["DEFAULT_MAX_RESULTS", "UNCHANGED", "DeploymentService", "Unchanged"]

DEFAULT_MAX_RESULTS = 100


class Unchanged:
    """The type of :data:`UNCHANGED`, the default of :meth:`DeploymentService.update_deployment`.

    One instance, falsy; the remote client's signatures use it too.
    """

    _instance: Unchanged | None = None

    def __new__(cls) -> Unchanged:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED"

    def __bool__(self) -> bool:
        return False


#: "Leave this field as it is" (``None`` means "remove" for the policy and the challenger).
UNCHANGED: Final = Unchanged()


def _now_ms() -> int:
    return int(time.time() * 1000)


class DeploymentService:
    """Deployments: create, change (compare-and-set), kill, enable, delete, list, resolve.

    Unknown names raise :class:`~loopline.errors.NotFoundError`; a stale ``expected_revision``
    raises :class:`~loopline.errors.ConflictError`.

    Examples:
        >>> import tempfile
        >>> from loopline.audit import AuditLog
        >>> from loopline.registry import RegistryService
        >>> from loopline.store import SqlTrackingStore
        >>> store = SqlTrackingStore(f"sqlite:///{tempfile.mkdtemp()}/d.db")
        >>> audit = AuditLog(store)
        >>> service = DeploymentService(store, RegistryService(store, audit), audit)
        >>> service.create_deployment("churn-api", "models:/churn@champion", actor="ana")
        Traceback (most recent call last):
        ...
        loopline.errors.NotFoundError: No registered model named 'churn'.
        >>> service.list_deployments()
        Page([], next_token=None)
    """

    def __init__(
        self,
        store: SqlTrackingStore,
        registry: RegistryService,
        audit: AuditLog,
        *,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        self.store = store
        self.registry = registry
        self.audit = audit
        self.clock = clock

    # -- reading -----------------------------------------------------------------------------

    def get_deployment(self, name: str, revision: int | None = None) -> Deployment:
        """The deployment now, or as it was at ``revision``."""
        where = "get_deployment"
        return self.store.get_deployment(
            check_deployment_name(name, where), check_revision("revision", revision, where)
        )

    def list_deployments(
        self,
        max_results: int | None = None,
        page_token: str | None = None,
        *,
        name_contains: str | None = None,
    ) -> Page[Deployment]:
        """Deployments ordered by name; ``name_contains`` keeps names containing that text."""
        limit = check_max_results(max_results, DEFAULT_MAX_RESULTS)
        offset = decode_token(page_token)
        name_contains = check_optional_text("name_contains", name_contains, "list_deployments")
        found, more = self.store.list_deployments(
            offset=offset, limit=limit, name_contains=name_contains
        )
        return Page(found, encode_token(offset + limit) if more else None)

    def list_revisions(self, name: str) -> list[DeploymentRevision]:
        """Every revision of the deployment, oldest first."""
        return self.store.list_deployment_revisions(check_deployment_name(name, "list_revisions"))

    def resolve(self, name: str) -> ResolvedDeployment:
        """The deployment and the versions its champion and challenger URIs name right now."""
        deployment, found = self.store.resolve_deployment(check_deployment_name(name, "resolve"))
        versions: dict[str, ModelVersion | None] = {}
        errors: dict[str, str] = {}
        roles = {"champion": deployment.model_uri}
        if deployment.challenger is not None:
            roles["challenger"] = deployment.challenger.model_uri
        for role, uri in roles.items():
            result = found[uri]
            if isinstance(result, ModelVersion):
                versions[role] = result
            else:
                versions[role], errors[role] = None, result.message
        return ResolvedDeployment(
            deployment, versions["champion"], versions.get("challenger"), errors
        )

    # -- changing ----------------------------------------------------------------------------

    def create_deployment(
        self,
        name: str,
        model_uri: str,
        *,
        policy: Mapping[str, Any] | None = None,
        logging: str = "async",
        challenger: Challenger | Mapping[str, Any] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        actor: str,
    ) -> Deployment:
        """A new deployment at revision 1, enabled; its URIs must name existing versions."""
        where = "create_deployment"
        name = check_deployment_name(name, where)
        actor = check_actor(actor, where)
        config = {
            "model_uri": self._model_uri("model_uri", model_uri, where),
            "policy": check_policy(policy, where),
            "logging": check_logging(logging, where),
            "challenger": self._challenger(challenger, where),
            "enabled": True,
            "kill_reason": None,
            "description": check_optional_text("description", description, where),
            "tags": check_tags(tags),
        }
        self._check_pair(config, where)
        deployment = self.store.create_deployment(
            name, config, actor=actor, now=self.clock(), reason=None
        )
        self.audit.record(actor, "deployment.create", "deployment", name,
                          {"revision": 1, "config": config})  # fmt: skip
        return deployment

    def update_deployment(
        self,
        name: str,
        *,
        model_uri: str | Unchanged = UNCHANGED,
        policy: Mapping[str, Any] | Unchanged | None = UNCHANGED,
        logging: str | Unchanged = UNCHANGED,
        challenger: Challenger | Mapping[str, Any] | Unchanged | None = UNCHANGED,
        description: str | Unchanged | None = UNCHANGED,
        tags: Mapping[str, str] | Unchanged = UNCHANGED,
        expected_revision: int | None = None,
        actor: str,
        reason: str | None = None,
    ) -> Deployment:
        """Change the given fields (the others keep their value) as the next revision.

        ``policy=None`` removes the policy and ``challenger=None`` the challenger. With
        ``expected_revision``, the change is refused (ConflictError) unless that is still the
        current revision.
        """
        where = "update_deployment"
        name = check_deployment_name(name, where)
        actor = check_actor(actor, where)
        expected_revision = check_revision("expected_revision", expected_revision, where)
        reason = check_reason(reason, where)
        changes: dict[str, Any] = {}
        if not isinstance(model_uri, Unchanged):
            changes["model_uri"] = self._model_uri("model_uri", model_uri, where)
        if not isinstance(policy, Unchanged):
            changes["policy"] = check_policy(policy, where)
        if not isinstance(logging, Unchanged):
            changes["logging"] = check_logging(logging, where)
        if not isinstance(challenger, Unchanged):
            changes["challenger"] = self._challenger(challenger, where)
        if not isinstance(description, Unchanged):
            changes["description"] = check_optional_text("description", description, where)
        if not isinstance(tags, Unchanged):
            changes["tags"] = check_tags(tags)
        return self._revise(
            name, changes, "deployment.update", where, actor=actor, reason=reason,
            expected_revision=expected_revision,
        )  # fmt: skip

    def kill(self, name: str, *, reason: str, actor: str) -> Deployment:
        """Stop serving the deployment: servers answer 503 with ``reason`` until re-enabled."""
        where = "kill"
        name = check_deployment_name(name, where)
        actor = check_actor(actor, where)
        reason = str(check_reason(reason, where, required=True))
        changes = {"enabled": False, "kill_reason": reason}
        return self._revise(name, changes, "deployment.kill", where, actor=actor, reason=reason)

    def enable(self, name: str, *, actor: str, reason: str | None = None) -> Deployment:
        """Serve a killed deployment again (a deployment that is enabled stays as it is)."""
        where = "enable"
        name = check_deployment_name(name, where)
        actor = check_actor(actor, where)
        reason = check_reason(reason, where)
        changes = {"enabled": True, "kill_reason": None}
        return self._revise(name, changes, "deployment.enable", where, actor=actor, reason=reason)

    def delete_deployment(self, name: str, *, actor: str) -> None:
        """Remove the deployment and its revisions (the audit log keeps the last config)."""
        where = "delete_deployment"
        name = check_deployment_name(name, where)
        actor = check_actor(actor, where)
        before = self.store.delete_deployment(name)
        self.audit.record(actor, "deployment.delete", "deployment", name,
                          {"revision": before.revision, "config": before.config()})  # fmt: skip

    # -- helpers -----------------------------------------------------------------------------

    def _revise(
        self,
        name: str,
        changes: dict[str, Any],
        action: str,
        where: str,
        *,
        actor: str,
        reason: str | None,
        expected_revision: int | None = None,
    ) -> Deployment:
        before, after = self.store.revise_deployment(
            name, changes, expected_revision=expected_revision, actor=actor, now=self.clock(),
            reason=reason, check=lambda config: self._check_pair(config, where),
        )  # fmt: skip
        if after is None:
            return before
        old, new = before.config(), after.config()
        self.audit.record(
            actor, action, "deployment", name,
            {"revision": after.revision, "reason": reason,
             "changes": {k: {"from": old[k], "to": new[k]} for k in new if old[k] != new[k]}},
        )  # fmt: skip
        return after

    def _model_uri(self, argument: str, uri: object, where: str) -> str:
        """``uri`` if it names an existing version now (NotFoundError otherwise)."""
        checked = check_model_uri_text(argument, uri, where)
        try:
            self.registry.resolve(checked)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(exc.message, field=argument) from None
        return checked

    def _challenger(self, challenger: object, where: str) -> dict[str, Any] | None:
        checked = check_challenger(challenger, where)
        if checked is None:
            return None
        self._model_uri("challenger.model_uri", checked.model_uri, where)
        return checked.to_dict()

    @staticmethod
    def _check_pair(config: Mapping[str, Any], where: str) -> None:
        challenger = config.get("challenger")
        if challenger is not None and challenger["model_uri"] == config["model_uri"]:
            raise invalid(
                "challenger.model_uri", where, "another URI than the champion's model_uri",
                challenger["model_uri"],
            )  # fmt: skip
