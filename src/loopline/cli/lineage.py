"""``loopline lineage REF``: the graph around a dataset version, run or model version.

One call of :func:`loopline.client.lineage.lineage` (local store or server alike), printed as a
tree (what flowed in above the root, what flowed out below it), as an edge list (``--edges``) or
as the REST API's JSON (``--json``).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text
from rich.tree import Tree

from loopline.cli import JsonOption, UriOption, open_client, render
from loopline.entities import LineageGraph

__all__ = ["lineage"]

RefArgument = Annotated[
    str,
    typer.Argument(
        metavar="REF",
        help="dataset:NAME/VERSION, run:RUN_ID, models:/NAME/VERSION or models:/NAME@ALIAS.",
        show_default=False,
    ),
]


def _label(graph: LineageGraph, node_id: str) -> Text:
    node = graph.node(node_id)
    status = node.attributes.get("status")
    text = Text(f"{node.kind} ", style="dim") + Text(node.label, style="bold")
    text += Text(f"  {node.id}" + (f"  [{status}]" if status else ""), style="dim")
    return text


def _grow(tree: Tree, graph: LineageGraph, node_id: str, *, down: bool, path: set[str]) -> None:
    for edge in graph.edges:
        if (edge.source if down else edge.target) != node_id:
            continue
        other = edge.target if down else edge.source
        if other in path:
            continue
        context = edge.attributes.get("context")
        relation = f"{edge.relation}:{context}" if context else edge.relation
        branch = tree.add(Text(f"{relation} ", style="cyan") + _label(graph, other))
        _grow(branch, graph, other, down=down, path=path | {other})


def lineage_tree(graph: LineageGraph) -> Tree:
    """The root with an ``upstream`` and a ``downstream`` branch, each a tree of its own."""
    tree = Tree(_label(graph, graph.root))
    for down, title in ((False, "upstream"), (True, "downstream")):
        branch = tree.add(Text(title, style="italic"))
        _grow(branch, graph, graph.root, down=down, path={graph.root})
    return tree


def lineage(
    ref: RefArgument,
    depth: Annotated[int, typer.Option(min=1, max=50, help="Hops walked from REF.")] = 4,
    direction: Annotated[
        str, typer.Option(help="both, upstream or downstream.", show_default=True)
    ] = "both",
    edges: Annotated[bool, typer.Option("--edges", help="Print one edge per line.")] = False,
    uri: UriOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show where a dataset version, run or model version came from and what came of it."""
    from loopline.client.lineage import lineage as build

    graph = build(ref, depth=depth, direction=direction, client=open_client(uri))
    if as_json:
        render.print_json(graph.to_dict())
    elif edges:
        for edge in graph.edges:
            context = edge.attributes.get("context")
            suffix = f" ({context})" if context else ""
            typer.echo(f"{edge.source} --{edge.relation}{suffix}--> {edge.target}")
    else:
        render.console().print(lineage_tree(graph))
