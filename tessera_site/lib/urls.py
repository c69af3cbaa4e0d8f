from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute_url(path_or_name: str, *args: object, **kwargs: object) -> str:
    """Absolute URL for emails and webhooks: a worker has no request, so the base comes from a setting."""
    path = path_or_name if path_or_name.startswith("/") else reverse(path_or_name, args=args, kwargs=kwargs)
    return f"{settings.TESSERA_BASE_URL}{path}"
