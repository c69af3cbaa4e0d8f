"""The page a locked-out login gets (django-axes calls this as AXES_LOCKOUT_CALLABLE).

axes' own response is a bare line of text, or a template that only knows the cool-off as an
ISO 8601 duration; people read minutes, so the page is rendered here with them.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LOCKED_OUT_STATUS = 429


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
    }
    return render(request, "registration/locked_out.html", context, status=LOCKED_OUT_STATUS)
