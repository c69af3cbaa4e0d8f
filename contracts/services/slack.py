"""Slack-compatible notifications: a Block Kit message per team and notice, recorded with a dedupe
key, posted by the outbox.

The notice's handler (``proposal_emails``, ``asset_emails``, the digests) builds the message
beside the email and calls ``slack_notice_record``: one ``SlackMessage`` row per dedupe key and,
in the same transaction, one ``slack.post`` outbox message. The worker posts it
(``slack_message_post``); a failure is retried with the outbox's backoff (a 429 waits its
``Retry-After``), a final refusal (4xx other than 408/429) fails the message at once, and every
attempt is an ``OutboxAttempt`` with the receiver's status code and answer. A message already posted is never
posted again (a redelivered outbox message finds ``sent_at`` set).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from contracts.models import Proposal, SlackMessage, SlackWebhook, Team
from contracts.services.outbox import outbox_record
from tessera_site.lib.slack import SlackPosted, slack_post


def slack_webhook_for(team: Team) -> SlackWebhook | None:
    return SlackWebhook.objects.filter(team=team, is_active=True).first()


def slack_notice_record(
    *,
    team: Team,
    kind: str,
    dedupe_key: str,
    build: Callable[[], dict[str, Any]],
    proposal: Proposal | None = None,
) -> SlackMessage | None:
    """Record one message for ``team`` (``build`` makes its Block Kit body) and its post in the
    outbox, at most once per dedupe key; None when the team has no active Slack webhook."""
    if slack_webhook_for(team) is None:
        return None
    key = dedupe_key[:300]
    existing = SlackMessage.objects.filter(dedupe_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            row = SlackMessage.objects.create(
                dedupe_key=key, kind=kind, team=team, proposal=proposal, payload=build()
            )
            row.outbox = outbox_record(kind="slack.post", slack_message_id=row.pk)
            row.save(update_fields=["outbox"])
    except IntegrityError:  # recorded by a concurrent run of the same notice
        return SlackMessage.objects.get(dedupe_key=key)
    return row


def slack_message_post(*, slack_message_id: int) -> SlackPosted | str:
    """The outbox handler: post the message to its team's webhook once. Raises SlackPostFailed
    (with the status code) when the receiver refuses, so the outbox retries or, for a final
    refusal, fails the message."""
    row = SlackMessage.objects.select_related("team").filter(pk=slack_message_id).first()
    if row is None:
        return "gone"
    if row.sent_at is not None:
        return "already sent"
    webhook = slack_webhook_for(row.team)
    if webhook is None:
        return "no webhook"  # the team disconnected Slack since: nothing to post to
    posted = slack_post(url=webhook.url, payload=row.payload)
    row.sent_at = timezone.now()
    row.save(update_fields=["sent_at"])
    return posted
