"""Dashboard pages of deprecation campaigns: every campaign with its progress, and one campaign."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from contracts.models import DeprecationCampaign
from contracts.selectors.deprecations import campaign_view, campaign_views, campaigns_query
from contracts.views.browse import render_page
from tessera_site.lib.htmx import HtmxHttpRequest

STATUS_ORDER: dict[str, int] = {DeprecationCampaign.Status.OPEN: 0, DeprecationCampaign.Status.DONE: 1}


@login_required
@require_GET
def deprecation_list(request: HtmxHttpRequest) -> HttpResponse:
    campaigns = list(campaigns_query().order_by("deprecation_date", "id"))
    views = sorted(campaign_views(campaigns), key=lambda v: STATUS_ORDER.get(v.campaign.status, 2))
    return render_page(request, "contracts/deprecation_list.html", {"views": views})


@login_required
@require_GET
def deprecation_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    view = campaign_view(pk=pk)
    if view is None:
        raise Http404("No such deprecation campaign")
    return render_page(request, "contracts/deprecation_detail.html", {"v": view, "campaign": view.campaign})
