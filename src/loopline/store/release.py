"""Release policies, stored evaluations, status transitions and approvals of model versions.

A status change is a compare-and-set: the ``UPDATE`` of ``model_versions.status`` names the
statuses it expects, and the transition row is written in the same transaction, so of two
concurrent callers moving a version only one succeeds. Approvals lock the version's row first
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers hold the database's write lock), so
counting the votes and moving the version to approved or rejected happen atomically.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from loopline.entities import (
    Approval,
    ModelVersionStatus,
    ReleasePolicy,
    StoredEvaluation,
    Transition,
)
from loopline.errors import AlreadyExistsError, InvalidStateError, NotFoundError
from loopline.store.base import SqlStoreBase
from loopline.store.schema import (
    ModelAliasRow,
    ModelApprovalRow,
    ModelEvaluationRow,
    ModelTransitionRow,
    ModelVersionRow,
    RegisteredModelRow,
    ReleasePolicyRow,
)

__all__ = ["ReleaseTables"]

_APPROVAL_COLUMNS = (
    ModelApprovalRow.approval_id,
    ModelApprovalRow.approver,
    ModelApprovalRow.decision,
    ModelApprovalRow.reason,
    ModelApprovalRow.artifact_digest,
    ModelApprovalRow.gates_digest,
    ModelApprovalRow.at,
)
_TRANSITION_COLUMNS = (
    ModelTransitionRow.from_status,
    ModelTransitionRow.to_status,
    ModelTransitionRow.actor,
    ModelTransitionRow.reason,
    ModelTransitionRow.at,
    ModelTransitionRow.details_json,
)


def _statuses(expected: Collection[ModelVersionStatus]) -> str:
    return " or ".join(repr(s.value) for s in expected)


class ReleaseTables(SqlStoreBase):
    """Release policies, stored evaluations, status transitions and approvals of model versions."""

    # -- lookups -----------------------------------------------------------------------------

    def _release_model_id(self, conn: Connection, name: str, *, lock: bool = False) -> int:
        query = select(RegisteredModelRow.model_id).where(RegisteredModelRow.name == name)
        found = conn.execute(query.with_for_update() if lock else query).scalar()
        if found is None:
            raise NotFoundError(f"No registered model named {name!r}.", model=name)
        return int(found)

    def _release_version(
        self, conn: Connection, name: str, version: int, *, lock: bool = False
    ) -> tuple[int, ModelVersionStatus]:
        """``(version_id, status)`` of a version; ``lock`` holds its row until commit."""
        model_id = self._release_model_id(conn, name)
        query = select(ModelVersionRow.version_id, ModelVersionRow.status).where(
            ModelVersionRow.model_id == model_id, ModelVersionRow.version == version
        )
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFoundError(
                f"Registered model {name!r} has no version {version}.", model=name, version=version
            )
        return int(row[0]), ModelVersionStatus(row[1])

    def model_version_training_datasets(self, name: str, version: int) -> list[dict[str, Any]]:
        """The dataset versions the version's run trained on (``name``, ``version``, ...)."""
        with self._read() as conn:
            version_id, _ = self._release_version(conn, name, version)
            raw = conn.execute(
                select(ModelVersionRow.training_datasets_json).where(
                    ModelVersionRow.version_id == version_id
                )
            ).scalar()
        return list(json.loads(raw or "[]"))

    def approved_digest_exists(self, digest: str) -> bool:
        """Whether some model version with this artifact digest is approved."""
        with self._read() as conn:
            found = conn.execute(
                select(ModelVersionRow.version_id)
                .where(
                    ModelVersionRow.digest == digest,
                    ModelVersionRow.status == ModelVersionStatus.APPROVED.value,
                )
                .limit(1)
            ).first()
        return found is not None

    # -- policies ----------------------------------------------------------------------------

    def get_release_policy(self, name: str) -> ReleasePolicy | None:
        """The model's policy, or ``None`` when none was set."""
        with self._read() as conn:
            model_id = self._release_model_id(conn, name)
            raw = conn.execute(
                select(ReleasePolicyRow.policy_json).where(ReleasePolicyRow.model_id == model_id)
            ).scalar()
        return None if raw is None else ReleasePolicy.from_dict(json.loads(raw))

    def set_release_policy(
        self, name: str, policy: ReleasePolicy, *, actor: str, now: int
    ) -> ReleasePolicy | None:
        """Store the model's policy; returns the one it replaced (``None`` if none)."""
        with self._write() as conn:
            model_id = self._release_model_id(conn, name, lock=True)
            raw = conn.execute(
                select(ReleasePolicyRow.policy_json).where(ReleasePolicyRow.model_id == model_id)
            ).scalar()
            values = {"policy_json": json.dumps(policy.to_dict(), sort_keys=True),
                      "updated_by": actor, "updated_at": now}  # fmt: skip
            stmt = self._insert()(ReleasePolicyRow).values(model_id=model_id, **values)
            conn.execute(
                stmt.on_conflict_do_update(index_elements=[ReleasePolicyRow.model_id], set_=values)
            )
        return None if raw is None else ReleasePolicy.from_dict(json.loads(raw))

    # -- evaluations -------------------------------------------------------------------------

    def insert_model_evaluation(
        self, name: str, version: int, result: Mapping[str, Any], *, created_by: str, now: int
    ) -> StoredEvaluation:
        body = json.dumps(dict(result), sort_keys=True, allow_nan=False)
        with self._write() as conn:
            version_id, _ = self._release_version(conn, name, version)
            created = conn.execute(
                insert(ModelEvaluationRow).values(
                    version_id=version_id, created_by=created_by, created_at=now, result_json=body
                )
            ).inserted_primary_key
        evaluation_id = int(created[0])  # type: ignore[index]
        return StoredEvaluation(evaluation_id, name, version, created_by, now, json.loads(body))

    def list_model_evaluations(self, name: str, version: int) -> list[StoredEvaluation]:
        """Every evaluation stored on the version, oldest first (the last one is current)."""
        with self._read() as conn:
            version_id, _ = self._release_version(conn, name, version)
            rows = conn.execute(
                select(
                    ModelEvaluationRow.evaluation_id, ModelEvaluationRow.created_by,
                    ModelEvaluationRow.created_at, ModelEvaluationRow.result_json,
                )
                .where(ModelEvaluationRow.version_id == version_id)
                .order_by(ModelEvaluationRow.evaluation_id)
            ).all()  # fmt: skip
        return [
            StoredEvaluation(int(i), name, version, by, at, json.loads(body))
            for i, by, at, body in rows
        ]

    # -- transitions -------------------------------------------------------------------------

    def _insert_transition(self, conn: Connection, version_id: int, row: Transition) -> None:
        conn.execute(
            insert(ModelTransitionRow).values(
                version_id=version_id, from_status=row.from_status, to_status=row.to_status,
                actor=row.actor, reason=row.reason, at=row.at,
                details_json=json.dumps(row.details, sort_keys=True),
            )
        )  # fmt: skip

    def transition_model_version(
        self,
        name: str,
        version: int,
        *,
        expected: Collection[ModelVersionStatus],
        to: ModelVersionStatus,
        actor: str,
        reason: str | None,
        details: Mapping[str, Any] | None = None,
        remove_aliases: Collection[str] = (),
        now: int,
    ) -> tuple[Transition, list[str]]:
        """Move a version from one of the ``expected`` statuses to ``to``, or change nothing.

        Also removes those of ``remove_aliases`` that name the version, in the same
        transaction; returns the transition and the aliases removed. InvalidStateError when the
        version's status is not one of ``expected`` (also when a concurrent caller moved it).
        """
        with self._write() as conn:
            version_id, current = self._release_version(conn, name, version, lock=True)
            moved = conn.execute(
                update(ModelVersionRow)
                .where(
                    ModelVersionRow.version_id == version_id,
                    ModelVersionRow.status.in_([s.value for s in expected]),
                )
                .values(status=to.value)
            ).rowcount
            if moved != 1:
                raise InvalidStateError(
                    f"Version {version} of {name!r} is {current.value!r}; this step needs it "
                    f"to be {_statuses(expected)}.",
                    model=name, version=version, status=current.value,
                )  # fmt: skip
            removed = self._remove_aliases(conn, version_id, remove_aliases)
            extra = {"removed_aliases": removed} if removed else {}
            row = Transition(
                name, version, current.value, to.value, actor, reason, now,
                {**dict(details or {}), **extra},
            )  # fmt: skip
            self._insert_transition(conn, version_id, row)
        return row, removed

    def _remove_aliases(
        self, conn: Connection, version_id: int, aliases: Collection[str]
    ) -> list[str]:
        if not aliases:
            return []
        found = sorted(
            conn.execute(
                select(ModelAliasRow.alias).where(
                    ModelAliasRow.version_id == version_id, ModelAliasRow.alias.in_(list(aliases))
                )
            ).scalars()
        )
        if found:
            conn.execute(
                delete(ModelAliasRow).where(
                    ModelAliasRow.version_id == version_id, ModelAliasRow.alias.in_(found)
                )
            )
        return found

    def move_release_alias(
        self,
        name: str,
        version: int,
        alias: str,
        *,
        actor: str,
        reason: str,
        details: Mapping[str, Any],
        now: int,
    ) -> tuple[Transition, int | None]:
        """Point ``alias`` at an approved version and record it as a transition of that version.

        Returns the transition and the version the alias named before (``None`` if none).
        InvalidStateError, changing nothing, unless the version is approved.
        """
        with self._write() as conn:
            model_id = self._release_model_id(conn, name, lock=True)
            version_id, current = self._release_version(conn, name, version, lock=True)
            if current is not ModelVersionStatus.APPROVED:
                raise InvalidStateError(
                    f"Version {version} of {name!r} is {current.value!r}; only an approved "
                    f"version can take the alias {alias!r}.",
                    model=name, version=version, status=current.value,
                )  # fmt: skip
            previous = conn.execute(
                select(ModelVersionRow.version)
                .join(ModelAliasRow, ModelAliasRow.version_id == ModelVersionRow.version_id)
                .where(ModelAliasRow.model_id == model_id, ModelAliasRow.alias == alias)
            ).scalar()
            values = {"version_id": version_id, "updated_at": now}
            stmt = self._insert()(ModelAliasRow).values(model_id=model_id, alias=alias, **values)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[ModelAliasRow.model_id, ModelAliasRow.alias], set_=values
                )
            )
            conn.execute(
                update(RegisteredModelRow)
                .where(RegisteredModelRow.model_id == model_id)
                .values(updated_at=now)
            )
            before = None if previous is None else int(previous)
            row = Transition(
                name, version, current.value, current.value, actor, reason, now,
                {**dict(details), "alias": alias, "previous_version": before},
            )  # fmt: skip
            self._insert_transition(conn, version_id, row)
        return row, before

    def list_model_transitions(self, name: str, version: int | None = None) -> list[Transition]:
        """The transitions of one version, or of every version of the model, oldest first."""
        with self._read() as conn:
            model_id = self._release_model_id(conn, name)
            where: Any = ModelVersionRow.model_id == model_id
            if version is not None:
                where = where & (
                    ModelVersionRow.version_id == self._release_version(conn, name, version)[0]
                )
            rows = conn.execute(
                select(ModelVersionRow.version, *_TRANSITION_COLUMNS)
                .join(ModelVersionRow, ModelVersionRow.version_id == ModelTransitionRow.version_id)
                .where(where)
                .order_by(ModelTransitionRow.transition_id)
            ).all()
        return [
            Transition(name, int(number), frm, to, actor, reason, at, json.loads(details))
            for number, frm, to, actor, reason, at, details in rows
        ]

    # -- approvals ---------------------------------------------------------------------------

    def list_model_approvals(self, name: str, version: int) -> list[Approval]:
        """The version's approvals and rejections, oldest first (``valid`` as stored: True)."""
        with self._read() as conn:
            version_id, _ = self._release_version(conn, name, version)
            return self._approvals(conn, name, version, version_id)

    def _approvals(
        self, conn: Connection, name: str, version: int, version_id: int
    ) -> list[Approval]:
        rows = conn.execute(
            select(*_APPROVAL_COLUMNS)
            .where(ModelApprovalRow.version_id == version_id)
            .order_by(ModelApprovalRow.approval_id)
        ).all()
        return [
            Approval(int(i), name, version, who, decision, why, artifact, gates, int(at))
            for i, who, decision, why, artifact, gates, at in rows
        ]

    def record_model_approval(
        self,
        name: str,
        version: int,
        *,
        approver: str,
        decision: str,
        reason: str,
        artifact_digest: str,
        gates_digest: str,
        required_approvals: int,
        now: int,
    ) -> tuple[Approval, Transition | None]:
        """Store a decision on a pending version and move it when the decision settles it.

        A rejection moves the version to rejected; an approval moves it to approved once
        ``required_approvals`` distinct approvers approved with these same digests. One vote per
        approver and digests (AlreadyExistsError); InvalidStateError unless the version is
        pending approval. Returns the approval and the transition made, if any.
        """
        pending = ModelVersionStatus.PENDING_APPROVAL
        with self._write() as conn:
            version_id, current = self._release_version(conn, name, version, lock=True)
            if current is not pending:
                raise InvalidStateError(
                    f"Version {version} of {name!r} is {current.value!r}; approvals and "
                    "rejections need it to be 'pending_approval' (request_approval first).",
                    model=name, version=version, status=current.value,
                )  # fmt: skip
            current_votes = [
                a for a in self._approvals(conn, name, version, version_id)
                if (a.artifact_digest, a.gates_digest) == (artifact_digest, gates_digest)
            ]  # fmt: skip
            if any(a.approver == approver for a in current_votes):
                raise AlreadyExistsError(
                    f"{approver!r} already voted on version {version} of {name!r} with these "
                    "artifact and gate results; one vote per approver.",
                    model=name, version=version, approver=approver,
                )  # fmt: skip
            created = conn.execute(
                insert(ModelApprovalRow).values(
                    version_id=version_id, approver=approver, decision=decision, reason=reason,
                    artifact_digest=artifact_digest, gates_digest=gates_digest, at=now,
                )
            ).inserted_primary_key  # fmt: skip
            approval_id = int(created[0])  # type: ignore[index]
            approval = Approval(approval_id, name, version, approver, decision, reason,
                                artifact_digest, gates_digest, now)  # fmt: skip
            approvers = {a.approver for a in current_votes if a.decision == "approve"}
            approvers |= {approver} if decision == "approve" else set()
            to = None
            if decision == "reject":
                to = ModelVersionStatus.REJECTED
            elif len(approvers) >= required_approvals:
                to = ModelVersionStatus.APPROVED
            transition = None
            if to is not None:
                conn.execute(
                    update(ModelVersionRow)
                    .where(ModelVersionRow.version_id == version_id)
                    .values(status=to.value)
                )
                transition = Transition(
                    name, version, pending.value, to.value, approver, reason, now,
                    {"approval_id": approval.id, "approvers": sorted(approvers),
                     "required_approvals": required_approvals},
                )  # fmt: skip
                self._insert_transition(conn, version_id, transition)
        return approval, transition
