"""Workflow emails: who gets what, rendered from the templates, each sent once (retries included)."""

from __future__ import annotations

import socket

import pytest
from django.core import mail

from contracts.models import OutboundEmail, Proposal
from contracts.selectors.teams import actor_for_user
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.proposals.closing import proposal_withdraw
from contracts.tasks.workflow import (
    answer_recorded_email_task,
    proposal_opened_emails_task,
    proposal_reminders_task,
    proposal_resolved_emails_task,
)
from contracts.tests.workflow_setup import ANSWER_LINK, open_breaking
from tessera_site.lib.email import EmailSendError, email_send

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("locmem_email")]


def by_recipient(address: str):
    return [m for m in mail.outbox if address in m.to]


def test_opened_email_goes_once_to_each_required_team_with_reasons_others_deadline_and_buttons(story):
    proposal = open_breaking(story)
    assert proposal_opened_emails_task(proposal.pk) == 2
    assert len(mail.outbox) == 2
    marketing = by_recipient("marketing@example.com")[0]
    assert "marketing-lead@example.com" in marketing.to  # members and the team address
    finance = by_recipient("finance-lead@example.com")[0]  # no team address: members only
    assert finance is not marketing
    assert "dim_customers" in marketing.subject and "marketing-analytics" in marketing.subject
    text = marketing.body
    assert "ALREADY DEPLOYED" in text
    assert "email" in text and "removed" in text.lower()  # the verdict's reason for the dropped column
    assert "Also asked: finance-analytics" in text
    assert proposal.deadline.strftime("%Y-%m-%d") in text
    html = marketing.alternatives[0][0]
    assert len(set(ANSWER_LINK.findall(html))) == 3
    assert ">Approve<" in html and ">Need time<" in html and ">Block<" in html
    assert "&#x27;" not in text  # text parts are not HTML-escaped
    assert OutboundEmail.objects.filter(kind="proposal_opened", status="sent").count() == 2


def test_the_same_task_retried_sends_no_second_email(story):
    proposal = open_breaking(story)
    proposal_opened_emails_task(proposal.pk)
    proposal_opened_emails_task(proposal.pk)
    proposal_opened_emails_task.apply(args=[proposal.pk])  # as a redelivered message would run
    assert len(mail.outbox) == 2
    assert OutboundEmail.objects.count() == 2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_failed_send_is_recorded_and_the_retry_sends_it_once(story, settings):
    proposal = open_breaking(story)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    with pytest.raises(EmailSendError):
        proposal_opened_emails_task.run(proposal.pk)
    failed = OutboundEmail.objects.get(kind="proposal_opened", team=story.finance)
    assert failed.status == "failed" and failed.error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    proposal_opened_emails_task.run(proposal.pk)
    proposal_opened_emails_task.run(proposal.pk)
    assert len(mail.outbox) == 2
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_each_answer_tells_the_producer_once(story):
    proposal = open_breaking(story)
    ack = acknowledgment_record(
        proposal=proposal,
        team=story.marketing,
        answer="blocked",
        reason="Our churn model selects email",
        actor=actor_for_user(story.marketing_user),
        via="dashboard",
    )
    answer_recorded_email_task(proposal.pk, story.marketing.pk, ack.revision)
    answer_recorded_email_task(proposal.pk, story.marketing.pk, ack.revision)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "platform@example.com" in message.to and "platform-lead@example.com" in message.to
    assert "marketing-analytics" in message.subject and "blocked" in message.subject
    assert "Our churn model selects email" in message.body
    assert "finance-analytics: no answer yet" in message.body


def test_resolution_tells_producer_and_every_consumer(story):
    proposal = open_breaking(story)
    proposal_withdraw(
        proposal=proposal, actor=actor_for_user(story.producer_lead), reason="Will rename instead"
    )
    assert proposal_resolved_emails_task(proposal.pk) == 3
    assert proposal_resolved_emails_task(proposal.pk) == 3  # the same rows, nothing sent again
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        assert "Withdrawn" in message.subject or "withdrawn" in message.subject
        assert "Will rename instead" in message.body


def test_open_proposal_gets_no_resolution_email(story):
    proposal = open_breaking(story)
    assert proposal_resolved_emails_task(proposal.pk) == 0
    assert mail.outbox == []


def test_reminder_digest_once_per_team_per_day_only_for_missing_answers(story):
    proposal = open_breaking(story)
    acknowledgment_record(
        proposal=proposal,
        team=story.finance,
        answer="approved",
        actor=actor_for_user(story.finance_user),
        via="dashboard",
    )
    assert proposal_reminders_task() == 1
    assert proposal_reminders_task() == 1  # the same day: the same row, not sent again
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert "marketing@example.com" in digest.to
    assert "dim_customers" in digest.body
    assert len(set(ANSWER_LINK.findall(digest.alternatives[0][0]))) == 3
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.WITHDRAWN)
    mail.outbox.clear()
    OutboundEmail.objects.all().delete()
    assert proposal_reminders_task() == 0


def test_team_without_any_address_is_recorded_as_failed_not_sent(story):
    story.finance.members.clear()
    row = email_send(
        kind="proposal_opened",
        dedupe_key="x",
        to=[],
        context={"proposal": open_breaking(story), "team": story.finance, "links": []},
        team=story.finance,
    )
    assert row.status == "failed" and "No recipients" in row.error
    assert mail.outbox == []
