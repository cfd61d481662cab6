"""MLflow side of the tracking benchmark; runs only inside MLflow's pinned venv.

Usage: ``python mlflow_tracking.py {log_metric,search,count} --uri URI [...]``;
the tasks themselves live in ``_common``, this file adapts MLflow to them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import _common
import mlflow
from mlflow.entities import Metric, Param, Run
from mlflow.tracking import MlflowClient


class MlflowTracker:
    """Fluent API for logging (as users write it), MlflowClient for bulk work."""

    def __init__(self) -> None:
        self.synchronous = True
        self.client = MlflowClient()

    def connect(self, uri: str, mode: str) -> None:
        mlflow.set_tracking_uri(uri)
        self.client = MlflowClient(tracking_uri=uri)
        self.synchronous = mode == "sync"

    def start_run(self, name: str) -> str:
        mlflow.set_experiment(_common.EXPERIMENT)
        return str(mlflow.start_run(run_name=name).info.run_id)

    def log_metric_calls(self, calls: int) -> None:
        key, synchronous = _common.METRIC_KEY, self.synchronous
        for step in range(calls):
            mlflow.log_metric(key, _common.metric_value(step), step=step, synchronous=synchronous)

    def end_run(self) -> None:
        mlflow.end_run()

    def count_points(self, run_id: str) -> int:
        return len(self.client.get_metric_history(run_id, _common.METRIC_KEY))

    def populate(self, runs: list[_common.RunFields]) -> None:
        experiment_id = self.client.create_experiment(_common.EXPERIMENT)
        for fields in runs:
            run_id = self.client.create_run(experiment_id).info.run_id
            params = [Param(key, value) for key, value in fields.params.items()]
            metrics = [Metric(key, value, 0, 0) for key, value in fields.metrics.items()]
            self.client.log_batch(run_id, metrics=metrics, params=params)

    @functools.cached_property
    def experiment_id(self) -> str:
        return str(self.client.get_experiment_by_name(_common.EXPERIMENT).experiment_id)

    def search(self) -> Sequence[Run]:
        return self.client.search_runs(
            [self.experiment_id],
            filter_string=_common.SEARCH_FILTER,
            order_by=_common.SEARCH_ORDER_BY,
            max_results=_common.SEARCH_MAX_RESULTS,
        )

    def metric_of(self, run: Any, key: str) -> float:
        return float(run.data.metrics[key])


if __name__ == "__main__":
    _common.main(MlflowTracker())
