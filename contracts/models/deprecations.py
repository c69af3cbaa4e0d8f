"""Deprecation campaigns: a model version with a ``deprecation_date`` and the teams still reading it."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

from contracts.models.assets import Asset
from contracts.models.teams import Team


class DeprecationCampaign(models.Model):
    """One deprecated model version (an asset): its date, and who still reads it (``readers``).

    Open while a team other than the owner reads the version; done when nobody does (or the
    version was removed); withdrawn when the manifest no longer deprecates it.
    """

    class Status(models.TextChoices):
        OPEN = "open", "open"
        DONE = "done", "done"
        WITHDRAWN = "withdrawn", "withdrawn"

    asset = models.OneToOneField(Asset, on_delete=models.CASCADE, related_name="deprecation_campaign")
    deprecation_date = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deprecation_date", "id"]

    def __str__(self) -> str:
        return f"Deprecation of {self.asset_id} on {self.deprecation_date}"

    def get_absolute_url(self) -> str:
        return reverse("deprecation_detail", args=[self.pk])


class CampaignReader(models.Model):
    """A team that read the deprecated version while its campaign was open; ``moved_at`` is set
    once it reads it no more (and cleared if it starts again)."""

    campaign = models.ForeignKey(DeprecationCampaign, on_delete=models.CASCADE, related_name="readers")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="campaign_reads")
    # How Tessera knows it reads: "lineage" (a model of the team selects from it), "explicit" or
    # "manual" (a registration); several joined by commas.
    via = models.CharField(max_length=100, blank=True, default="")
    first_seen_at = models.DateTimeField(default=timezone.now)
    moved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "team"], name="uniq_campaign_reader")]

    def __str__(self) -> str:
        return f"{self.team_id} reads {self.campaign_id}"

    @property
    def still_reading(self) -> bool:
        return self.moved_at is None


class DeprecationReminder(models.Model):
    """A reminder step (days before the date) recorded for one team of one campaign: recorded
    once, in the transaction that queues its notice, so each team gets each step once."""

    campaign = models.ForeignKey(DeprecationCampaign, on_delete=models.CASCADE, related_name="reminders")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    days_before = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "team", "days_before"], name="uniq_deprecation_reminder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.days_before} days reminder of {self.campaign_id} to {self.team_id}"
