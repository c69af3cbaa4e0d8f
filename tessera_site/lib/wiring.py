"""Settings that name a callable of a higher layer: the seams through which contracts asks the
audits app above it (the publish gate, the run_results ingestion) without importing it.

A setting names a dotted path, resolved with ``import_string`` as Django resolves its backends.
A named path that cannot be imported is a wiring error and raises ``ImproperlyConfigured``; an
empty setting is allowed only where the caller says what happens without it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


def setting_callable(name: str, *, required_because: str) -> Any:
    """The callable ``settings.<name>`` names; ``ImproperlyConfigured`` when it names none, with
    ``required_because`` saying why it cannot be left out."""
    found = setting_callable_or_none(name)
    if found is None:
        raise ImproperlyConfigured(f"{name} names nothing: {required_because}")
    return found


def setting_callable_or_none(name: str) -> Any | None:
    """The callable ``settings.<name>`` names, or None when it names none."""
    path = getattr(settings, name, "")
    if not path:
        return None
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{name} = {path!r} cannot be imported: {exc}") from exc
