"""What the lineage drawings carry: a lineage graph (selectors/lineage.py) laid out left to right,
each box with its position and its team's colour. The lineage page's JSON (drawn by
static/js/lineage.js) and the asset page's inline SVG both come from here."""

from __future__ import annotations

from typing import Any

from contracts.presenters.graphics import NODE_H, NODE_W, edge_path, layered_layout, team_colour
from contracts.selectors.lineage import LineageGraph, LineageNode


def node_fields(node: LineageNode) -> dict[str, Any]:
    return {
        "id": node.id,
        "kind": "asset",
        "name": node.name,
        "relation": node.relation,
        "type": node.type,
        "status": node.status,
        "team": node.team,
        "team_id": node.team_id,
        "project": node.project or "",
        "proposal": node.proposal,
        "impact": node.impact,
    }


def lineage_drawing(graph: LineageGraph, *, focus_id: int | None) -> dict[str, Any]:
    """Boxes and edges with positions: sources on the left, what reads them to the right."""
    nodes = {pk: node_fields(n) for pk, n in graph.nodes.items()}
    drawing = drawing_of(nodes, graph.edges)
    for node in drawing["nodes"]:
        node["focus"] = node["id"] == focus_id
    drawing["truncated"] = graph.truncated
    return drawing


def drawing_of(nodes: dict[Any, dict[str, Any]], edges: list[tuple[Any, Any]]) -> dict[str, Any]:
    """Lay ``nodes`` (id → fields with at least name, project, team, team_id) out; ``edges`` are
    (upstream id, downstream id)."""

    def sort_key(n: Any) -> tuple[str, str]:
        return (nodes[n]["project"], nodes[n]["name"])

    layout = layered_layout(nodes, edges, sort_key=sort_key)
    placed = []
    for pk, node in nodes.items():
        x, y = layout.positions[pk]
        placed.append({**node, "x": x, "y": y, "colour": team_colour(node["team_id"])})
    teams = sorted({(n["team"], n["team_id"]) for n in placed if n["team"]})
    return {
        "nodes": placed,
        "edges": [
            {"from": u, "to": d, "d": edge_path(layout.positions[u], layout.positions[d])} for (u, d) in edges
        ],
        "width": layout.width,
        "height": layout.height,
        "node_w": NODE_W,
        "node_h": NODE_H,
        "teams": [{"slug": slug, "colour": team_colour(team_id)} for slug, team_id in teams],
        "truncated": False,
    }
