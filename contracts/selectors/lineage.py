"""Walking lineage edges up and down from an asset, across projects.

Edges are asset → asset (a sync records ``depends_on``, and a source that names another
project's model relation *is* that model's asset), so the walk crosses projects without special
cases. Breadth-first, one query per hop and direction, then one query for every asset seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.models import Asset, LineageEdge

MAX_DEPTH = 10


@dataclass(slots=True)
class LineageNode:
    asset: Asset
    direction: str  # "root" | "upstream" | "downstream"
    hops: int


@dataclass(slots=True)
class LineageGraph:
    root: Asset
    depth: int
    nodes: list[LineageNode] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)  # (upstream id, downstream id)

    @property
    def upstream(self) -> list[LineageNode]:
        return [n for n in self.nodes if n.direction == "upstream"]

    @property
    def downstream(self) -> list[LineageNode]:
        return [n for n in self.nodes if n.direction == "downstream"]


def _walk(root_id: int, depth: int, *, upstream: bool) -> tuple[dict[int, int], set[tuple[int, int]]]:
    """Asset ids reached within ``depth`` hops (id → hops) and the edges crossed."""
    reached: dict[int, int] = {}
    edges: set[tuple[int, int]] = set()
    frontier = {root_id}
    seen = {root_id}
    for hop in range(1, depth + 1):
        if not frontier:
            break
        if upstream:
            pairs = LineageEdge.objects.filter(downstream_id__in=frontier).values_list(
                "upstream_id", "downstream_id"
            )
        else:
            pairs = LineageEdge.objects.filter(upstream_id__in=frontier).values_list(
                "upstream_id", "downstream_id"
            )
        next_frontier: set[int] = set()
        for up, down in pairs:
            edges.add((up, down))
            other = up if upstream else down
            if other not in seen:
                seen.add(other)
                reached[other] = hop
                next_frontier.add(other)
        frontier = next_frontier
    return reached, edges


def lineage_graph(*, asset: Asset, depth: int = 1) -> LineageGraph:
    """Upstream and downstream assets of ``asset`` within ``depth`` hops (1..MAX_DEPTH)."""
    depth = max(1, min(depth, MAX_DEPTH))
    up, up_edges = _walk(asset.pk, depth, upstream=True)
    down, down_edges = _walk(asset.pk, depth, upstream=False)
    ids = set(up) | set(down)
    assets = {
        a.pk: a
        for a in Asset.objects.filter(pk__in=ids).select_related("owner_team", "project").defer("meta")
    }
    graph = LineageGraph(root=asset, depth=depth)
    graph.nodes.append(LineageNode(asset=asset, direction="root", hops=0))
    # An asset both upstream and downstream means a cycle; list it on both sides.
    for direction, reached in (("upstream", up), ("downstream", down)):
        for asset_id, hops in sorted(reached.items(), key=lambda item: (item[1], assets[item[0]].relation)):
            graph.nodes.append(LineageNode(asset=assets[asset_id], direction=direction, hops=hops))
    graph.edges = sorted(up_edges | down_edges)
    return graph
