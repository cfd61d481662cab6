"""``loopline.lineage(obj)``: the graph around a dataset version, run or model version.

Works on a local store (in process) and against a server (``GET /api/lineage``) alike.

Examples:
    >>> import tempfile, pandas as pd, loopline
    >>> loopline.set_uri(tempfile.mkdtemp())
    >>> flights = loopline.datasets.create("flights", pd.DataFrame({"delay": [3, -1, 12]}))
    >>> with loopline.start_run(run_name="fit") as run:
    ...     loopline.log_input(flights)
    >>> graph = loopline.lineage(flights)
    >>> [(n.kind, n.label) for n in graph.nodes]
    [('dataset_version', 'flights v1'), ('run', 'fit')]
    >>> graph.downstream("dataset:flights/1") == [f"run:{run.id}"]
    True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopline.entities import LineageGraph
from loopline.graph.refs import ref_of
from loopline.graph.service import DEFAULT_DEPTH, check_depth, check_direction

if TYPE_CHECKING:
    from loopline.client.client import Client
    from loopline.client.remote import RemoteTracking

__all__ = ["RemoteLineage", "lineage"]


class RemoteLineage:
    """:meth:`LineageService.graph <loopline.graph.LineageService.graph>` over HTTP."""

    def __init__(self, remote: RemoteTracking) -> None:
        self.remote = remote

    def graph(
        self, obj: Any, *, depth: int = DEFAULT_DEPTH, direction: str = "both"
    ) -> LineageGraph:
        params = {"ref": ref_of(obj), "depth": check_depth(depth),
                  "direction": check_direction(direction)}  # fmt: skip
        return LineageGraph.from_dict(self.remote._call("GET", "/api/lineage", params=params))


def lineage(
    obj: Any, *, depth: int = DEFAULT_DEPTH, direction: str = "both", client: Client | None = None
) -> LineageGraph:
    """The graph around ``obj``: datasets -> runs -> model versions -> aliases.

    ``obj`` is a DatasetVersion, a Run (or the active run), a ModelVersion, or a reference:
    ``dataset:name/3``, ``run:<id>``, ``models:/name/3``, ``models:/name@alias``. ``depth``
    bounds the hops walked from it, ``direction`` is ``both``, ``upstream`` or ``downstream``.
    """
    if client is None:
        from loopline.client.fluent import flush, get_client

        flush()
        client = get_client()
    if client.is_remote:
        from loopline.client.remote import RemoteTracking

        assert isinstance(client.backend, RemoteTracking)
        return RemoteLineage(client.backend).graph(obj, depth=depth, direction=direction)
    from loopline.graph.service import LineageService
    from loopline.tracking.service import TrackingService

    assert isinstance(client.backend, TrackingService)
    service = LineageService(client.backend, client.datasets, client.registry)
    return service.graph(obj, depth=depth, direction=direction)
