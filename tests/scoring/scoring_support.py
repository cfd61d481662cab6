"""Support for the bulk scoring tests: a local store with real registered scikit-learn models.

- ``gbc``: GradientBoostingClassifier on 8 numeric features f0..f7, versions 1 and 2 (a
  different model), alias ``prod`` -> 1;
- ``plan``: a LogisticRegression pipeline with a text column (``plan``), the enforce path;
- ``rows``: 300 test rows (a DataFrame with an ``id`` column and a ``segment`` column the
  policy routes on).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import loopline
from loopline.modeling.logged import log_model

COLUMNS = [f"f{i}" for i in range(8)]
POLICY = {
    "thresholds": {
        "bands": [{"min": 0.7, "action": "call"}, {"min": 0.4, "action": "email"}],
        "default": "wait",
    },
    "routing": {
        "rules": [{"name": "vip", "when": {"segment": "vip"}, "queue": "senior"}],
        "default": "general",
    },
    "next_best_action": {
        "top_k": 2,
        "actions": [
            {"name": "discount", "value": "f1", "when": {"f0": {">": 0}}},
            {"name": "upgrade", "value": 30},
        ],
    },
    "outliers": {"features": {"f2": {"low": -2.0, "high": 2.0}}, "action": "review"},
    "control": {"share": 0.2, "action": "wait"},
}


@dataclass
class Store:
    path: Path
    client: loopline.Client
    rows: pd.DataFrame
    gbc1: Any
    gbc2: Any
    plan: Any
    plan_rows: pd.DataFrame


def build_store(path: Path) -> Store:
    from sklearn.compose import ColumnTransformer
    from sklearn.datasets import make_classification
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, y = make_classification(n_samples=700, n_features=8, n_informative=5, random_state=0)
    frame = pd.DataFrame(X, columns=COLUMNS)
    train, test = frame.iloc[:400], frame.iloc[400:].reset_index(drop=True)
    client = loopline.Client(str(path))
    gbc1 = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(train, y[:400])
    gbc2 = GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=1).fit(
        train, y[:400]
    )
    rng = np.random.default_rng(0)
    plans = pd.DataFrame({"age": rng.integers(18, 80, 400).astype(float),
                          "plan": rng.choice(["a", "b", "c"], 400)})  # fmt: skip
    plan = make_pipeline(
        ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough"),
        LogisticRegression(max_iter=500),
    ).fit(plans, (plans["age"] > 45).astype(int))
    experiment = client.create_experiment("scoring-tests")
    for name, model, example in (("gbc", gbc1, train), ("gbc", gbc2, train),
                                 ("plan", plan, plans)):  # fmt: skip
        run_id = client.create_run(experiment).info.run_id
        tracking: Any = client.backend
        log_model(tracking, client.registry, run_id, model, "model",
                  input_example=example.head(50), registered_model_name=name,
                  actor="tester")  # fmt: skip
    client.registry.set_alias("gbc", "prod", 1, actor="tester")
    rows = test.copy()
    rows.insert(0, "id", [f"c-{i}" for i in range(len(rows))])
    rows["segment"] = np.where(np.arange(len(rows)) % 5 == 0, "vip", "std")
    return Store(path, client, rows, gbc1, gbc2, plan, plans.head(60).copy())
