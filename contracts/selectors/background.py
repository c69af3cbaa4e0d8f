"""Background work that has no job row, found from the state it should have changed (read by the
periodic sweep in tessera_site.tasks, so a message the broker lost is sent again)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, OuterRef, Q, Subquery

from contracts.models import Asset, ContractVersion, Project, Proposal, SyncRun
from tessera_site.lib.jobs import JobStatus

SWEEP_BATCH = 500


def column_usage_behind(*, now: datetime, overdue_after: timedelta) -> list[int]:
    """The latest finished sync of each project whose stored column usage was not brought up to
    that sync's manifest within ``overdue_after`` of the sync's end (the step's message was lost)."""
    latest = SyncRun.objects.filter(
        project=OuterRef("pk"), mode=SyncRun.Mode.SYNC, status=JobStatus.SUCCEEDED
    ).order_by("-pk")
    behind = (
        Project.objects.annotate(
            last_sync=Subquery(latest.values("pk")[:1]),
            last_sha=Subquery(latest.values("manifest_sha256")[:1]),
            last_finished=Subquery(latest.values("finished_at")[:1]),
        )
        .filter(last_sync__isnull=False, last_finished__lt=now - overdue_after)
        .exclude(usage_run__manifest_sha256=F("last_sha"))
        .order_by("last_sync")
        .values_list("last_sync", flat=True)
    )
    return list(behind[:SWEEP_BATCH])


def held_publish_asset_ids() -> list[int]:
    """Assets that require a passing audit and have something the publish gate held: an approved,
    already deployed proposal, or a version a sync wrote that no proposal carries."""
    held = Q(proposals__status=Proposal.Status.APPROVED, proposals__origin=Proposal.Origin.SYNC) | Q(
        versions__status=ContractVersion.Status.PROPOSED, versions__proposals__isnull=True
    )
    ids = Asset.objects.filter(held, requires_passing_audit=True).values_list("pk", flat=True).distinct()
    return sorted(ids.order_by("pk")[:SWEEP_BATCH])
