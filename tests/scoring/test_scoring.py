"""Bulk scoring through the SDK: inputs and outputs, predictions, decisions, the event log."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scoring_support import COLUMNS, POLICY, Store

import loopline
from loopline.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from loopline.policies import DecisionPolicy

DECISION = ("action", "rule", "queue", "route", "model_action", "control", "outlier",
            "outlier_features", "ranked")  # fmt: skip


def _logged(ids: list[str], deployment: str = "batch:gbc") -> pa.Table:
    table = loopline.read_predictions(deployment, with_outcomes=False)
    mask = pa.compute.is_in(table.column("prediction_id"), pa.array(ids))
    return table.filter(mask)


def test_dataframe_scores_decides_and_logs_every_row_once(sdk: Store) -> None:
    rows = sdk.rows
    out = loopline.score("models:/gbc@prod", rows, policy=POLICY, key_column="id",
                         chunk_size=70, progress=False)  # fmt: skip
    assert isinstance(out, pd.DataFrame)
    assert len(out) == len(rows)
    assert out["id"].tolist() == rows["id"].tolist()  # input order kept
    proba = sdk.gbc1.predict_proba(rows[COLUMNS])
    assert np.array_equal(out[["proba_0", "proba_1"]].to_numpy(), proba)
    assert np.array_equal(out["score"].to_numpy(), proba[:, 1])
    assert out["label"].tolist() == sdk.gbc1.predict(rows[COLUMNS]).tolist()

    policy = DecisionPolicy.from_dict(POLICY)
    direct = policy.decide(proba, rows, request_keys=rows["id"].tolist(), classes=[0, 1])
    expected = direct.to_columns()
    scored = pa.Table.from_pandas(out).to_pydict()
    for name in DECISION:
        assert scored[name] == expected[name], name
    assert scored["policy_score"] == expected["score"]
    assert set(out["policy_version"]) == {policy.version}
    assert out["outlier"].any()
    assert out["control"].any()
    assert (out["queue"] == "senior").any()

    ids = out["prediction_id"].tolist()
    assert len(set(ids)) == len(ids)
    logged = _logged(ids)
    assert sorted(logged.column("prediction_id").to_pylist()) == sorted(ids)  # each once
    first = logged.filter(pa.compute.equal(logged.column("prediction_id"), ids[0])).to_pylist()[0]
    assert first["variant"] == "batch"
    assert first["model_name"] == "gbc"
    assert first["model_version"] == 1
    assert first["request_key"] == "c-0"
    # the model's inputs, and the input field the policy routes on (a rescore decides again)
    assert json.loads(first["inputs"]) == {**dict(rows.loc[0, COLUMNS]), "segment": "vip"}
    outputs = json.loads(first["outputs"])
    assert outputs["score"] == proba[0, 1]
    assert outputs["proba"] == {"0": proba[0, 0], "1": proba[0, 1]}
    decision = json.loads(first["decision"])
    assert decision == {**direct.to_rows()[0], "policy_version": policy.version}
    assert first["action"] == decision["action"]
    assert first["rule"] == decision["rule"]


def test_parquet_in_and_out_file_and_folder(sdk: Store, tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    sdk.rows.iloc[:120].to_parquet(source / "a.parquet")
    sdk.rows.iloc[120:].to_parquet(source / "b.parquet")
    summary = loopline.score("models:/gbc/1", source, tmp_path / "out.parquet", policy=POLICY,
                             key_column="id", chunk_size=50, progress=False)  # fmt: skip
    assert (summary.rows, summary.logged, summary.chunks) == (300, 300, 6)
    written = pq.read_table(tmp_path / "out.parquet").to_pandas()
    reference = loopline.score("models:/gbc/1", sdk.rows, policy=POLICY, key_column="id",
                               log=False, progress=False)  # fmt: skip
    same = [c for c in reference.columns if c != "prediction_id"]
    pd.testing.assert_frame_equal(written[same], reference[same])

    folder = loopline.score(
        "models:/gbc/1", source, tmp_path / "parts", keep_columns=["id"], chunk_size=100,
        log=False, progress=False,
    )  # fmt: skip
    assert folder.rows == 300
    assert len(list((tmp_path / "parts").glob("part-*.parquet"))) == 3


def test_csv_in_and_plain_model_without_policy(sdk: Store, tmp_path: Path) -> None:
    sdk.rows.to_csv(tmp_path / "in.csv", index=False)
    out = loopline.score("models:/gbc/1", str(tmp_path / "in.csv"), chunk_size=64, log=False,
                         progress=False)  # fmt: skip
    assert isinstance(out, pa.Table)
    assert out.num_rows == 300
    assert "action" not in out.column_names
    proba = sdk.gbc1.predict_proba(sdk.rows[COLUMNS])
    assert np.allclose(out.column("proba_1").to_numpy(), proba[:, 1], rtol=1e-12)


def test_text_columns_take_the_enforce_path(sdk: Store) -> None:
    out = loopline.score("models:/plan/1", sdk.plan_rows, progress=False)
    assert np.array_equal(out[["proba_0", "proba_1"]].to_numpy(),
                          sdk.plan.predict_proba(sdk.plan_rows))  # fmt: skip
    logged = _logged(out["prediction_id"].tolist(), "batch:plan").to_pylist()
    assert {json.loads(r["inputs"])["plan"] for r in logged} <= {"a", "b", "c"}
    bad = sdk.plan_rows.assign(plan="zzz")
    with pytest.raises(InvalidArgumentError, match="'plan' holds value"):
        loopline.score("models:/plan/1", bad, progress=False)


def test_deployment_gives_name_model_and_policy(sdk: Store) -> None:
    loopline.deployments.create("scoring-dep", "models:/gbc@prod", policy=POLICY)
    out = loopline.score(None, sdk.rows.head(40), deployment="scoring-dep", key_column="id",
                         progress=False)  # fmt: skip
    assert set(out["policy_version"]) == {DecisionPolicy.from_dict(POLICY).version}
    assert _logged(out["prediction_id"].tolist(), "scoring-dep").num_rows == 40
    loopline.deployments.kill("scoring-dep", reason="test")
    try:
        with pytest.raises(loopline.errors.InvalidStateError, match="kill switch"):
            loopline.score(None, sdk.rows.head(5), deployment="scoring-dep", progress=False)
    finally:
        loopline.deployments.enable("scoring-dep")


def test_bad_inputs_name_the_problem(sdk: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        loopline.score("models:/gbc/1", tmp_path / "nope.parquet", progress=False)
    with pytest.raises(NotFoundError):
        loopline.score("models:/unknown/1", sdk.rows, progress=False)
    with pytest.raises(InvalidArgumentError, match=r"lacks the column\(s\) \['f3'\]"):
        loopline.score("models:/gbc/1", sdk.rows.drop(columns=["f3"]), progress=False)
    with pytest.raises(InvalidArgumentError, match="'f4' must hold float"):
        loopline.score("models:/gbc/1", sdk.rows.assign(f4="high"), progress=False)
    with pytest.raises(InvalidArgumentError, match="sql://"):
        loopline.score("models:/gbc/1", "sql://nonsense", progress=False)
    with pytest.raises(InvalidArgumentError, match="database URL"):
        loopline.score("models:/gbc/1", "sql://nodb://x?table=t", progress=False)
    with pytest.raises(InvalidArgumentError, match="key column 'nope'"):
        loopline.score("models:/gbc/1", sdk.rows, key_column="nope", progress=False)
    with pytest.raises(InvalidArgumentError, match="segment"):
        loopline.score("models:/gbc/1", sdk.rows.drop(columns=["segment"]), policy=POLICY,
                       progress=False)  # fmt: skip
    with pytest.raises(InvalidArgumentError, match="chunk_size"):
        loopline.score("models:/gbc/1", sdk.rows, chunk_size=0, progress=False)
    (tmp_path / "exists.parquet").write_bytes(b"x")
    with pytest.raises(AlreadyExistsError, match="overwrite"):
        loopline.score("models:/gbc/1", sdk.rows, tmp_path / "exists.parquet", progress=False)
    before = loopline.read_predictions("batch:gbc", with_outcomes=False).num_rows
    with pytest.raises(InvalidArgumentError):
        loopline.score("models:/gbc/1", sdk.rows.assign(f4="x"), log=True, progress=False)
    assert loopline.read_predictions("batch:gbc", with_outcomes=False).num_rows == before


def test_batch_segments_read_with_sealed_journals(sdk: Store) -> None:
    from loopline.entities.eventlog import PredictionRecord
    from loopline.eventlog import EventLog, new_prediction_id, now_ms

    log = EventLog(sdk.path / "eventlog")
    served = new_prediction_id()
    with log.writer("durable") as writer:  # sealed into a segment on close
        inputs = dict.fromkeys(COLUMNS, 0.5)  # complete: a rescore of models:/gbc takes it too
        writer.append([PredictionRecord(served, "mixed", "gbc", 1, now_ms(), inputs,
                                        {"score": 0.5}, action="email")])  # fmt: skip
    loopline.deployments.create("mixed", "models:/gbc/1", policy=POLICY)
    out = loopline.score(None, sdk.rows.head(7), deployment="mixed", progress=False)
    table = log.read_predictions("mixed", with_outcomes=False)
    assert sorted(table.column("prediction_id").to_pylist()) == sorted(
        [served, *out["prediction_id"]]
    )
    assert table.schema.field("inputs").type == pa.string()
    assert set(table.column("variant").to_pylist()) == {"champion", "batch"}


def test_overwrite_replaces_only_a_finished_run(sdk: Store, tmp_path: Path) -> None:
    target = tmp_path / "scored"
    first = loopline.score("models:/gbc/1", sdk.rows, target, chunk_size=100, log=False,
                           progress=False)  # fmt: skip
    assert first.chunks == 3
    with pytest.raises(InvalidArgumentError, match="'f4'"):
        loopline.score("models:/gbc/1", sdk.rows.assign(f4="x"), target, overwrite=True,
                       log=False, progress=False)  # fmt: skip
    assert len(list(target.glob("part-*.parquet"))) == 3  # the failed run changed nothing
    loopline.score("models:/gbc/1", sdk.rows, target, chunk_size=300, overwrite=True, log=False,
                   progress=False)  # fmt: skip
    assert [p.name for p in target.iterdir()] == ["part-00000.parquet"]
    assert not list(tmp_path.glob(".*"))
