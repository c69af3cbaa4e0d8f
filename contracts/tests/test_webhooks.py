"""Webhooks: fan-out on commit to matching endpoints; signed delivery to a real local HTTP receiver."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from contracts.factories import TeamFactory
from contracts.models import OutboxMessage, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from contracts.services.events import event_record
from contracts.services.webhooks import MAX_ATTEMPTS, WebhookFailed, webhook_deliver, webhook_signature
from contracts.tests.workflow_setup import WebhookReceiver, open_breaking, run_outbox

pytestmark = pytest.mark.django_db


def test_committed_events_fan_out_to_global_endpoints_and_those_of_the_teams_concerned(
    story, django_capture_on_commit_callbacks
):
    global_all = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/all", secret="s1")
    platform = WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/platform", secret="s2", team=story.producer
    )
    marketing = WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/marketing", secret="s3", team=story.marketing
    )
    stranger = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/other", secret="s6", team=TeamFactory())
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/off", secret="s4", is_active=False)
    only_published = WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/published", secret="s5", event_kinds=["contract.published"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        proposal = open_breaking(story)
    run_outbox()  # the worker's part: the fan-out recorded with the events
    opened = proposal.events.get(kind="proposal.opened")
    endpoints = set(WebhookDelivery.objects.filter(event=opened).values_list("endpoint_id", flat=True))
    assert endpoints == {global_all.pk, platform.pk, marketing.pk}  # marketing is asked by the proposal
    assert not WebhookDelivery.objects.filter(endpoint=stranger).exists()
    assert not WebhookDelivery.objects.filter(endpoint=only_published).exists()

    from contracts.selectors.teams import actor_for_user
    from contracts.services.proposals.answering import acknowledgment_record

    with django_capture_on_commit_callbacks(execute=True):
        acknowledgment_record(
            proposal=proposal,
            team=story.marketing,
            answer="approved",
            actor=actor_for_user(story.marketing_user),
            via="dashboard",
        )
    run_outbox()
    answered = proposal.events.get(kind="proposal.answered")
    assert answered.team_id == story.marketing.pk
    endpoints = set(WebhookDelivery.objects.filter(event=answered).values_list("endpoint_id", flat=True))
    assert platform.pk in endpoints  # the producer hears its consumers' answers


def test_nothing_is_delivered_for_a_rolled_back_event(story):
    WebhookEndpoint.objects.create(url="http://127.0.0.1:9/all", secret="s1")
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        event_record(kind="asset.retired", team=story.producer, asset=story.asset)
        raise RuntimeError("rolled back")
    run_outbox()
    assert not WebhookDelivery.objects.exists()
    assert not OutboxMessage.objects.exists()  # the fan-out was recorded with the event, and rolled back


def test_delivery_is_signed_over_timestamp_and_body(story, django_capture_on_commit_callbacks):
    with WebhookReceiver(secret="hook-secret") as receiver:
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="hook-secret")
        with django_capture_on_commit_callbacks(execute=True):
            event = event_record(
                kind="asset.retired",
                team=story.producer,
                asset=story.asset,
                payload={"relation": story.asset.relation},
            )
        run_outbox()
        delivery = WebhookDelivery.objects.get(endpoint=endpoint, event=event)
        assert webhook_deliver(delivery_id=delivery.pk) == "delivered"
        assert webhook_deliver(delivery_id=delivery.pk) == "delivered"  # a redelivery sends nothing
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["valid"]
    assert request["headers"]["X-Tessera-Event"] == "asset.retired"
    body = json.loads(request["body"])
    assert body["id"] == event.pk and body["kind"] == "asset.retired" and body["team"] == "data-platform"
    assert body["asset"]["relation"] == story.asset.relation
    assert set(body) >= {"id", "kind", "created_at", "team", "asset", "proposal", "payload"}
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert WebhookAttempt.objects.get(delivery=delivery).status_code == 204


def test_signature_changes_with_the_secret_and_the_timestamp():
    body = b'{"id":1}'
    one = webhook_signature(secret="a", timestamp="1", body=body)
    assert one.startswith("sha256=")
    assert one != webhook_signature(secret="b", timestamp="1", body=body)
    assert one != webhook_signature(secret="a", timestamp="2", body=body)


def test_a_failing_receiver_raises_for_retry_records_the_attempt_and_fails_at_the_end(story):
    with WebhookReceiver(secret="x", fail_first=5) as receiver:
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="x")
        event = event_record(kind="audit.failed", team=story.producer, asset=story.asset)
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
        with pytest.raises(WebhookFailed):
            webhook_deliver(delivery_id=delivery.pk)
        assert webhook_deliver(delivery_id=delivery.pk, final_attempt=True) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 2
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [
        500,
        500,
    ]


def test_an_unreachable_receiver_is_recorded_as_an_error(story):
    endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/closed", secret="x")
    event = event_record(kind="audit.failed", team=story.producer)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
    with pytest.raises(WebhookFailed):
        webhook_deliver(delivery_id=delivery.pk)
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None and attempt.error


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_final_refusal_fails_the_delivery_at_once_with_the_receivers_answer(story, status):
    with WebhookReceiver(secret="x", refuse=(status, "no_such_hook")) as receiver:
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="x")
        event = event_record(kind="audit.failed", team=story.producer, asset=story.asset)
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
        assert webhook_deliver(delivery_id=delivery.pk) == "failed"  # no WebhookFailed: no retry
        assert webhook_deliver(delivery_id=delivery.pk) == "failed"  # a redelivered message sends nothing
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 1
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code == status
    assert attempt.error.startswith(f"HTTP {status} no_such_hook") and "not retried" in attempt.error


@pytest.mark.parametrize("status", [408, 429, 500, 503])
def test_a_timeout_a_rate_limit_or_a_server_error_is_retried(story, status):
    with WebhookReceiver(secret="x", refuse=(status, "later")) as receiver:
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="x")
        event = event_record(kind="audit.failed", team=story.producer, asset=story.asset)
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
        with pytest.raises(WebhookFailed):
            webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "not retried" not in WebhookAttempt.objects.get(delivery=delivery).error


def test_a_429_waits_its_retry_after_before_the_next_attempt(story):
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    with (
        WebhookReceiver(secret="x", refuse=(429, "rate_limited"), retry_after="120") as receiver,
        time_machine.travel(now, tick=False),
    ):
        endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret="x")
        event = event_record(kind="audit.failed", team=story.producer, asset=story.asset)
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
        with pytest.raises(WebhookFailed) as failed:
            webhook_deliver(delivery_id=delivery.pk)
    assert failed.value.retry_in == 120  # the task's countdown; the backoff alone would say 1 s
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == now + timedelta(seconds=120)  # the sweep waits as long


@pytest.mark.django_db(transaction=True)
def test_the_delivery_task_sends_a_refused_event_once_and_a_failing_one_until_its_last_attempt(
    story, celery_eager
):
    from contracts.tasks.workflow import webhook_deliver_task

    event = event_record(kind="audit.failed", team=story.producer, asset=story.asset)
    with WebhookReceiver(secret="x", refuse=(404, "no_service")) as refusing:
        gone = WebhookEndpoint.objects.create(url=refusing.url, secret="x")
        delivery = WebhookDelivery.objects.create(endpoint=gone, event=event)
        webhook_deliver_task.apply(args=[delivery.pk])
    assert len(refusing.requests) == 1
    with WebhookReceiver(secret="x", refuse=(500, "oops")) as failing:
        broken = WebhookEndpoint.objects.create(url=failing.url, secret="x")
        delivery = WebhookDelivery.objects.create(endpoint=broken, event=event)
        webhook_deliver_task.apply(args=[delivery.pk])  # eager: the retries run at once
    assert len(failing.requests) == MAX_ATTEMPTS
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}


def test_fan_out_reads_the_endpoints_of_its_own_moment(story, django_capture_on_commit_callbacks):
    """An endpoint replaced a moment ago: the next event goes to the new one only. A list of
    endpoints kept from an earlier fan-out (a 'burst' memo) sent it to the deleted one, whose
    delivery row then named a missing endpoint, and the new endpoint missed it."""

    def record() -> object:
        with django_capture_on_commit_callbacks(execute=True):
            event = event_record(kind="asset.retired", team=story.producer, asset=story.asset, payload={})
        run_outbox()
        return event

    old = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/old", secret="s")
    first = record()
    assert list(WebhookDelivery.objects.filter(event=first).values_list("endpoint", flat=True)) == [old.pk]
    WebhookDelivery.objects.filter(endpoint=old).delete()
    old.delete()
    new = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/new", secret="s")
    second = record()
    assert list(WebhookDelivery.objects.filter(event=second).values_list("endpoint", flat=True)) == [new.pk]
