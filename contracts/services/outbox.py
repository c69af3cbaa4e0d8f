"""The transactional outbox: side effects of a change (emails, webhook fan-out) are recorded as
``OutboxMessage`` rows in the change's own transaction, and a worker performs them from that row.

So a side effect exists exactly when its change committed: a rolled-back change sends nothing,
and a committed one is never lost to a broker outage or a worker that dies. The message to the
worker is sent on commit (``tessera_site.lib.enqueue``); if the broker is down the row waits and
the sweep (``tessera_site.tasks.jobs_sweep``) sends it later. Each attempt is an
``OutboxAttempt`` row; a failing one is retried with exponential backoff until
``TESSERA_OUTBOX_MAX_ATTEMPTS``, then the message is ``failed`` with its last error; a handler's
exception marked ``permanent`` (a receiver's final refusal) fails it at once, one with
``retry_after`` delays the next attempt (see ``outbox_dispatch``).

Delivery is at least once: the handlers are idempotent (every email has a dedupe key, a webhook
delivery row is unique per endpoint and event). A handler that emails several teams sends each
team's notice in its own savepoint (``contracts.services.notices.notices_send_each``): when one
team's email fails, the others' sent records are kept, so the retry never emails them again.
"""

from __future__ import annotations

from typing import Any

from contracts.models import OutboxMessage
from contracts.task_refs import OUTBOX_DISPATCH
from tessera_site.lib.enqueue import enqueue_on_commit

# Every kind of side effect; contracts.services.outbox_dispatch maps each to the function that
# performs it. Recording needs no handler, so any service may record without an import circle.
KINDS = frozenset(
    {
        "email.proposal_opened",
        "email.answer_recorded",
        "email.proposal_resolved",
        "email.proposal_informed",
        "email.proposal_expiring",
        "email.assets_retired",
        "email.deprecation_reminder",
        "webhook.fanout",
        "slack.post",
    }
)


def outbox_record(*, kind: str, **args: Any) -> OutboxMessage:
    """Record a side effect in the current transaction; a worker performs it once it commits."""
    if kind not in KINDS:
        raise ValueError(f"Unknown outbox message kind {kind!r}")
    message = OutboxMessage.objects.create(kind=kind, args=args)
    enqueue_on_commit(OUTBOX_DISPATCH, message.pk)
    return message
