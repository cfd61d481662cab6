"""Rescoring the open predictions of a deployment after its alias moved."""

from __future__ import annotations

import json

import pyarrow.compute as pc
from scoring_support import COLUMNS, POLICY, Store

import loopline


def test_rescore_after_a_model_change(sdk: Store) -> None:
    loopline.deployments.create("rescore-dep", "models:/gbc@prod", policy=POLICY)
    rows = sdk.rows.head(50)
    first = loopline.score(None, rows, deployment="rescore-dep", key_column="id", progress=False)
    ids = first["prediction_id"].tolist()
    closed = ids[:10]
    loopline.log_outcomes([{"prediction_id": pid, "label": 1} for pid in closed])
    sdk.client.registry.set_alias("gbc", "prod", 2, actor="tester")
    try:
        changes = loopline.rescore("rescore-dep", progress=False)
    finally:
        sdk.client.registry.set_alias("gbc", "prod", 1, actor="tester")
    assert changes.num_rows == 40
    assert sorted(changes.column("prediction_id").to_pylist()) == sorted(ids[10:])
    assert set(changes.column("old_model_version").to_pylist()) == {1}
    assert set(changes.column("new_model_version").to_pylist()) == {2}
    new_scores = sdk.gbc2.predict_proba(rows[COLUMNS].iloc[10:])[:, 1]
    assert changes.column("new_score").to_pylist() == new_scores.tolist()
    assert changes.column("old_score").to_pylist() == first["score"].tolist()[10:]
    old, new = changes.column("old_action").to_pylist(), changes.column("new_action").to_pylist()
    changed = [o != n for o, n in zip(old, new, strict=True)]
    assert changes.column("changed").to_pylist() == changed

    new_ids = changes.column("new_prediction_id").to_pylist()
    logged = loopline.read_predictions("rescore-dep", with_outcomes=False)
    new = logged.filter(pc.is_in(logged.column("prediction_id"), value_set=pc.unique(
        changes.column("new_prediction_id"))))  # fmt: skip
    assert new.num_rows == 40
    links = {json.loads(r["outputs"])["rescored_from"]: r for r in new.to_pylist()}
    assert set(links) == set(ids[10:])
    assert {r["request_key"] for r in links.values()} == set(rows["id"].iloc[10:])  # sticky
    assert {r["model_version"] for r in links.values()} == {2}

    again = loopline.rescore("rescore-dep", progress=False)  # the latest link of each chain
    assert sorted(again.column("prediction_id").to_pylist()) == sorted(new_ids)
    assert set(again.column("new_model_version").to_pylist()) == {1}
