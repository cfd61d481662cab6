"""Audited deletion of registered models and versions.

Deleting is for mistakes caught early: a model goes only once it has no versions, and a version
only while nothing of its release was recorded (no evaluation, transition, approval or card)
and no release alias names it; a released version is retired instead. Each deletion is recorded
in the audit log after it commits, with the aliases that went with the version (one
``alias.delete`` event each, as when an alias is deleted on its own).

Examples:
    >>> import tempfile
    >>> from loopline.store import SqlTrackingStore
    >>> store = SqlTrackingStore(f"sqlite:///{tempfile.mkdtemp()}/d.db")
    >>> audit = AuditLog(store)
    >>> _ = store.create_registered_model("churn", description=None, tags={}, now=0)
    >>> delete_registered_model(store, audit, "churn", actor="ana")
    >>> [event.action for event in audit.list(object_type="registered_model")]
    ['registered_model.delete']
"""

from __future__ import annotations

from collections.abc import Callable

from loopline.audit import AuditLog
from loopline.entities.models import RELEASE_ALIASES
from loopline.registry.checks import check_model_name, check_text, check_version
from loopline.store import SqlTrackingStore

__all__ = ["delete_model_version", "delete_registered_model"]


def delete_registered_model(
    store: SqlTrackingStore, audit: AuditLog, name: str, *, actor: str
) -> None:
    """Delete a model without versions (delete or keep those first) and its release policy."""
    name = check_model_name(name)
    actor = check_text("actor", actor, "delete_registered_model", 256)
    store.delete_registered_model(name)
    audit.record(actor, "registered_model.delete", "registered_model", name, {})


def delete_model_version(
    store: SqlTrackingStore,
    audit: AuditLog,
    name: str,
    version: int,
    *,
    actor: str,
    clock: Callable[[], int],
) -> None:
    """Delete a version nothing of whose release was recorded yet, with its other aliases.

    Refused (InvalidStateError) while it is the champion, challenger or shadow, or once it
    has an evaluation, a transition, an approval or a card. ``clock`` gives the time of the
    aliases' removal (epoch milliseconds).
    """
    name, version = check_model_name(name), check_version(version)
    actor = check_text("actor", actor, "delete_model_version", 256)
    removed = store.delete_model_version(name, version, keep=RELEASE_ALIASES, now=clock())
    audit.record(actor, "model_version.delete", "model_version", f"{name}/{version}",
                 {"aliases": removed})  # fmt: skip
    for alias in removed:
        audit.record(
            actor, "alias.delete", "alias", f"{name}@{alias}",
            {"model": name, "alias": alias, "from": version, "to": None},
        )  # fmt: skip
