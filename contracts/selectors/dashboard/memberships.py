"""Who may do what: the teams a user belongs to, and leads (read once per request)."""

from __future__ import annotations

from typing import Any

from contracts.models import Team, TeamMembership
from contracts.selectors.teams import user_memberships


def user_teams(*, user: Any) -> list[Team]:
    return [team for team, _ in user_memberships(user=user)]


def user_team_ids(*, user: Any) -> set[int]:
    return {team.pk for team, _ in user_memberships(user=user)}


def user_lead_team_ids(*, user: Any) -> set[int]:
    return {team.pk for team, role in user_memberships(user=user) if role == TeamMembership.Role.LEAD}
