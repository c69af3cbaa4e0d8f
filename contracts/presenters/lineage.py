"""What the lineage drawings carry: a lineage graph (selectors/lineage.py) or the whole graph by
level of detail (selectors/lineage_clusters.py) laid out left to right, each box with its position
and its team's colour. The lineage page's JSON (drawn by static/js/lineage.js), the asset page's
inline SVG and the API's level-of-detail view all come from here."""

from __future__ import annotations

from typing import Any

from contracts.presenters.graphics import NODE_H, NODE_W, edge_path, layered_layout, team_colour
from contracts.selectors.lineage import LineageGraph, LineageNode
from contracts.selectors.lineage_clusters import ClusterGraph, unit_id


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


def lineage_drawing(graph: LineageGraph, *, focus_id: int | None, paths: bool = False) -> dict[str, Any]:
    """Boxes and edges with positions: sources on the left, what reads them to the right.
    ``paths``: each edge with its SVG path too, for a drawing made without JavaScript."""
    nodes = {pk: node_fields(n) for pk, n in graph.nodes.items()}
    drawing = drawing_of(nodes, graph.edges, paths=paths)
    for node in drawing["nodes"]:
        node["focus"] = node["id"] == focus_id
    drawing["truncated"] = graph.truncated
    drawing["mode"] = "assets"
    return drawing


def drawing_of(
    nodes: dict[Any, dict[str, Any]], edges: list[tuple[Any, Any]], *, paths: bool = False
) -> dict[str, Any]:
    """Lay ``nodes`` (id → fields with at least name, project, team, team_id) out; ``edges`` are
    (upstream id, downstream id). Without ``paths`` the browser draws each edge from its ends'
    positions (static/js/lineage.js), which keeps the JSON small."""

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
            {
                "from": u,
                "to": d,
                **({"d": edge_path(layout.positions[u], layout.positions[d])} if paths else {}),
            }
            for (u, d) in edges
        ],
        "width": layout.width,
        "height": layout.height,
        "node_w": NODE_W,
        "node_h": NODE_H,
        "teams": [{"slug": slug, "colour": team_colour(team_id)} for slug, team_id in teams],
        "truncated": False,
    }


# --- the whole graph by level of detail ------------------------------------------------------------
def cluster_nodes(graph: ClusterGraph) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Boxes (groups, ranges, assets) by id and the counted edges between them: what the API
    returns and what the lineage page lays out."""
    nodes: dict[str, dict[str, Any]] = {}
    for c in graph.clusters:
        nodes[c.key] = {
            "id": c.key,
            "kind": "cluster",
            "name": f"{c.first} … {c.last}" if c.ranged else f"{c.project or 'no project'} · {c.team}",
            "project": c.project,
            "team": c.team,
            "team_id": c.team_id,
            "size": c.size,
            "first": c.first,
            "last": c.last,
            "ranged": c.ranged,
            "internal_edges": c.internal_edges,
        }
    for pk, node in graph.assets.items():
        nodes[unit_id(pk)] = {
            **node_fields(node),
            "id": unit_id(pk),
            "asset_id": pk,
            "group": graph.opened_by[pk],
        }
    edges = [{"from": a, "to": b, "count": n} for a, b, n in graph.edges]
    return nodes, edges


def cluster_drawing(graph: ClusterGraph) -> dict[str, Any]:
    """``cluster_nodes`` laid out, each edge with its count."""
    nodes, edges = cluster_nodes(graph)
    drawing = drawing_of(nodes, [(e["from"], e["to"]) for e in edges])
    for edge, counted in zip(drawing["edges"], edges, strict=True):
        edge["count"] = counted["count"]
    drawing["expanded"] = graph.expanded
    drawing["mode"] = "clusters"
    return drawing


# --- one column's lineage, drawn over the graph around its asset -----------------------------------
def column_overlay(
    *, asset_id: int, column: str, sources: list[dict[str, Any]], reads: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the page highlights for ``column`` of ``asset_id``: the boxes holding the upstream
    columns it comes from (``sources``), the models reading it hop by hop and where (``reads``,
    from ``column_lineage``), and a label per edge naming the column and the clauses."""
    roles: dict[int, str] = {asset_id: "focus"}
    notes: dict[int, list[str]] = {asset_id: [f"column {column}"]}
    labels: dict[tuple[int, int], list[str]] = {}
    clauses: dict[tuple[int, int], list[str]] = {}
    for edges, upstream_side in ((sources, True), (reads, False)):
        for edge in edges:
            up, down, read = edge["upstream"], edge["downstream"], edge["upstream_column"]
            where = ", ".join(edge["clauses"]) or "read"
            labels.setdefault((up, down), []).append(f"{read}: {where}")
            clauses.setdefault((up, down), []).extend(edge["clauses"] or ["read"])
            if upstream_side:
                roles.setdefault(up, "source")
                notes.setdefault(up, []).append(f"{read} → {column}")
            else:
                roles.setdefault(down, "reads")
                notes.setdefault(down, []).append(f"reads {read}: {where}")
    return {
        "asset": asset_id,
        "name": column,
        "nodes": [
            {"id": pk, "role": role, "note": "; ".join(notes.get(pk, []))} for pk, role in roles.items()
        ],
        "edges": [
            {
                "from": u,
                "to": d,
                "label": "; ".join(dict.fromkeys(text)),
                "where": ", ".join(dict.fromkeys(clauses[(u, d)])),
            }
            for (u, d), text in labels.items()
        ],
    }
