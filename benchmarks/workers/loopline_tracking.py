"""loopline side of the tracking benchmark; runs in the interpreter loopline is installed in.

Usage: ``python loopline_tracking.py {log_metric,search,count} --uri URI [...]``;
the tasks themselves live in ``_common``, this file adapts loopline's SDK to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import _common

import loopline


class LooplineTracker:
    """loopline's fluent SDK throughout, as a user would write it."""

    def __init__(self) -> None:
        self.uri = ""

    def connect(self, uri: str, mode: str) -> None:
        # loopline has one logging mode; ``mode`` only matters for peers.
        del mode
        self.uri = uri
        loopline.set_uri(uri)

    def start_run(self, name: str) -> str:
        loopline.set_experiment(_common.EXPERIMENT)
        return str(loopline.start_run(run_name=name).id)

    def log_metric_calls(self, calls: int) -> None:
        key = _common.METRIC_KEY
        for step in range(calls):
            loopline.log_metric(key, _common.metric_value(step), step=step)

    def end_run(self) -> None:
        loopline.end_run()

    def count_points(self, run_id: str) -> int:
        return len(loopline.Client(self.uri).get_metric_history(run_id, _common.METRIC_KEY))

    def populate(self, runs: list[_common.RunFields]) -> None:
        loopline.set_experiment(_common.EXPERIMENT)
        for fields in runs:
            with loopline.start_run():
                loopline.log_params(fields.params)
                loopline.log_metrics(fields.metrics)

    def search(self) -> Sequence[Any]:
        return loopline.search_runs(
            experiment=_common.EXPERIMENT,
            filter=_common.SEARCH_FILTER,
            order_by=_common.SEARCH_ORDER_BY,
            max_results=_common.SEARCH_MAX_RESULTS,
        )

    def metric_of(self, run: Any, key: str) -> float:
        return float(run.data.metrics[key])


if __name__ == "__main__":
    _common.main(LooplineTracker())
