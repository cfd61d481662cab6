"""Model registry entities: registered models, their numbered versions, and aliases.

A registered model is a name; its content lives in versions numbered 1, 2, 3... An alias
(``champion``, ``challenger``...) names one version of its model and can be moved.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RELEASE_ALIASES", "ModelVersion", "ModelVersionStatus", "RegisteredModel", "TrainingDataset",
]  # fmt: skip

#: Aliases that only the release process moves (``loopline models promote``).
RELEASE_ALIASES = ("champion", "challenger", "shadow")


class ModelVersionStatus(enum.StrEnum):
    """Where a version stands in its release: registered, validated by the gates, approved..."""

    REGISTERED = "registered"
    VALIDATED = "validated"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model; ``aliases`` maps each alias to the version number it names."""

    name: str
    description: str | None
    created_at: int
    updated_at: int
    latest_version: int | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """``models:/<name>/latest``."""
        return f"models:/{self.name}/latest"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what the REST API answers); :meth:`from_dict` reverses it."""
        return {"name": self.name, "description": self.description,
                "created_at": self.created_at, "updated_at": self.updated_at,
                "latest_version": self.latest_version, "tags": dict(self.tags),
                "aliases": dict(self.aliases)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegisteredModel:
        return cls(**{**data, "tags": dict(data["tags"]), "aliases": dict(data["aliases"])})


@dataclass(frozen=True, slots=True)
class TrainingDataset:
    """A dataset version the version's run read (``context``: ``training``, ``evaluation``...)."""

    name: str
    version: int
    digest: str
    context: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "digest": self.digest,
                "context": self.context}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered version: the run and artifact it came from, and its release status.

    ``digest`` is the ``sha256:<hex>`` of the model artifact; ``signature`` its inputs and
    outputs as a JSON-ready mapping (``None`` while unknown).
    """

    name: str
    version: int
    run_id: str
    artifact_path: str
    flavor: str
    digest: str
    created_by: str
    created_at: int
    signature: dict[str, Any] | None = None
    status: ModelVersionStatus = ModelVersionStatus.REGISTERED
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    training_datasets: list[TrainingDataset] = field(default_factory=list)

    @property
    def uri(self) -> str:
        """``models:/<name>/<version>``, the reference ``load_model`` and ``resolve`` accept."""
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what the REST API answers); :meth:`from_dict` reverses it."""
        return {
            "name": self.name, "version": self.version, "run_id": self.run_id,
            "artifact_path": self.artifact_path, "flavor": self.flavor, "digest": self.digest,
            "created_by": self.created_by, "created_at": self.created_at,
            "signature": self.signature, "status": self.status.value,
            "description": self.description, "tags": dict(self.tags),
            "aliases": list(self.aliases),
            "training_datasets": [d.to_dict() for d in self.training_datasets],
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelVersion:
        """The version :meth:`to_dict` gave.

        Examples:
            >>> data = TrainingDataset("d", 2, "sha256:" + "1" * 64, "training")
            >>> v = ModelVersion("churn", 1, "r" * 32, "model", "sklearn", "sha256:" + "0" * 64,
            ...                  "ana", 0, training_datasets=[data])
            >>> ModelVersion.from_dict(v.to_dict()) == v
            True
        """
        return cls(**{
            **data, "status": ModelVersionStatus(data["status"]), "tags": dict(data["tags"]),
            "aliases": list(data["aliases"]),
            "training_datasets": [TrainingDataset(**d) for d in data["training_datasets"]],
        })  # fmt: skip
