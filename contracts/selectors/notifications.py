"""What a team wants to be told, and where: the kinds of notice, the channels, the switches.

A switch is on unless the team turned it off (no row = on), so a newly configured channel gets
every notice at once. A channel delivers only where it is configured: an email address (the
team's, or a member's), an active Slack webhook, an active webhook endpoint of the team.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from contracts.models import (
    NotificationSwitch,
    OutboxAttempt,
    SlackMessage,
    SlackWebhook,
    Team,
    WebhookEndpoint,
)
from tessera_site.lib.email import team_recipients
from tessera_site.lib.slack import slack_refusal

CHANNELS = ("email", "slack", "webhook")

# Every kind of notice a team can receive, with the label its settings page shows.
NOTICE_KINDS: dict[str, str] = {
    "proposal_opened": "A proposal asks your team",
    "proposal_informed": "A proposal informs your team (no answer needed)",
    "proposal_answered": "A consumer answered your proposal",
    "proposal_resolved": "A proposal was published, expired, withdrawn or superseded",
    "proposal_expiring": "A proposal still missing your approval expires soon",
    "proposal_reminder": "Daily reminder of the answers still missing",
    "deprecation_reminder": "A model version your team reads is being deprecated",
    "audit_failed": "Audits of assets your team uses failed",
    "asset_retired": "Assets your team reads were retired",
}

# The webhook channel carries events (contracts.services.webhooks); these are the events of each
# kind of notice. A kind without events (reminders, informed teams) has no webhook switch, and
# events of no kind here (registrations, syncs…) are not switchable: an endpoint's own event
# filter chooses them.
EVENT_NOTICE_KINDS: dict[str, str] = {
    "proposal.opened": "proposal_opened",
    "proposal.answered": "proposal_answered",
    "proposal.answer_carried": "proposal_answered",
    "proposal.published": "proposal_resolved",
    "proposal.forced": "proposal_resolved",
    "proposal.expired": "proposal_resolved",
    "proposal.withdrawn": "proposal_resolved",
    "proposal.superseded": "proposal_resolved",
    "proposal.expiring": "proposal_expiring",
    "audit.failed": "audit_failed",
    "asset.retired": "asset_retired",
}
WEBHOOK_KINDS = frozenset(EVENT_NOTICE_KINDS.values())


def channel_applies(kind: str, channel: str) -> bool:
    return channel != "webhook" or kind in WEBHOOK_KINDS


@dataclass(frozen=True, slots=True)
class Switches:
    """The switches turned off, for a set of teams (one query)."""

    off: frozenset[tuple[int, str, str]]

    def enabled(self, team_id: int, kind: str, channel: str) -> bool:
        return (team_id, kind, channel) not in self.off


def notice_switches(*, team_ids: Iterable[int]) -> Switches:
    rows = NotificationSwitch.objects.filter(team_id__in=list(team_ids), enabled=False)
    return Switches(off=frozenset(rows.values_list("team_id", "kind", "channel")))


def webhook_teams_switched_off(*, event_kind: str, team_ids: Iterable[int]) -> set[int]:
    """The teams (of ``team_ids``) that turned the webhook channel off for this event's notice."""
    kind = EVENT_NOTICE_KINDS.get(event_kind)
    if kind is None:
        return set()
    return set(
        NotificationSwitch.objects.filter(
            team_id__in=list(team_ids), kind=kind, channel="webhook", enabled=False
        ).values_list("team_id", flat=True)
    )


SlackState = Literal["active", "inactive", "not_configured"]


def slack_state(slack: SlackWebhook | None) -> SlackState:
    """``active`` (notices are posted), ``inactive`` (a webhook is stored but switched off, e.g. by
    an admin: nothing is posted until the team connects it again) or ``not_configured``."""
    if slack is None:
        return "not_configured"
    return "active" if slack.is_active else "inactive"


def team_channels(*, team: Team) -> dict[str, Any]:
    """Which channels the team has: its addresses, its Slack webhook (masked) and its state, its
    endpoints. ``configured`` says which channels deliver (an inactive Slack webhook does not)."""
    recipients = team_recipients(team)
    slack = SlackWebhook.objects.filter(team=team).first()
    endpoints = WebhookEndpoint.objects.filter(team=team, is_active=True).count()
    state = slack_state(slack)
    return {
        "email": recipients,
        "slack": slack,
        "slack_state": state,
        "webhook_endpoints": endpoints,
        "configured": {"email": bool(recipients), "slack": state == "active", "webhook": endpoints > 0},
    }


def team_notification_settings(*, team: Team) -> dict[str, Any]:
    """The team's channels and, for each kind of notice, each channel's switch (None where the
    channel carries no such notice)."""
    switches = notice_switches(team_ids=[team.pk])
    rows = [
        {
            "kind": kind,
            "label": label,
            "channels": {
                channel: switches.enabled(team.pk, kind, channel) if channel_applies(kind, channel) else None
                for channel in CHANNELS
            },
        }
        for kind, label in NOTICE_KINDS.items()
    ]
    return {**team_channels(team=team), "rows": rows}


def team_slack_messages(*, team: Team, limit: int = 20) -> list[dict[str, Any]]:
    """The team's latest Slack messages, each with every attempt to post it (status code, error,
    time) and, for one the receiver refused for good, what that means (``refusal``): what the
    settings page shows under "Recent Slack messages"."""
    messages = list(
        SlackMessage.objects.filter(team=team).select_related("outbox").order_by("-created_at", "-id")[:limit]
    )
    attempts: dict[int, list[OutboxAttempt]] = {}
    for attempt in OutboxAttempt.objects.filter(
        message_id__in=[m.outbox_id for m in messages if m.outbox_id]
    ).order_by("attempted_at", "id"):
        attempts.setdefault(attempt.message_id, []).append(attempt)
    return [
        {
            "message": m,
            "text": (m.payload or {}).get("text", ""),
            "attempts": attempts.get(m.outbox_id or 0, []),
            "refusal": _refusal(m, attempts.get(m.outbox_id or 0, [])),
        }
        for m in messages
    ]


def _refusal(message: SlackMessage, attempts: list[OutboxAttempt]) -> str:
    if message.status != "failed" or not attempts:
        return ""
    return slack_refusal(status_code=attempts[-1].status_code, error=attempts[-1].error)
