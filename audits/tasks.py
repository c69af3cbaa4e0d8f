"""Celery tasks of the audits app: adapters that take ids, claim their row and call one service."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from audits.models import ResultUpload
from audits.task_refs import INGEST_RESULT_UPLOAD, RELEASE_HELD_PUBLISHES
from tessera_site.lib.jobs import job_claim, job_heartbeat

logger = logging.getLogger(__name__)


@shared_task(
    name=INGEST_RESULT_UPLOAD.name,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
)
def ingest_result_upload(upload_id: int) -> str:
    """Ingest an uploaded result file once; a redelivered message finds the row claimed and returns."""
    from audits.services import audit_ingest_results

    if not job_claim(ResultUpload, upload_id):
        return "not claimed"
    with job_heartbeat(ResultUpload, upload_id):
        summary = audit_ingest_results(upload_id=upload_id)
    return "succeeded" if summary is not None else "failed"


@shared_task(name=RELEASE_HELD_PUBLISHES.name)
def release_held_publishes(asset_ids: list[int]) -> int:
    """After audits were recorded: publish what the publish gate held for these assets, if it now
    says publish. Idempotent (a released version is active; a published proposal is closed)."""
    from audits.services import audit_release_held

    released = audit_release_held(asset_ids=asset_ids)
    for line in released:
        logger.info("publish gate released %s", line)
    return len(released)


@shared_task(name="audits.tasks.audit_failure_digest")
def audit_failure_digest(now: str | None = None) -> int:
    """Daily: one notice per consumer team listing the failed audits of the assets it uses in the
    last 24 hours (``audits.services.digest``). Returns the number of digest emails sent."""
    from audits.services.digest import audit_failure_digest_send

    return audit_failure_digest_send(moment=datetime.fromisoformat(now) if now else timezone.now())
