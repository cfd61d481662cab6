"""Entities: the plain, immutable objects loopline hands to callers.

Database rows never leave ``loopline.store``; services, the SDK, the server and the CLI exchange
these frozen dataclasses. One module per area; everything is importable from here.
"""

from loopline.entities.alerts import Alert, AlertDelivery, Severity
from loopline.entities.audit import AuditEvent, VerificationResult
from loopline.entities.auth import ApiToken, Role, User
from loopline.entities.cards import CardDataset, CardEvaluation, CardRevision, ModelCard
from loopline.entities.datasets import Dataset, DatasetVersion, RunInput, VersionStatus
from loopline.entities.deployments import (
    Challenger,
    Deployment,
    DeploymentRevision,
    ResolvedDeployment,
)
from loopline.entities.eventlog import OutcomeRecord, PredictionRecord
from loopline.entities.lineage import Edge, LineageGraph, Node, NodeKind
from loopline.entities.models import (
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    TrainingDataset,
)
from loopline.entities.release import (
    Approval,
    Gate,
    GateReport,
    ReleasePolicy,
    StoredEvaluation,
    Transition,
)
from loopline.entities.tracking import (
    Experiment,
    FileInfo,
    LifecycleStage,
    Metric,
    Page,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    ViewType,
)

__all__ = [
    "Alert",
    "AlertDelivery",
    "ApiToken",
    "Approval",
    "AuditEvent",
    "CardDataset",
    "CardEvaluation",
    "CardRevision",
    "Challenger",
    "Dataset",
    "DatasetVersion",
    "Deployment",
    "DeploymentRevision",
    "Edge",
    "Experiment",
    "FileInfo",
    "Gate",
    "GateReport",
    "LifecycleStage",
    "LineageGraph",
    "Metric",
    "ModelCard",
    "ModelVersion",
    "ModelVersionStatus",
    "Node",
    "NodeKind",
    "OutcomeRecord",
    "Page",
    "PredictionRecord",
    "RegisteredModel",
    "ReleasePolicy",
    "ResolvedDeployment",
    "Role",
    "Run",
    "RunData",
    "RunInfo",
    "RunInput",
    "RunStatus",
    "Severity",
    "StoredEvaluation",
    "TrainingDataset",
    "Transition",
    "User",
    "VerificationResult",
    "VersionStatus",
    "ViewType",
]
