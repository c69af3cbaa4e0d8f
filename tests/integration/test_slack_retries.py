"""A Slack receiver that fails twice then succeeds gets the message once: a real worker performs
the outbox, retries with backoff, and records every attempt with its status code."""

from __future__ import annotations

import pytest
from django.db import transaction

from contracts.models import OutboxAttempt, SlackMessage, SlackWebhook
from contracts.tests.workflow_setup import make_story, open_breaking
from testsupport.fixtures import wait_for
from testsupport.slack import SlackReceiver, blockkit_problems

pytestmark = [pytest.mark.integration]


def test_receiver_failing_twice_gets_the_proposal_once_with_three_attempts_recorded(celery_worker):
    story = make_story()
    with SlackReceiver(fail_first=2) as receiver:
        SlackWebhook.objects.create(team=story.marketing, url=receiver.url("/hooks/marketing"))
        with transaction.atomic():
            proposal = open_breaking(story)

        message = wait_for(
            lambda: SlackMessage.objects.filter(team=story.marketing, sent_at__isnull=False).first(),
            timeout=90,
            message=f"the Slack message posted after two failures\n{celery_worker.log()}",
        )
        celery_worker.wait_idle()  # a duplicate or a needless retry would have reached the receiver
        assert [r["answered"] for r in receiver.requests] == [500, 500, 200]
        delivered = receiver.delivered()
        assert len(delivered) == 1
        assert blockkit_problems(delivered[0]["json"]) == []
        assert f"proposal #{proposal.pk}" in delivered[0]["json"]["blocks"][0]["text"]["text"]
    assert (message.kind, message.proposal_id) == ("proposal_opened", proposal.pk)
    assert message.outbox is not None and message.outbox.status == "sent" and message.outbox.attempts == 3
    attempts = list(OutboxAttempt.objects.filter(message=message.outbox).order_by("id"))
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 500), (False, 500), (True, 200)]
    assert all(a.attempted_at for a in attempts) and "HTTP 500" in attempts[0].error
    assert attempts[1].attempted_at < attempts[2].attempted_at
