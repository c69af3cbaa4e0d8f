"""API keys: shown once, stored as a SHA-256 digest.

The secret is 32 random bytes, so a fast digest is enough: slow password hashes (PBKDF2) defend
low-entropy passwords against guessing and would add ~100 ms to every API call for nothing here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from contracts.models import ApiKey, Team
from contracts.services.events import event_record
from tessera_site.lib.errors import invalid

KEY_PREFIX = "tsr"
VALID_SCOPES = ("read", "write", "admin")
_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
_DURATION_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


class ApiKeyExpired(Exception):
    """The secret matches a key whose expiry has passed (the API answers 401 "expired")."""

    def __init__(self, key: ApiKey) -> None:
        super().__init__(f"API key {key.prefix} expired at {key.expires_at:%Y-%m-%d %H:%M} UTC")
        self.key = key


def apikey_lifetime_parse(text: str) -> timedelta:
    """``90d``, ``12h`` or ``2w`` as a timedelta; anything else is a clear error."""
    match = _DURATION.match(text or "")
    if match is None or int(match.group(1)) == 0:
        raise invalid(
            f"Expiry must look like 90d, 12h or 2w (a positive number of hours, days or weeks); got {text!r}"
        )
    return timedelta(**{_DURATION_UNITS[match.group(2).lower()]: int(match.group(1))})


def apikey_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def apikey_parse_scopes(scopes: Iterable[str] | str) -> list[str]:
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes)
    cleaned = sorted({s.strip().lower() for s in items if s.strip()})
    unknown = [s for s in cleaned if s not in VALID_SCOPES]
    if unknown or not cleaned:
        raise invalid(f"Scopes must be some of {', '.join(VALID_SCOPES)}; got {', '.join(unknown) or 'none'}")
    return cleaned


@transaction.atomic
def apikey_create(
    *,
    team: Team,
    name: str,
    scopes: Iterable[str] | str,
    created_by=None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plain secret, which is never stored or shown again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise invalid("The expiry of a new key must be in the future")
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        team=team,
        name=name,
        prefix=prefix,
        secret_hash=apikey_hash(secret),
        scopes=apikey_parse_scopes(scopes),
        created_by=created_by,
        expires_at=expires_at,
    )
    event_record(
        kind="apikey.created",
        team=team,
        payload={
            "name": name,
            "prefix": prefix,
            "scopes": key.scopes,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return key, secret


@transaction.atomic
def apikey_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        event_record(kind="apikey.revoked", team=key.team, payload={"name": key.name, "prefix": key.prefix})
    return key


def apikey_authenticate(secret: str) -> ApiKey | None:
    """The active key for a presented secret, or None; raises ApiKeyExpired for an expired one.
    Records last use (at most once a minute)."""
    if not secret.startswith(f"{KEY_PREFIX}_"):
        return None
    key = (
        ApiKey.objects.select_related("team")
        .filter(secret_hash=apikey_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if key is None:
        return None
    if key.is_expired:
        raise ApiKeyExpired(key)
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
