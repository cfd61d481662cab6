"""Model registry entities: registered models, their numbered versions, and aliases.

A registered model is a name; its content lives in versions numbered 1, 2, 3... An alias
(``champion``, ``challenger``...) names one version of its model and can be moved.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelVersion", "ModelVersionStatus", "RegisteredModel"]


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

    @property
    def uri(self) -> str:
        """``models:/<name>/<version>``, the reference ``load_model`` and ``resolve`` accept."""
        return f"models:/{self.name}/{self.version}"
