"""The dependency graph: one node per declared name, an edge from each name to every name that uses it.

Edges keep the span of the use, so a dependency cycle is reported as its whole path, one
position per step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

from . import syntax as s
from .checker import Use
from .diagnostics import Diagnostic, Note

__all__ = ["build_graph", "find_cycles", "evaluation_order"]


def build_graph(declarations: Mapping[str, s.Decl], uses: Iterable[Use]) -> nx.DiGraph:
    graph = nx.DiGraph()
    for name, decl in declarations.items():
        graph.add_node(name, kind=type(decl).__name__, span=decl.name_span)
    for use in uses:
        if use.name in graph and use.user in graph:
            graph.add_edge(use.name, use.user, span=use.span)
    return graph


def find_cycles(graph: nx.DiGraph) -> list[Diagnostic]:
    """One error per cycle, listing each step as 'x is used here in the definition of y'."""
    diagnostics = []
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            (name,) = component
            if not graph.has_edge(name, name):
                continue
        cycle = nx.find_cycle(graph.subgraph(component))
        path = " -> ".join([edge[0] for edge in cycle] + [cycle[0][0]])
        notes = tuple(Note(graph.edges[a, b]["span"], f"`{a}` is used here in the definition of `{b}`") for a, b in cycle)
        first = cycle[0][0]
        diagnostics.append(Diagnostic("error", f"circular definition: {path}", graph.nodes[first]["span"],
                                      "a value cannot depend on itself; break the cycle", notes))
    return sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column))


def evaluation_order(graph: nx.DiGraph) -> tuple[str, ...]:
    """Names in an order where each comes after everything it uses (ties broken by name, so runs repeat)."""
    return tuple(nx.lexicographical_topological_sort(graph))
