"""Dashboard views (thin: look up with permission, call a service or selector, render)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from contracts.models import Asset, Proposal, SyncRun, Team
from contracts.selectors.teams import teams_for_user


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    teams = list(teams_for_user(user=request.user))
    return render(request, "home.html", {"teams": teams})


@login_required
@require_GET
def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    team = get_object_or_404(Team, slug=slug)
    return render(request, "contracts/team_detail.html", {"team": team})


@login_required
@require_GET
def asset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    asset = get_object_or_404(Asset.objects.select_related("owner_team", "project", "active_version"), pk=pk)
    return render(request, "contracts/asset_detail.html", {"asset": asset})


@login_required
@require_GET
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(Proposal.objects.select_related("asset"), pk=pk)
    return render(request, "contracts/proposal_detail.html", {"proposal": proposal})


@login_required
@require_GET
def sync_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sync_run = get_object_or_404(SyncRun, pk=pk)
    return render(request, "contracts/sync_detail.html", {"sync_run": sync_run})
