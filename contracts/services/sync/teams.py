"""Sync step: the teams a manifest names (owners and consumers), in one query; unknown ones are
created inactive (no members) and reported, invalid slugs are ignored with a warning."""

from __future__ import annotations

import re

from contracts.models import Team
from contracts.services.sync.context import SyncContext

SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")


def teams_resolve(ctx: SyncContext) -> dict[str, Team]:
    slugs: set[str] = set()
    for spec in ctx.parsed.assets:
        if spec.owner_team:
            slugs.add(spec.owner_team)
        slugs.update(c.team for c in spec.consumers)
    bad = {s for s in slugs if not SLUG_RE.match(s) or len(s) > 100}
    for slug in sorted(bad):
        ctx.out.warn(f"'{slug}' is not a valid team slug (letters, digits, '-' and '_'); ignored.")
    slugs -= bad
    teams = {t.slug: t for t in Team.objects.filter(slug__in=slugs)}
    missing = sorted(slugs - teams.keys())
    if missing:
        Team.objects.bulk_create(
            [
                Team(slug=s, name=s.replace("-", " ").replace("_", " ").title(), is_active=False)
                for s in missing
            ],
            ignore_conflicts=True,
        )
        teams.update({t.slug: t for t in Team.objects.filter(slug__in=missing)})
        ctx.out.teams_created = missing
        for slug in missing:
            ctx.out.warn(
                f"Team '{slug}' was not known: created inactive (no members); add its members in the admin."
            )
    return teams
