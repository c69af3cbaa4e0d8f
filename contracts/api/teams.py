"""A team as the API shows it: members, projects, owned assets, what it consumes."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from contracts.api.access import request_actor
from contracts.api.schemas import ErrorOut, TeamDetailOut
from contracts.selectors.assets import team_get, team_summary

router = Router(tags=["teams"])


@router.get("/teams/{slug}", response={200: TeamDetailOut, 404: ErrorOut}, tags=["teams"], summary="One team")
def team_detail(request: HttpRequest, slug: str):
    request_actor(request, "read")
    team = team_get(slug=slug)
    return {
        "slug": team.slug,
        "name": team.name,
        "email": team.email,
        "description": team.description,
        "is_active": team.is_active,
        **team_summary(team=team),
    }
