"""Celery task of the column-usage step: runs after a sync's transaction has committed."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from contracts.task_refs import COLUMN_USAGE_REFRESH
from contracts.tasks.workflow import EMAIL_RETRY


@shared_task(
    name=COLUMN_USAGE_REFRESH.name,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
)
def column_usage_refresh_task(sync_run_id: int) -> dict:
    """Idempotent: a second run over the same sync finds nothing changed and returns at once."""
    from contracts.services.column_usage import column_usage_refresh

    return column_usage_refresh(sync_run_id=sync_run_id)


@shared_task(name="contracts.tasks.column_usage.proposal_informed_emails_task", **EMAIL_RETRY)
def proposal_informed_emails_task(proposal_id: int) -> int:
    """Tell the consumer teams a breaking change does not touch (dedupe keys make retries safe)."""
    from contracts.services.impact import proposal_informed_notify

    return len(proposal_informed_notify(proposal_id=proposal_id))
