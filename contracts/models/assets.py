"""Projects, assets (dbt nodes under a stable identity) and the lineage between them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from contracts.models.choices import MODE_CHOICES
from contracts.models.teams import Team


class Project(models.Model):
    name = models.CharField(max_length=200, unique=True, help_text="metadata.project_name of the manifest")
    owner_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_manifest_hash = models.CharField(max_length=64, blank=True, default="")
    # Teams (other than the owner) that allow this project's models to name them as owner.
    allowed_owner_teams = models.ManyToManyField(
        Team, through="ProjectOwnerConsent", related_name="consented_projects", blank=True
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Asset(models.Model):
    class Type(models.TextChoices):
        MODEL = "model", "model"
        SEED = "seed", "seed"
        SNAPSHOT = "snapshot", "snapshot"
        SOURCE = "source", "source"

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        RETIRED = "retired", "retired"

    # Identity: the relation it names, normalised (database.schema.identifier, lower case); unique
    # by Meta.constraints. The indexes are declared in Meta, not by ``unique``/``db_index`` on the
    # fields, which on PostgreSQL add a second ``varchar_pattern_ops`` index per field for
    # ``LIKE 'prefix%'``, a lookup nothing makes on these fields (the search is ``icontains``, served by
    # trigram indexes, migration 0011): every new asset paid for them.
    relation = models.CharField(max_length=500)
    unique_id = models.CharField(max_length=500, help_text="dbt unique_id of the producing node")
    # The (project, status) and (owner_team, status) indexes serve lookups by project or team alone.
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets", db_index=False
    )
    owner_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="owned_assets", db_index=False
    )
    resource_type = models.CharField(max_length=16, choices=Type.choices, default=Type.MODEL)
    name = models.CharField(max_length=300)
    package_name = models.CharField(max_length=200, blank=True, default="")
    model_version = models.CharField(max_length=50, blank=True, default="")
    # dbt model versions: the model's latest_version as its last sync said (the same on every
    # version of one model; "" for an unversioned model) and this version's deprecation date.
    latest_version = models.CharField(max_length=50, blank=True, default="")
    deprecation_date = models.DateField(null=True, blank=True)
    # The versioned models this asset's node reads through a ref without ``v=`` (their unique ids,
    # as dbt resolved them: the latest version then); it reads the next latest on its next build.
    unpinned_refs = models.JSONField(default=list, blank=True)
    database = models.CharField(max_length=200, blank=True, default="")
    schema = models.CharField(max_length=200, blank=True, default="")
    identifier = models.CharField(max_length=300, blank=True, default="")
    description = models.TextField(blank=True, default="")
    materialized = models.CharField(max_length=50, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    # dbt model access (public / protected / private; "" when the manifest does not say) and the
    # dbt group it belongs to. ``access`` changes from public only through a proposal when other
    # projects read the model (services.sync.access).
    access = models.CharField(max_length=16, blank=True, default="")
    dbt_group = models.CharField(max_length=200, blank=True, default="")
    compatibility_mode = models.CharField(max_length=32, choices=MODE_CHOICES, default="backward")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # The content hash of the active version's contract, so a sync recognises unchanged assets
    # without loading versions.
    content_hash = models.CharField(max_length=64, blank=True, default="")
    active_version = models.ForeignKey(
        "ContractVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The active version's major number (None without one), copied wherever ``active_version`` is
    # set (the sync, publishing, releasing what the gate held), so that the asset list sorted by
    # version is answered by an index instead of joining and sorting every asset of a team.
    active_major = models.PositiveIntegerField(null=True, blank=True, editable=False)
    proposal_deadline_days = models.PositiveIntegerField(default=14)
    requires_passing_audit = models.BooleanField(
        default=False, help_text="Hold new contract versions until the publish gate says publish"
    )
    audit_max_age_hours = models.PositiveIntegerField(null=True, blank=True)
    # The content hash of the contract the warehouse last reported. Kept by syncs while the asset
    # has an open proposal (the only time the publish guard reads it); see services.supersession.
    deployed_hash = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["relation"]
        constraints = [models.UniqueConstraint(fields=["relation"], name="uniq_asset_relation")]
        indexes = [
            models.Index(fields=["owner_team", "status"]),
            models.Index(fields=["project", "status"]),
            # The asset list sorted by version, each way (the relation breaks ties, ascending both times).
            models.Index(fields=["active_major", "relation"], name="asset_version_order"),
            models.Index(fields=["-active_major", "relation"], name="asset_version_order_desc"),
            models.Index(fields=["unique_id"], name="asset_unique_id"),
            models.Index(fields=["name"], name="asset_name"),
            models.Index(fields=["status"], name="asset_status"),
        ]

    def __str__(self) -> str:
        return self.relation

    def get_absolute_url(self) -> str:
        return reverse("asset_detail", args=[self.pk])

    @property
    def is_latest(self) -> bool:
        """An unversioned asset, or the model's latest version."""
        return not self.model_version or self.model_version == self.latest_version

    @property
    def display_name(self) -> str:
        return f"{self.name}_v{self.model_version}" if self.model_version else self.name


class AssetNode(models.Model):
    """A dbt node (of any project) that names an asset: the producing model, and other projects'
    sources that read it. Lets run_results and lineage find assets by unique_id."""

    # uniq_asset_node (project, unique_id) serves lookups by project.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="nodes", db_index=False)
    unique_id = models.CharField(max_length=500)
    resource_type = models.CharField(max_length=16)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="nodes")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "unique_id"], name="uniq_asset_node")]
        indexes = [models.Index(fields=["unique_id"])]

    def __str__(self) -> str:
        return f"{self.unique_id} → {self.asset_id}"


class LineageEdge(models.Model):
    # uniq_lineage_edge (upstream, downstream) serves lookups by upstream.
    upstream = models.ForeignKey(
        Asset, on_delete=models.CASCADE, related_name="downstream_edges", db_index=False
    )
    downstream = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="upstream_edges")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="edges"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upstream", "downstream"], name="uniq_lineage_edge"),
            models.CheckConstraint(
                condition=~Q(upstream=models.F("downstream")), name="lineage_no_self_edge"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.upstream_id} → {self.downstream_id}"
