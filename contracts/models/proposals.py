"""Proposals of breaking changes and each consumer team's acknowledgment."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from contracts.models.assets import Asset
from contracts.models.teams import ApiKey, Team
from contracts.models.versions import ContractVersion


class Proposal(models.Model):
    class Origin(models.TextChoices):
        SYNC = "sync", "sync (already deployed)"
        CHECK = "check", "check (before merge)"

    class Status(models.TextChoices):
        OPEN = "open", "open"
        BLOCKED = "blocked", "blocked"
        APPROVED = "approved", "approved"
        PUBLISHED = "published", "published"
        EXPIRED = "expired", "expired"
        WITHDRAWN = "withdrawn", "withdrawn"
        FORCED = "forced", "force-published"
        SUPERSEDED = "superseded", "superseded"

    OPEN_STATUSES = (Status.OPEN, Status.BLOCKED, Status.APPROVED)

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="proposals")
    base_version = models.ForeignKey(
        ContractVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_version = models.ForeignKey(
        ContractVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    proposed_hash = models.CharField(max_length=64, db_index=True)
    # The verdict (changes with reasons) of proposed vs base, under the asset's mode.
    verdict = models.JSONField(default=dict)
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.SYNC)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    required_teams = models.ManyToManyField(Team, related_name="required_proposals", blank=True)
    deadline = models.DateTimeField()
    sync_run = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposals"
    )
    opened_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_reason = models.TextField(blank=True, default="")
    # Supersession (the warehouse moved on while the proposal was open): what replaced this one
    # (a new proposal, or a version that no longer breaks), what changed since the question this
    # one replaced (services.supersession), and the sync that closed it.
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    superseded_by_version = models.ForeignKey(
        ContractVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    since_previous = models.JSONField(default=dict, blank=True)
    closed_by_sync = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A relation-level change: {"kind": "removed", "relation", "why"} or {"kind": "moved", "from",
    # "to", "database", "schema", "identifier"}; empty for a change of the contract alone.
    relation_change = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["asset", "status"])]

    def __str__(self) -> str:
        return f"Proposal #{self.pk} on {self.asset_id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("proposal_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overtaken(self) -> bool:
        """Superseded or withdrawn: the question it asked no longer stands."""
        return self.status in (self.Status.SUPERSEDED, self.Status.WITHDRAWN)


class Acknowledgment(models.Model):
    class Answer(models.TextChoices):
        APPROVED = "approved", "approved"
        MIGRATING = "migrating", "needs migration time"
        BLOCKED = "blocked", "blocked"

    class Via(models.TextChoices):
        DASHBOARD = "dashboard", "dashboard"
        API = "api", "API"
        EMAIL = "email", "email"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="acknowledgments")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="acknowledgments")
    answer = models.CharField(max_length=16, choices=Answer.choices)
    ready_by = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    via = models.CharField(max_length=16, choices=Via.choices, default=Via.DASHBOARD)
    answered_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_by_label = models.CharField(max_length=200, blank=True, default="")
    revision = models.PositiveIntegerField(default=1, help_text="Bumped on every change of answer")
    # The answer to the superseded proposal this one was carried over from (same part of the change).
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "team"], name="one_answer_per_team"),
            models.CheckConstraint(
                condition=~Q(answer="migrating") | Q(ready_by__isnull=False), name="migrating_needs_date"
            ),
            models.CheckConstraint(
                condition=~Q(answer="blocked") | ~Q(reason=""), name="blocked_needs_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.answer} #{self.proposal_id}"
