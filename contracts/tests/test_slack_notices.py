"""Slack notices: every kind reaches a real local receiver as valid Block Kit, through the outbox;
their buttons are the emails' signed answer pages (GET confirms, POST records)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from contracts.factories import TeamFactory
from contracts.models import (
    Acknowledgment,
    Asset,
    OutboxAttempt,
    OutboxMessage,
    ProposalImpact,
    SlackMessage,
    SlackWebhook,
)
from contracts.presenters import slack as slack_blocks
from contracts.services.asset_emails import assets_retired_notify
from contracts.services.impact import proposal_informed_notify
from contracts.services.outbox_dispatch import outbox_dispatch
from contracts.services.proposal_emails import proposal_reminders_send
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.proposals.closing import proposal_withdraw
from contracts.services.slack import slack_message_post, slack_notice_record
from contracts.tests.workflow_setup import make_story, open_breaking, run_outbox_all
from tessera_site.lib.signing import answer_token_load
from testsupport.slack import SlackReceiver, blockkit_problems, buttons

pytestmark = pytest.mark.django_db


def connect(team, receiver: SlackReceiver) -> SlackWebhook:
    # Created directly: the API and the admin accept https URLs to public hosts only.
    return SlackWebhook.objects.create(team=team, url=receiver.url(f"/hooks/{team.slug}"))


def received_kinds(receiver: SlackReceiver, team) -> list[str]:
    """The notice kinds the team's channel received, each checked against its recorded message."""
    rows = list(SlackMessage.objects.filter(team=team))
    kinds = []
    for request in receiver.delivered(f"/hooks/{team.slug}"):
        assert request["content_type"] == "application/json"
        assert blockkit_problems(request["json"]) == [], request["json"]
        (kind,) = [m.kind for m in rows if m.payload == request["json"]]
        kinds.append(kind)
    return sorted(kinds)


@pytest.fixture
def story():
    return make_story()


def test_every_kind_of_notice_reaches_each_team_slack_as_valid_block_kit(
    story, django_capture_on_commit_callbacks
):
    sales = TeamFactory(slug="sales-ops", email="sales@example.com")
    with SlackReceiver() as receiver:
        for team in (story.producer, story.marketing, story.finance, sales):
            connect(team, receiver)
        with django_capture_on_commit_callbacks(execute=True):
            proposal = open_breaking(story)
        run_outbox_all()
        ProposalImpact.objects.create(
            proposal=proposal, team=sales, role="informed", reason="reads no column"
        )
        proposal_informed_notify(proposal_id=proposal.pk)
        acknowledgment_record(
            proposal=proposal,
            team=story.marketing,
            answer="migrating",
            ready_by=dt.date(2030, 1, 31),
            actor=story.actor(story.marketing_user),
            via="dashboard",
        )
        proposal_reminders_send(today=dt.date(2030, 1, 2))
        proposal_withdraw(proposal=proposal, actor=story.actor(story.producer_lead), reason="<b> & co")
        Asset.objects.filter(pk=story.asset.pk).update(status=Asset.Status.RETIRED)
        assets_retired_notify(sync_run_id=7, asset_ids=[story.asset.pk])
        slack_notice_record(
            team=story.marketing,
            kind="deprecation_reminder",
            dedupe_key="deprecation:test",
            build=lambda: slack_blocks.deprecation_reminder_message(
                team=story.marketing,
                model="dim_products",
                version="1",
                deprecation_date=dt.date(2030, 3, 1),
                days_left=7,
                campaign_url="http://127.0.0.1:8000/deprecations/1/",
                latest_version="2",
                readers=["marketing.main.campaign_products"],
            ),
        )
        run_outbox_all()

        assert received_kinds(receiver, story.marketing) == [
            "asset_retired",
            "deprecation_reminder",
            "proposal_opened",
            "proposal_resolved",
        ]
        assert received_kinds(receiver, story.finance) == [
            "asset_retired",
            "proposal_opened",
            "proposal_reminder",
            "proposal_resolved",
        ]
        assert received_kinds(receiver, story.producer) == ["proposal_answered", "proposal_resolved"]
        assert received_kinds(receiver, sales) == ["proposal_informed"]
    assert not SlackMessage.objects.filter(sent_at=None).exists()


def test_slack_buttons_open_the_signed_confirm_page_and_a_post_records_the_answer(
    story, client, django_capture_on_commit_callbacks
):
    with SlackReceiver() as receiver:
        connect(story.marketing, receiver)
        connect(story.finance, receiver)
        with django_capture_on_commit_callbacks(execute=True):
            proposal = open_breaking(story)
        run_outbox_all()
        message = receiver.delivered(f"/hooks/{story.marketing.slug}")[0]["json"]
        finance_message = receiver.delivered(f"/hooks/{story.finance.slug}")[0]["json"]

    answer_buttons = {b["action_id"]: b for b in buttons(message) if b["action_id"].startswith("answer-")}
    assert set(answer_buttons) == {f"answer-{proposal.pk}-{a}" for a in ("approved", "migrating", "blocked")}
    titles = {"approved": "Confirm: Approve", "migrating": "Confirm: Need time", "blocked": "Confirm: Block"}
    for action, title in titles.items():
        button = answer_buttons[f"answer-{proposal.pk}-{action}"]
        assert "marketing-analytics" in button["accessibility_label"]
        link = answer_token_load(urlsplit(button["url"]).path.split("/")[2])
        assert (link.proposal_id, link.team_id, link.action) == (proposal.pk, story.marketing.pk, action)
        page = client.get(urlsplit(button["url"]).path)
        assert page.status_code == 200
        assert title in page.content.decode()
    assert not Acknowledgment.objects.exists()  # opening the buttons' pages recorded nothing

    # Finance's buttons are bound to finance, not to marketing.
    finance_approve = next(b for b in buttons(finance_message) if b["action_id"].endswith("-approved"))
    assert answer_token_load(urlsplit(finance_approve["url"]).path.split("/")[2]).team_id == story.finance.pk

    approve = urlsplit(answer_buttons[f"answer-{proposal.pk}-approved"]["url"]).path
    done = client.post(approve)
    assert done.status_code == 200 and "answer is recorded" in done.content.decode()
    ack = Acknowledgment.objects.get(proposal=proposal)
    assert (ack.team_id, ack.answer, ack.via) == (story.marketing.pk, "approved", "email")
    assert client.get(approve).status_code == 410  # spent, like an email's link


def test_a_refused_post_is_retried_with_its_status_code_recorded_and_sent_once(story):
    with SlackReceiver(fail_first=1) as receiver:
        connect(story.marketing, receiver)
        row = slack_notice_record(
            team=story.marketing,
            kind="proposal_reminder",
            dedupe_key="reminder:test",
            build=lambda: {
                "text": "hello",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
            },
        )
        assert row is not None and row.outbox is not None
        assert outbox_dispatch(message_id=row.outbox.pk) == "retry"
        OutboxMessage.objects.filter(pk=row.outbox.pk).update(next_attempt_at=timezone.now())
        assert outbox_dispatch(message_id=row.outbox.pk) == "sent"
        assert slack_message_post(slack_message_id=row.pk) == "already sent"  # a redelivery posts nothing
        # The same notice again (a retried notifier) records nothing new.
        again = slack_notice_record(
            team=story.marketing, kind="proposal_reminder", dedupe_key="reminder:test", build=dict
        )
        assert again is not None and again.pk == row.pk
    assert [r["answered"] for r in receiver.requests] == [500, 200]
    attempts = list(OutboxAttempt.objects.filter(message=row.outbox).order_by("id"))
    assert [(a.ok, a.status_code) for a in attempts] == [(False, 500), (True, 200)]
    assert "HTTP 500" in attempts[0].error and "internal_error" in attempts[0].error
    row.refresh_from_db()
    assert row.sent_at is not None and row.status == "sent"


def _record_reminder(team) -> SlackMessage:
    row = slack_notice_record(
        team=team,
        kind="proposal_reminder",
        dedupe_key="reminder:refused",
        build=lambda: {
            "text": "hello",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
        },
    )
    assert row is not None and row.outbox is not None
    return row


def test_a_deleted_webhook_404_no_service_fails_the_message_after_one_attempt(story):
    with SlackReceiver(refuse=(404, "no_service")) as receiver:
        connect(story.marketing, receiver)
        row = _record_reminder(story.marketing)
        assert row.outbox is not None
        assert outbox_dispatch(message_id=row.outbox.pk) == "failed"
        # Even when due again, a failed message is not attempted again.
        OutboxMessage.objects.filter(pk=row.outbox.pk).update(next_attempt_at=timezone.now())
        assert outbox_dispatch(message_id=row.outbox.pk) == "skipped"
    assert [r["answered"] for r in receiver.requests] == [404]
    (attempt,) = OutboxAttempt.objects.filter(message=row.outbox)
    assert (attempt.ok, attempt.status_code) == (False, 404)
    assert "HTTP 404 no_service" in attempt.error
    outbox = OutboxMessage.objects.get(pk=row.outbox.pk)
    assert (outbox.status, outbox.attempts) == ("failed", 1) and "no_service" in outbox.last_error
    row.refresh_from_db()
    assert row.sent_at is None and row.status == "failed"


@pytest.mark.parametrize(
    "status,answer", [(410, "channel_is_archived"), (403, "invalid_token"), (400, "invalid_payload")]
)
def test_other_final_refusals_fail_at_once_too(story, status, answer):
    with SlackReceiver(refuse=(status, answer)) as receiver:
        connect(story.marketing, receiver)
        row = _record_reminder(story.marketing)
        assert row.outbox is not None
        assert outbox_dispatch(message_id=row.outbox.pk) == "failed"
    assert len(receiver.requests) == 1
    assert OutboxAttempt.objects.get(message=row.outbox).status_code == status


def test_a_429_waits_at_least_its_retry_after_then_retries(story):
    with SlackReceiver(refuse=(429, "rate_limited"), retry_after="120") as receiver:
        connect(story.marketing, receiver)
        row = _record_reminder(story.marketing)
        assert row.outbox is not None
        assert outbox_dispatch(message_id=row.outbox.pk) == "retry"
        assert outbox_dispatch(message_id=row.outbox.pk) == "skipped"  # not due for 120 s
    assert len(receiver.requests) == 1
    attempt = OutboxAttempt.objects.get(message=row.outbox)
    outbox = OutboxMessage.objects.get(pk=row.outbox.pk)
    assert (outbox.status, attempt.status_code) == ("pending", 429)
    assert (outbox.next_attempt_at - attempt.attempted_at).total_seconds() >= 120


def test_a_team_without_slack_gets_its_emails_only(story, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        open_breaking(story)
    run_outbox_all()
    assert not SlackMessage.objects.exists()
    assert not OutboxMessage.objects.filter(kind="slack.post").exists()


def test_an_unreachable_receiver_is_recorded_without_a_status_code(story):
    SlackWebhook.objects.create(team=story.marketing, url="http://127.0.0.1:9/closed")
    row = slack_notice_record(
        team=story.marketing,
        kind="proposal_reminder",
        dedupe_key="k",
        build=lambda: {"text": "x", "blocks": []},
    )
    assert row is not None and row.outbox is not None
    assert outbox_dispatch(message_id=row.outbox.pk) == "retry"
    attempt = OutboxAttempt.objects.get(message=row.outbox)
    assert attempt.status_code is None and not attempt.ok and attempt.error
