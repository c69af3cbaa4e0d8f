"""Versioned contracts: immutable snapshots of an asset's interface and their guarantees."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from contracts.models.assets import Asset
from contracts.models.choices import MODE_CHOICES


class ContractVersion(models.Model):
    """Immutable snapshot of an asset's interface."""

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        PROPOSED = "proposed", "proposed"
        SUPERSEDED = "superseded", "superseded"
        REJECTED = "rejected", "rejected"  # a proposal that was withdrawn or expired

    class ChangeKind(models.TextChoices):
        INITIAL = "initial", "initial"
        MAJOR = "major", "major"
        MINOR = "minor", "minor"
        PATCH = "patch", "patch"

    # (asset, status) serves lookups by asset: a second index on asset alone cost every insert.
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="versions", db_index=False)
    major = models.PositiveIntegerField(default=1)
    minor = models.PositiveIntegerField(default=0)
    patch = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    change_kind = models.CharField(max_length=16, choices=ChangeKind.choices, default=ChangeKind.INITIAL)
    # Ordered list of {name, data_type, normalized_type, nullable, description}
    columns = models.JSONField(default=list)
    # List of guarantee dicts (see contracts.domain.GuaranteeSpec.as_dict); the Guarantee rows mirror it.
    guarantees = models.JSONField(default=list)
    compatibility_mode = models.CharField(max_length=32, choices=MODE_CHOICES, default="backward")
    # Compared within one asset's versions only (by the (asset, status) index): no index of its own.
    content_hash = models.CharField(max_length=64)
    # The verdict against the version it followed (contracts.compat Verdict.as_dict()).
    verdict = models.JSONField(default=dict, blank=True)
    sync_run = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asset_id", "-major", "-minor", "-patch", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset"], condition=Q(status="active"), name="one_active_version_per_asset"
            ),
            # Unique anyway (id is): what a guarantee's one foreign key (version, asset) names.
            models.UniqueConstraint(fields=["id", "asset"], name="version_id_asset"),
        ]
        indexes = [
            models.Index(fields=["asset", "status"]),
            # Versions are mostly active or superseded: only the few proposed ones (held by the
            # publish gate, or carried by a proposal) are ever looked up by status across assets.
            models.Index(fields=["asset"], condition=Q(status="proposed"), name="version_proposed"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} v{self.semver}"

    @property
    def semver(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def get_absolute_url(self) -> str:
        return reverse("asset_detail", args=[self.asset_id]) + f"#v{self.semver}"


class Guarantee(models.Model):
    """One promise of one contract version, kept with the dbt test it came from."""

    # On PostgreSQL one foreign key checks both: (version, asset) names a version's (id, asset)
    # (migration 0018), so a guarantee's asset is its version's asset, which a key on each column
    # never checked, and a first sync's 38,000 guarantees cost one check each instead of two.
    # (SQLite, the demo, has none: its table cannot gain a foreign key once created.)
    version = models.ForeignKey(
        ContractVersion, on_delete=models.CASCADE, related_name="guarantee_rows", db_constraint=False
    )
    asset = models.ForeignKey(  # (asset, key) serves lookups by asset
        Asset, on_delete=models.CASCADE, related_name="guarantee_rows", db_index=False, db_constraint=False
    )
    key = models.CharField(max_length=500, help_text="Identity across versions (kind, column, arguments)")
    kind = models.CharField(max_length=200)
    column = models.CharField(max_length=300, blank=True, default="")
    arguments = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=8, default="error")
    test_unique_id = models.CharField(max_length=500, blank=True, default="")
    name = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["asset", "key"]),
            models.Index(fields=["test_unique_id"], name="guarantee_test_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}({self.column})" if self.column else self.kind
