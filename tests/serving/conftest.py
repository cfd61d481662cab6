"""A real inference server on 127.0.0.1 serving real registered scikit-learn models.

- ``models`` (session): a local store with ``gbc`` (GradientBoostingClassifier, 20 features
  f0..f19, versions 1 and 2, alias ``prod`` -> 1) and ``logit`` (LogisticRegression on the same
  data, trained on a logged dataset so its training means are known); the test rows ``X``.
- ``serve``: starts uvicorn (the CLI's own settings) on a free port for an app; ``gbc_server``
  and ``logit_server`` are module-wide servers of ``models:/gbc@prod`` and ``models:/logit/1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest
from serving_support import COLUMNS, Models, Running, Serve, settings

import loopline
from loopline.modeling.logged import log_model
from loopline.serving.server import adhoc_app

collect_ignore = ["conftest.py"]


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=600, n_features=20, n_informative=6, random_state=0)
    frame = pd.DataFrame(X, columns=COLUMNS)
    train, test = frame.iloc[:400], frame.iloc[400:].reset_index(drop=True)
    client = loopline.Client(str(tmp_path_factory.mktemp("serving-store")))
    gbc = GradientBoostingClassifier(n_estimators=30, random_state=0).fit(train, y[:400])
    gbc2 = GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=1).fit(
        train, y[:400]
    )
    logit = LogisticRegression(max_iter=1000).fit(train, y[:400])
    experiment = client.create_experiment("serving-tests")
    for name, model in (("gbc", gbc), ("gbc", gbc2), ("logit", logit)):
        run_id = client.create_run(experiment).info.run_id
        if name == "logit":
            dataset = client.datasets.create("serving-train", train)
            client.datasets.log_input(run_id, dataset, "training")
        tracking: Any = client.backend
        log_model(tracking, client.registry, run_id, model, "model", input_example=train.head(50),
                  registered_model_name=name, actor="tester")  # fmt: skip
    client.registry.set_alias("gbc", "prod", 1, actor="tester")
    return Models(client, test.to_numpy(), test, gbc, gbc2, logit)


@pytest.fixture
def serve(models: Models) -> Iterator[Serve]:
    """Start a server of ``uri`` (ad hoc, like ``loopline serve``); stopped after the test."""
    started: list[Running] = []

    def start(uri: str, **overrides: Any) -> Running:
        app = adhoc_app(models.client, uri, settings(**overrides))
        running = Running(app).__enter__()
        started.append(running)
        return running

    yield start
    for running in started:
        running.__exit__()


@pytest.fixture(scope="module")
def gbc_server(models: Models) -> Iterator[Running]:
    with Running(adhoc_app(models.client, "models:/gbc@prod", settings())) as running:
        yield running


@pytest.fixture(scope="module")
def logit_server(models: Models) -> Iterator[Running]:
    with Running(adhoc_app(models.client, "models:/logit/1", settings())) as running:
        yield running


@pytest.fixture
def http(gbc_server: Running) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gbc_server.url, timeout=30) as client:
        yield client
