"""One-value logging calls, defined once over ``log_batch`` for every backend."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from loopline.entities import Metric

__all__ = ["LogShortcuts"]


class LogShortcuts:
    """``log_metric``, ``log_param`` and ``set_tag`` for any class with a ``log_batch``."""

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Iterable[tuple[str, Any, Any, Any] | Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        raise NotImplementedError

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        *,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        self.log_batch(run_id, metrics=[(key, value, timestamp, step)])

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, params={key: value})

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, tags={key: value})
