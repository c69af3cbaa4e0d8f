"""Which Tessera team a dbt ``owner`` (of an exposure or a group) is. One rule for both:

1. ``meta.tessera.team`` on the exposure or group: that team (by slug);
2. the owner's email: the team whose notification address it is, else the team of the user with
   that email (a team they lead first, then the first by slug);
3. the owner's name: the team whose slug or name it is (case-insensitive; "Data Platform" is
   ``data-platform``);
4. none: an exposure then belongs to the project's team; a group's models fall back to their
   project's default owner, as if there were no group.

All teams are looked up in two queries for the whole manifest; nothing is created here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Lower
from django.utils.text import slugify

from contracts.domain import DbtOwner
from contracts.models import Team, TeamMembership


@dataclass
class OwnerDirectory:
    by_slug: dict[str, Team] = field(default_factory=dict)
    by_name: dict[str, Team] = field(default_factory=dict)
    by_email: dict[str, Team] = field(default_factory=dict)

    def team_for(self, *, meta_team: str | None, owner: DbtOwner) -> tuple[Team | None, str]:
        """The team, and how it was found (for the page and the warnings)."""
        if meta_team:
            team = self.by_slug.get(meta_team.lower())
            if team is not None:
                return team, "meta.tessera.team"
        if owner.email and owner.email in self.by_email:
            return self.by_email[owner.email], f"owner email {owner.email}"
        name = owner.name.strip().lower()
        if name:
            team = self.by_slug.get(slugify(name)) or self.by_name.get(name)
            if team is not None:
                return team, f"owner name {owner.name}"
        return None, ""


def owner_directory(*, owners: Iterable[DbtOwner], slugs: Iterable[str]) -> OwnerDirectory:
    owners = list(owners)
    emails = {o.email.lower() for o in owners if o.email}
    names = {o.name.strip().lower() for o in owners if o.name.strip()}
    wanted_slugs = {s.lower() for s in slugs} | {slugify(n) for n in names}
    found = OwnerDirectory()
    if not (emails or names or wanted_slugs):
        return found
    teams = Team.objects.annotate(lname=Lower("name"), lemail=Lower("email")).filter(
        Q(slug__in=wanted_slugs) | Q(lname__in=names) | Q(lemail__in=emails)
    )
    for team in teams:
        found.by_slug[team.slug.lower()] = team
        found.by_name.setdefault(team.lname, team)  # type: ignore[attr-defined]
        if team.lemail in emails:  # type: ignore[attr-defined]
            found.by_email[team.lemail] = team  # type: ignore[attr-defined]
    if emails - found.by_email.keys():
        members = (
            TeamMembership.objects.annotate(lemail=Lower("user__email"))
            .filter(lemail__in=emails - found.by_email.keys())
            .annotate(
                lead=Case(
                    When(role=TeamMembership.Role.LEAD, then=Value(0)),
                    default=Value(1),
                    output_field=IntegerField(),
                )
            )
            .select_related("team")
            .order_by("lead", "team__slug")
        )
        for membership in members:
            found.by_email.setdefault(membership.lemail, membership.team)  # type: ignore[attr-defined]
    return found
