"""Rollback of a release alias, and pickles trusted only once their digest is approved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from loopline.audit import AuditLog
from loopline.entities import ModelVersion, ModelVersionStatus
from loopline.errors import InvalidStateError
from loopline.release import ReleaseService

Frames = tuple[pd.DataFrame, pd.DataFrame]
LogVersion = Callable[..., ModelVersion]


class Scorer:
    """Custom code around a classifier: saved with cloudpickle by the pyfunc flavor."""

    def __init__(self, model: Any) -> None:
        self.inner = model
        self.feature_names_in_ = model.feature_names_in_  # so it is handed DataFrames

    def predict(self, X: Any) -> Any:
        return self.inner.predict(X)

    def predict_proba(self, X: Any) -> Any:
        return self.inner.predict_proba(X)


def _fit(train: pd.DataFrame, c: float = 1.0) -> Any:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
    return model.fit(train.drop(columns=["y"]), train["y"])


def _approve(release: ReleaseService, version: ModelVersion, cancer: Frames, **kw: Any) -> None:
    train, test = cancer
    release.evaluate(version.uri, test, target="y", train_data=train, actor="alice",
                     importance=False, **kw)  # fmt: skip
    release.validate(version.name, version.version, actor="alice")
    release.request_approval(version.name, version.version, actor="alice", reason="review")
    release.approve(version.name, version.version, actor="bob", reason="ok")


def _champion(release: ReleaseService) -> int:
    return release.registry.get_model_version_by_alias("cancer", "champion").version


def test_rollback_moves_champion_back_one_release_at_a_time(
    release: ReleaseService, log_version: LogVersion, cancer: Frames, audit: AuditLog
) -> None:
    train, _ = cancer
    example = train.drop(columns=["y"]).head(20)
    versions = [log_version(_fit(train, c), example) for c in (1.0, 0.5, 0.1)]
    for version in versions:
        _approve(release, version, cancer)
        release.promote("cancer", version.version, actor="carol", reason="release")
    assert _champion(release) == 3

    release.retire("cancer", 2, actor="carol", reason="bad batch")
    rolled = release.rollback("cancer", actor="carol", reason="v3 misbehaves in production")

    assert rolled.version == 1  # version 2 is retired and skipped
    assert _champion(release) == 1
    last = release.history("cancer", 1)[-1]
    assert last.details == {"action": "rollback", "alias": "champion", "from_version": 3,
                            "previous_version": 3}  # fmt: skip
    assert last.reason == "v3 misbehaves in production"
    moves = [e.details for e in audit.list(object_type="alias", object_id="cancer@champion")]
    assert [(m["from"], m["to"]) for m in moves] == [(None, 1), (1, 2), (2, 3), (3, 1)]
    with pytest.raises(InvalidStateError, match="No earlier approved version"):
        release.rollback("cancer", actor="carol", reason="again")
    assert _champion(release) == 1
    assert audit.verify().ok


def test_rollback_of_challenger_is_separate_from_champion(
    release: ReleaseService, log_version: LogVersion, cancer: Frames
) -> None:
    train, _ = cancer
    example = train.drop(columns=["y"]).head(20)
    for c in (1.0, 0.5):
        _approve(release, log_version(_fit(train, c), example), cancer)
    release.promote("cancer", 1, alias="challenger", actor="carol", reason="shadow test")
    release.promote("cancer", 1, actor="carol", reason="release")
    release.promote("cancer", 2, actor="carol", reason="release")
    with pytest.raises(InvalidStateError, match="No earlier approved version of 'cancer' held"):
        release.rollback("cancer", alias="challenger", actor="carol", reason="x")
    assert release.rollback("cancer", actor="carol", reason="x").version == 1


def test_a_pickle_is_refused_until_its_digest_is_approved(
    release: ReleaseService, log_version: LogVersion, cancer: Frames
) -> None:
    train, test = cancer
    features = test.drop(columns=["y"])
    version = log_version(Scorer(_fit(train)), train.drop(columns=["y"]).head(20))
    assert version.flavor == "pyfunc"

    with pytest.raises(InvalidStateError, match="it is a pickle"):
        release.load_model(version.uri)
    with pytest.raises(InvalidStateError, match="it is a pickle"):
        release.evaluate(version.uri, test, target="y", train_data=train, actor="alice")
    assert not release.is_approved_digest(version.digest)

    _approve(release, version, cancer, trusted=True)  # the evaluator vouches for the code

    assert release.is_approved_digest(version.digest)
    for uri in (version.uri, f"runs:/{version.run_id}/model"):
        loaded = release.load_model(uri)
        np.testing.assert_allclose(loaded.predict_proba(features)[:, 1],
                                   _fit(train).predict_proba(features)[:, 1])  # fmt: skip
    release.retire("cancer", 1, actor="carol", reason="gone")
    assert release.registry.get_model_version("cancer", 1).status is ModelVersionStatus.RETIRED
    with pytest.raises(InvalidStateError, match="it is a pickle"):
        release.load_model(version.uri)
