"""The model card service: a version's card from the registry, and its human text versioned.

A card is assembled on every read, so the registry's facts are always current: model details
from the registry, the training data from the version's dataset versions and their profiles, the
metrics, evaluation data and quantitative analyses from the stored evaluations, and the release
history. The human text (intended use, factors, ethical considerations, caveats and
recommendations, and notes on any other section) is kept in numbered revisions: an edit merges
its sections over the latest revision and stores the result as the next one. Edits are audited
(object type ``model_card``, object id ``name/version``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from loopline.audit import AuditLog
from loopline.cards.render import check_format, render
from loopline.entities import ModelVersion
from loopline.entities.cards import SECTIONS, CardDataset, CardEvaluation, CardRevision, ModelCard
from loopline.entities.release import StoredEvaluation
from loopline.errors import ConflictError, InvalidArgumentError, NotFoundError
from loopline.registry.service import RegistryService, check_model_name, check_version
from loopline.store import SqlTrackingStore

if TYPE_CHECKING:
    from loopline.data.service import DatasetService
    from loopline.entities import DatasetVersion
    from loopline.release.service import ReleaseService

__all__ = ["MAX_SECTION_LENGTH", "CardService", "check_sections"]

MAX_SECTION_LENGTH = 50_000
_RETRIES = 3


def _now_ms() -> int:
    return int(time.time() * 1000)


def check_sections(sections: object) -> dict[str, str | None]:
    """The edit as ``{section: text or None}``; empty or blank text (or ``None``) removes one."""
    if not isinstance(sections, Mapping) or not sections:
        raise InvalidArgumentError(
            "The 'sections' parameter of update_card must be a non-empty mapping of section "
            f"names to text. Got {str(sections)[:80]!r} instead.",
            field="sections",
        )
    unknown = [str(name) for name in sections if name not in SECTIONS]
    if unknown:
        raise InvalidArgumentError(
            f"Unknown model card section(s) {unknown}. The sections are: {', '.join(SECTIONS)}.",
            field="sections", unknown=unknown, allowed=list(SECTIONS),
        )  # fmt: skip
    checked: dict[str, str | None] = {}
    for name, text in sections.items():
        if text is not None and not isinstance(text, str):
            raise InvalidArgumentError(
                f"The text of the model card section {name!r} must be a string or None. "
                f"Got {type(text).__name__} instead.",
                field=name,
            )
        if text is not None and (len(text) > MAX_SECTION_LENGTH or "\x00" in text):
            raise InvalidArgumentError(
                f"The text of the model card section {name!r} must be at most "
                f"{MAX_SECTION_LENGTH} characters, without NUL. Got {len(text)} characters.",
                field=name,
            )
        checked[name] = text if text and text.strip() else None
    return checked


def _profile_columns(version: DatasetVersion) -> list[dict[str, Any]]:
    columns = []
    for name, stats in version.profile.items():
        summary = {"name": name}
        for key in ("type", "missing_rate", "distinct", "min", "mean", "max"):
            if key in stats:
                summary[key] = stats[key]
        columns.append(summary)
    return columns


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _data(value: Any) -> str | None:
    """Where evaluation rows came from: ``{"source": "datasets:/name/3" | "dataframe", ...}``."""
    if isinstance(value, Mapping) and value.get("source") is not None:
        rows = value.get("rows")
        source = "an in-memory DataFrame" if value["source"] == "dataframe" else value["source"]
        return f"{source} ({rows} rows)" if rows is not None else str(source)
    return None if value is None else str(value)


def card_evaluation(stored: StoredEvaluation) -> CardEvaluation:
    """A stored evaluation as the card shows it.

    Reads the result document of :func:`loopline.release.evaluate.evaluate_model` (``model`` and
    ``baseline`` results, ``comparison``, ``importance``, ``coefficients``, ``fairness`` by
    sensitive feature, ``notes``); a key that is missing leaves its part of the card empty.
    """
    result = _mapping(stored.result)
    model, baseline = _mapping(result.get("model")), _mapping(result.get("baseline"))
    fairness = {str(k): dict(v) for k, v in _mapping(result.get("fairness")).items()
                if isinstance(v, Mapping)}  # fmt: skip
    importance = result.get("importance")
    return CardEvaluation(
        evaluation_id=stored.id, created_at=stored.created_at, created_by=stored.created_by,
        task=result.get("task") or model.get("task"),
        n_samples=model.get("n_samples", result.get("n_rows")),
        data=_data(result.get("data") or result.get("dataset")),
        metrics=_mapping(model.get("metrics")),
        baseline=None if baseline.get("strategy") is None else str(baseline["strategy"]),
        baseline_metrics=_mapping(baseline.get("metrics")),
        comparison=result.get("comparison") if isinstance(result.get("comparison"), Mapping)
        else None,
        importance=[dict(i) for i in importance or [] if isinstance(i, Mapping)]
        if isinstance(importance, list) else [],
        coefficients=_mapping(result.get("coefficients")), fairness=fairness,
        threshold=result.get("threshold", model.get("threshold")),
        labels=list(model.get("labels") or []),
        confusion_matrix=model.get("confusion_matrix"), notes=_mapping(result.get("notes")),
    )  # fmt: skip


class CardService:
    """Model cards of registered versions, with the human text versioned and audited.

    With ``release`` (a :class:`~loopline.release.service.ReleaseService`), cards also show the
    release gates as they stand and mark approvals that a changed artifact or gate result voided.

    Examples:
        >>> import tempfile
        >>> from loopline.audit import AuditLog
        >>> from loopline.registry import RegistryService
        >>> from loopline.store import SqlTrackingStore
        >>> store = SqlTrackingStore(f"sqlite:///{tempfile.mkdtemp()}/c.db")
        >>> audit = AuditLog(store)
        >>> cards = CardService(store, RegistryService(store, audit), audit)
        >>> cards.update_card("churn", 1, {"intended_use": "Offers"}, actor="ana")
        Traceback (most recent call last):
        ...
        loopline.errors.NotFoundError: No registered model named 'churn'.
        >>> cards.update_card("churn", 1, {"purpose": "x"}, actor="ana")
        Traceback (most recent call last):
        ...
        loopline.errors.InvalidArgumentError: Unknown model card section(s) ['purpose']. The sections are: model_details, intended_use, factors, metrics, evaluation_data, training_data, quantitative_analyses, ethical_considerations, caveats_and_recommendations.
    """  # noqa: E501

    def __init__(
        self,
        store: SqlTrackingStore,
        registry: RegistryService,
        audit: AuditLog,
        datasets: DatasetService | None = None,
        *,
        release: ReleaseService | None = None,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        self.store = store
        self.registry = registry
        self.audit = audit
        self.datasets = datasets
        self.release = release
        self.clock = clock

    # -- reading -----------------------------------------------------------------------------

    def get_card(self, name: str, version: int, *, revision: int | None = None) -> ModelCard:
        """The card of a version, with the human text of ``revision`` (default: the latest)."""
        model = self.registry.get_model_version(name, version)
        if revision is not None:
            revision = check_version(revision)
        text = self.store.get_card_revision(model.name, model.version, revision)
        evaluations = self.store.list_model_evaluations(model.name, model.version)
        transitions = self.store.list_model_transitions(model.name, model.version)
        approvals = self.store.list_model_approvals(model.name, model.version)
        gates: list[dict[str, Any]] = []
        if self.release is not None:  # approvals marked void, and the gates as they stand now
            if approvals:
                approvals = self.release.list_approvals(model.name, model.version)
            report = self.release.gates(model.name, model.version)
            gates = [{"name": g.name, "passed": g.passed, "detail": g.detail} for g in report.gates]
        return ModelCard(
            model=model,
            revision=text.revision if text else 0,
            sections=dict(text.sections) if text else {},
            model_description=self.registry.get_registered_model(model.name).description,
            updated_by=text.updated_by if text else None,
            updated_at=text.updated_at if text else None,
            datasets=self._datasets(model),
            evaluations=[card_evaluation(e) for e in evaluations],
            transitions=[
                {
                    "from_status": t.from_status,
                    "to_status": t.to_status,
                    "actor": t.actor,
                    "reason": t.reason,
                    "at": t.at,
                    "details": dict(t.details),
                }
                for t in transitions
            ],
            approvals=[
                {
                    "approver": a.approver,
                    "decision": a.decision,
                    "reason": a.reason,
                    "at": a.at,
                    "valid": a.valid,
                    "void_reason": a.void_reason,
                }
                for a in approvals
            ],
            gates=gates,
        )

    def render_card(
        self, name: str, version: int, *, format: str = "markdown", revision: int | None = None
    ) -> str:
        """The card as Markdown (``format="markdown"``) or a standalone HTML page (``"html"``)."""
        check_format(format)
        return render(self.get_card(name, version, revision=revision), format)

    def list_card_revisions(self, name: str, version: int) -> list[CardRevision]:
        """Every revision of the card's human text, oldest first."""
        return self.store.list_card_revisions(check_model_name(name), check_version(version))

    def _datasets(self, model: ModelVersion) -> list[CardDataset]:
        found = []
        for item in model.training_datasets:
            try:
                stored = (
                    self.datasets.get(item.name, item.version)
                    if self.datasets is not None
                    else self.store.get_version(item.name, item.version)
                )
            except NotFoundError:
                found.append(CardDataset(item.name, item.version, item.digest, item.context))
                continue
            found.append(CardDataset(
                name=item.name, version=item.version, digest=item.digest, context=item.context,
                num_rows=stored.num_rows, num_columns=stored.num_columns,
                columns=_profile_columns(stored),
            ))  # fmt: skip
        return found

    # -- editing -----------------------------------------------------------------------------

    def update_card(
        self,
        name: str,
        version: int,
        sections: Mapping[str, str | None],
        *,
        actor: str,
        expected_revision: int | None = None,
    ) -> ModelCard:
        """Store ``sections`` merged over the latest revision as the next revision.

        Text replaces a section's text; ``None`` or blank text removes it. With
        ``expected_revision`` (0 for a card with no revision yet), the edit is refused with
        ConflictError unless that is still the latest revision; without it, concurrent edits
        are applied one after the other and none is lost. An edit that changes nothing stores
        no revision. Unknown section names raise InvalidArgumentError and store nothing.
        """
        name, version = check_model_name(name), check_version(version)
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
        changes = check_sections(sections)
        stored, created = self._store_revision(name, version, changes, actor, expected_revision)
        if created and stored is not None:
            self.audit.record(
                actor, "model_card.update", "model_card", f"{name}/{version}",
                {"revision": stored.revision, "sections": sorted(changes),
                 "removed": sorted(k for k, v in changes.items() if v is None)},
            )  # fmt: skip
        return self.get_card(name, version)

    def _store_revision(
        self,
        name: str,
        version: int,
        changes: dict[str, str | None],
        actor: str,
        expected_revision: int | None,
    ) -> tuple[CardRevision | None, bool]:
        for attempt in range(_RETRIES):
            try:
                return self.store.add_card_revision(
                    name, version, changes, expected_revision=expected_revision,
                    updated_by=actor, now=self.clock(),
                )  # fmt: skip
            except ConflictError:
                if expected_revision is not None or attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
