"""Chunks on a Dask LocalCluster (two worker processes): the same rows, the model sent once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from scoring_support import POLICY, Store

import loopline

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=40,
    ) as local:  # fmt: skip
        yield local.scheduler_address


def _unpickled() -> int:
    from loopline.scoring.predictor import ChunkPredictor

    return ChunkPredictor.unpickled


def test_dask_run_equals_local_run(sdk: Store, cluster: str, tmp_path: Path) -> None:
    local = loopline.score("models:/gbc/1", sdk.rows, policy=POLICY, key_column="id",
                           log=False, progress=False)  # fmt: skip
    summary = loopline.score(
        "models:/gbc/1", sdk.rows, tmp_path / "out.parquet", policy=POLICY, key_column="id",
        chunk_size=30, dask_address=cluster, progress=False,
    )  # fmt: skip
    assert (summary.rows, summary.chunks, summary.logged) == (300, 10, 300)
    remote = pd.read_parquet(tmp_path / "out.parquet")
    same = [c for c in local.columns if c != "prediction_id"]
    pd.testing.assert_frame_equal(remote[same], local[same])
    logged = loopline.read_predictions("batch:gbc", with_outcomes=False, columns=["prediction_id"])
    assert set(remote["prediction_id"]) <= set(logged.column("prediction_id").to_pylist())
    with distributed.Client(cluster) as client:
        loads = client.run(_unpickled)
    # The model goes to each worker once per run, not with each of the 10 tasks. Under load the
    # scheduler may assign a task before it has registered a worker's broadcast copy; the worker
    # then fetches one from its peer (a second unpickle there, seen once in CI): at most that.
    assert len(loads) == 2
    assert all(1 <= n <= 2 for n in loads.values()), loads
    assert sum(loads.values()) <= 3, loads


def test_the_setting_names_the_cluster(
    store: Store, cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with distributed.Client(cluster) as client:
        before = client.run(_unpickled)
    monkeypatch.setenv("LOOPLINE_DASK_ADDRESS", cluster)
    loopline.set_uri(str(store.path))  # settings are read when the client is made
    try:
        here = _unpickled()
        out = loopline.score("models:/gbc/1", store.rows.head(20), log=False, progress=False)
    finally:
        loopline.set_uri(None)
    assert len(out) == 20
    assert _unpickled() == here  # scored on the workers, not unpickled here
    with distributed.Client(cluster) as client:
        after = client.run(_unpickled)
    assert {w: after[w] - before[w] for w in after} == dict.fromkeys(before, 1)
