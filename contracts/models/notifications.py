"""Notification channels of a team: its Slack-compatible incoming webhook, the Slack messages
posted there, and which kind of notice goes to which channel (contracts.services.notices)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from contracts.models.outbox import OutboxMessage
from contracts.models.proposals import Proposal
from contracts.models.teams import Team
from tessera_site.lib.slack import slack_url_mask, slack_url_validate


class SlackWebhook(models.Model):
    """A team's Slack incoming-webhook URL (or any Slack-compatible one: Mattermost, Rocket.Chat…).
    The URL is the secret: whoever has it may post to the channel, so it is shown masked."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="slack_webhook")
    url = models.URLField(
        max_length=500,
        validators=[slack_url_validate],
        help_text="https://hooks.slack.com/services/… (Slack: an app's Incoming Webhooks page)",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "Slack webhook"

    def __str__(self) -> str:
        return f"{self.team.slug}: {self.masked_url}"

    @property
    def masked_url(self) -> str:
        return slack_url_mask(self.url)


class SlackMessage(models.Model):
    """One Block Kit message for one team, recorded (with a dedupe key) before it is posted; the
    outbox message posts it and records every attempt (status code, error, time)."""

    dedupe_key = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=64)  # a notice kind (contracts.services.notices.NOTICE_KINDS)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="slack_messages")
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="slack_messages"
    )
    payload = models.JSONField(default=dict)  # {"text": fallback, "blocks": [...]}
    outbox = models.ForeignKey(
        OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="slack_messages"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.team_id}"

    @property
    def status(self) -> str:
        if self.sent_at is not None:
            return "sent"
        return self.outbox.status if self.outbox_id and self.outbox else "pending"


class NotificationSwitch(models.Model):
    """A team's choice for one kind of notice on one channel. No row means on: every notice goes
    to every channel the team has configured until the team switches it off."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SLACK = "slack", "Slack"
        WEBHOOK = "webhook", "Webhook"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="notification_switches")
    kind = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "kind", "channel"], name="one_switch_per_team_kind_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team_id} {self.kind}/{self.channel}: {'on' if self.enabled else 'off'}"
