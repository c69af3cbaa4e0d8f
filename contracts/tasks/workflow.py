"""Celery tasks of the acknowledgment workflow: adapters that take ids and call one service.

Emails of a change come from the outbox (``outbox_dispatch_task``), which retries with backoff
and records every attempt; every email has a dedupe key, so a retry (or a redelivered message)
never sends the same email twice. Beat runs the reminders and the expiry (names fixed in
settings.CELERY_BEAT_SCHEDULE). The ``*_emails_task`` adapters remain for messages enqueued
before the outbox existed.
"""

from __future__ import annotations

from celery import shared_task

from contracts.services.webhooks import MAX_ATTEMPTS as WEBHOOK_MAX_ATTEMPTS
from contracts.services.webhooks import WebhookFailed
from contracts.task_refs import OUTBOX_DISPATCH, WEBHOOK_DELIVER
from tessera_site.lib.email import EmailSendError

EMAIL_RETRY = {
    "autoretry_for": (EmailSendError,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "max_retries": 5,
}


@shared_task(name="contracts.tasks_workflow.proposal_opened_emails_task", **EMAIL_RETRY)
def proposal_opened_emails_task(proposal_id: int) -> int:
    from contracts.services.proposal_emails import proposal_opened_notify

    return len(proposal_opened_notify(proposal_id=proposal_id))


@shared_task(name="contracts.tasks_workflow.answer_recorded_email_task", **EMAIL_RETRY)
def answer_recorded_email_task(proposal_id: int, team_id: int, revision: int) -> bool:
    from contracts.services.proposal_emails import answer_recorded_notify

    return answer_recorded_notify(proposal_id=proposal_id, team_id=team_id, revision=revision) is not None


@shared_task(name="contracts.tasks_workflow.proposal_resolved_emails_task", **EMAIL_RETRY)
def proposal_resolved_emails_task(proposal_id: int) -> int:
    from contracts.services.proposal_emails import proposal_resolved_notify

    return len(proposal_resolved_notify(proposal_id=proposal_id))


@shared_task(name="contracts.tasks_workflow.proposal_reminders_task", **EMAIL_RETRY)
def proposal_reminders_task() -> int:
    from contracts.services.proposal_emails import proposal_reminders_send

    return len(proposal_reminders_send())


@shared_task(name="contracts.tasks_workflow.deprecation_reminders_task")
def deprecation_reminders_task() -> int:
    """Beat, daily: the reminders due to teams still reading a deprecated model version (each
    recorded with its email notice in the outbox, once per team and step)."""
    from contracts.services.deprecations import deprecation_reminders_record

    return len(deprecation_reminders_record())


@shared_task(name="contracts.tasks_workflow.assets_retired_emails_task", **EMAIL_RETRY)
def assets_retired_emails_task(sync_run_id: int, asset_ids: list[int]) -> int:
    from contracts.services.asset_emails import assets_retired_notify

    return len(assets_retired_notify(sync_run_id=sync_run_id, asset_ids=asset_ids))


@shared_task(name="contracts.tasks_workflow.proposal_expire_due_task")
def proposal_expire_due_task() -> list[int]:
    from contracts.services.proposals.closing import proposal_expire_due

    return proposal_expire_due()


@shared_task(name="contracts.tasks_workflow.proposal_expiring_task")
def proposal_expiring_task() -> list[int]:
    """Hourly: warn the teams whose approval is missing on proposals that expire soon."""
    from contracts.services.expiring import proposal_expiring_warn

    return proposal_expiring_warn()


@shared_task(name=OUTBOX_DISPATCH.name)
def outbox_dispatch_task(message_id: int) -> str:
    """One attempt at one outbox message; a failure schedules the next (the service records it)."""
    from contracts.services.outbox_dispatch import outbox_dispatch

    return outbox_dispatch(message_id=message_id)


@shared_task(name=WEBHOOK_DELIVER.name, bind=True, max_retries=WEBHOOK_MAX_ATTEMPTS - 1)
def webhook_deliver_task(self, delivery_id: int) -> str:
    """POST one event to one endpoint; every attempt recorded. A failure retries with exponential
    backoff (1, 2, 4 … s, at most 300), or after a 429's Retry-After when that is longer; a final
    refusal (4xx other than 408/429) is not retried."""
    from contracts.services.webhooks import webhook_deliver

    try:
        return webhook_deliver(
            delivery_id=delivery_id, final_attempt=self.request.retries >= self.max_retries
        )
    except WebhookFailed as exc:
        raise self.retry(exc=exc, countdown=exc.retry_in) from None
