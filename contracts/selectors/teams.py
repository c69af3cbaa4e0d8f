from __future__ import annotations

from django.db.models import QuerySet

from contracts.models import Team, TeamMembership


def teams_for_user(*, user) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user).order_by("slug").distinct()


def user_is_member(*, user, team: Team) -> bool:
    return bool(user.is_authenticated) and TeamMembership.objects.filter(team=team, user=user).exists()


def user_is_lead(*, user, team: Team) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return TeamMembership.objects.filter(team=team, user=user, role=TeamMembership.Role.LEAD).exists()
