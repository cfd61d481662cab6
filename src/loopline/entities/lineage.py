"""Lineage entities: the graph around a dataset version, run or model version.

Node ids are references that :func:`loopline.lineage` accepts back: ``dataset:name/3``,
``run:<run id>``, ``models:/name/3`` and ``models:/name@alias``. Edges point the way data flows:
dataset version -> run (``input``) -> model version (``registered``) -> alias (``alias``).

Examples:
    >>> graph = LineageGraph(
    ...     root="run:abc",
    ...     nodes=[Node("dataset_version", "dataset:flights/1", "flights v1"),
    ...            Node("run", "run:abc", "brave-owl")],
    ...     edges=[Edge("dataset:flights/1", "run:abc", "input", {"context": "training"})],
    ... )
    >>> LineageGraph.from_dict(graph.to_dict()) == graph
    True
    >>> graph.upstream("run:abc")
    ['dataset:flights/1']
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Edge", "LineageGraph", "Node", "NodeKind"]


class NodeKind(enum.StrEnum):
    """What a lineage node stands for."""

    DATASET_VERSION = "dataset_version"
    RUN = "run"
    MODEL_VERSION = "model_version"
    ALIAS = "alias"


@dataclass(frozen=True, slots=True)
class Node:
    """One object of the graph; ``attributes`` are JSON-ready facts about it (status, digest...)."""

    kind: str
    id: str
    label: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": str(self.kind), "id": self.id, "label": self.label,
                "attributes": dict(self.attributes)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Edge:
    """``source`` flows into ``target``: ``input`` (with the run input's ``context``),
    ``registered`` or ``alias``."""

    source: str
    target: str
    relation: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "relation": self.relation,
                "attributes": dict(self.attributes)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LineageGraph:
    """Nodes and edges reachable from ``root`` (a node id) within the requested depth."""

    root: str
    nodes: list[Node]
    edges: list[Edge]

    def node(self, node_id: str) -> Node:
        """The node with that id (KeyError when the graph has none)."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def upstream(self, node_id: str) -> list[str]:
        """Ids of the nodes with an edge into ``node_id``."""
        return [e.source for e in self.edges if e.target == node_id]

    def downstream(self, node_id: str) -> list[str]:
        """Ids of the nodes ``node_id`` has an edge to."""
        return [e.target for e in self.edges if e.source == node_id]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the REST API's answer and ``loopline lineage --json``)."""
        return {"root": self.root, "nodes": [n.to_dict() for n in self.nodes],
                "edges": [e.to_dict() for e in self.edges]}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LineageGraph:
        return cls(
            root=str(data["root"]),
            nodes=[Node(n["kind"], n["id"], n["label"], dict(n.get("attributes") or {}))
                   for n in data["nodes"]],
            edges=[Edge(e["source"], e["target"], e["relation"], dict(e.get("attributes") or {}))
                   for e in data["edges"]],
        )  # fmt: skip
