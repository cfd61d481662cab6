"""The SQL tracking store: experiments, runs, params, metrics, tags and artifact records.

One implementation for SQLite and PostgreSQL. Methods take and return entities; rows stay in this
package. Business rules (name checks, lifecycle rules) live in ``loopline.tracking``; the store
keeps the rules that need the database to be atomic (a param is written once; the latest metric
wins). Each group of tables has its own module; this class puts them together.
"""

from __future__ import annotations

from loopline.store.alerts import AlertTables
from loopline.store.artifact_index import ArtifactTables
from loopline.store.audit import AuditTables
from loopline.store.auth import AuthTables
from loopline.store.cards import CardTables
from loopline.store.datasets import DatasetTables
from loopline.store.deployments import DeploymentTables
from loopline.store.experiments import ExperimentTables
from loopline.store.models import ModelTables
from loopline.store.release import ReleaseTables
from loopline.store.runs import RunTables

__all__ = ["SqlTrackingStore"]


class SqlTrackingStore(
    ExperimentTables,
    RunTables,
    ArtifactTables,
    DatasetTables,
    AlertTables,
    AuditTables,
    ModelTables,
    AuthTables,
    ReleaseTables,
    CardTables,
    DeploymentTables,
):
    """Tracking metadata in a SQL database chosen by URL (SQLite or PostgreSQL)."""
