"""A team's notification settings: its Slack webhook, and which notice goes to which channel.

Only the team itself changes them (a member in the dashboard, the team's own API key, a superuser
in the admin): an API key of another team, admin scope or not, is refused. Every change is an
event in the team's audit log; the Slack URL is a secret and is recorded masked.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from contracts.models import NotificationSwitch, SlackWebhook, Team
from contracts.selectors.notifications import CHANNELS, NOTICE_KINDS, channel_applies
from contracts.services.events import event_record
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import forbidden, invalid
from tessera_site.lib.slack import slack_url_mask, slack_url_validate

URL_MAX = 500


def _require_team(actor: Actor, team: Team) -> None:
    if not actor.can_act_for(team):
        raise forbidden(f"{actor.label} may not change the notifications of team '{team.slug}'")


def slack_url_clean(url: str) -> str:
    """The URL, stripped, or InvalidInput saying what is wrong with it."""
    url = (url or "").strip()
    if not url:
        raise invalid("Give the Slack incoming-webhook URL", code="invalid_url")
    if len(url) > URL_MAX:
        raise invalid(f"The webhook URL is longer than {URL_MAX} characters", code="invalid_url")
    try:
        slack_url_validate(url)  # first: its messages say what a webhook URL needs
        URLValidator(schemes=["https"])(url)
    except ValidationError as exc:
        raise invalid(" ".join(exc.messages), code="invalid_url") from None
    return url


@transaction.atomic
def slack_webhook_set(*, team: Team, url: str, actor: Actor) -> SlackWebhook:
    """Connect (or re-point) the team's Slack channel; notices go there from now on."""
    _require_team(actor, team)
    url = slack_url_clean(url)
    webhook, created = SlackWebhook.objects.select_for_update().get_or_create(
        team=team, defaults={"url": url}
    )
    if not created:
        if webhook.url == url and webhook.is_active:
            return webhook
        webhook.url, webhook.is_active, webhook.updated_at = url, True, timezone.now()
        webhook.save(update_fields=["url", "is_active", "updated_at"])
    event_record(
        kind="team.slack_connected",
        actor=actor,
        team=team,
        payload={"team": team.slug, "url": slack_url_mask(url)},
    )
    return webhook


@transaction.atomic
def slack_webhook_remove(*, team: Team, actor: Actor) -> bool:
    """Disconnect the team's Slack channel; messages not posted yet are dropped."""
    _require_team(actor, team)
    deleted, _ = SlackWebhook.objects.filter(team=team).delete()
    if deleted:
        event_record(kind="team.slack_disconnected", actor=actor, team=team, payload={"team": team.slug})
    return bool(deleted)


def _switch_check(kind: str, channel: str) -> None:
    if kind not in NOTICE_KINDS:
        raise invalid(
            f"Unknown kind of notice {kind!r}; one of {', '.join(NOTICE_KINDS)}", code="invalid_kind"
        )
    if channel not in CHANNELS:
        raise invalid(f"Unknown channel {channel!r}; one of {', '.join(CHANNELS)}", code="invalid_channel")
    if not channel_applies(kind, channel):
        raise invalid(f"The {channel} channel carries no {kind} notice", code="invalid_channel")


@transaction.atomic
def notification_switches_set(
    *, team: Team, changes: Iterable[tuple[str, str, bool]], actor: Actor
) -> list[dict]:
    """Turn (kind, channel) switches on or off for the team; all or nothing. Returns the switches
    that changed (recorded as one ``team.notifications_changed`` event)."""
    _require_team(actor, team)
    wanted: dict[tuple[str, str], bool] = {}
    for kind, channel, enabled in changes:
        _switch_check(kind, channel)
        wanted[(kind, channel)] = bool(enabled)
    current = {
        (s.kind, s.channel): s for s in NotificationSwitch.objects.select_for_update().filter(team=team)
    }
    changed = []
    now = timezone.now()
    for (kind, channel), enabled in wanted.items():
        row = current.get((kind, channel))
        if (row.enabled if row else True) == enabled:
            continue
        if row is None:
            NotificationSwitch.objects.create(
                team=team, kind=kind, channel=channel, enabled=enabled, updated_at=now
            )
        else:
            row.enabled, row.updated_at = enabled, now
            row.save(update_fields=["enabled", "updated_at"])
        changed.append({"kind": kind, "channel": channel, "enabled": enabled})
    if changed:
        event_record(kind="team.notifications_changed", actor=actor, team=team, payload={"changed": changed})
    return changed
