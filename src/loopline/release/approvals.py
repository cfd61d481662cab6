"""Approvals of a model version: who may decide, what a vote is bound to, and when it is void.

An approval is bound to the artifact digest recomputed from the stored bytes and to the digest
of the gate report at the time: when either changes, the approval is void and no longer counts
towards the policy's ``required_approvals``, and promotion is refused. Separation of duties: the
approver may be neither the version's registrant nor the author of the run that trained it.

:class:`Approvals` is the collaborator :class:`~loopline.release.service.ReleaseService`
delegates to; the service keeps the state machine (statuses, gates, aliases) and hands this
class the version, the gate report and the policy's count.

Examples:
    >>> from loopline.entities import ModelVersion
    >>> found = ModelVersion("churn", 1, "r1", "model", "sklearn", "sha256:" + "a" * 64, "ana", 0)
    >>> check_intact(found, found.digest, "approved")
    >>> check_intact(found, "missing", "approved")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    loopline.errors.InvalidStateError: The artifact of version 1 of 'churn' changed since ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from loopline.audit import AuditLog
from loopline.entities import Approval, GateReport, ModelVersion
from loopline.errors import InvalidStateError, PermissionDeniedError
from loopline.release.digests import stored_digest
from loopline.store import SqlTrackingStore
from loopline.tracking.service import TrackingService

__all__ = ["Approvals", "check_intact"]


def check_intact(found: ModelVersion, artifact: str, step: str) -> None:
    """InvalidStateError unless ``artifact`` (the stored bytes' digest) is the registered one."""
    if artifact != found.digest:
        raise InvalidStateError(
            f"The artifact of version {found.version} of {found.name!r} changed since "
            f"registration (its stored bytes hash to {artifact}, registered "
            f"{found.digest}); it cannot be {step}.",
            model=found.name, version=found.version,
        )  # fmt: skip


class Approvals:
    """The decisions on model versions: recorded, bound to digests, checked, marked void.

    Args:
        tracking: runs (whose author may not approve) and the artifacts the digest is read from.
        store: holds the approval rows.
        audit: the audit log every decision is recorded in.
        clock: epoch milliseconds.

    Examples:
        >>> import tempfile
        >>> from loopline.artifacts import ArtifactStore
        >>> root = tempfile.mkdtemp()
        >>> store = SqlTrackingStore(f"sqlite:///{root}/a.db")
        >>> tracking = TrackingService(store, ArtifactStore(f"{root}/artifacts"))
        >>> approvals = Approvals(tracking, store, AuditLog(store), clock=lambda: 0)
        >>> run = tracking.create_run(tracking.create_experiment("x"), user_id="bob")
        >>> found = ModelVersion("churn", 1, run.info.run_id, "model", "sklearn",
        ...                      "sha256:" + "0" * 64, "ana", 0)
        >>> approvals.artifact_digest(found)  # nothing stored under "model"
        'missing'
        >>> approvals.check_duties(found, "bob", "approve")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        loopline.errors.PermissionDeniedError: 'bob' authored run ...
    """

    def __init__(
        self,
        tracking: TrackingService,
        store: SqlTrackingStore,
        audit: AuditLog,
        *,
        clock: Callable[[], int],
    ) -> None:
        self.tracking = tracking
        self.store = store
        self.audit = audit
        self.clock = clock

    def artifact_digest(self, found: ModelVersion) -> str:
        """The digest of the version's artifact as stored now (what an approval is bound to)."""
        return stored_digest(self.tracking, found.run_id, found.artifact_path)

    def check_duties(self, found: ModelVersion, actor: str, decision: str) -> None:
        """PermissionDeniedError when ``actor`` registered the version or authored its run."""
        who = actor.casefold()
        if who == found.created_by.casefold():
            raise PermissionDeniedError(
                f"{actor!r} registered version {found.version} of {found.name!r} and so may not "
                f"{decision} it (separation of duties: the approver may not be the registrant).",
                rule="registrant", model=found.name, version=found.version,
            )  # fmt: skip
        author = self.tracking.get_run(found.run_id).info.user_id
        if author is not None and who == author.casefold():
            raise PermissionDeniedError(
                f"{actor!r} authored run {found.run_id}, which trained version {found.version} "
                f"of {found.name!r}, and so may not {decision} it (separation of duties: the "
                "approver may not be the author of the version's run).",
                rule="run_author", model=found.name, version=found.version,
            )  # fmt: skip

    def record(
        self,
        found: ModelVersion,
        decision: str,
        *,
        actor: str,
        reason: str,
        artifact: str,
        report: GateReport,
        required_approvals: int,
    ) -> Approval:
        """Store a decision bound to ``artifact`` and ``report``, and audit it.

        The store moves the version to approved once ``required_approvals`` distinct approvers
        voted, and to rejected at the first rejection.
        """
        approval, transition = self.store.record_model_approval(
            found.name, found.version, approver=actor, decision=decision, reason=reason,
            artifact_digest=artifact, gates_digest=report.digest,
            required_approvals=required_approvals, now=self.clock(),
        )  # fmt: skip
        self.audit.record(
            actor, f"model_version.{decision}", "model_version", f"{found.name}/{found.version}",
            {"approval_id": approval.id, "reason": reason, "artifact_digest": artifact,
             "gates_digest": report.digest,
             "status": None if transition is None
             else {"from": transition.from_status, "to": transition.to_status}},
        )  # fmt: skip
        return approval

    def marked(self, found: ModelVersion, artifact: str, gates: str) -> list[Approval]:
        """The version's decisions, oldest first, void when ``artifact`` or ``gates`` changed."""
        marked = []
        for item in self.store.list_model_approvals(found.name, found.version):
            why = None
            if item.artifact_digest != artifact:
                why = "artifact changed"
            elif item.gates_digest != gates:
                why = "gate results changed"
            marked.append(replace(item, valid=why is None, void_reason=why))
        return marked

    def problems(
        self, found: ModelVersion, report: GateReport, required_approvals: int
    ) -> list[str]:
        """Why the version's approvals do not (or no longer) release it; empty when they do.

        ``report`` is the version's gate report now and ``required_approvals`` the policy's
        count now; an approval bound to another artifact or gate report does not count.
        """
        artifact = self.artifact_digest(found)
        problems = []
        if artifact != found.digest:
            problems.append(f"its artifact changed since registration (now {artifact})")
        approvals = self.marked(found, artifact, report.digest)
        valid = {a.approver for a in approvals if a.decision == "approve" and a.valid}
        if len(valid) < required_approvals:
            void = "; ".join(
                f"approval {a.id} by {a.approver!r} is void: {a.void_reason}"
                for a in approvals if not a.valid
            )  # fmt: skip
            problems.append(
                f"{len(valid)} valid approval(s) of {required_approvals} required"
                + (f" ({void})" if void else "")
            )
        return problems
