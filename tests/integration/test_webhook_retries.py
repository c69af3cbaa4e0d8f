"""A webhook receiver that fails twice then succeeds gets the event once, through a real worker's
retries with backoff, and every attempt is recorded."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from contracts.factories import TeamFactory
from contracts.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from contracts.services.events import event_record
from contracts.tests.workflow_setup import WebhookReceiver
from testsupport.fixtures import wait_for

pytestmark = [pytest.mark.integration]


def test_receiver_failing_twice_gets_the_event_once_with_three_attempts_recorded(celery_worker):
    team = TeamFactory(slug="data-platform")
    with WebhookReceiver(secret="s3cret", fail_first=2) as receiver:
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="s3cret", team=team)
        with transaction.atomic():
            event = event_record(kind="proposal.opened", team=team, payload={"hello": "world"})

        delivery = wait_for(
            lambda: WebhookDelivery.objects.filter(
                endpoint=endpoint, event=event, status="delivered"
            ).first(),
            timeout=60,
            message=f"delivery after retries\n{celery_worker.log()}",
        )
        celery_worker.wait_idle()  # a duplicate or a needless retry would have reached the receiver
        assert len(receiver.requests) == 3
        assert [r["answered"] for r in receiver.requests] == [500, 500, 204]
        assert all(r["valid"] for r in receiver.requests)  # every attempt is correctly signed
        delivered = receiver.delivered()
        assert len(delivered) == 1
        assert json.loads(delivered[0]["body"])["id"] == event.pk
    assert delivery.attempts == 3
    codes = list(
        WebhookAttempt.objects.filter(delivery=delivery).order_by("id").values_list("status_code", flat=True)
    )
    assert codes == [500, 500, 204]


def test_a_receiver_refusing_for_good_gets_the_event_once_and_the_delivery_fails(celery_worker):
    team = TeamFactory(slug="data-platform")
    with WebhookReceiver(secret="s3cret", refuse=(410, "hook deleted")) as receiver:
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="s3cret", team=team)
        with transaction.atomic():
            event = event_record(kind="proposal.opened", team=team, payload={"hello": "world"})

        delivery = wait_for(
            lambda: WebhookDelivery.objects.filter(endpoint=endpoint, event=event, status="failed").first(),
            timeout=60,
            message=f"failed delivery\n{celery_worker.log()}",
        )
        celery_worker.wait_idle()  # a retry, if one were scheduled, would have run
        assert len(receiver.requests) == 1  # a retry would be refused the same way
    assert delivery.attempts == 1
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code == 410 and attempt.error.startswith("HTTP 410 hook deleted")
