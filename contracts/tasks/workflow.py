"""Celery tasks of the acknowledgment workflow: adapters that take ids and call one service.

Email tasks retry on send failures; every email has a dedupe key, so a retry (or a redelivered
message) never sends the same email twice. Beat runs the reminders and the expiry (names fixed in
settings.CELERY_BEAT_SCHEDULE).
"""

from __future__ import annotations

from celery import shared_task

from contracts.services.webhooks import WebhookFailed
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


@shared_task(name="contracts.tasks_workflow.assets_retired_emails_task", **EMAIL_RETRY)
def assets_retired_emails_task(sync_run_id: int, asset_ids: list[int]) -> int:
    from contracts.services.asset_emails import assets_retired_notify

    return len(assets_retired_notify(sync_run_id=sync_run_id, asset_ids=asset_ids))


@shared_task(name="contracts.tasks_workflow.proposal_expire_due_task")
def proposal_expire_due_task() -> list[int]:
    from contracts.services.proposals import proposal_expire_due

    return proposal_expire_due()


@shared_task(
    name="contracts.tasks_workflow.webhook_deliver_task",
    bind=True,
    autoretry_for=(WebhookFailed,),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=False,
    max_retries=5,
)
def webhook_deliver_task(self, delivery_id: int) -> str:
    """POST one event to one endpoint; failures retry with exponential backoff, every attempt recorded."""
    from contracts.services.webhooks import webhook_deliver

    return webhook_deliver(delivery_id=delivery_id, final_attempt=self.request.retries >= self.max_retries)
