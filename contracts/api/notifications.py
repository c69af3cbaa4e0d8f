"""A team's notification settings: its Slack-compatible webhook and which notice goes to which
channel. Only the team's own key reads or changes them (another team's key, admin scope or not,
gets 403); the Slack URL is a secret and is only ever shown masked."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from contracts.api.access import request_actor
from contracts.api.schemas import ErrorOut
from contracts.models import Team
from contracts.selectors.assets import team_get
from contracts.selectors.notifications import team_notification_settings
from contracts.services.notification_settings import (
    notification_switches_set,
    slack_webhook_remove,
    slack_webhook_set,
)
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import forbidden

router = Router(tags=["notifications"])
RESPONSES: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class SlackOut(Schema):
    status: Literal["active", "inactive", "not_configured"] = Field(
        description="active: notices are posted; inactive: a webhook is stored but switched off, nothing "
        "is posted until it is connected again (PUT); not_configured: none"
    )
    configured: bool = Field(description="A webhook is stored (active or not)")
    url: str | None = Field(None, description="Masked: enough to recognise it, not to post with it")
    is_active: bool = Field(False, description="Notices are posted to it")


class SwitchRowOut(Schema):
    kind: str
    label: str
    email: bool
    slack: bool
    webhook: bool | None = Field(None, description="null: the webhook channel carries no such notice")


class NotificationsOut(Schema):
    team: str
    email_recipients: int
    slack: SlackOut
    webhook_endpoints: int
    switches: list[SwitchRowOut]


class SlackIn(Schema):
    url: str = Field(..., max_length=500, description="https://hooks.slack.com/services/…")


class SwitchIn(Schema):
    kind: str = Field(..., max_length=64)
    channel: Literal["email", "slack", "webhook"]
    enabled: bool


class SwitchesIn(Schema):
    switches: list[SwitchIn] = Field(..., max_length=100)


def _own_team(request: HttpRequest, slug: str, scope: str) -> tuple[Team, Actor]:
    actor = request_actor(request, scope)
    team = team_get(slug=slug)
    if not actor.can_act_for(team):
        raise forbidden(f"{actor.label} may not read or change the notifications of team '{team.slug}'")
    return team, actor


def _out(team: Team) -> dict[str, Any]:
    settings = team_notification_settings(team=team)
    slack = settings["slack"]
    return {
        "team": team.slug,
        "email_recipients": len(settings["email"]),
        "slack": {
            "status": settings["slack_state"],
            "configured": slack is not None,
            "url": slack.masked_url if slack else None,
            "is_active": settings["slack_state"] == "active",
        },
        "webhook_endpoints": settings["webhook_endpoints"],
        "switches": [{"kind": r["kind"], "label": r["label"], **r["channels"]} for r in settings["rows"]],
    }


@router.get(
    "/teams/{slug}/notifications",
    response={200: NotificationsOut, **RESPONSES},
    summary="A team's channels and switches",
)
def notifications_get(request: HttpRequest, slug: str):
    team, _actor = _own_team(request, slug, "read")
    return _out(team)


@router.patch(
    "/teams/{slug}/notifications",
    response={200: NotificationsOut, **RESPONSES},
    summary="Switch notices on or off per channel",
)
def notifications_switch(request: HttpRequest, slug: str, body: SwitchesIn):
    team, actor = _own_team(request, slug, "write")
    notification_switches_set(
        team=team, changes=[(s.kind, s.channel, s.enabled) for s in body.switches], actor=actor
    )
    return _out(team)


@router.put(
    "/teams/{slug}/notifications/slack",
    response={200: NotificationsOut, **RESPONSES},
    summary="Connect a Slack incoming webhook",
)
def slack_connect(request: HttpRequest, slug: str, body: SlackIn):
    team, actor = _own_team(request, slug, "write")
    slack_webhook_set(team=team, url=body.url, actor=actor)
    return _out(team)


@router.delete(
    "/teams/{slug}/notifications/slack", response={204: None, **RESPONSES}, summary="Disconnect Slack"
)
def slack_disconnect(request: HttpRequest, slug: str):
    team, actor = _own_team(request, slug, "write")
    slack_webhook_remove(team=team, actor=actor)
    return 204, None
