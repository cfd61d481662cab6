"""The release service: evaluate, gate, validate, approve, promote, roll back and retire versions.

Every status change is a compare-and-set in the store (two concurrent callers cannot both move a
version) with a transition row that says who, when and why, and an audit event (object type
``model_version``, id ``name/3``). Moves of the release aliases are audited as ``alias.set`` and
``alias.delete`` (object type ``alias``, id ``name@alias``), like the registry's own.

Approvals (separation of duties, binding to the artifact and gate digests, voiding) live in
:mod:`loopline.release.approvals`; this service moves versions through their states and asks
its :class:`~loopline.release.approvals.Approvals` whether their approvals still hold. It
delegates recording those moves to :mod:`loopline.release.transitions`, evaluating and
storing evaluations to :mod:`loopline.release.evaluations`, and loading models (trusting
approved pickles) to :mod:`loopline.release.trust`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from loopline.audit import AuditLog
from loopline.entities import (
    Approval,
    GateReport,
    ModelVersion,
    ModelVersionStatus,
    ReleasePolicy,
    StoredEvaluation,
    Transition,
)
from loopline.entities.models import RELEASE_ALIASES
from loopline.errors import InvalidStateError, NotFoundError
from loopline.modeling.logged import LoggedModel
from loopline.registry.checks import check_model_name, check_version
from loopline.registry.service import RegistryService
from loopline.release.aliases import alias_holders
from loopline.release.approvals import Approvals, check_intact
from loopline.release.checks import (
    check_actor,
    check_optional_reason,
    check_policy,
    check_release_alias,
    check_required_text,
)
from loopline.release.evaluations import Evaluations, LineageHook
from loopline.release.gates import release_gates
from loopline.release.transitions import Transitions, check_status
from loopline.release.trust import Trust
from loopline.tracking.service import TrackingService

if TYPE_CHECKING:
    from loopline.data.service import DatasetService

__all__ = ["RELEASE_ALIASES", "LineageHook", "ReleaseService"]

S = ModelVersionStatus


def _now_ms() -> int:
    return int(time.time() * 1000)


class ReleaseService:
    """The governed release of registered model versions.

    Args:
        tracking: runs and artifacts (to load models and recompute artifact digests).
        registry: the model registry; its store holds the release tables.
        datasets: loads dataset versions given as ``data`` or recorded as training data;
            ``None`` when only DataFrames are evaluated.
        audit: the audit log every change is recorded in.
        clock: epoch milliseconds (tests pass a fake).
        lineage: a hook told when an evaluation starts, completes or fails; by default the
            tracking service's OpenLineage emitter (``evaluation_event``).

    Examples:
        >>> import tempfile
        >>> from loopline.artifacts import ArtifactStore
        >>> from loopline.store import SqlTrackingStore
        >>> root = tempfile.mkdtemp()
        >>> store = SqlTrackingStore(f"sqlite:///{root}/r.db")
        >>> tracking = TrackingService(store, ArtifactStore(f"{root}/artifacts"))
        >>> registry = RegistryService(store, AuditLog(store))
        >>> release = ReleaseService(tracking, registry, None, registry.audit)
        >>> run = tracking.create_run(tracking.create_experiment("x"), user_id="ana")
        >>> version = registry.create_model_version(
        ...     "churn", run_id=run.info.run_id, artifact_path="model", flavor="sklearn",
        ...     digest="sha256:" + "0" * 64, actor="ana")
        >>> release.set_policy("churn", {"required_approvals": 2}, actor="risk").required_approvals
        2
        >>> [gate.name for gate in release.gates("churn", 1).failed]
        ['evaluation_present', 'beats_baseline', 'signature_present']
        >>> release.promote("churn", 1, actor="ci", reason="ship")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        loopline.errors.InvalidStateError: Version 1 of 'churn' is 'registered'; promote needs ...
    """

    def __init__(
        self,
        tracking: TrackingService,
        registry: RegistryService,
        datasets: DatasetService | None,
        audit: AuditLog,
        *,
        clock: Callable[[], int] = _now_ms,
        lineage: LineageHook | None = None,
    ) -> None:
        self.tracking = tracking
        self.registry = registry
        self.store = registry.store
        self.datasets = datasets
        self.audit = audit
        self.clock = clock
        self.lineage = lineage if lineage is not None else tracking.lineage.evaluation_event
        self.approvals = Approvals(tracking, self.store, audit, clock=clock)
        self.transitions = Transitions(registry, audit, clock=clock)
        self.trust = Trust(tracking, registry)
        self.evaluations = Evaluations(
            registry, datasets, audit, self.trust, policy=self.get_policy, clock=clock,
            lineage=self.lineage,
        )  # fmt: skip

    # -- policies ----------------------------------------------------------------------------

    def get_policy(self, name: str) -> ReleasePolicy:
        """The model's release policy (the defaults of :class:`ReleasePolicy` until one is set)."""
        return self.store.get_release_policy(check_model_name(name)) or ReleasePolicy()

    def set_policy(
        self, name: str, policy: ReleasePolicy | Mapping[str, Any], *, actor: str
    ) -> ReleasePolicy:
        """Store the model's release policy (a :class:`ReleasePolicy` or its fields as a dict)."""
        name, actor = check_model_name(name), check_actor(actor, "set_policy")
        policy = check_policy(policy)
        before = self.store.set_release_policy(name, policy, actor=actor, now=self.clock())
        self.audit.record(
            actor, "release_policy.set", "registered_model", name,
            {"from": before.to_dict() if before else None, "to": policy.to_dict()},
        )  # fmt: skip
        return policy

    # -- evaluations -------------------------------------------------------------------------

    def evaluate(
        self,
        model_uri: str,
        data: Any,
        *,
        target: str,
        baseline: Any = "auto",
        sensitive_features: Any = None,
        train_data: Any = None,
        threshold: float = 0.5,
        positive_label: Any = None,
        importance: bool = True,
        trusted: Any = False,
        actor: str,
    ) -> StoredEvaluation:
        """Evaluate a registered version on ``data`` against its baseline; store the result.

        ``data`` (and ``train_data``) is a pandas DataFrame, a DatasetVersion or a
        ``datasets:/name/<version>`` reference. The baseline (``"auto"``, a strategy name, a
        rule ``f(X)`` or an estimator) is fitted on the version's recorded training dataset, or
        on ``train_data`` when the version records none. A tampered artifact is refused, and
        a pickled model is loaded only with ``trusted=True`` or once approved.
        """
        return self.evaluations.evaluate(
            model_uri, data, target=target, baseline=baseline,
            sensitive_features=sensitive_features, train_data=train_data, threshold=threshold,
            positive_label=positive_label, importance=importance, trusted=trusted, actor=actor,
        )  # fmt: skip

    def list_evaluations(self, name: str, version: int) -> list[StoredEvaluation]:
        """The version's stored evaluations, oldest first."""
        return self.evaluations.list_evaluations(name, version)

    def get_evaluation(self, name: str, version: int) -> StoredEvaluation:
        """The version's latest evaluation (the one the gates read); NotFoundError if none."""
        return self.evaluations.get_evaluation(name, version)

    # -- gates -------------------------------------------------------------------------------

    def gates(self, name: str, version: int) -> GateReport:
        """The automatic gates of a version now, from its latest evaluation and the policy."""
        found = self.registry.get_model_version(name, version)
        evaluations = self.store.list_model_evaluations(found.name, found.version)
        return release_gates(
            found.signature, evaluations[-1] if evaluations else None, self.get_policy(name)
        )

    def _passing_gates(self, found: ModelVersion, step: str) -> GateReport:
        report = self.gates(found.name, found.version)
        if not report.passed:
            failed = "; ".join(f"{g.name} ({g.detail})" for g in report.failed)
            raise InvalidStateError(
                f"Version {found.version} of {found.name!r} cannot be {step}: these gates fail: "
                f"{failed}.",
                model=found.name, version=found.version,
                failed_gates=[g.name for g in report.failed],
            )  # fmt: skip
        return report

    # -- transitions -------------------------------------------------------------------------

    def validate(
        self, name: str, version: int, *, actor: str, reason: str | None = None
    ) -> ModelVersion:
        """registered -> validated when every gate passes (else InvalidStateError naming them)."""
        actor = check_actor(actor, "validate")
        reason = check_optional_reason("reason", reason, "validate")
        found = self.registry.get_model_version(name, version)
        check_status(found, "validate", S.REGISTERED)
        check_intact(found, self.approvals.artifact_digest(found), "validated")
        report = self._passing_gates(found, "validated")
        return self.transitions.move(
            found, [S.REGISTERED], S.VALIDATED, actor=actor, reason=reason, action="validate",
            details={"gates_digest": report.digest, "evaluation_id": report.evaluation_id},
        )  # fmt: skip

    def request_approval(self, name: str, version: int, *, actor: str, reason: str) -> ModelVersion:
        """validated -> pending_approval (the gates are checked again).

        An approved version whose approvals became void (its artifact or gate results changed)
        can be sent back to review the same way.
        """
        actor = check_actor(actor, "request_approval")
        reason = check_required_text("reason", reason, "request_approval")
        found = self.registry.get_model_version(name, version)
        check_status(found, "request_approval", S.VALIDATED, S.APPROVED)
        if found.status is S.APPROVED and not self._approval_problems(found):
            raise InvalidStateError(
                f"Version {version} of {name!r} is approved and its approvals are valid; "
                "there is nothing to review again.",
                model=name, version=version, status=found.status.value,
            )  # fmt: skip
        check_intact(found, self.approvals.artifact_digest(found), "sent for approval")
        report = self._passing_gates(found, "sent for approval")
        return self.transitions.move(
            found, [found.status], S.PENDING_APPROVAL, actor=actor, reason=reason,
            action="request_approval", details={"gates_digest": report.digest},
        )  # fmt: skip

    def approve(self, name: str, version: int, *, actor: str, reason: str) -> Approval:
        """Approve a pending version; it becomes approved once the policy's count is reached.

        The approver may be neither the version's registrant nor the author of its run
        (PermissionDeniedError); one vote per approver.
        """
        return self._decide(name, version, "approve", actor=actor, reason=reason)

    def reject(self, name: str, version: int, *, actor: str, reason: str) -> Approval:
        """Reject a pending version: it becomes rejected at once. Same duties as approve."""
        return self._decide(name, version, "reject", actor=actor, reason=reason)

    def _decide(
        self, name: str, version: int, decision: str, *, actor: str, reason: str
    ) -> Approval:
        actor = check_actor(actor, decision)
        reason = check_required_text("reason", reason, decision)
        found = self.registry.get_model_version(name, version)
        self.approvals.check_duties(found, actor, decision)
        check_status(found, decision, S.PENDING_APPROVAL)
        artifact = self.approvals.artifact_digest(found)
        report = self.gates(found.name, found.version)
        if decision == "approve":
            check_intact(found, artifact, "approved")
            self._passing_gates(found, "approved")
        required = self.get_policy(found.name).required_approvals
        return self.approvals.record(
            found, decision, actor=actor, reason=reason, artifact=artifact, report=report,
            required_approvals=required,
        )  # fmt: skip

    def list_approvals(self, name: str, version: int) -> list[Approval]:
        """The version's decisions, oldest first, each marked valid or void (and why)."""
        found = self.registry.get_model_version(name, version)
        artifact = self.approvals.artifact_digest(found)
        return self.approvals.marked(found, artifact, self.gates(name, version).digest)

    def _approval_problems(self, found: ModelVersion) -> list[str]:
        """Why the version's approvals do not (or no longer) release it; empty when they do."""
        report = self.gates(found.name, found.version)
        required = self.get_policy(found.name).required_approvals
        return self.approvals.problems(found, report, required)

    # -- aliases -----------------------------------------------------------------------------

    def promote(
        self, name: str, version: int, *, alias: str = "champion", actor: str, reason: str
    ) -> ModelVersion:
        """Point a release alias at an approved version whose approvals are still valid."""
        alias = check_release_alias(alias)
        actor = check_actor(actor, "promote")
        reason = check_required_text("reason", reason, "promote")
        found = self.registry.get_model_version(name, version)
        check_status(found, "promote", S.APPROVED)
        problems = self._approval_problems(found)
        if problems:
            raise InvalidStateError(
                f"Version {version} of {name!r} cannot be promoted to {alias!r}: "
                f"{'; '.join(problems)}.",
                model=name, version=version, alias=alias,
            )  # fmt: skip
        return self.transitions.set_alias(found, alias, actor, reason, {"action": "promote"})

    def rollback(
        self, name: str, *, alias: str = "champion", actor: str, reason: str
    ) -> ModelVersion:
        """Move ``alias`` back to the previous approved version that held it, in one call.

        Earlier holders are tried newest first; one that is no longer approved or whose
        approvals are void is skipped. InvalidStateError, changing nothing, when none is left.
        """
        name, alias = check_model_name(name), check_release_alias(alias)
        actor = check_actor(actor, "rollback")
        reason = check_required_text("reason", reason, "rollback")
        try:
            current: int | None = self.registry.get_model_version_by_alias(name, alias).version
        except NotFoundError:
            current = None
        holders = alias_holders(self.store.list_model_transitions(name), alias)
        if holders and holders[-1] == current:
            holders.pop()
        skipped = []
        for number in reversed(holders):
            candidate = self.registry.get_model_version(name, number)
            if candidate.status is not S.APPROVED:
                skipped.append(f"version {number} is {candidate.status.value}")
                continue
            problems = self._approval_problems(candidate)
            if problems:
                skipped.append(f"version {number}: {'; '.join(problems)}")
                continue
            return self.transitions.set_alias(
                candidate, alias, actor, reason, {"action": "rollback", "from_version": current}
            )
        raise InvalidStateError(
            f"No earlier approved version of {name!r} held {alias!r} to roll back to"
            + (f" ({'; '.join(skipped)})." if skipped else "."),
            model=name, alias=alias,
        )  # fmt: skip

    def retire(self, name: str, version: int, *, actor: str, reason: str) -> ModelVersion:
        """Retire a version from any status; its release aliases are removed with it."""
        actor = check_actor(actor, "retire")
        reason = check_required_text("reason", reason, "retire")
        found = self.registry.get_model_version(name, version)
        live: list[ModelVersionStatus] = [s for s in ModelVersionStatus if s is not S.RETIRED]
        check_status(found, "retire", *live)
        return self.transitions.move(
            found, live, S.RETIRED, actor=actor, reason=reason, action="retire",
            remove_aliases=RELEASE_ALIASES,
        )  # fmt: skip

    def history(self, name: str, version: int) -> list[Transition]:
        """Every transition of the version, oldest first."""
        return self.store.list_model_transitions(check_model_name(name), check_version(version))

    # -- trust -------------------------------------------------------------------------------

    def is_approved_digest(self, digest: str) -> bool:
        """Whether an approved version has this artifact digest (its pickles may be loaded)."""
        return self.trust.is_approved_digest(digest)

    def load_model(self, uri: str, *, trusted: Any = False) -> LoggedModel:
        """Load a model; pickles are trusted when its digest belongs to an approved version.

        The digest checked is the registered one for ``models:/`` URIs and the one recomputed
        from the stored bytes for ``runs:/`` URIs; loading refuses bytes that do not match it.
        """
        return self.trust.load_model(uri, trusted=trusted)
