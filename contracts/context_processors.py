"""Template context for every page: the signed-in user's teams, whether the outbox page exists."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from contracts.selectors.teams import user_memberships


def tessera(request: HttpRequest) -> dict[str, object]:
    """Navigation context: the signed-in user's teams and whether the outbox page exists. The
    teams are the ones the page's view read (once per request), not a second query."""
    user = getattr(request, "user", None)
    teams = [team for team, _ in user_memberships(user=user)] if user is not None else []
    return {"tessera_debug": settings.DEBUG, "my_teams": teams, "tessera_version": settings.VERSION}
