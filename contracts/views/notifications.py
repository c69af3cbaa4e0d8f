"""A team's notification settings page: its Slack channel and which notice goes to which channel.

Members of the team only (a stranger gets 404); each form calls one service, then redirects, or
for htmx renders the part of the page it replaces. Every form carries the CSRF token.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from contracts.models import Team
from contracts.selectors.notifications import (
    CHANNELS,
    NOTICE_KINDS,
    channel_applies,
    team_notification_settings,
    team_slack_messages,
)
from contracts.selectors.teams import actor_for_user
from contracts.services.notification_settings import (
    notification_switches_set,
    slack_webhook_remove,
    slack_webhook_set,
)
from contracts.views.access import team_for_member_or_404
from contracts.views.browse import render_page
from tessera_site.lib.errors import DomainError
from tessera_site.lib.htmx import HtmxHttpRequest
from tessera_site.lib.http_errors import http_status

TEMPLATE = "contracts/team_notifications.html"


def _page(
    request: HtmxHttpRequest,
    team: Team,
    *,
    partial: str | None = None,
    status: int = 200,
    notes: dict[str, str] | None = None,
) -> HttpResponse:
    """The page, or one of its parts; ``notes`` are the saved / error messages of a form."""
    context: dict[str, Any] = {
        "team": team,
        "s": team_notification_settings(team=team),
        "channels": CHANNELS,
        "recent": team_slack_messages(team=team),
        **(notes or {}),
    }
    return render_page(request, TEMPLATE, context, partial=partial, status=status)


def _done(request: HtmxHttpRequest, team: Team, partial: str, note: str) -> HttpResponse:
    if request.htmx:
        return _page(request, team, partial=partial, notes={f"{partial}_saved": note})
    messages.success(request, note)
    return redirect(reverse("team_notifications", args=[team.slug]))


@login_required
@require_http_methods(["GET", "POST"])
def team_notifications(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """GET the page; POST the switches form (a box per kind and channel: checked = on)."""
    team = team_for_member_or_404(request, slug)
    if request.method == "GET":
        return _page(request, team)
    changes = [
        (kind, channel, f"{kind}:{channel}" in request.POST)
        for kind in NOTICE_KINDS
        for channel in CHANNELS
        if channel_applies(kind, channel)
    ]
    try:
        notification_switches_set(team=team, changes=changes, actor=actor_for_user(request.user))
    except DomainError as exc:
        return _page(
            request,
            team,
            partial="switches",
            status=200 if request.htmx else http_status(exc),
            notes={"switches_error": exc.detail},
        )
    return _done(request, team, "switches", "Notification switches saved.")


@login_required
@require_POST
def team_slack(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Connect (``url``) or disconnect (``disconnect``) the team's Slack channel."""
    team = team_for_member_or_404(request, slug)
    actor = actor_for_user(request.user)
    try:
        if "disconnect" in request.POST:
            slack_webhook_remove(team=team, actor=actor)
            note = "Slack disconnected."
        else:
            slack_webhook_set(team=team, url=request.POST.get("url", ""), actor=actor)
            note = "Slack connected: notices go to the channel from now on."
    except DomainError as exc:
        return _page(
            request,
            team,
            partial="slack",
            status=200 if request.htmx else http_status(exc),
            notes={"slack_error": exc.detail},
        )
    return _done(request, team, "slack", note)
