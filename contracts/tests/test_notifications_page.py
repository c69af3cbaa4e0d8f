"""The notification settings page: members only (a stranger gets 404), htmx forms with CSRF, the
Slack URL masked, recent Slack messages with every attempt."""

from __future__ import annotations

import pytest
from django.test import Client

from contracts.factories import TeamFactory, TeamMembershipFactory, UserFactory
from contracts.models import NotificationSwitch, OutboxAttempt, OutboxMessage, SlackMessage, SlackWebhook
from contracts.services.outbox_dispatch import outbox_dispatch
from contracts.services.slack import slack_notice_record
from testsupport.slack import SlackReceiver

pytestmark = pytest.mark.django_db

URL = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopXq9z"


@pytest.fixture
def member():
    team = TeamFactory(slug="marketing-analytics", email="m@example.com")
    user = UserFactory(username="marketing-lead")
    TeamMembershipFactory(team=team, user=user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return team, client


def csrf(client: Client, path: str) -> str:
    client.get(path)
    return client.cookies["csrftoken"].value


def test_a_member_switches_a_notice_off_with_htmx_and_the_page_shows_it(member):
    team, client = member
    page = client.get(f"/teams/{team.slug}/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="proposal_opened:slack"' in html and "csrfmiddlewaretoken" in html
    token = csrf(client, f"/teams/{team.slug}/notifications/")
    every_box_but_one = {
        f"{kind}:{channel}": "1"
        for kind in (
            "proposal_opened",
            "proposal_answered",
            "proposal_resolved",
            "proposal_expiring",
            "audit_failed",
            "asset_retired",
        )
        for channel in ("email", "slack", "webhook")
    } | {
        f"{k}:{c}": "1"
        for k in ("proposal_informed", "proposal_reminder", "deprecation_reminder")
        for c in ("email", "slack")
    }
    del every_box_but_one["audit_failed:slack"]
    saved = client.post(
        f"/teams/{team.slug}/notifications/",
        every_box_but_one,
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=token,
    )
    assert saved.status_code == 200 and "Notification switches saved" in saved.content.decode()
    assert "<html" not in saved.content.decode()  # the partial only
    assert list(NotificationSwitch.objects.values_list("kind", "channel", "enabled")) == [
        ("audit_failed", "slack", False)
    ]
    assert 'id="sw-audit_failed-slack" name="audit_failed:slack" value="1" >' in saved.content.decode()


def test_without_the_csrf_token_nothing_changes(member):
    team, client = member
    refused = client.post(f"/teams/{team.slug}/notifications/slack/", {"url": URL})
    assert refused.status_code == 403
    assert not SlackWebhook.objects.exists()


def test_connecting_slack_shows_the_url_masked_and_recent_messages_with_their_attempts(member):
    team, client = member
    token = csrf(client, f"/teams/{team.slug}/notifications/")
    bad = client.post(
        f"/teams/{team.slug}/notifications/slack/", {"url": "http://x.example.com/h"}, HTTP_X_CSRFTOKEN=token
    )
    assert bad.status_code == 400 and "https://" in bad.content.decode()
    done = client.post(f"/teams/{team.slug}/notifications/slack/", {"url": URL}, HTTP_X_CSRFTOKEN=token)
    assert done.status_code == 302
    outbox = OutboxMessage.objects.create(kind="slack.post", args={}, attempts=1)
    OutboxAttempt.objects.create(message=outbox, ok=False, status_code=500, error="HTTP 500 internal_error")
    SlackMessage.objects.create(
        dedupe_key="k", kind="audit_failed", team=team, payload={"text": "3 failed audits"}, outbox=outbox
    )
    html = client.get(f"/teams/{team.slug}/notifications/").content.decode()
    assert "https://hooks.slack.com/…Xq9z" in html and URL not in html
    assert "3 failed audits" in html and "500" in html and "internal_error" in html


def test_a_stranger_gets_404(member):
    team, _client = member
    stranger = Client()
    stranger.force_login(UserFactory(username="outsider"))
    assert stranger.get(f"/teams/{team.slug}/notifications/").status_code == 404
    assert stranger.post(f"/teams/{team.slug}/notifications/slack/", {"url": URL}).status_code == 404
    assert not SlackWebhook.objects.exists()


def test_a_message_slack_refused_for_good_says_so_and_what_to_do(member):
    team, client = member
    with SlackReceiver(refuse=(404, "no_service")) as receiver:
        SlackWebhook.objects.create(team=team, url=receiver.url("/hooks/gone"))
        row = slack_notice_record(
            team=team,
            kind="audit_failed",
            dedupe_key="k",
            build=lambda: {"text": "2 failed audits", "blocks": []},
        )
        assert row is not None and row.outbox is not None
        assert outbox_dispatch(message_id=row.outbox.pk) == "failed"
    html = client.get(f"/teams/{team.slug}/notifications/").content.decode()
    assert "2 failed audits" in html and "failed" in html
    assert "Slack refused: no_service — reconnect the webhook" in html


@pytest.mark.parametrize(
    ("active", "said"),
    [(True, "Slack connected ·"), (False, "Slack connected but paused (nothing is posted")],
)
def test_the_channels_line_says_whether_slack_posts(member, active, said):
    team, client = member
    SlackWebhook.objects.create(team=team, url=URL, is_active=active)
    html = client.get(f"/teams/{team.slug}/notifications/").content.decode()
    assert said in html and "Slack not connected" not in html
