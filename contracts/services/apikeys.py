"""API keys: shown once, stored as a SHA-256 digest.

The secret is 32 random bytes, so a fast digest is enough: slow password hashes (PBKDF2) defend
low-entropy passwords against guessing and would add ~100 ms to every API call for nothing here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from contracts.models import ApiKey, Team
from contracts.services.events import event_record
from tessera_site.lib.errors import invalid

KEY_PREFIX = "tsr"
VALID_SCOPES = ("read", "write", "admin")


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
    *, team: Team, name: str, scopes: Iterable[str] | str, created_by=None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plain secret, which is never stored or shown again."""
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        team=team,
        name=name,
        prefix=prefix,
        secret_hash=apikey_hash(secret),
        scopes=apikey_parse_scopes(scopes),
        created_by=created_by,
    )
    event_record(
        kind="apikey.created", team=team, payload={"name": name, "prefix": prefix, "scopes": key.scopes}
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
    """The active key for a presented secret, or None. Records last use (at most once a minute)."""
    if not secret.startswith(f"{KEY_PREFIX}_"):
        return None
    key = (
        ApiKey.objects.select_related("team")
        .filter(secret_hash=apikey_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
