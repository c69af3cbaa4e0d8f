"""Who may own what: a team's consent to own a project's assets, and explicit asset transfers."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from contracts.models.assets import Asset, Project
from contracts.models.teams import Team


class ProjectOwnerConsent(models.Model):
    """A team allows a project's models to name it as their owner (a monorepo: one dbt project,
    several teams, one CI key). Given by that team (API) or an admin, never by the syncing team."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="owner_consents")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="project_consents")
    granted_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "team"], name="uniq_project_owner_consent")]
        verbose_name = "team allowed to own assets"

    def __str__(self) -> str:
        return f"{self.team} may own assets of {self.project}"


class AssetTransfer(models.Model):
    """An explicit change of an asset's owner team (and maybe project): asked by one team, accepted
    by the other, or done at once by an administrator. A sync never moves an asset."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "requested"
        ACCEPTED = "accepted", "accepted"
        DECLINED = "declined", "declined"
        CANCELLED = "cancelled", "cancelled"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="transfers")
    from_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="transfers_out")
    to_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="transfers_in")
    from_project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty = the asset stays in its project",
    )
    requested_by_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    requested_by = models.CharField(max_length=200, blank=True, default="")
    note = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset"], condition=Q(status="requested"), name="one_open_transfer_per_asset"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"Transfer #{self.pk} of {self.asset_id}: {self.from_team_id} → {self.to_team_id} ({self.status})"
        )

    @property
    def answering_team_id(self) -> int:
        """The team whose acceptance completes the transfer: the one that did not ask."""
        return self.to_team_id if self.requested_by_team_id == self.from_team_id else self.from_team_id
