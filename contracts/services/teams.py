from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from contracts.models import Team, TeamMembership
from contracts.services.events import event_record


@transaction.atomic
def team_ensure(
    *, slug: str, name: str | None = None, email: str = "", is_active: bool = True
) -> tuple[Team, bool]:
    team, created = Team.objects.get_or_create(
        slug=slug,
        defaults={"name": name or slug.replace("-", " ").title(), "email": email, "is_active": is_active},
    )
    if created:
        event_record(kind="team.created", team=team, payload={"slug": slug, "active": is_active})
    return team, created


@transaction.atomic
def membership_set(
    *, team: Team, user: AbstractBaseUser, role: str = TeamMembership.Role.MEMBER
) -> TeamMembership:
    membership, _ = TeamMembership.objects.update_or_create(team=team, user=user, defaults={"role": role})
    if not team.is_active:
        team.is_active = True
        team.save(update_fields=["is_active"])
    return membership
