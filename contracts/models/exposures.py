"""dbt's own consumer and ownership signals, kept per project: exposures (consumers outside dbt)
with the assets they read, and groups (the fallback owner of their models)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from contracts.models.assets import Asset, Project
from contracts.models.teams import Team


class DbtGroup(models.Model):
    """A dbt group of a project; ``team`` is the team its owner maps to (None: none found)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="dbt_groups")
    name = models.CharField(max_length=200)
    unique_id = models.CharField(max_length=500, blank=True, default="")
    owner_name = models.CharField(max_length=200, blank=True, default="")
    owner_email = models.CharField(max_length=254, blank=True, default="")
    description = models.TextField(blank=True, default="")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="dbt_groups"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="uniq_dbt_group")]
        ordering = ["project", "name"]

    def __str__(self) -> str:
        return f"{self.project} group {self.name}"


class Exposure(models.Model):
    """A dbt exposure (dashboard, notebook, ML model, application) of a project: a consumer of
    every asset it reads, directly or through models (``ExposureAsset``), on behalf of ``team``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exposures")
    unique_id = models.CharField(max_length=500)
    name = models.CharField(max_length=300)
    label = models.CharField(max_length=300, blank=True, default="")
    type = models.CharField(max_length=50, blank=True, default="")
    url = models.URLField(max_length=2000, blank=True, default="")
    maturity = models.CharField(max_length=20, blank=True, default="")
    owner_name = models.CharField(max_length=200, blank=True, default="")
    owner_email = models.CharField(max_length=254, blank=True, default="")
    description = models.TextField(blank=True, default="")
    meta = models.JSONField(default=dict, blank=True)
    # meta.tessera.columns (node → columns it reads); null: its column usage is unknown.
    columns = models.JSONField(null=True, blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="exposures")
    assets = models.ManyToManyField(Asset, through="ExposureAsset", related_name="exposures")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "unique_id"], name="uniq_exposure")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.unique_id

    @property
    def display_name(self) -> str:
        return self.label or self.name


class ExposureAsset(models.Model):
    """An asset an exposure reads: ``direct`` when it names it in depends_on, else through models."""

    exposure = models.ForeignKey(Exposure, on_delete=models.CASCADE, related_name="links")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="exposure_links")
    direct = models.BooleanField(default=True)
    # The node (unique_id) it names, for a direct link: meta.tessera.columns may be keyed by it.
    node = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["exposure", "asset"], name="uniq_exposure_asset")]

    def __str__(self) -> str:
        return f"{self.exposure_id} → {self.asset_id}"
