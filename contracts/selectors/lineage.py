"""The lineage graph: the one read behind the API's ``/assets/{ref}/lineage`` and the lineage pages.

Edges are asset → asset (a sync records ``depends_on``, and a source that names another
project's model relation *is* that model's asset), so the walk crosses projects without special
cases. Around an asset: breadth-first, one query per hop and direction, then one query for every
asset seen (and, for the pages, one for the open proposals). Without an asset: every active asset
(bounded); the level-of-detail view of the whole graph is ``selectors/lineage_clusters.py``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from contracts.models import Asset, LineageEdge, Proposal

MAX_DEPTH = 10


@dataclass(slots=True)
class LineageNode:
    id: int
    name: str  # the display name (name_vN for a versioned model)
    relation: str
    type: str
    status: str
    team: str
    team_id: int
    project: str | None
    up_hops: int | None = None  # hops upstream of the root (None: not upstream of it)
    down_hops: int | None = None
    proposal: int | None = None  # an open proposal on this asset
    impact: str = ""  # "changing" (open proposal) | "affected" (downstream of one, in view) | ""


@dataclass(slots=True)
class LineageGraph:
    root: LineageNode | None  # None: the whole graph
    depth: int
    nodes: dict[int, LineageNode] = field(default_factory=dict)
    edges: list[tuple[int, int]] = field(default_factory=list)  # (upstream id, downstream id)
    truncated: bool = False

    @property
    def upstream(self) -> list[LineageNode]:
        # An asset both upstream and downstream means a cycle; it is listed on both sides.
        found = [n for n in self.nodes.values() if n.up_hops]
        return sorted(found, key=lambda n: (n.up_hops or 0, n.relation))

    @property
    def downstream(self) -> list[LineageNode]:
        found = [n for n in self.nodes.values() if n.down_hops]
        return sorted(found, key=lambda n: (n.down_hops or 0, n.relation))


def lineage_graph(
    *, asset: Asset | None, depth: int = 1, max_nodes: int | None = None, impact: bool = False
) -> LineageGraph:
    """Upstream and downstream assets of ``asset`` within ``depth`` hops (1..MAX_DEPTH), or every
    active asset when ``asset`` is None. ``max_nodes`` keeps the nearest ones (and says so);
    ``impact`` marks the assets an open proposal changes and what they feed in view."""
    depth = max(1, min(depth, MAX_DEPTH))
    if asset is None:
        ids, edges, truncated = _whole(max_nodes)
        hops: dict[int, tuple[int | None, int | None]] = {}
    else:
        up, up_edges = _walk(asset.pk, depth, upstream=True)
        down, down_edges = _walk(asset.pk, depth, upstream=False)
        hops = {i: (up.get(i), down.get(i)) for i in set(up) | set(down)}
        ids, truncated = _nearest(asset.pk, hops, max_nodes)
        edges = up_edges | down_edges
    nodes = lineage_nodes(ids)
    for pk, (up_hops, down_hops) in hops.items():
        if pk in nodes:
            nodes[pk].up_hops, nodes[pk].down_hops = up_hops, down_hops
    graph = LineageGraph(
        root=nodes.get(asset.pk) if asset else None,
        depth=depth,
        nodes=nodes,
        edges=sorted((u, d) for (u, d) in edges if u in nodes and d in nodes),
        truncated=truncated,
    )
    if impact:
        _mark_proposals(graph)
    return graph


def _walk(root_id: int, depth: int, *, upstream: bool) -> tuple[dict[int, int], set[tuple[int, int]]]:
    """Asset ids reached within ``depth`` hops (id → hops) and the edges crossed."""
    reached: dict[int, int] = {}
    edges: set[tuple[int, int]] = set()
    frontier = {root_id}
    seen = {root_id}
    for hop in range(1, depth + 1):
        if not frontier:
            break
        near = {"downstream_id__in" if upstream else "upstream_id__in": frontier}
        pairs = LineageEdge.objects.filter(**near).values_list("upstream_id", "downstream_id")
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


def _nearest(
    root_id: int, hops: dict[int, tuple[int | None, int | None]], max_nodes: int | None
) -> tuple[set[int], bool]:
    """The root and what the walk reached; past ``max_nodes`` (a hub can have hundreds of
    neighbours) the nearest ones, in a stable order."""
    ids = {root_id, *hops}
    if max_nodes is None or len(ids) <= max_nodes:
        return ids, False

    def distance(pk: int) -> tuple[int, int]:
        up, down = hops[pk]
        return (min(h for h in (up, down) if h is not None), pk)

    return {root_id, *sorted(hops, key=distance)[: max_nodes - 1]}, True


def _whole(max_nodes: int | None) -> tuple[set[int], set[tuple[int, int]], bool]:
    active = Asset.objects.filter(status=Asset.Status.ACTIVE).order_by("pk").values_list("pk", flat=True)
    ids = set(active[: max_nodes + 1] if max_nodes is not None else active)
    truncated = max_nodes is not None and len(ids) > max_nodes
    if truncated:
        ids = set(sorted(ids)[:max_nodes])
    edges = {
        (up, down)
        for up, down in LineageEdge.objects.values_list("upstream_id", "downstream_id").iterator(
            chunk_size=5000
        )
        if up in ids and down in ids
    }
    return ids, edges, truncated


def lineage_nodes(asset_ids: set[int]) -> dict[int, LineageNode]:
    rows = Asset.objects.filter(pk__in=asset_ids).values_list(
        "pk", "name", "model_version", "relation", "resource_type", "status",
        "owner_team__slug", "owner_team_id", "project__name",
    )  # fmt: skip
    return {
        pk: LineageNode(
            id=pk,
            name=f"{name}_v{version}" if version else name,
            relation=relation,
            type=kind,
            status=status,
            team=team,
            team_id=team_id,
            project=project,
        )  # fmt: skip
        for pk, name, version, relation, kind, status, team, team_id, project in rows
    }


def _mark_proposals(graph: LineageGraph) -> None:
    """Assets with an open proposal are 'changing'; everything downstream of them in view is 'affected'."""
    changing = dict(
        Proposal.objects.filter(
            status__in=Proposal.OPEN_STATUSES, asset_id__in=list(graph.nodes)
        ).values_list("asset_id", "pk")
    )
    children: dict[int, list[int]] = defaultdict(list)
    for up, down in graph.edges:
        children[up].append(down)
    affected: set[int] = set()
    stack = list(changing)
    while stack:
        for child in children[stack.pop()]:
            if child not in affected and child not in changing:
                affected.add(child)
                stack.append(child)
    for pk, node in graph.nodes.items():
        node.proposal = changing.get(pk)
        node.impact = "changing" if pk in changing else ("affected" if pk in affected else "")
