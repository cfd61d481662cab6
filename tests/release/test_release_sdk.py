"""The SDK: ``loopline.evaluate``, ``Client.release``, and ``loopline.load_model`` trusting approved
pickles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import loopline
from loopline.errors import InvalidStateError


class Threshold:
    """Custom code: a pickle that only loads when trusted."""

    def __init__(self, model: Any) -> None:
        self.inner = model
        self.feature_names_in_ = model.feature_names_in_

    def predict(self, X: Any) -> Any:
        return self.inner.predict(X)

    def predict_proba(self, X: Any) -> Any:
        return self.inner.predict_proba(X)


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[Path]:
    loopline.set_uri(str(tmp_path))
    yield tmp_path
    loopline.set_uri(None)


def test_evaluate_release_and_load_an_approved_pickle(
    local_store: Path, cancer: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    train, test = cancer
    features = train.drop(columns=["y"])
    model = Threshold(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(features, train["y"])
    )
    with loopline.start_run():
        info = loopline.log_model(model, input_example=features.head(20),
                                  registered_model_name="cancer")  # fmt: skip
    with pytest.raises(InvalidStateError, match="it is a pickle"):
        loopline.load_model("models:/cancer/1")

    stored = loopline.evaluate("models:/cancer/1", test, target="y", train_data=train,
                               importance=False, trusted=True)  # fmt: skip
    assert stored.result["comparison"]["beats"]
    release = loopline.get_client().release
    assert release.get_evaluation("cancer", 1) == stored
    release.validate("cancer", 1, actor="ci")
    release.request_approval("cancer", 1, actor="ci", reason="nightly")
    release.approve("cancer", 1, actor="risk-officer", reason="reviewed")
    release.promote("cancer", 1, actor="ci", reason="ship")

    loaded = loopline.load_model("models:/cancer@champion")
    assert list(loaded.predict(test.drop(columns=["y"]).head(5))) == list(
        model.predict(test.drop(columns=["y"]).head(5))
    )
    assert loopline.get_client().release.is_approved_digest(info.digest)
