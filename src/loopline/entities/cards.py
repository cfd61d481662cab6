"""Model card entities: a card's human-written revisions and the facts the registry fills in.

The sections follow Mitchell et al. 2019, "Model Cards for Model Reporting", in their order
(:data:`SECTIONS`). Four are written by people (:data:`HUMAN_SECTIONS`); the other five are
filled from the registry, and people may add free notes to them. Every edit of the human text is
a new numbered revision (1, 2, 3...); revision 0 is a card nobody has written on yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loopline.entities.models import ModelVersion

__all__ = [
    "GENERATED_SECTIONS",
    "HUMAN_SECTIONS",
    "SECTIONS",
    "SECTION_TITLES",
    "CardDataset",
    "CardEvaluation",
    "CardRevision",
    "ModelCard",
]

SECTION_TITLES: dict[str, str] = {
    "model_details": "Model details",
    "intended_use": "Intended use",
    "factors": "Factors",
    "metrics": "Metrics",
    "evaluation_data": "Evaluation data",
    "training_data": "Training data",
    "quantitative_analyses": "Quantitative analyses",
    "ethical_considerations": "Ethical considerations",
    "caveats_and_recommendations": "Caveats and recommendations",
}
SECTIONS: tuple[str, ...] = tuple(SECTION_TITLES)
"""Every section of a card, in the paper's order; each one accepts human text."""
HUMAN_SECTIONS: tuple[str, ...] = (
    "intended_use",
    "factors",
    "ethical_considerations",
    "caveats_and_recommendations",
)
"""Sections only people can write; the registry knows nothing about them."""
GENERATED_SECTIONS: tuple[str, ...] = tuple(s for s in SECTIONS if s not in HUMAN_SECTIONS)
"""Sections the registry fills; human text there is shown as notes below the facts."""


@dataclass(frozen=True, slots=True)
class CardRevision:
    """One revision of a card's human text: ``sections`` maps section names to Markdown."""

    name: str
    version: int
    revision: int
    sections: dict[str, str]
    updated_by: str
    updated_at: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version, "revision": self.revision,
            "sections": dict(self.sections), "updated_by": self.updated_by,
            "updated_at": self.updated_at,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardRevision:
        return cls(
            name=data["name"], version=int(data["version"]), revision=int(data["revision"]),
            sections=dict(data["sections"]), updated_by=data["updated_by"],
            updated_at=int(data["updated_at"]),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class CardDataset:
    """A dataset version the model's run read (``context``: ``training``...) and its profile.

    ``columns`` holds one dict per column (``name``, ``type``, ``missing_rate``, ``distinct``
    and, where the profile has them, ``min``, ``max``, ``mean``); it is empty, and ``num_rows``
    ``None``, when the dataset version is no longer in the store.
    """

    name: str
    version: int
    digest: str | None
    context: str = "training"
    num_rows: int | None = None
    num_columns: int | None = None
    columns: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version, "digest": self.digest,
            "context": self.context, "num_rows": self.num_rows, "num_columns": self.num_columns,
            "columns": [dict(c) for c in self.columns],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardDataset:
        return cls(
            name=data["name"], version=int(data["version"]), digest=data.get("digest"),
            context=data.get("context") or "training",
            num_rows=data.get("num_rows"), num_columns=data.get("num_columns"),
            columns=list(data.get("columns") or []),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class CardEvaluation:
    """A stored evaluation of the version, as the card shows it.

    ``metrics`` and ``baseline_metrics`` map metric names to values (``None`` when undefined);
    ``comparison`` is the margin over the baseline (``metric``, ``model_value``,
    ``baseline_value``, ``margin``, ``min_margin``, ``beats``); ``importance`` lists features
    (``feature``, ``importance_mean``, ``importance_std``, ``rank``) and ``coefficients`` maps
    features to a linear model's weights; ``fairness`` maps each sensitive feature to its
    report: ``groups`` (``group``, ``count``, ``scored`` and rates), the disparities and
    ``min_group_size``. ``notes`` says why a part is missing.
    """

    created_at: int
    created_by: str
    task: str | None = None
    n_samples: int | None = None
    data: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    baseline: str | None = None
    baseline_metrics: dict[str, float | None] = field(default_factory=dict)
    comparison: dict[str, Any] | None = None
    importance: list[dict[str, Any]] = field(default_factory=list)
    coefficients: dict[str, float] = field(default_factory=dict)
    fairness: dict[str, dict[str, Any]] = field(default_factory=dict)
    threshold: float | None = None
    labels: list[Any] = field(default_factory=list)
    confusion_matrix: list[list[int]] | None = None
    notes: dict[str, str] = field(default_factory=dict)
    evaluation_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluation_id": self.evaluation_id, "created_at": self.created_at,
            "created_by": self.created_by, "task": self.task, "n_samples": self.n_samples,
            "data": self.data, "metrics": dict(self.metrics), "baseline": self.baseline,
            "baseline_metrics": dict(self.baseline_metrics), "comparison": self.comparison,
            "importance": [dict(i) for i in self.importance],
            "coefficients": dict(self.coefficients), "fairness": dict(self.fairness),
            "threshold": self.threshold, "labels": list(self.labels),
            "confusion_matrix": self.confusion_matrix, "notes": dict(self.notes),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardEvaluation:
        return cls(
            evaluation_id=data.get("evaluation_id"), created_at=int(data["created_at"]),
            created_by=data["created_by"], task=data.get("task"),
            n_samples=data.get("n_samples"), data=data.get("data"),
            metrics=dict(data.get("metrics") or {}), baseline=data.get("baseline"),
            baseline_metrics=dict(data.get("baseline_metrics") or {}),
            comparison=data.get("comparison"), importance=list(data.get("importance") or []),
            coefficients=dict(data.get("coefficients") or {}),
            fairness=dict(data.get("fairness") or {}), threshold=data.get("threshold"),
            labels=list(data.get("labels") or []), confusion_matrix=data.get("confusion_matrix"),
            notes=dict(data.get("notes") or {}),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ModelCard:
    """A model version's card: the registry's facts and the human text of one revision.

    ``sections`` maps section names (:data:`SECTIONS`) to Markdown written by people, in the
    paper's order; ``revision`` is the revision that text comes from (0: none written yet).
    ``datasets`` are the dataset versions its run read (training data, and any other context);
    ``transitions`` and ``approvals`` are the version's release history, oldest first (an
    approval's ``valid`` is False, with ``void_reason``, once the artifact or the gate results
    it saw changed); ``gates`` the automatic release gates now (``name``, ``passed``,
    ``detail``), empty when the card was built without the release service.
    """

    model: ModelVersion
    revision: int
    sections: dict[str, str]
    model_description: str | None = None
    updated_by: str | None = None
    updated_at: int | None = None
    datasets: list[CardDataset] = field(default_factory=list)
    evaluations: list[CardEvaluation] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def version(self) -> int:
        return self.model.version

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; :meth:`from_dict` reads it back (the REST API's ``format=json``)."""
        return {
            "name": self.name, "version": self.version, "revision": self.revision,
            "sections": dict(self.sections), "updated_by": self.updated_by,
            "updated_at": self.updated_at, "model": self.model.to_dict(),
            "model_description": self.model_description,
            "datasets": [d.to_dict() for d in self.datasets],
            "evaluations": [e.to_dict() for e in self.evaluations],
            "transitions": [dict(t) for t in self.transitions],
            "approvals": [dict(a) for a in self.approvals],
            "gates": [dict(g) for g in self.gates],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        return cls(
            model=ModelVersion.from_dict(data["model"]), revision=int(data["revision"]),
            sections={k: data["sections"][k] for k in SECTIONS if k in data["sections"]},
            model_description=data.get("model_description"),
            updated_by=data.get("updated_by"), updated_at=data.get("updated_at"),
            datasets=[CardDataset.from_dict(d) for d in data.get("datasets", [])],
            evaluations=[CardEvaluation.from_dict(e) for e in data.get("evaluations", [])],
            transitions=list(data.get("transitions") or []),
            approvals=list(data.get("approvals") or []), gates=list(data.get("gates") or []),
        )  # fmt: skip
