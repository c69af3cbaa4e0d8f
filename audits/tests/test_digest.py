"""A failed audit notifies the consumer teams: one digest per team per day, through a real SMTP server."""

from __future__ import annotations

import pytest
from django.conf import settings

from audits.services import audit_ingest_run_results
from audits.tasks import audit_failure_digest
from audits.tests.conftest import fixture_bytes
from contracts.models import OutboundEmail
from tessera_site.lib.auth import actor_for_key

pytestmark = pytest.mark.django_db


def test_failed_audit_sends_one_digest_per_consumer_team_per_day(core, smtp_server):
    actor = actor_for_key(core.platform_key)
    audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_failing.json"), actor=actor)

    assert audit_failure_digest() == 2
    received = smtp_server.received()
    assert sorted(m["X-Envelope-To"] for m in received) == ["finance@example.com", "marketing@example.com"]
    body = received[0].get_payload()[0].get_payload(decode=True).decode()
    assert "core.main.dim_customers" in body and "1 of" in body
    assert f"{settings.TESSERA_BASE_URL}/assets/{core.dim_customers.pk}/" in body

    # Another failure the same day, and the beat firing again: no second email to anyone.
    audit_ingest_run_results(run_results=fixture_bytes("dbt_core_test_dim_customers.json"), actor=actor)
    assert audit_failure_digest() == 0
    assert len(smtp_server.received()) == 2
    assert OutboundEmail.objects.filter(kind="audit_failure_digest").count() == 2


def test_no_failures_means_no_digest(core, smtp_server):
    audit_ingest_run_results(
        run_results=fixture_bytes("dbt_core_build_pass.json"), actor=actor_for_key(core.platform_key)
    )
    assert audit_failure_digest() == 0
    assert smtp_server.received() == []


def test_the_digest_reaches_a_team_slack_as_block_kit_once_a_day(core, smtp_server):
    from contracts.models import OutboxMessage, SlackMessage, SlackWebhook
    from contracts.services.outbox_dispatch import outbox_dispatch
    from testsupport.slack import SlackReceiver, blockkit_problems, buttons

    actor = actor_for_key(core.platform_key)
    audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_failing.json"), actor=actor)
    with SlackReceiver() as receiver:
        SlackWebhook.objects.create(team=core.marketing, url=receiver.url("/hooks/marketing"))
        assert audit_failure_digest() == 2
        assert audit_failure_digest() == 0
        for pk in OutboxMessage.objects.filter(kind="slack.post").values_list("pk", flat=True):
            outbox_dispatch(message_id=pk)
    assert [m.kind for m in SlackMessage.objects.all()] == ["audit_failed"]
    (request,) = receiver.delivered()
    assert blockkit_problems(request["json"]) == []
    assert "core.main.dim_customers" in str(request["json"]["blocks"])
    assert f"{settings.TESSERA_BASE_URL}/assets/{core.dim_customers.pk}/" in str(request["json"]["blocks"])
    assert buttons(request["json"]) == []
