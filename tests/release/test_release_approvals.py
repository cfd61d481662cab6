"""Approvals: separation of duties, N-of-M, one vote each, voided by artifact or gate changes."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sqlalchemy import update

from loopline.entities import ModelVersion, ModelVersionStatus, ReleasePolicy
from loopline.errors import (
    AlreadyExistsError,
    InvalidStateError,
    LooplineError,
    PermissionDeniedError,
)
from loopline.release import ReleaseService
from loopline.store.schema import ArtifactRow

Frames = tuple[pd.DataFrame, pd.DataFrame]
LogVersion = Callable[..., ModelVersion]
S = ModelVersionStatus


@pytest.fixture
def pending(release: ReleaseService, log_version: LogVersion, cancer: Frames) -> ModelVersion:
    """Version 1 of "cancer", trained in a run by dave, registered by alice, pending approval."""
    train, test = cancer
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train.drop(columns=["y"]), train["y"])
    log_version(model, train.drop(columns=["y"]).head(20), author="dave", registrant="alice")
    release.evaluate("models:/cancer/1", test, target="y", train_data=train, actor="alice",
                     importance=False)  # fmt: skip
    release.validate("cancer", 1, actor="alice")
    return release.request_approval("cancer", 1, actor="alice", reason="please review")


def _status(release: ReleaseService) -> ModelVersionStatus:
    return release.registry.get_model_version("cancer", 1).status


@pytest.mark.parametrize(
    ("approver", "rule"), [("alice", "registrant"), ("ALICE", "registrant"), ("dave", "run_author")]
)
def test_neither_the_registrant_nor_the_run_author_may_decide(
    release: ReleaseService, pending: ModelVersion, approver: str, rule: str
) -> None:
    for decide in (release.approve, release.reject):
        with pytest.raises(PermissionDeniedError, match="separation of duties") as caught:
            decide("cancer", 1, actor=approver, reason="looks fine to me")
        assert caught.value.details["rule"] == rule
    assert _status(release) is S.PENDING_APPROVAL
    assert release.list_approvals("cancer", 1) == []


def test_two_of_m_approvals_one_vote_each(release: ReleaseService, pending: ModelVersion) -> None:
    release.set_policy("cancer", ReleasePolicy(required_approvals=2), actor="risk")

    release.approve("cancer", 1, actor="bob", reason="ok")
    assert _status(release) is S.PENDING_APPROVAL
    with pytest.raises(AlreadyExistsError, match="one vote per approver"):
        release.approve("cancer", 1, actor="bob", reason="again")
    with pytest.raises(InvalidStateError, match="promote needs"):
        release.promote("cancer", 1, actor="bob", reason="early")
    release.approve("cancer", 1, actor="erin", reason="ok too")

    assert _status(release) is S.APPROVED
    approvals = release.list_approvals("cancer", 1)
    assert [(a.approver, a.decision, a.valid) for a in approvals] == [
        ("bob", "approve", True), ("erin", "approve", True),
    ]  # fmt: skip
    assert release.history("cancer", 1)[-1].details["approvers"] == ["bob", "erin"]
    assert release.promote("cancer", 1, actor="bob", reason="go").aliases == ["champion"]


def test_one_rejection_rejects(release: ReleaseService, pending: ModelVersion) -> None:
    release.set_policy("cancer", ReleasePolicy(required_approvals=2), actor="risk")
    release.approve("cancer", 1, actor="bob", reason="ok")
    release.reject("cancer", 1, actor="erin", reason="calibration is off at the top")

    assert _status(release) is S.REJECTED
    with pytest.raises(InvalidStateError, match="'rejected'; approve needs it"):
        release.approve("cancer", 1, actor="frank", reason="ok")
    with pytest.raises(InvalidStateError, match="'rejected'; promote needs"):
        release.promote("cancer", 1, actor="frank", reason="x")
    assert release.history("cancer", 1)[-1].reason == "calibration is off at the top"


def _overwrite_blob(release: ReleaseService, version: ModelVersion) -> None:
    files = release.tracking.artifact_files(version.run_id, "model")
    blob = next(f for f in files if f.path.endswith(".skops"))
    path = Path(release.tracking.artifacts.local_path(blob.digest or "") or "")
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")


def _edit_index(release: ReleaseService, version: ModelVersion) -> None:
    files = release.tracking.artifact_files(version.run_id, "model")
    meta = next(f for f in files if f.path.endswith(".json"))
    other = next(f for f in files if f.path != meta.path)
    with release.store.engine.begin() as conn:
        conn.execute(
            update(ArtifactRow)
            .where(ArtifactRow.run_id == version.run_id, ArtifactRow.path == meta.path)
            .values(digest=other.digest)
        )


@pytest.mark.parametrize("tamper", [_overwrite_blob, _edit_index])
def test_a_changed_artifact_voids_the_approval_and_blocks_promotion(
    release: ReleaseService, pending: ModelVersion, tamper: Callable[..., None], cancer: Frames
) -> None:
    release.approve("cancer", 1, actor="bob", reason="ok")
    tamper(release, pending)

    (approval,) = release.list_approvals("cancer", 1)
    assert (approval.valid, approval.void_reason) == (False, "artifact changed")
    with pytest.raises(InvalidStateError, match="artifact changed since registration"):
        release.promote("cancer", 1, actor="bob", reason="go")
    assert release.registry.get_model_version("cancer", 1).aliases == []
    with pytest.raises(InvalidStateError, match="changed since registration"):
        release.request_approval("cancer", 1, actor="alice", reason="again")
    with pytest.raises(LooplineError):  # the load refuses the changed bytes too
        release.load_model("models:/cancer/1")
    train, test = cancer
    with pytest.raises(LooplineError):
        release.evaluate("models:/cancer/1", test, target="y", train_data=train, actor="alice")
    assert len(release.list_evaluations("cancer", 1)) == 1


def test_a_new_evaluation_that_changes_the_gates_voids_the_approval(
    release: ReleaseService, pending: ModelVersion, cancer: Frames
) -> None:
    train, test = cancer
    release.approve("cancer", 1, actor="bob", reason="ok")
    same = release.evaluate("models:/cancer/1", test, target="y", train_data=train,
                            actor="alice", importance=False)  # fmt: skip
    assert same.id == 2
    assert release.list_approvals("cancer", 1)[0].valid  # identical numbers, identical gates

    release.evaluate("models:/cancer/1", test.head(120), target="y", train_data=train,
                     actor="alice", importance=False)  # fmt: skip
    (approval,) = release.list_approvals("cancer", 1)
    assert (approval.valid, approval.void_reason) == (False, "gate results changed")
    with pytest.raises(InvalidStateError, match=r"0 valid approval\(s\) of 1 required"):
        release.promote("cancer", 1, actor="bob", reason="go")

    again = release.request_approval("cancer", 1, actor="alice", reason="re-evaluated")
    assert again.status is S.PENDING_APPROVAL
    release.approve("cancer", 1, actor="bob", reason="new numbers reviewed")
    assert release.promote("cancer", 1, actor="bob", reason="go").aliases == ["champion"]


def test_out_of_order_steps_change_nothing(release: ReleaseService, pending: ModelVersion) -> None:
    before = release.history("cancer", 1)
    steps = [
        lambda: release.validate("cancer", 1, actor="bob"),
        lambda: release.request_approval("cancer", 1, actor="bob", reason="x"),
        lambda: release.promote("cancer", 1, actor="bob", reason="x"),
        lambda: release.rollback("cancer", actor="bob", reason="x"),
    ]
    for step in steps:
        with pytest.raises(InvalidStateError):
            step()
    release.retire("cancer", 1, actor="bob", reason="abandoned")
    with pytest.raises(InvalidStateError, match="'retired'; retire needs"):
        release.retire("cancer", 1, actor="bob", reason="twice")
    with pytest.raises(InvalidStateError, match="'retired'; approve needs"):
        release.approve("cancer", 1, actor="bob", reason="late")
    after = release.history("cancer", 1)
    assert after[: len(before)] == before
    assert [(t.from_status, t.to_status) for t in after[len(before) :]] == [
        ("pending_approval", "retired")
    ]


def test_only_one_of_two_concurrent_moves_wins(
    release: ReleaseService, pending: ModelVersion
) -> None:
    barrier = Barrier(2)

    def move(actor: str) -> str:
        barrier.wait()
        try:
            release.store.transition_model_version(
                "cancer", 1, expected=[S.PENDING_APPROVAL], to=S.REJECTED, actor=actor,
                reason="race", now=1,
            )  # fmt: skip
        except InvalidStateError:
            return "lost"
        return "won"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(move, ["x", "y"]))
    assert outcomes == ["lost", "won"]
    assert [t.to_status for t in release.history("cancer", 1)].count("rejected") == 1


def test_concurrent_approvers_reach_the_threshold_exactly_once(
    release: ReleaseService, pending: ModelVersion
) -> None:
    release.set_policy("cancer", ReleasePolicy(required_approvals=2), actor="risk")
    barrier = Barrier(3)

    def vote(approver: str) -> str:
        barrier.wait()
        try:
            release.approve("cancer", 1, actor=approver, reason="ok")
        except InvalidStateError:
            return "late"
        return "counted"

    with ThreadPoolExecutor(3) as pool:
        outcomes = sorted(pool.map(vote, ["bob", "erin", "frank"]))

    assert outcomes == ["counted", "counted", "late"]
    assert _status(release) is S.APPROVED
    moves = [t for t in release.history("cancer", 1) if t.to_status == "approved"]
    assert len(moves) == 1
    assert len(moves[0].details["approvers"]) == 2


def test_approval_needs_passing_gates_now(release: ReleaseService, pending: ModelVersion) -> None:
    release.set_policy("cancer", ReleasePolicy(baseline_margin=0.9), actor="risk")
    with pytest.raises(InvalidStateError, match="cannot be approved: these gates fail: beats"):
        release.approve("cancer", 1, actor="bob", reason="ok")
    assert release.list_approvals("cancer", 1) == []
    release.reject("cancer", 1, actor="bob", reason="the margin is too thin")  # always possible
    assert _status(release) is S.REJECTED
