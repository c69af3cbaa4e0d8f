"""Who may do what: the teams a user belongs to, and leads."""

from __future__ import annotations

from typing import Any

from contracts.models import (
    TeamMembership,
)


def user_team_ids(*, user: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(TeamMembership.objects.filter(user=user).values_list("team_id", flat=True))


def user_lead_team_ids(*, user: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        TeamMembership.objects.filter(user=user, role=TeamMembership.Role.LEAD).values_list(
            "team_id", flat=True
        )
    )
