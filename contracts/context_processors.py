"""Template context for every page: the signed-in user's teams, whether the outbox page exists."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from contracts.selectors.teams import teams_for_user


def tessera(request: HttpRequest) -> dict[str, object]:
    """Navigation context: the signed-in user's teams and whether the outbox page exists."""
    teams = []
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        teams = list(teams_for_user(user=user))
    return {"tessera_debug": settings.DEBUG, "my_teams": teams, "tessera_version": settings.VERSION}
