"""Recorded moves of a model version: status transitions and release alias moves, audited.

Every status change is a compare-and-set in the store (two concurrent callers cannot both move a
version) with a transition row that says who, when and why, and an audit event
``model_version.<action>`` (object type ``model_version``, id ``name/3``). Aliases a move removes,
and every move of a release alias, are audited as ``alias.delete`` and ``alias.set`` (object
type ``alias``, id ``name@alias``), like the registry's own. :func:`check_status` refuses a step
from the wrong status. :class:`~loopline.release.service.ReleaseService` decides which moves
are allowed; :class:`Transitions` records them.

Examples:
    >>> from loopline.entities import ModelVersion, ModelVersionStatus
    >>> found = ModelVersion("churn", 1, "r1", "model", "sklearn", "sha256:" + "a" * 64, "ana", 0)
    >>> check_status(found, "validate", ModelVersionStatus.REGISTERED)
    >>> check_status(found, "promote", ModelVersionStatus.APPROVED)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    loopline.errors.InvalidStateError: Version 1 of 'churn' is 'registered'; promote needs ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loopline.audit import AuditLog
from loopline.entities import ModelVersion, ModelVersionStatus
from loopline.errors import InvalidStateError
from loopline.registry.service import RegistryService

__all__ = ["Transitions", "check_status"]


def check_status(found: ModelVersion, step: str, *allowed: ModelVersionStatus) -> None:
    """InvalidStateError unless the version's status is one of ``allowed`` for ``step``."""
    if found.status not in allowed:
        raise InvalidStateError(
            f"Version {found.version} of {found.name!r} is {found.status.value!r}; {step} "
            f"needs it to be {' or '.join(repr(s.value) for s in allowed)}.",
            model=found.name, version=found.version, status=found.status.value,
        )  # fmt: skip


class Transitions:
    """Moves versions between statuses and release aliases between versions, audited.

    Args:
        registry: reads the version back after a move; its store records the moves.
        audit: the audit log every move is recorded in.
        clock: epoch milliseconds.

    Examples:
        >>> import tempfile
        >>> from loopline.store import SqlTrackingStore
        >>> store = SqlTrackingStore(f"sqlite:///{tempfile.mkdtemp()}/t.db")
        >>> registry = RegistryService(store, AuditLog(store))
        >>> transitions = Transitions(registry, registry.audit, clock=lambda: 0)
        >>> transitions.store is store
        True
    """

    def __init__(
        self, registry: RegistryService, audit: AuditLog, *, clock: Callable[[], int]
    ) -> None:
        self.registry = registry
        self.store = registry.store
        self.audit = audit
        self.clock = clock

    def move(
        self,
        found: ModelVersion,
        expected: list[ModelVersionStatus],
        to: ModelVersionStatus,
        *,
        actor: str,
        reason: str | None,
        action: str,
        details: Mapping[str, Any] | None = None,
        remove_aliases: tuple[str, ...] = (),
    ) -> ModelVersion:
        """Move ``found`` from one of ``expected`` to ``to``, removing ``remove_aliases``."""
        transition, removed = self.store.transition_model_version(
            found.name, found.version, expected=expected, to=to, actor=actor, reason=reason,
            details=details, remove_aliases=remove_aliases, now=self.clock(),
        )  # fmt: skip
        for alias in removed:
            self.audit.record(
                actor, "alias.delete", "alias", f"{found.name}@{alias}",
                {"model": found.name, "alias": alias, "from": found.version, "to": None},
            )  # fmt: skip
        self.audit.record(
            actor, f"model_version.{action}", "model_version", f"{found.name}/{found.version}",
            {"from": transition.from_status, "to": transition.to_status, "reason": reason,
             **transition.details},
        )  # fmt: skip
        return self.registry.get_model_version(found.name, found.version)

    def set_alias(
        self, found: ModelVersion, alias: str, actor: str, reason: str, details: dict[str, Any]
    ) -> ModelVersion:
        """Point release ``alias`` at ``found``; ``details["action"]`` names the step."""
        transition, previous = self.store.move_release_alias(
            found.name, found.version, alias, actor=actor, reason=reason, details=details,
            now=self.clock(),
        )  # fmt: skip
        self.audit.record(
            actor, "alias.set", "alias", f"{found.name}@{alias}",
            {"model": found.name, "alias": alias, "from": previous, "to": found.version,
             "release": details["action"], "reason": reason},
        )  # fmt: skip
        self.audit.record(
            actor, f"model_version.{details['action']}", "model_version",
            f"{found.name}/{found.version}", {"reason": reason, **transition.details},
        )  # fmt: skip
        return self.registry.get_model_version(found.name, found.version)
