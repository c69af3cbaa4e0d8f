"""Who calls the API: ``ApiKeyAuth`` turns a bearer key (or the local demo's open mode) into an
Actor; ``request_actor`` checks its scope at the start of every read/write endpoint."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from contracts.services.apikeys import ApiKeyExpired, apikey_authenticate
from tessera_site.lib.auth import Actor, actor_for_key
from tessera_site.lib.errors import Unauthenticated


def request_actor(request: HttpRequest, scope: str) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    actor.require_scope(scope)
    return actor


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
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("Use 'Authorization: Bearer <api key>'")
            try:
                key = apikey_authenticate(token.strip())
            except ApiKeyExpired as exc:
                raise Unauthenticated(f"{exc}; ask an admin for a new key", code="expired") from None
            if key is None:
                raise Unauthenticated("Unknown or revoked API key")
            return actor_for_key(key)
        if settings.TESSERA_OPEN_API and _is_loopback(request):
            return Actor(label="open-api (local demo)", is_open=True, scopes=("read", "write", "admin"))
        raise Unauthenticated("An API key is required: 'Authorization: Bearer <api key>'")
