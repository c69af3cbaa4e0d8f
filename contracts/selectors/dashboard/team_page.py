"""One team's page: members, owned and consumed assets."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Exists,
    OuterRef,
)

from contracts.models import (
    Acknowledgment,
    Asset,
    Proposal,
    Registration,
    Team,
    TeamMembership,
)
from contracts.selectors.dashboard.common import OPEN


@dataclass
class TeamPage:
    team: Team
    members: list[TeamMembership]
    owned: list[Asset]
    consumed: list[Registration]
    pending: list[Proposal]


def team_page(*, team: Team, limit: int = 200) -> TeamPage:
    members = list(
        TeamMembership.objects.filter(team=team).select_related("user").order_by("role", "user__username")
    )
    owned = list(
        Asset.objects.filter(owner_team=team)
        .select_related("project", "active_version")
        .defer("active_version__columns", "active_version__guarantees", "active_version__verdict", "meta")
        .order_by("relation")[:limit]
    )
    consumed = list(
        Registration.objects.filter(team=team)
        .select_related("asset__owner_team", "asset__project")
        .order_by("asset__relation", "origin")[:limit]
    )
    answered = Acknowledgment.objects.filter(proposal=OuterRef("pk"), team=team)
    pending = list(
        Proposal.objects.filter(status__in=OPEN, required_teams=team)
        .exclude(Exists(answered))
        .select_related("asset__owner_team")
        .order_by("deadline")[:limit]
    )
    return TeamPage(team, members, owned, consumed, pending)
