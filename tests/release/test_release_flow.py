"""The release of a real scikit-learn model: evaluate, gate, validate, approve, promote, retire."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loopline.audit import AuditLog
from loopline.entities import ModelVersion, ModelVersionStatus, ReleasePolicy
from loopline.errors import InvalidArgumentError, InvalidStateError, NotFoundError
from loopline.release import ReleaseService

Frames = tuple[pd.DataFrame, pd.DataFrame]
LogVersion = Callable[..., ModelVersion]


def _fit(train: pd.DataFrame) -> object:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return model.fit(train.drop(columns=["y"]), train["y"])


def test_happy_path_from_registration_to_champion(
    release: ReleaseService, log_version: LogVersion, cancer: Frames, audit: AuditLog
) -> None:
    train, test = cancer
    model = _fit(train)
    version = log_version(model, train.drop(columns=["y"]).head(20))

    stored = release.evaluate(version.uri, test, target="y", train_data=train, actor="carol")

    result = stored.result
    assert (stored.name, stored.version, stored.created_by) == ("cancer", 1, "carol")
    expected_auc = roc_auc_score(test["y"], model.predict_proba(test.drop(columns=["y"]))[:, 1])
    assert result["model"]["metrics"]["auc"] == pytest.approx(expected_auc, abs=1e-12)
    assert result["baseline"]["metrics"]["auc"] == 0.5
    assert result["comparison"]["beats"] is True
    assert len(result["model"]["calibration"]) == 10
    assert sum(map(sum, result["model"]["confusion_matrix"])) == len(test)
    assert result["importance"][0]["rank"] == 1
    assert len(result["coefficients"]) == 31  # 30 features and the intercept
    assert result["training_data"] == {"source": "dataframe", "rows": len(train), "recorded": False}
    assert release.list_evaluations("cancer", 1) == [stored]

    assert release.gates("cancer", 1).passed
    assert release.validate("cancer", 1, actor="carol").status is ModelVersionStatus.VALIDATED
    pending = release.request_approval("cancer", 1, actor="carol", reason="ready for review")
    assert pending.status is ModelVersionStatus.PENDING_APPROVAL
    approval = release.approve("cancer", 1, actor="bob", reason="metrics and card reviewed")
    assert approval.valid
    assert approval.artifact_digest == version.digest
    assert release.registry.get_model_version("cancer", 1).status is ModelVersionStatus.APPROVED
    champion = release.promote("cancer", 1, actor="carol", reason="first release")
    assert champion.aliases == ["champion"]

    history = release.history("cancer", 1)
    assert [(t.from_status, t.to_status) for t in history] == [
        ("registered", "validated"),
        ("validated", "pending_approval"),
        ("pending_approval", "approved"),
        ("approved", "approved"),
    ]
    assert [t.actor for t in history] == ["carol", "carol", "bob", "carol"]
    assert history[1].reason == "ready for review"
    assert history[3].details["alias"] == "champion"
    actions = [e.action for e in audit.list(max_results=100)]
    for action in ("model_version.evaluate", "model_version.validate", "model_version.approve",
                   "alias.set", "model_version.promote"):  # fmt: skip
        assert action in actions
    assert audit.verify().ok

    retired = release.retire("cancer", 1, actor="carol", reason="replaced")
    assert retired.status is ModelVersionStatus.RETIRED
    assert retired.aliases == []
    assert history[-1] != release.history("cancer", 1)[-1]


def test_a_model_that_does_not_beat_its_baseline_is_never_released(
    release: ReleaseService, log_version: LogVersion, cancer: Frames
) -> None:
    train, test = cancer
    dummy = DummyClassifier(strategy="prior").fit(train.drop(columns=["y"]), train["y"])
    log_version(dummy, train.drop(columns=["y"]).head(20))
    release.evaluate("models:/cancer/1", test, target="y", train_data=train, actor="carol")

    report = release.gates("cancer", 1)
    assert [g.name for g in report.failed] == ["beats_baseline"]
    assert "does not beat" in report.failed[0].detail
    with pytest.raises(InvalidStateError, match="beats_baseline"):
        release.validate("cancer", 1, actor="carol")
    with pytest.raises(InvalidStateError, match="'registered'; promote needs"):
        release.promote("cancer", 1, actor="carol", reason="try anyway")
    with pytest.raises(InvalidStateError, match="request_approval needs"):
        release.request_approval("cancer", 1, actor="carol", reason="try anyway")
    assert release.history("cancer", 1) == []
    assert release.registry.get_model_version("cancer", 1).aliases == []


def test_a_margin_in_the_policy_is_direction_aware(
    release: ReleaseService, log_version: LogVersion, cancer: Frames
) -> None:
    train, test = cancer
    log_version(_fit(train), train.drop(columns=["y"]).head(20))
    release.evaluate("models:/cancer/1", test, target="y", train_data=train, actor="carol")

    release.set_policy("cancer", ReleasePolicy(primary_metric="log_loss", baseline_margin=0.2),
                       actor="risk")  # fmt: skip
    assert release.gates("cancer", 1).passed  # log loss ~0.1 against ~0.66: margin ~0.55
    release.set_policy("cancer", {"primary_metric": "log_loss", "baseline_margin": 5.0},
                       actor="risk")  # fmt: skip
    failed = release.gates("cancer", 1).failed
    assert [g.name for g in failed] == ["beats_baseline"]
    assert "required > 0 and >= 5" in failed[0].detail
    assert release.get_policy("cancer").baseline_margin == 5.0
    (change,) = release.audit.list(object_type="registered_model", actor="risk")[-1:]
    assert change.action == "release_policy.set"
    assert change.details["from"]["baseline_margin"] == 0.2
    assert change.details["to"]["baseline_margin"] == 5.0


def test_gates_fail_closed(
    release: ReleaseService, log_version: LogVersion, cancer: Frames
) -> None:
    train, test = cancer
    log_version(_fit(train), None)  # no input example: no signature
    report = release.gates("cancer", 1)
    assert [g.name for g in report.failed] == [
        "evaluation_present", "beats_baseline", "signature_present",
    ]  # fmt: skip
    policy = ReleasePolicy(fairness_thresholds={"demographic_parity_ratio": 0.8})
    release.set_policy("cancer", policy, actor="risk")
    release.evaluate("models:/cancer/1", test, target="y", train_data=train, actor="carol",
                     importance=False)  # fmt: skip
    failed = {g.name: g.detail for g in release.gates("cancer", 1).failed}
    assert set(failed) == {"fairness_thresholds", "signature_present"}
    assert "sensitive_features" in failed["fairness_thresholds"]
    with pytest.raises(InvalidStateError, match=r"fairness_thresholds .*signature_present"):
        release.validate("cancer", 1, actor="carol")


def test_bad_input_changes_nothing(
    release: ReleaseService, log_version: LogVersion, cancer: Frames
) -> None:
    train, test = cancer
    version = log_version(_fit(train), train.drop(columns=["y"]).head(20))
    run_uri = f"runs:/{version.run_id}/model"
    with pytest.raises(InvalidArgumentError, match="Only registered versions"):
        release.evaluate(run_uri, test, target="y", train_data=train, actor="carol")
    with pytest.raises(InvalidArgumentError, match="records no training dataset"):
        release.evaluate(version.uri, test, target="y", actor="carol")
    with pytest.raises(InvalidArgumentError, match="no target column 'label'"):
        release.evaluate(version.uri, test, target="label", train_data=train, actor="carol")
    with pytest.raises(InvalidArgumentError, match="'data' parameter must be a pandas"):
        release.evaluate(version.uri, [1, 2], target="y", train_data=train, actor="carol")
    with pytest.raises(InvalidArgumentError, match="'alias' parameter must be one of"):
        release.promote("cancer", 1, alias="prod", actor="carol", reason="x")
    with pytest.raises(InvalidArgumentError, match="required_approvals"):
        release.set_policy("cancer", {"required_approvals": 0}, actor="risk")
    with pytest.raises(InvalidArgumentError, match="unknown field"):
        release.set_policy("cancer", {"approvals": 2}, actor="risk")
    with pytest.raises(NotFoundError):
        release.gates("cancer", 2)
    with pytest.raises(NotFoundError):
        release.get_evaluation("cancer", 1)
    assert release.list_evaluations("cancer", 1) == []
    assert release.get_policy("cancer") == ReleasePolicy()
