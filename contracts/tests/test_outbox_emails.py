"""Outbox emails to several teams: a failure for one team never emails another team twice.

Through a real SMTP server (testsupport's aiosmtpd) that refuses one team's addresses at RCPT TO,
as a real server refuses an unknown mailbox; nothing in the send path is mocked.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from contracts.models import OutboundEmail, OutboxAttempt, OutboxMessage
from contracts.services.outbox_dispatch import outbox_dispatch
from contracts.tests.workflow_setup import open_breaking
from tessera_site.lib.email import team_recipients

pytestmark = pytest.mark.django_db


def opened_emails_to(smtp_server, address: str) -> int:
    return sum(
        1
        for m in smtp_server.received()
        if m["X-Tessera-Email"] == "proposal_opened" and address in m["X-Envelope-To"]
    )


def test_a_refused_team_does_not_resend_the_team_already_emailed(story, smtp_server):
    # The required teams are told in slug order: finance-analytics (A), then marketing-analytics (B).
    marketing = team_recipients(story.marketing)
    smtp_server.refuse = set(marketing)
    proposal = open_breaking(story)
    message = OutboxMessage.objects.get(kind="email.proposal_opened", args={"proposal_id": proposal.pk})

    assert outbox_dispatch(message_id=message.pk) == "retry"
    assert opened_emails_to(smtp_server, "finance-lead@example.com") == 1
    assert opened_emails_to(smtp_server, marketing[0]) == 0
    finance_row = OutboundEmail.objects.get(kind="proposal_opened", team=story.finance)
    assert finance_row.status == "sent"  # the record that A's email went out survived B's failure
    marketing_row = OutboundEmail.objects.get(kind="proposal_opened", team=story.marketing)
    assert marketing_row.status == "failed" and "marketing" in marketing_row.error
    attempt = OutboxAttempt.objects.get(message=message)
    assert not attempt.ok and "marketing-analytics" in attempt.error and "finance" not in attempt.error

    # Still refused: the retry tries B again and A not at all.
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert outbox_dispatch(message_id=message.pk) == "retry"
    assert opened_emails_to(smtp_server, "finance-lead@example.com") == 1

    # The refusal clears: B gets its email, A still has exactly one.
    smtp_server.refuse = set()
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert outbox_dispatch(message_id=message.pk) == "sent"
    assert outbox_dispatch(message_id=message.pk) == "skipped"  # a redelivery does nothing
    assert opened_emails_to(smtp_server, "finance-lead@example.com") == 1
    assert opened_emails_to(smtp_server, marketing[0]) == 1
    assert len([m for m in smtp_server.received() if m["X-Tessera-Email"] == "proposal_opened"]) == 2
    assert set(OutboundEmail.objects.filter(kind="proposal_opened").values_list("status", flat=True)) == {
        "sent"
    }
    attempts = OutboxAttempt.objects.filter(message=message).order_by("id")
    assert list(attempts.values_list("ok", flat=True)) == [False, False, True]
