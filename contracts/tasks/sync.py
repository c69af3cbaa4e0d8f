"""Celery task of the dbt sync: an adapter that claims the SyncRun row and calls one service."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from contracts.ingest.errors import ManifestError
from contracts.models import SyncRun
from contracts.task_refs import SYNC_RUN
from tessera_site.lib.jobs import job_claim, job_fail, job_heartbeat, job_release

logger = logging.getLogger(__name__)


@shared_task(
    name=SYNC_RUN.name,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
)
def sync_run_task(sync_run_id: int) -> str:
    """Run a pending sync once: a duplicate message finds the row claimed and returns. A sync whose
    worker died (its lease expired) is claimed again and re-run: its transaction was rolled back."""
    from contracts.services.sync import sync_execute

    if not job_claim(SyncRun, sync_run_id):
        return "not claimed"
    try:
        with job_heartbeat(SyncRun, sync_run_id):
            sync_execute(sync_run_id=sync_run_id)
    except (OperationalError, InterfaceError) as exc:  # the database went away: try again later
        logger.warning("sync %s released for a retry: %s", sync_run_id, exc)
        job_release(SyncRun, sync_run_id, f"The database was unreachable; retrying: {exc}")
        return "retry"
    except ManifestError as exc:
        job_fail(SyncRun, sync_run_id, f"Invalid manifest ({exc.code}): {exc.detail}")
        return "failed"
    except SoftTimeLimitExceeded:
        job_fail(
            SyncRun, sync_run_id, "The sync took longer than CELERY_TASK_SOFT_TIME_LIMIT and was stopped."
        )
        return "failed"
    except Exception as exc:  # the row must never stay 'running': record what went wrong
        logger.exception("sync %s failed", sync_run_id)
        job_fail(SyncRun, sync_run_id, f"{exc.__class__.__name__}: {exc}")
        return "failed"
    return "succeeded"
