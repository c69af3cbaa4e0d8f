"""The lineage page's graph around a focus asset (or the whole graph), bounded in size."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from contracts.models import (
    Asset,
    LineageEdge,
    Proposal,
)
from contracts.selectors.dashboard.common import OPEN


@dataclass
class Graph:
    nodes: dict[int, dict[str, Any]]
    edges: list[tuple[int, int]]
    truncated: bool = False


def lineage_graph(*, focus: Asset | None, hops: int = 2, max_nodes: int = 2000) -> Graph:
    """The lineage around ``focus`` (``hops`` steps both ways), or the whole graph when no focus.

    One query per hop (edges touching the frontier), one for the nodes, one for the open proposals.
    """
    if focus is None:
        asset_ids, edges, truncated = _whole_graph(max_nodes)
    else:
        asset_ids, edges, truncated = _around(focus, hops=hops, max_nodes=max_nodes)
    nodes = _nodes(asset_ids)
    edges = {(u, d) for (u, d) in edges if u in nodes and d in nodes}
    _mark_proposals(nodes, edges)
    return Graph(nodes=nodes, edges=sorted(edges), truncated=truncated)


def _whole_graph(max_nodes: int) -> tuple[set[int], set[tuple[int, int]], bool]:
    edges: set[tuple[int, int]] = set()
    asset_ids = set(
        Asset.objects.filter(status=Asset.Status.ACTIVE).values_list("pk", flat=True)[: max_nodes + 1]
    )
    truncated = len(asset_ids) > max_nodes
    for up, down in LineageEdge.objects.values_list("upstream_id", "downstream_id").iterator(chunk_size=5000):
        if up in asset_ids and down in asset_ids:
            edges.add((up, down))
    return asset_ids, edges, truncated


def _around(focus: Asset, *, hops: int, max_nodes: int) -> tuple[set[int], set[tuple[int, int]], bool]:
    edges: set[tuple[int, int]] = set()
    asset_ids = {focus.pk}
    frontier_up = {focus.pk}
    frontier_down = {focus.pk}
    for _ in range(max(0, hops)):
        new_up: set[int] = set()
        new_down: set[int] = set()
        if frontier_up:
            for up, down in LineageEdge.objects.filter(downstream_id__in=frontier_up).values_list(
                "upstream_id", "downstream_id"
            ):
                edges.add((up, down))
                new_up.add(up)
        if frontier_down:
            for up, down in LineageEdge.objects.filter(upstream_id__in=frontier_down).values_list(
                "upstream_id", "downstream_id"
            ):
                edges.add((up, down))
                new_down.add(down)
        frontier_up = new_up - asset_ids
        frontier_down = new_down - asset_ids
        asset_ids |= new_up | new_down
        if len(asset_ids) > max_nodes:
            # A hub can have hundreds of neighbours: keep the nearest ones (found first) and say so.
            return {focus.pk} | set(sorted(asset_ids - {focus.pk})[: max_nodes - 1]), edges, True
    return asset_ids, edges, False


def _nodes(asset_ids: set[int]) -> dict[int, dict[str, Any]]:
    rows = Asset.objects.filter(pk__in=asset_ids).values(
        "pk",
        "name",
        "model_version",
        "relation",
        "resource_type",
        "status",
        "owner_team_id",
        "owner_team__slug",
        "project__name",
    )
    return {
        r["pk"]: {
            "id": r["pk"],
            "name": f"{r['name']}_v{r['model_version']}" if r["model_version"] else r["name"],
            "relation": r["relation"],
            "type": r["resource_type"],
            "status": r["status"],
            "team": r["owner_team__slug"],
            "team_id": r["owner_team_id"],
            "project": r["project__name"] or "",
        }
        for r in rows
    }


def _mark_proposals(nodes: dict[int, dict[str, Any]], edges: set[tuple[int, int]]) -> None:
    """Assets with an open proposal are 'changing'; everything downstream of them in view is 'affected'."""
    changing = dict(
        Proposal.objects.filter(status__in=OPEN, asset_id__in=list(nodes)).values_list("asset_id", "pk")
    )
    children: dict[int, list[int]] = defaultdict(list)
    for up, down in edges:
        children[up].append(down)
    affected: set[int] = set()
    stack = list(changing)
    while stack:
        for child in children[stack.pop()]:
            if child not in affected and child not in changing:
                affected.add(child)
                stack.append(child)
    for pk, node in nodes.items():
        node["proposal"] = changing.get(pk)
        node["impact"] = "changing" if pk in changing else ("affected" if pk in affected else "")
