"""Evaluations of registered versions: run one against its baseline, store it, read them back.

An evaluation loads the version's model under the release trust rule
(:class:`~loopline.release.trust.Trust`), reads its data and training data
(:mod:`loopline.release.inputs`), compares it with a baseline (:mod:`loopline.release.evaluate`)
and stores the result on the version, audited as ``model_version.evaluate``; a lineage hook is
told when it starts, completes or fails. The latest stored evaluation is what the release gates
read. :class:`~loopline.release.service.ReleaseService` delegates its evaluation methods here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from loopline.audit import AuditLog
from loopline.entities import ModelVersion, ReleasePolicy, StoredEvaluation
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.registry.checks import check_model_name, check_version
from loopline.registry.service import RegistryService
from loopline.release.checks import check_actor, check_evaluated_uri, check_required_text
from loopline.release.inputs import read_table, training_table
from loopline.release.trust import Trust

if TYPE_CHECKING:
    from loopline.data.service import DatasetService

__all__ = ["Evaluations", "LineageHook"]

LineageHook = Callable[[str, ModelVersion, Mapping[str, Any]], None]
"""Called with ``("START" | "COMPLETE" | "FAIL", version, details)`` around an evaluation."""


class Evaluations:
    """The evaluations of model versions: computed, stored, audited and read back.

    Args:
        registry: resolves the evaluated URI; its store holds the evaluations.
        datasets: loads dataset versions; ``None`` when only DataFrames are evaluated.
        audit: the audit log every evaluation is recorded in.
        trust: loads the version's model (pickles only when trusted or approved).
        policy: the model's release policy by name (its metrics and fairness settings).
        clock: epoch milliseconds.
        lineage: told when an evaluation starts, completes or fails; ``None`` tells no one.

    Examples:
        >>> import tempfile
        >>> from loopline.artifacts import ArtifactStore
        >>> from loopline.store import SqlTrackingStore
        >>> from loopline.tracking.service import TrackingService
        >>> root = tempfile.mkdtemp()
        >>> store = SqlTrackingStore(f"sqlite:///{root}/e.db")
        >>> tracking = TrackingService(store, ArtifactStore(f"{root}/artifacts"))
        >>> registry = RegistryService(store, AuditLog(store))
        >>> evaluations = Evaluations(
        ...     registry, None, registry.audit, Trust(tracking, registry),
        ...     policy=lambda name: ReleasePolicy(), clock=lambda: 0, lineage=None)
        >>> run = tracking.create_run(tracking.create_experiment("x"), user_id="ana")
        >>> version = registry.create_model_version(
        ...     "churn", run_id=run.info.run_id, artifact_path="model", flavor="sklearn",
        ...     digest="sha256:" + "0" * 64, actor="ana")
        >>> evaluations.list_evaluations("churn", 1)
        []
        >>> evaluations.get_evaluation("churn", 1)
        Traceback (most recent call last):
        ...
        loopline.errors.NotFoundError: Version 1 of 'churn' has no stored evaluation.
    """

    def __init__(
        self,
        registry: RegistryService,
        datasets: DatasetService | None,
        audit: AuditLog,
        trust: Trust,
        *,
        policy: Callable[[str], ReleasePolicy],
        clock: Callable[[], int],
        lineage: LineageHook | None,
    ) -> None:
        self.registry = registry
        self.store = registry.store
        self.datasets = datasets
        self.audit = audit
        self.trust = trust
        self.policy = policy
        self.clock = clock
        self.lineage = lineage

    def evaluate(
        self,
        model_uri: str,
        data: Any,
        *,
        target: str,
        baseline: Any,
        sensitive_features: Any,
        train_data: Any,
        threshold: float,
        positive_label: Any,
        importance: bool,
        trusted: Any,
        actor: str,
    ) -> StoredEvaluation:
        """Evaluate a registered version on ``data`` against its baseline; store the result.

        The arguments are :meth:`ReleaseService.evaluate
        <loopline.release.service.ReleaseService.evaluate>`'s, checked here in its order.
        """
        from loopline.release.evaluate import evaluate_model

        actor = check_actor(actor, "evaluate")
        target = check_required_text("target", target, "evaluate")
        model_uri = check_evaluated_uri(model_uri)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise InvalidArgumentError(
                f"The 'threshold' parameter must be a number in [0, 1]. Got {threshold!r}.",
                field="threshold",
            )
        version = self.registry.resolve(model_uri)
        policy = self.policy(version.name)
        frame, data_source = read_table(self.datasets, data, "data")
        train, train_source = training_table(self.store, self.datasets, version, train_data)
        model = self.trust.load_model(version.uri, trusted=trusted)
        details = {"data": data_source, "training_data": train_source}
        self._lineage("START", version, details)
        try:
            result = evaluate_model(
                model, frame, target=target, train=train, policy=policy, baseline=baseline,
                sensitive_features=sensitive_features, threshold=float(threshold),
                positive_label=positive_label, importance=bool(importance),
            )  # fmt: skip
        except Exception as exc:
            self._lineage("FAIL", version, {**details, "error": str(exc)[:500]})
            raise
        result.update(
            model_uri=version.uri, digest=version.digest, data=data_source,
            training_data=train_source,
        )  # fmt: skip
        stored = self.store.insert_model_evaluation(
            version.name, version.version, result, created_by=actor, now=self.clock()
        )
        self.audit.record(
            actor, "model_version.evaluate", "model_version", f"{version.name}/{version.version}",
            {"evaluation_id": stored.id, "data": data_source, "comparison": result["comparison"]},
        )  # fmt: skip
        self._lineage("COMPLETE", version, {**details, "evaluation_id": stored.id})
        return stored

    def list_evaluations(self, name: str, version: int) -> list[StoredEvaluation]:
        """The version's stored evaluations, oldest first."""
        return self.store.list_model_evaluations(check_model_name(name), check_version(version))

    def get_evaluation(self, name: str, version: int) -> StoredEvaluation:
        """The version's latest evaluation (the one the gates read); NotFoundError if none."""
        found = self.list_evaluations(name, version)
        if not found:
            raise NotFoundError(
                f"Version {version} of {name!r} has no stored evaluation.", model=name,
                version=version,
            )  # fmt: skip
        return found[-1]

    def _lineage(self, state: str, version: ModelVersion, details: Mapping[str, Any]) -> None:
        if self.lineage is not None:
            self.lineage(state, version, details)
