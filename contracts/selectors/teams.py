from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from contracts.models import Team, TeamMembership
from tessera_site.lib.auth import Actor


def teams_for_user(*, user) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user).order_by("slug").distinct()


_MEMO = "_tessera_memberships"


def user_memberships(*, user: Any) -> list[tuple[Team, str]]:
    """The user's teams (by slug) with their role, read once per user object. Django loads the
    signed-in user anew for every request, so this lives as long as one request, like Django's
    own permission cache (``_perm_cache``) on the same object: a dashboard page asked for the
    memberships up to three times (the navigation, the view, the read rule), a query each."""
    if not user.is_authenticated:
        return []
    memo = getattr(user, _MEMO, None)
    if memo is None:
        memo = [
            (m.team, m.role)
            for m in TeamMembership.objects.filter(user=user).select_related("team").order_by("team__slug")
        ]
        setattr(user, _MEMO, memo)
    return memo


def user_is_member(*, user, team: Team) -> bool:
    return bool(user.is_authenticated) and TeamMembership.objects.filter(team=team, user=user).exists()


def user_is_lead(*, user, team: Team) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return TeamMembership.objects.filter(team=team, user=user, role=TeamMembership.Role.LEAD).exists()


def actor_for_user(user: Any) -> Actor:
    teams = tuple(teams_for_user(user=user))
    return Actor(
        label=f"user:{user.get_username()}",
        team=teams[0] if len(teams) == 1 else None,
        scopes=("read", "write"),
        user=user,
        teams=teams,
    )
