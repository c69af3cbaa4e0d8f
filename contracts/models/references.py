"""Cross-project refs waiting for their upstream project (issue #19)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from contracts.models.assets import Project


class PendingReference(models.Model):
    """A cross-project ref (``ref('core', 'dim_customers')``) a project's sync could not link yet:
    its upstream project is not known to Tessera, or has no such asset. The upstream project's
    sync links it (lineage edges to the reading models, their teams registered as consumers), so
    the readers are asked from that sync on without waiting for their own next sync; the reading
    project's next sync replaces its rows with what is still unresolved."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="pending_references")
    upstream_project = models.CharField(
        max_length=200, help_text="the ref's package: the upstream dbt project"
    )
    unique_id = models.CharField(max_length=500)
    relation = models.CharField(max_length=500, blank=True, default="")
    # The reading project's models (asset ids) that read it.
    reader_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "unique_id"], name="uniq_pending_reference")
        ]
        indexes = [models.Index(fields=["upstream_project"])]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.unique_id} (waiting for {self.upstream_project})"
