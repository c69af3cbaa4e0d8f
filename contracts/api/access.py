"""The API caller, checked for a scope: every read/write endpoint starts here."""

from __future__ import annotations

from django.http import HttpRequest

from tessera_site.lib.auth import Actor


def request_actor(request: HttpRequest, scope: str) -> Actor:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    actor.require_scope(scope)
    return actor
