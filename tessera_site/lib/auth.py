"""Who is calling: an Actor built from an API key, a signed-in user, or the demo's open mode."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest

from tessera_site.lib.errors import ApiError

if TYPE_CHECKING:
    from contracts.models import ApiKey, Team

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
            raise ApiError(403, "insufficient_scope", f"This API key lacks the '{scope}' scope")

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
            raise ApiError(403, "forbidden", f"{self.label} may not act for team '{team.slug}'")


def actor_for_key(key: ApiKey) -> Actor:
    return Actor(
        label=f"api-key:{key.team.slug}/{key.name}", team=key.team, scopes=tuple(key.scopes), api_key=key
    )


def actor_for_user(user: Any) -> Actor:
    from contracts.selectors.teams import teams_for_user

    teams = tuple(teams_for_user(user=user))
    return Actor(
        label=f"user:{user.get_username()}",
        team=teams[0] if len(teams) == 1 else None,
        scopes=("read", "write"),
        user=user,
        teams=teams,
    )


SYSTEM = Actor(label="system", is_open=True)


def _is_loopback(request: HttpRequest) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


class ApiKeyAuth:
    """django-ninja auth: ``Authorization: Bearer <key>``; open mode for loopback when enabled."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Actor | None:
        from contracts.services.apikeys import ApiKeyExpired, apikey_authenticate

        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise ApiError(401, "unauthorized", "Use 'Authorization: Bearer <api key>'")
            try:
                key = apikey_authenticate(token.strip())
            except ApiKeyExpired as exc:
                raise ApiError(401, "expired", f"{exc}; ask an admin for a new key") from None
            if key is None:
                raise ApiError(401, "unauthorized", "Unknown or revoked API key")
            return actor_for_key(key)
        if settings.TESSERA_OPEN_API and _is_loopback(request):
            return Actor(label="open-api (local demo)", is_open=True, scopes=("read", "write", "admin"))
        raise ApiError(401, "unauthorized", "An API key is required: 'Authorization: Bearer <api key>'")
