"""Consumer registrations: which team depends on which asset."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from contracts.models.assets import Asset
from contracts.models.teams import Team


class Registration(models.Model):
    """A consumer team registered on an asset; carries over every new version."""

    class Origin(models.TextChoices):
        EXPLICIT = "explicit", "declared in meta"
        LINEAGE = "lineage", "lineage"
        MANUAL = "manual", "manual"
        EXPOSURE = "exposure", "dbt exposure"

    # uniq_registration (asset, team, origin) serves lookups by asset.
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="registrations", db_index=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="registrations")
    origin = models.CharField(max_length=16, choices=Origin.choices)
    purpose = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["asset", "team", "origin"], name="uniq_registration")]

    def __str__(self) -> str:
        return f"{self.team} ← {self.asset} ({self.origin})"
