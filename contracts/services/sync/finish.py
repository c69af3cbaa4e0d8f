"""Sync step, last: the remaining events (reactivated assets, created teams, sync.completed),
the project's sync stamp, the run row marked succeeded with its summary, and what runs after
commit (run_results handed to the audits ingestion, column usage read by its own task)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from contracts.models import Event, SyncRun
from contracts.services.column_usage import column_usage_enqueue
from contracts.services.events import events_record_bulk
from contracts.services.sync.assets import AssetPlan
from contracts.services.sync.context import SyncContext
from tessera_site.lib.auth import Actor
from tessera_site.lib.jobs import JobStatus, job_done_notify
from tessera_site.lib.wiring import setting_callable_or_none

logger = logging.getLogger(__name__)


def sync_finish(ctx: SyncContext, plan: AssetPlan, *, events: list[Event]) -> dict[str, Any]:
    """Record the sync's events, stamp the project and the run; return the summary."""
    out, project, run = ctx.out, ctx.project, ctx.run
    for relation in out.reactivated:
        events.append(ctx.event("asset.reactivated", asset=plan.relation_asset[relation], payload={}))
    for slug in out.teams_created:
        events.append(
            ctx.event("team.created", team=ctx.teams[slug], payload={"slug": slug, "active": False})
        )
    project.last_synced_at = ctx.now
    project.last_manifest_hash = run.manifest_sha256
    project.save(update_fields=["owner_team", "last_synced_at", "last_manifest_hash"])
    summary = out.summary(parsed=ctx.parsed, project=project, assets_total=len(plan.owned))
    counts = {k: v for k, v in summary.items() if isinstance(v, int)}
    events.append(
        ctx.event("sync.completed", team=project.owner_team, payload=counts | {"project": project.name})
    )
    events_record_bulk(events)
    _deferred_checks_now()
    SyncRun.objects.filter(pk=run.pk).update(
        status=JobStatus.SUCCEEDED,
        stage="done",
        progress=100,
        finished_at=timezone.now(),
        project=project,
        summary=summary,
        warnings=out.warnings_list(),
        error="",
    )
    job_done_notify(SyncRun, run.pk)  # delivered with the commit: ?wait=true answers then
    _run_results_handoff(run=run, actor=ctx.actor)
    column_usage_enqueue(sync_run_id=run.pk)  # its own task: it must not slow the sync
    return summary


def _deferred_checks_now() -> None:
    """Run now the foreign-key checks PostgreSQL deferred to the commit (Django declares every
    foreign key DEFERRABLE INITIALLY DEFERRED), so the run is stamped finished after them and the
    commit that follows is quick: a first sync of 5,000 models queues over 100,000 of them (guarantees,
    versions, nodes, edges, registrations), which took ~2 s between ``finished_at`` and the moment
    the status URL could say ``succeeded``.

    Then deferred again, as declared: a sync inside a longer transaction (the tests run several in
    one) writes rows naming rows it inserts later (a new asset names its first version), which
    the checks must wait for."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED")


def _run_results_ingestion() -> Callable[..., Any] | None:
    """The ingestion the settings name (``TESSERA_RUN_RESULTS_INGEST``, the audits app's
    ``audit_ingest_run_results``): contracts never imports the audits app above it. None when none
    is named; a named one that cannot be imported is a wiring error and raises."""
    ingestion: Callable[..., Any] | None = setting_callable_or_none("TESSERA_RUN_RESULTS_INGEST")
    return ingestion


def _run_results_handoff(*, run: SyncRun, actor: Actor) -> None:
    """Hand run_results to the audits ingestion once the assets it refers to are committed."""
    if not run.run_results:
        return
    audit_ingest_run_results = _run_results_ingestion()
    if audit_ingest_run_results is None:
        SyncRun.objects.filter(pk=run.pk).update(
            warnings=list(SyncRun.objects.get(pk=run.pk).warnings)
            + ["run_results was stored but not ingested: the audits ingestion is not installed."]
        )
        return

    def ingest() -> None:  # the sync's actor is passed: the audits ingestion never imports the sync
        try:
            audit_ingest_run_results(sync_run=run, actor=actor)
        except Exception:  # the sync itself succeeded; a results problem is reported by audits
            logger.exception("run_results ingestion for sync %s failed", run.pk)

    transaction.on_commit(ingest)
