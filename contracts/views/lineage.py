"""The lineage page: a page shell, and the graph (with server-side positions) as JSON for static/js/lineage.js."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from contracts.models import Asset, Proposal
from contracts.presenters.lineage import cluster_drawing, column_overlay, lineage_drawing
from contracts.selectors import dashboard as sel
from contracts.selectors.assets import asset_find
from contracts.selectors.column_usage import (
    column_lineage,
    column_lineage_rows,
    column_sources,
    column_sources_rows,
)
from contracts.selectors.lineage import lineage_graph
from contracts.selectors.lineage_clusters import lineage_clusters
from contracts.views.browse import render_page
from tessera_site.lib.htmx import HtmxHttpRequest

MAX_HOPS = 6
MAX_NODES = 2000  # of a drawn graph of assets; past it the nearest ones, and the page says so


def _focus(request: HtmxHttpRequest) -> tuple[Asset | None, Proposal | None, str]:
    """The asset to centre on: ?proposal=ID (its asset), ?focus=ID, or ?focus=<name or relation>."""
    proposal = None
    raw_proposal = request.GET.get("proposal", "").strip()
    if sel.is_id(raw_proposal):
        proposal = Proposal.objects.select_related("asset").filter(pk=int(raw_proposal)).first()
        if proposal is not None:
            return proposal.asset, proposal, ""
    raw = request.GET.get("focus", "").strip()
    if not raw:
        return None, None, ""
    # The API's ref lookup (id, relation in any case or quoting, dbt unique_id), then a bare model name.
    qs = Asset.objects.select_related("owner_team")
    asset = (
        asset_find(ref=raw, queryset=qs) or qs.filter(name__iexact=raw).order_by("status", "relation").first()
    )
    return asset, None, ("" if asset else f"No asset matches “{raw}”; showing the whole graph.")


def _hops(request: HtmxHttpRequest) -> int:
    try:
        return min(MAX_HOPS, max(1, int(request.GET.get("hops", "2"))))
    except ValueError:
        return 2


@login_required
@require_GET
def lineage_page(request: HtmxHttpRequest) -> HttpResponse:
    focus, proposal, notice = _focus(request)
    hops = _hops(request)
    params = request.GET.urlencode()
    return render_page(
        request,
        "contracts/lineage.html",
        {
            "focus": focus,
            "proposal": proposal,
            "hops": hops,
            "view": request.GET.get("view", ""),
            "hop_choices": range(1, MAX_HOPS + 1),
            "notice": notice,
            "graph_url": reverse("lineage_json") + (f"?{params}" if params else ""),
            "open_proposals": Proposal.objects.filter(status__in=sel.OPEN)
            .select_related("asset")
            .order_by("-created_at")[:20],
            **_column_focus(request, focus, hops),
        },
    )


def _column_focus(request: HtmxHttpRequest, focus: Asset | None, hops: int) -> dict[str, object]:
    """?column=NAME with a focus asset: that column's reads, hop by hop, across projects."""
    column = request.GET.get("column", "").strip()[:300]
    if not column or focus is None:
        return {}
    return {
        "column": column,
        "column_edges": column_lineage_rows(asset=focus, column=column, depth=hops),
        "column_sources": column_sources_rows(asset=focus, column=column),
    }


@login_required
@require_GET
def lineage_json(request: HtmxHttpRequest) -> JsonResponse:
    """Around a focus: its assets. The whole graph: groups opened on demand (``?expand=KEY``,
    repeated), or every asset with ``?view=assets`` (bounded by MAX_NODES)."""
    focus, _proposal, _notice = _focus(request)
    if focus is None and request.GET.get("view") != "assets":
        drawing = cluster_drawing(lineage_clusters(expand=request.GET.getlist("expand")))
    else:
        graph = lineage_graph(asset=focus, depth=_hops(request), max_nodes=MAX_NODES, impact=True)
        drawing = lineage_drawing(graph, focus_id=focus.pk if focus else None)
    column = request.GET.get("column", "").strip()[:300].lower()
    if focus is not None and column:
        drawing["column"] = column_overlay(
            asset_id=focus.pk,
            column=column,
            sources=column_sources(asset=focus, column=column),
            reads=column_lineage(asset=focus, column=column, depth=_hops(request)),
        )
    for node in drawing["nodes"]:
        if node["kind"] == "asset":
            node["url"] = reverse("asset_detail", args=[node.get("asset_id", node["id"])])
    return JsonResponse(drawing, json_dumps_params={"separators": (",", ":")})
