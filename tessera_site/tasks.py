"""Site-wide periodic work: the sweep that makes the job rows, not the broker, the source of truth.

Every ``TESSERA_SWEEP_SECONDS`` (Celery beat) it sends a message again for each job the broker may
have lost: pending for longer than ``TESSERA_SWEEP_STALE_SECONDS`` (the enqueue failed while the
broker was down, or the message vanished with a Redis restart) or running under an expired lease
(its worker died); and each outbox message or webhook delivery that is still pending well after
it was due (its message, or its retry's, never reached a worker). A duplicate message is
harmless: a job's claim and the outbox's row lock let one through.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from audits.models import ResultUpload
from audits.task_refs import INGEST_RESULT_UPLOAD, RELEASE_HELD_PUBLISHES
from contracts.models import OutboxMessage, SyncRun, WebhookDelivery
from contracts.selectors.background import column_usage_behind, held_publish_asset_ids
from contracts.task_refs import COLUMN_USAGE_REFRESH, OUTBOX_DISPATCH, SYNC_RUN, WEBHOOK_DELIVER
from tessera_site.lib.enqueue import enqueue_now
from tessera_site.lib.jobs import jobs_due, jobs_mark_enqueued

logger = logging.getLogger(__name__)

# Explicit on purpose: a new kind of job row is added here, next to the task that runs it.
JOB_KINDS = ((SyncRun, SYNC_RUN), (ResultUpload, INGEST_RESULT_UPLOAD))


@shared_task(name="tessera_site.tasks.jobs_sweep")
def jobs_sweep() -> dict[str, int]:
    """Re-send what the broker may have lost; returns how many messages were sent per kind."""
    now = timezone.now()
    stale_after = timedelta(seconds=settings.TESSERA_SWEEP_STALE_SECONDS)
    sent: dict[str, int] = {}
    for model, task in JOB_KINDS:
        sent[model.__name__] = _resend(model, task, now=now, stale_after=stale_after)
    for model, task in ((OutboxMessage, OUTBOX_DISPATCH), (WebhookDelivery, WEBHOOK_DELIVER)):
        sent[model.__name__] = _resend_overdue(model, task, now=now, stale_after=stale_after)
    sent.update(_resend_rowless(now=now))
    return sent


def _resend_rowless(*, now) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Work that has no job row of its own is found from the state it should have changed.

    The column-usage step of a sync is overdue when a project's stored usage is still behind its
    latest finished sync a whole task time limit later (so a pass still running is never doubled).
    Held publishes are retried on every sweep: the release is idempotent and asks the gate again,
    so a release message lost after a passing audit only delays the publish by one sweep.
    """
    sent = {"ColumnUsage": 0, "HeldPublishes": 0}
    overdue_after = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    for sync_run_id in column_usage_behind(now=now, overdue_after=overdue_after):
        if not enqueue_now(COLUMN_USAGE_REFRESH, sync_run_id):
            return sent
        sent["ColumnUsage"] += 1
    held = held_publish_asset_ids()
    if held and enqueue_now(RELEASE_HELD_PUBLISHES, held):
        sent["HeldPublishes"] = len(held)
    return sent


def _resend_overdue(model, task, *, now, stale_after: timedelta) -> int:  # type: ignore[no-untyped-def]
    """Pending rows due for longer than ``stale_after``; re-sent ones count as due now, so the
    next pass waits ``stale_after`` again before sending another message."""
    due = list(
        model.objects.filter(status="pending", next_attempt_at__lt=now - stale_after)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:500]
    )
    done = []
    for pk in due:
        if not enqueue_now(task, pk):
            break
        done.append(pk)
    if done:
        model.objects.filter(pk__in=done).update(next_attempt_at=now)
        logger.info("sweep re-sent %d %s: %s", len(done), model.__name__, done[:20])
    return len(done)


def _resend(model, task, *, now, stale_after: timedelta) -> int:  # type: ignore[no-untyped-def]
    due = jobs_due(model, now=now, stale_after=stale_after)
    done = []
    for pk in due:
        if not enqueue_now(task, pk):
            break  # the broker is still down: the next sweep tries again
        done.append(pk)
    if done:
        jobs_mark_enqueued(model, done, now=now)
        logger.info("sweep re-sent %d %s job(s): %s", len(done), model.__name__, done[:20])
    return len(done)
