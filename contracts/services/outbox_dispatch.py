"""Performing outbox messages (the worker side of ``contracts.services.outbox``): one attempt at a
time, each recorded as an ``OutboxAttempt``; a failure is retried with exponential backoff until
``TESSERA_OUTBOX_MAX_ATTEMPTS``, then the message is ``failed`` with its last error.

A handler's exception may say more (``tessera_site.lib.slack.SlackPostFailed`` does):
``permanent`` (the receiver's final refusal, e.g. Slack's 404 ``no_service``) fails the message at
once, and ``retry_after`` (seconds, from a 429's ``Retry-After``) delays the next attempt at least
that long."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contracts.models import OutboxAttempt, OutboxMessage
from contracts.services import asset_emails, deprecations, expiring, impact, proposal_emails, slack, webhooks
from contracts.services.notices import NoticesFailed
from contracts.task_refs import OUTBOX_DISPATCH
from tessera_site.lib.enqueue import enqueue_now

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 600

# Every kind of side effect (outbox.KINDS) and the function that performs it from the recorded
# arguments. Explicit on purpose (no registry filled by imports): a new side effect is added here.
HANDLERS: dict[str, Callable[..., Any]] = {
    "email.proposal_opened": proposal_emails.proposal_opened_notify,
    "email.answer_recorded": proposal_emails.answer_recorded_notify,
    "email.proposal_resolved": proposal_emails.proposal_resolved_notify,
    "email.proposal_informed": impact.proposal_informed_notify,
    "email.proposal_expiring": expiring.proposal_expiring_notify,
    "email.assets_retired": asset_emails.assets_retired_notify,
    "email.deprecation_reminder": deprecations.deprecation_reminder_notify,
    "webhook.fanout": webhooks.webhook_fanout_events,
    "slack.post": slack.slack_message_post,
}


def backoff_seconds(attempts: int) -> int:
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


@dataclass(frozen=True, slots=True)
class _Result:
    error: str = ""  # "" when the handler worked
    status_code: int | None = None
    permanent: bool = False
    retry_after: int | None = None


def outbox_dispatch(*, message_id: int) -> str:
    """One attempt at one message (the worker task's body): ``sent``, ``retry``, ``failed``, or
    ``skipped`` when it is not pending, not due yet, or another worker holds it."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=OutboxMessage.Status.PENDING)
            .first()
        )
        if message is None or message.next_attempt_at > timezone.now() + timedelta(seconds=1):
            return "skipped"
        started = time.monotonic()
        result = _perform(message)
        outcome = _record_attempt(message, result=result, duration=time.monotonic() - started)
    if outcome == "retry":
        # The countdown message may be lost (broker down): the sweep sends it again when due.
        countdown = max(1, round((message.next_attempt_at - timezone.now()).total_seconds()))
        transaction.on_commit(lambda: enqueue_now(OUTBOX_DISPATCH, message_id, countdown=countdown))
    return outcome


def _perform(message: OutboxMessage) -> _Result:
    """Run the handler in a savepoint: the error text ("" when it worked) and, for a handler that
    talks HTTP (its result or its exception has a ``status_code``), the receiver's status code.

    A failure rolls the savepoint back, except ``NoticesFailed``: its notices each ran in their own
    savepoint, so the ones that went out stay recorded as sent and the retry does not send them
    again (a failure for team B must never email team A twice)."""
    partial_failure: NoticesFailed | None = None
    try:
        with transaction.atomic():
            try:
                result = HANDLERS[message.kind](**message.args)
            except NoticesFailed as exc:
                partial_failure = exc
    except Exception as exc:  # any failure is recorded on the attempt and retried unless permanent
        retry_after = getattr(exc, "retry_after", None)
        return _Result(
            error=_failure(message, exc),
            status_code=getattr(exc, "status_code", None),
            permanent=getattr(exc, "permanent", False) is True,
            retry_after=retry_after if isinstance(retry_after, int) else None,
        )
    if partial_failure is not None:
        return _Result(error=_failure(message, partial_failure))
    return _Result(status_code=getattr(result, "status_code", None))


def _failure(message: OutboxMessage, exc: Exception) -> str:
    logger.warning("outbox message %s (%s) failed: %s", message.pk, message.kind, exc, exc_info=exc)
    return f"{exc.__class__.__name__}: {exc}"[:5000]


def _record_attempt(message: OutboxMessage, *, result: _Result, duration: float) -> str:
    now = timezone.now()
    message.attempts += 1
    error = result.error
    OutboxAttempt.objects.create(
        message=message,
        attempted_at=now,
        ok=not error,
        error=error,
        status_code=result.status_code,
        duration_ms=int(duration * 1000),
    )
    if not error:
        message.status, message.sent_at, message.last_error = OutboxMessage.Status.SENT, now, ""
        outcome = "sent"
    elif result.permanent or message.attempts >= settings.TESSERA_OUTBOX_MAX_ATTEMPTS:
        message.status, message.last_error = OutboxMessage.Status.FAILED, error
        outcome = "failed"
    else:
        delay = max(backoff_seconds(message.attempts), result.retry_after or 0)
        message.last_error = error
        message.next_attempt_at = now + timedelta(seconds=delay)
        outcome = "retry"
    message.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
    return outcome
