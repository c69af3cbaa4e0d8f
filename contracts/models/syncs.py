"""Sync runs: the job row of one manifest ingestion or dry-run check."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from contracts.models.assets import Project
from contracts.models.teams import ApiKey, Team
from tessera_site.lib.jobs import JobRow


class SyncRun(JobRow):
    """One manifest ingestion (or dry-run check): the job row the UI and the API poll."""

    class Mode(models.TextChoices):
        SYNC = "sync", "sync"
        CHECK = "check", "check"

    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.SYNC)
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="sync_runs"
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sync_runs",
        help_text="?team= given",
    )
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True, default="")
    is_open_actor = models.BooleanField(
        default=False, help_text="Submitted in the local demo's open-API mode (acts for any team)"
    )
    manifest = models.FileField(upload_to="syncs/%Y/%m/%d/", max_length=500)
    run_results = models.FileField(upload_to="syncs/%Y/%m/%d/", max_length=500, blank=True)
    catalog = models.FileField(upload_to="syncs/%Y/%m/%d/", max_length=500, blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True, default="")
    manifest_bytes = models.BigIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Sync #{self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("sync_detail", args=[self.pk])
