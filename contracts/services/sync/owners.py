"""Sync step: who owns what. The project's owner is set once, by the first sync that names one;
a node that names no owner team belongs to the default owner (the run's ``?team=``, else the
project's owner, else the API key's team)."""

from __future__ import annotations

from collections import Counter

from contracts.models import Team
from contracts.services.sync.context import SyncContext


def owners_resolve(ctx: SyncContext) -> Team | None:
    """Set the project's owner if it has none yet; return the default owner of this sync's nodes."""
    project, parsed, teams = ctx.project, ctx.parsed, ctx.teams
    if project.owner_team_id is None:
        named = Counter(
            s.owner_team
            for s in parsed.assets
            if s.owner_team in teams and s.package_name == parsed.project_name
        )
        owner = ctx.run.team or ctx.actor.team or (teams[named.most_common(1)[0][0]] if named else None)
        if owner is not None:
            project.owner_team = owner
    return ctx.run.team or project.owner_team or ctx.actor.team
