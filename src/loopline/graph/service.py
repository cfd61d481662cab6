"""The lineage service: walks dataset versions -> runs -> model versions -> aliases.

Upstream and downstream are walked separately from the root, each up to ``depth`` hops, so the
graph of a run holds what it read and what it produced, not its inputs' other consumers. The walk
reads the stores as they are: a run input is recorded by ``log_input``, a run's model versions by
registration, an alias by ``set_alias``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from loopline.entities import (
    DatasetVersion,
    Edge,
    LineageGraph,
    ModelVersion,
    Node,
    NodeKind,
    RunInfo,
)
from loopline.errors import InvalidArgumentError, NotFoundError
from loopline.graph.refs import Ref, node_id, parse_ref, ref_of

if TYPE_CHECKING:
    from loopline.data.service import DatasetService
    from loopline.registry.service import RegistryService
    from loopline.tracking.service import TrackingService

__all__ = ["DEFAULT_DEPTH", "DIRECTIONS", "MAX_DEPTH", "LineageService", "check_depth"]

DEFAULT_DEPTH = 4
MAX_DEPTH = 50
DIRECTIONS = ("both", "upstream", "downstream")
_Entity = DatasetVersion | RunInfo | ModelVersion | tuple[ModelVersion, str]


def check_depth(depth: object) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH:
        raise InvalidArgumentError(
            f"The 'depth' parameter of lineage must be an integer from 1 to {MAX_DEPTH}. "
            f"Got {str(depth)[:40]!r} instead.",
            field="depth",
        )
    return depth


def check_direction(direction: object) -> str:
    if direction not in DIRECTIONS:
        raise InvalidArgumentError(
            f"The 'direction' parameter of lineage must be one of {list(DIRECTIONS)}. "
            f"Got {str(direction)[:40]!r} instead.",
            field="direction",
        )
    return str(direction)


def _node(entity: _Entity) -> Node:
    if isinstance(entity, DatasetVersion):
        return Node(NodeKind.DATASET_VERSION.value, node_id(NodeKind.DATASET_VERSION, entity.name,
                    entity.version), f"{entity.name} v{entity.version}", {
            "name": entity.name, "version": entity.version, "digest": entity.digest,
            "num_rows": entity.num_rows, "num_columns": entity.num_columns,
            "status": entity.status.value, "created_at": entity.created_at,
        })  # fmt: skip
    if isinstance(entity, RunInfo):
        return Node(NodeKind.RUN.value, node_id(NodeKind.RUN, entity.run_id), entity.run_name, {
            "run_id": entity.run_id, "experiment_id": entity.experiment_id,
            "status": entity.status.value, "start_time": entity.start_time,
            "end_time": entity.end_time, "lifecycle_stage": entity.lifecycle_stage.value,
            "user_id": entity.user_id,
        })  # fmt: skip
    if isinstance(entity, ModelVersion):
        return Node(NodeKind.MODEL_VERSION.value, node_id(NodeKind.MODEL_VERSION, entity.name,
                    entity.version), f"{entity.name} v{entity.version}", {
            "name": entity.name, "version": entity.version, "run_id": entity.run_id,
            "flavor": entity.flavor, "digest": entity.digest, "status": entity.status.value,
            "created_by": entity.created_by, "created_at": entity.created_at,
            "aliases": list(entity.aliases),
        })  # fmt: skip
    version, alias = entity
    return Node(NodeKind.ALIAS.value, node_id(NodeKind.ALIAS, version.name, alias),
                f"{version.name}@{alias}",
                {"name": version.name, "alias": alias, "version": version.version})  # fmt: skip


class LineageService:
    """The graph around a dataset version, run or model version, over the three services.

    Examples:
        >>> import tempfile, loopline
        >>> client = loopline.Client(tempfile.mkdtemp())
        >>> tracking = client.backend
        >>> run = client.create_run(client.create_experiment("lineage-doc"), run_name="fit")
        >>> service = LineageService(tracking, client.datasets, client.registry)
        >>> graph = service.graph(run)
        >>> [(n.kind, n.label) for n in graph.nodes]
        [('run', 'fit')]
    """

    def __init__(
        self, tracking: TrackingService, datasets: DatasetService, registry: RegistryService
    ) -> None:
        self.tracking = tracking
        self.datasets = datasets
        self.registry = registry

    def graph(
        self, obj: Any, *, depth: int = DEFAULT_DEPTH, direction: str = "both"
    ) -> LineageGraph:
        """Nodes and edges within ``depth`` hops of ``obj``, upstream and/or downstream.

        ``obj`` is a DatasetVersion, Run, ModelVersion or a reference (``dataset:name/3``,
        ``run:<id>``, ``models:/name/3``, ``models:/name@alias``). Unknown objects raise
        NotFoundError; malformed references InvalidArgumentError.
        """
        depth, direction = check_depth(depth), check_direction(direction)
        root = self._resolve(parse_ref(ref_of(obj)))
        root_node = _node(root)
        nodes: dict[str, Node] = {root_node.id: root_node}
        edges: dict[tuple[str, str, str], Edge] = {}
        for downstream in (True, False):
            if direction == ("upstream" if downstream else "downstream"):
                continue
            seen = {root_node.id}
            frontier: deque[tuple[_Entity, int]] = deque([(root, 0)])
            while frontier:
                entity, hops = frontier.popleft()
                if hops >= depth:
                    continue
                for neighbour, edge in self._neighbours(entity, downstream=downstream):
                    node = _node(neighbour)
                    nodes.setdefault(node.id, node)
                    edges.setdefault((edge.source, edge.target, edge.relation), edge)
                    if node.id not in seen:
                        seen.add(node.id)
                        frontier.append((neighbour, hops + 1))
        return LineageGraph(root_node.id, list(nodes.values()), list(edges.values()))

    def _resolve(self, ref: Ref) -> _Entity:
        if ref.kind is NodeKind.DATASET_VERSION:
            return self.datasets.get(ref.name, ref.version)
        if ref.kind is NodeKind.RUN:
            return self.tracking.store.get_run_info(ref.name)
        if ref.kind is NodeKind.MODEL_VERSION:
            version = "latest" if ref.version is None else ref.version
            return self.registry.resolve(f"models:/{ref.name}/{version}")
        return (self.registry.resolve(f"models:/{ref.name}@{ref.alias}"), str(ref.alias))

    def _neighbours(self, entity: _Entity, *, downstream: bool) -> Iterator[tuple[_Entity, Edge]]:
        """``(neighbour, edge)`` pairs one hop from ``entity`` in the walk's direction."""
        if isinstance(entity, DatasetVersion):
            if downstream:
                source = _node(entity).id
                for used in self.datasets.consumers(entity.name, entity.version):
                    run = self._run(used.run_id)
                    if run is not None:
                        yield run, Edge(source, node_id(NodeKind.RUN, run.run_id), "input",
                                        {"context": used.context})  # fmt: skip
        elif isinstance(entity, RunInfo):
            target = node_id(NodeKind.RUN, entity.run_id)
            if downstream:
                for version in self.registry.store.list_model_versions_of_run(entity.run_id):
                    yield version, Edge(target, _node(version).id, "registered")
            else:
                for used in self.datasets.run_inputs(entity.run_id):
                    found = self.datasets.get(used.dataset, used.version)
                    yield found, Edge(_node(found).id, target, "input", {"context": used.context})
        elif isinstance(entity, ModelVersion):
            here = _node(entity).id
            if downstream:
                for alias in entity.aliases:
                    yield (entity, alias), Edge(here, node_id(NodeKind.ALIAS, entity.name, alias),
                                                "alias")  # fmt: skip
            else:
                run = self._run(entity.run_id)
                if run is not None:
                    yield run, Edge(node_id(NodeKind.RUN, run.run_id), here, "registered")
        elif not downstream:
            version, alias = entity
            yield version, Edge(_node(version).id, node_id(NodeKind.ALIAS, version.name, alias),
                                "alias")  # fmt: skip

    def _run(self, run_id: str) -> RunInfo | None:
        try:
            return self.tracking.store.get_run_info(run_id)  # no params or metrics needed
        except NotFoundError:
            return None
