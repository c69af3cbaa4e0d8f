"""Column-level usage: which columns of which upstream asset each model reads, from its compiled
SQL (written by the column-usage step after a sync), and who a breaking change asks or informs."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ModelSql(models.Model):
    """A model asset's compiled SQL as last analysed, and the hash of what the analysis read
    (dialect, SQL, upstream columns), so an unchanged model is skipped on the next sync."""

    asset = models.OneToOneField("contracts.Asset", on_delete=models.CASCADE, related_name="model_sql")
    project = models.ForeignKey("contracts.Project", on_delete=models.CASCADE, related_name="+")
    dialect = models.CharField(max_length=32, blank=True, default="")
    compiled_code = models.TextField(blank=True, default="", help_text="Empty when the manifest had none")
    input_hash = models.CharField(max_length=64)
    known = models.BooleanField(default=False, help_text="False: parse error, qualification error or no SQL")
    message = models.TextField(blank=True, default="")
    analyzed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "model SQL"
        verbose_name_plural = "model SQL"

    def __str__(self) -> str:
        return f"SQL of {self.asset_id}"


class ColumnUsage(models.Model):
    """What one model (the consumer) reads of one upstream asset: columns with the clauses they
    appear in, whether it selects every column (``star``), or why its usage is unknown."""

    # uniq_column_usage (consumer, upstream) serves lookups by consumer; the index on upstream is
    # declared in Meta (the foreign key's own was a second, identical one).
    consumer = models.ForeignKey(
        "contracts.Asset", on_delete=models.CASCADE, related_name="column_reads", db_index=False
    )
    upstream = models.ForeignKey(
        "contracts.Asset", on_delete=models.CASCADE, related_name="column_readers", db_index=False
    )
    columns = models.JSONField(default=dict, blank=True, help_text="column -> clauses (select, filter, …)")
    star = models.CharField(max_length=300, blank=True, default="", help_text='"*" or "* EXCLUDE (…)"')
    feeds = models.JSONField(default=dict, blank=True, help_text="column -> the consumer's output columns")
    known = models.BooleanField(default=True)
    message = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consumer", "upstream"], name="uniq_column_usage")]
        indexes = [models.Index(fields=["upstream"])]

    def __str__(self) -> str:
        return f"{self.consumer_id} reads {self.upstream_id}"


class ColumnUsageRun(models.Model):
    """The column-usage step's last pass over a project: what it read, so an identical re-sync
    (same manifest, same upstream contracts) is recognised with one query and skipped."""

    project = models.OneToOneField("contracts.Project", on_delete=models.CASCADE, related_name="usage_run")
    manifest_sha256 = models.CharField(max_length=64, blank=True, default="")
    upstream_signature = models.CharField(max_length=64, blank=True, default="")
    models_total = models.PositiveIntegerField(default=0)
    models_analyzed = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    finished_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"column usage of {self.project_id}"


class ProposalImpact(models.Model):
    """Per consumer team of a proposal: asked (required) or informed, why, and which of its
    models read what the change touches (snapshot taken when the proposal opens)."""

    class Role(models.TextChoices):
        REQUIRED = "required", "asked"
        INFORMED = "informed", "informed"

    proposal = models.ForeignKey("contracts.Proposal", on_delete=models.CASCADE, related_name="impacts")
    team = models.ForeignKey("contracts.Team", on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=Role.choices)
    reason = models.TextField()
    # [{asset_id, name, relation, columns: {col: clauses}, touched: [col], star, known, message}]
    readers = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["role", "team__slug"]
        constraints = [models.UniqueConstraint(fields=["proposal", "team"], name="one_impact_per_team")]

    def __str__(self) -> str:
        return f"{self.team_id} {self.role} on #{self.proposal_id}"
