"""Tessera's domain: teams, projects, assets, versioned contracts, consumers, proposals, the audit log.

Model methods hold only each model's own behaviour; workflows spanning models live in
``contracts.services``; reads in ``contracts.selectors``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from contracts.domain import COMPATIBILITY_MODES
from tessera_site.lib.jobs import JobRow

MODE_CHOICES = [(m, m.replace("_", " ")) for m in COMPATIBILITY_MODES]


# --- Teams and people ------------------------------------------------------------------------
class Team(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, default="", help_text="Address for the team's notifications")
    description = models.TextField(blank=True, default="")
    # Teams first seen in a manifest are created inactive (no members) and reported as a warning.
    is_active = models.BooleanField(default=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("team_detail", args=[self.slug])


class TeamMembership(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "Team lead"
        MEMBER = "member", "Member"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="uniq_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class ApiKey(models.Model):
    """A team's API key. Only a SHA-256 digest of the secret is stored (see services.apikeys)."""

    class Scope(models.TextChoices):
        READ = "read", "read"
        WRITE = "write", "write"
        ADMIN = "admin", "admin"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part of the key, shown in lists")
    secret_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="From this moment the key is refused (401 'expired'); empty = never"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team__slug", "name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


# --- Projects and assets ------------------------------------------------------------------------
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


class Asset(models.Model):
    class Type(models.TextChoices):
        MODEL = "model", "model"
        SEED = "seed", "seed"
        SNAPSHOT = "snapshot", "snapshot"
        SOURCE = "source", "source"

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        RETIRED = "retired", "retired"

    # Identity: the relation it names, normalised (database.schema.identifier, lower case).
    relation = models.CharField(max_length=500, unique=True)
    unique_id = models.CharField(
        max_length=500, db_index=True, help_text="dbt unique_id of the producing node"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="assets"
    )
    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="owned_assets")
    resource_type = models.CharField(max_length=16, choices=Type.choices, default=Type.MODEL)
    name = models.CharField(max_length=300, db_index=True)
    package_name = models.CharField(max_length=200, blank=True, default="")
    model_version = models.CharField(max_length=50, blank=True, default="")
    database = models.CharField(max_length=200, blank=True, default="")
    schema = models.CharField(max_length=200, blank=True, default="")
    identifier = models.CharField(max_length=300, blank=True, default="")
    description = models.TextField(blank=True, default="")
    materialized = models.CharField(max_length=50, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    compatibility_mode = models.CharField(max_length=32, choices=MODE_CHOICES, default="backward")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    # The content hash of the active version's contract, so a sync recognises unchanged assets
    # without loading versions.
    content_hash = models.CharField(max_length=64, blank=True, default="")
    active_version = models.ForeignKey(
        "ContractVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposal_deadline_days = models.PositiveIntegerField(default=14)
    requires_passing_audit = models.BooleanField(
        default=False, help_text="Hold new contract versions until the publish gate says publish"
    )
    audit_max_age_hours = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["relation"]
        indexes = [models.Index(fields=["owner_team", "status"]), models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return self.relation

    def get_absolute_url(self) -> str:
        return reverse("asset_detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        return f"{self.name}_v{self.model_version}" if self.model_version else self.name


class AssetNode(models.Model):
    """A dbt node (of any project) that names an asset: the producing model, and other projects'
    sources that read it. Lets run_results and lineage find assets by unique_id."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="nodes")
    unique_id = models.CharField(max_length=500)
    resource_type = models.CharField(max_length=16)
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="nodes")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "unique_id"], name="uniq_asset_node")]
        indexes = [models.Index(fields=["unique_id"])]

    def __str__(self) -> str:
        return f"{self.unique_id} → {self.asset_id}"


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

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="versions")
    major = models.PositiveIntegerField(default=1)
    minor = models.PositiveIntegerField(default=0)
    patch = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    change_kind = models.CharField(max_length=16, choices=ChangeKind.choices, default=ChangeKind.INITIAL)
    # Ordered list of {name, data_type, normalized_type, nullable, description}
    columns = models.JSONField(default=list)
    # List of guarantee dicts (see contracts.domain.GuaranteeSpec.as_dict); the Guarantee rows mirror it.
    guarantees = models.JSONField(default=list)
    compatibility_mode = models.CharField(max_length=32, choices=MODE_CHOICES, default="backward")
    content_hash = models.CharField(max_length=64, db_index=True)
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
        ]
        indexes = [models.Index(fields=["asset", "status"])]

    def __str__(self) -> str:
        return f"{self.asset_id} v{self.semver}"

    @property
    def semver(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def get_absolute_url(self) -> str:
        return reverse("asset_detail", args=[self.asset_id]) + f"#v{self.semver}"


class Guarantee(models.Model):
    """One promise of one contract version, kept with the dbt test it came from."""

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="guarantee_rows")
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="guarantee_rows")
    key = models.CharField(max_length=500, help_text="Identity across versions (kind, column, arguments)")
    kind = models.CharField(max_length=200)
    column = models.CharField(max_length=300, blank=True, default="")
    arguments = models.JSONField(default=dict, blank=True)
    severity = models.CharField(max_length=8, default="error")
    test_unique_id = models.CharField(max_length=500, blank=True, default="", db_index=True)
    name = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["asset", "key"])]

    def __str__(self) -> str:
        return f"{self.kind}({self.column})" if self.column else self.kind


class Registration(models.Model):
    """A consumer team registered on an asset; carries over every new version."""

    class Origin(models.TextChoices):
        EXPLICIT = "explicit", "declared in meta"
        LINEAGE = "lineage", "lineage"
        MANUAL = "manual", "manual"

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="registrations")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="registrations")
    origin = models.CharField(max_length=16, choices=Origin.choices)
    purpose = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["asset", "team", "origin"], name="uniq_registration")]

    def __str__(self) -> str:
        return f"{self.team} ← {self.asset} ({self.origin})"


class LineageEdge(models.Model):
    upstream = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="downstream_edges")
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


# --- Proposals and acknowledgments -------------------------------------------------------------
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


# --- Jobs ------------------------------------------------------------------------------------
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


# --- Audit log ------------------------------------------------------------------------------------
class Event(models.Model):
    """Append-only record of every change of state. Written by services via event_record();
    never updated or deleted (the admin is read-only, and there is no update path)."""

    kind = models.CharField(max_length=64, db_index=True)  # e.g. proposal.opened, contract.published
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True, default="")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    sync_run = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind}"

    def save(self, *args: object, **kwargs: object) -> None:
        # An invariant, not business logic: the audit log is append-only.
        if self.pk is not None:
            raise ValueError("Events are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object):  # type: ignore[override]
        raise ValueError("Events are append-only")


# --- Outbound: webhooks and emails ---------------------------------------------------------
class WebhookEndpoint(models.Model):
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhooks",
        help_text="Empty = global",
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="HMAC-SHA256 key for the X-Tessera-Signature header")
    event_kinds = models.JSONField(default=list, blank=True, help_text="Empty = every event")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="webhook_deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_event")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"attempt {self.pk} of delivery {self.delivery_id}"


class OutboundEmail(models.Model):
    """Every email Tessera sends, recorded before sending; the dedupe key makes task retries
    harmless, and in DEBUG the outbox page renders these."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    dedupe_key = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=64)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails")
    proposal = models.ForeignKey(
        Proposal, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject
