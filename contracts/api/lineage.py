"""The whole lineage graph by level of detail: the same groups and edges as the lineage page."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from contracts.api.access import request_actor
from contracts.api.schemas import ErrorOut, LineageOverviewOut
from contracts.presenters.lineage import cluster_nodes
from contracts.selectors.lineage_clusters import MAX_EXPAND, lineage_clusters, valid_keys
from tessera_site.lib.errors import invalid

router = Router(tags=["lineage"])


@router.get(
    "/lineage",
    response={200: LineageOverviewOut, 400: ErrorOut},
    by_alias=True,
    summary="The whole lineage graph by level of detail: one box per project and owner team, opened on demand",
    description=(
        "Without `expand`, one box per group (the active assets of one project owned by one team) and "
        "the edges between groups with how many asset edges each stands for: the size of the answer "
        "does not grow with the number of assets. `expand=KEY` (repeatable) opens a group: into its "
        "assets when it has at most 60, else into 12 name ranges, whose keys open the same way (name "
        "the group and the range). Around one asset, use `/assets/{ref}/lineage`."
    ),
)
def lineage_overview(
    request: HttpRequest,
    expand: list[str] = Query([], max_length=MAX_EXPAND, description="Group keys to open"),
):
    request_actor(request, "read")
    if len(valid_keys(expand)) != len(set(expand)):
        raise invalid("`expand` takes group keys as the answer gives them (p<project>-t<team>[:<from>-<to>])")
    graph = lineage_clusters(expand=expand)
    nodes, edges = cluster_nodes(graph)
    return {"nodes": list(nodes.values()), "edges": edges, "expanded": graph.expanded}
