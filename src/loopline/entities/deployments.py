"""Deployment entities: what an inference server serves, and how, under a name.

A deployment names a model URI (``models:/churn@champion``, or a fixed ``models:/churn/3``), a
decision policy (the JSON mapping ``DecisionPolicy.to_dict()`` gives), a prediction logging mode,
and optionally a challenger scored in ``shadow`` (logged, not returned) or ``canary`` (answers a
share of the traffic, sticky by a request key). Every change stores the whole configuration as
the next revision (1, 2, 3...); the kill switch (``enabled`` false, with a reason) is part of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loopline.entities.models import ModelVersion

__all__ = [
    "CHALLENGER_MODES",
    "LOGGING_MODES",
    "Challenger",
    "Deployment",
    "DeploymentRevision",
    "ResolvedDeployment",
]

#: How predictions are logged: not at all, off the request path, or on disk before the answer.
LOGGING_MODES = ("off", "async", "durable")
#: How a challenger runs beside the champion.
CHALLENGER_MODES = ("shadow", "canary")


@dataclass(frozen=True, slots=True)
class Challenger:
    """A second model beside the champion.

    ``shadow``: scored and logged on every request, never returned. ``canary``: answers a
    ``share`` (0 to 1, exclusive) of the requests; ``sticky_key`` names the input field or
    request header whose value keeps one caller on one side.

    Examples:
        >>> c = Challenger("models:/churn@challenger", "canary", share=0.1, sticky_key="customer")
        >>> Challenger.from_dict(c.to_dict()) == c
        True
    """

    model_uri: str
    mode: str
    share: float | None = None
    sticky_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"model_uri": self.model_uri, "mode": self.mode, "share": self.share,
                "sticky_key": self.sticky_key}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Challenger:
        return cls(data["model_uri"], data["mode"], data.get("share"), data.get("sticky_key"))


@dataclass(frozen=True, slots=True)
class Deployment:
    """A deployment as of one revision; ``enabled`` false means killed, for ``kill_reason``.

    ``created_*`` tell when the deployment was made, ``updated_*`` who stored this revision.
    """

    name: str
    revision: int
    model_uri: str
    policy: dict[str, Any] | None
    logging: str
    challenger: Challenger | None
    enabled: bool
    kill_reason: str | None
    description: str | None
    tags: dict[str, str]
    created_by: str
    created_at: int
    updated_by: str
    updated_at: int

    def config(self) -> dict[str, Any]:
        """The part a revision stores: everything but the name and the who and when."""
        return {
            "model_uri": self.model_uri, "policy": self.policy, "logging": self.logging,
            "challenger": self.challenger.to_dict() if self.challenger else None,
            "enabled": self.enabled, "kill_reason": self.kill_reason,
            "description": self.description, "tags": dict(self.tags),
        }  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what the REST API answers); :meth:`from_dict` reverses it."""
        return {"name": self.name, "revision": self.revision, **self.config(),
                "created_by": self.created_by, "created_at": self.created_at,
                "updated_by": self.updated_by, "updated_at": self.updated_at}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        """The deployment :meth:`to_dict` gave.

        Examples:
            >>> d = Deployment("churn-api", 1, "models:/churn@champion", None, "async", None,
            ...                True, None, None, {"team": "risk"}, "ana", 0, "ana", 0)
            >>> Deployment.from_dict(d.to_dict()) == d
            True
        """
        challenger = data.get("challenger")
        return cls(
            name=data["name"], revision=data["revision"], model_uri=data["model_uri"],
            policy=data.get("policy"), logging=data["logging"],
            challenger=Challenger.from_dict(challenger) if challenger else None,
            enabled=data["enabled"], kill_reason=data.get("kill_reason"),
            description=data.get("description"), tags=dict(data.get("tags") or {}),
            created_by=data["created_by"], created_at=data["created_at"],
            updated_by=data["updated_by"], updated_at=data["updated_at"],
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeploymentRevision:
    """One stored revision: the deployment as it was, who stored it, when and why."""

    name: str
    revision: int
    deployment: Deployment
    created_by: str
    created_at: int
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "revision": self.revision,
                "deployment": self.deployment.to_dict(), "created_by": self.created_by,
                "created_at": self.created_at, "reason": self.reason}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentRevision:
        return cls(**{**data, "deployment": Deployment.from_dict(data["deployment"])})


@dataclass(frozen=True, slots=True)
class ResolvedDeployment:
    """A deployment and the versions its model URIs name right now.

    A URI that names no version any more (its alias was removed, its version deleted) leaves
    ``champion`` or ``challenger`` ``None`` and says why in ``errors`` (keys ``champion``,
    ``challenger``); the deployment itself, with its kill switch, is always there.
    """

    deployment: Deployment
    champion: ModelVersion | None
    challenger: ModelVersion | None
    errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"deployment": self.deployment.to_dict(),
                "champion": self.champion.to_dict() if self.champion else None,
                "challenger": self.challenger.to_dict() if self.challenger else None,
                "errors": dict(self.errors)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResolvedDeployment:
        champion, challenger = data.get("champion"), data.get("challenger")
        return cls(
            deployment=Deployment.from_dict(data["deployment"]),
            champion=ModelVersion.from_dict(champion) if champion else None,
            challenger=ModelVersion.from_dict(challenger) if challenger else None,
            errors=dict(data.get("errors") or {}),
        )
