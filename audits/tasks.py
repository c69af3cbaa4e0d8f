"""Celery tasks of the audits app: adapters that take ids, claim their row and call one service."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

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
    """Daily: one email per consumer team listing the failed audits of the assets it uses in the
    last 24 hours. The dedupe key (team, day) makes a second run the same day send nothing.
    Returns the number of digests sent."""
    from audits.selectors import failed_audits_by_consumer_team
    from contracts.models import OutboundEmail
    from tessera_site.lib.email import email_send, team_recipients
    from tessera_site.lib.urls import absolute_url

    moment = datetime.fromisoformat(now) if now else timezone.now()
    since = moment - timedelta(hours=24)
    sent = 0
    for team, runs in failed_audits_by_consumer_team(since=since, until=moment):
        dedupe_key = f"audit-failure-digest:{team.pk}:{moment.date().isoformat()}"
        if OutboundEmail.objects.filter(dedupe_key=dedupe_key, status=OutboundEmail.Status.SENT).exists():
            continue  # today's digest went out already: failures after it wait for tomorrow's
        for run in runs:
            run["url"] = absolute_url("asset_detail", run["asset_id"])
        row = email_send(
            kind="audit_failure_digest",
            dedupe_key=dedupe_key,
            to=team_recipients(team),
            context={"team": team, "runs": runs, "since": since},
            team=team,
        )
        sent += int(row.status == row.Status.SENT)
    return sent
