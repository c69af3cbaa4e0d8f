"""Who is calling: an Actor (an API key, a signed-in user, or the demo's open mode) and its rights.

The contracts app builds actors (``contracts.selectors.teams.actor_for_user``,
``contracts.api.access.ApiKeyAuth``); this module imports no app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tessera_site.lib.errors import PermissionDenied

# The app's Team and ApiKey models; lib imports no app, so here they are only described.
Team = Any
ApiKey = Any

SCOPE_ORDER = {"read": 0, "write": 1, "admin": 2}


@dataclass
class Actor:
    label: str
    team: Team | None = None
    scopes: tuple[str, ...] = ()
    api_key: ApiKey | None = None
    user: Any = None
    is_open: bool = False  # the local demo's unauthenticated mode: may act for any team
    teams: tuple[Team, ...] = field(default=())  # a user's teams (dashboard actors)

    def has_scope(self, scope: str) -> bool:
        if self.is_open:
            return True
        # admin includes write, write includes read
        return any(SCOPE_ORDER.get(s, -1) >= SCOPE_ORDER[scope] for s in self.scopes)

    @property
    def is_admin(self) -> bool:
        """A Tessera administrator: the local demo's open mode, a superuser, or a key with the
        ``admin`` scope. Administrators may sync any project, transfer assets and read everything."""
        if self.is_open:
            return True
        if self.api_key is not None:
            return "admin" in self.scopes
        return self.user is not None and bool(getattr(self.user, "is_superuser", False))

    def require_scope(self, scope: str) -> None:
        if not self.has_scope(scope):
            raise PermissionDenied(f"This API key lacks the '{scope}' scope", code="insufficient_scope")

    def can_act_for(self, team: Team) -> bool:
        if self.is_open:
            return True
        if self.api_key is not None:
            return self.team is not None and self.team.pk == team.pk
        if self.user is not None and getattr(self.user, "is_superuser", False):
            return True
        return any(t.pk == team.pk for t in self.teams)

    def require_team(self, team: Team) -> None:
        if not self.can_act_for(team):
            raise PermissionDenied(f"{self.label} may not act for team '{team.slug}'")


def actor_for_key(key: ApiKey) -> Actor:
    return Actor(
        label=f"api-key:{key.team.slug}/{key.name}", team=key.team, scopes=tuple(key.scopes), api_key=key
    )


SYSTEM = Actor(label="system", is_open=True)
