"""The admin: a Slack webhook is validated, never shown back in full, and connecting it is an
event; Slack messages and outbox messages show every attempt with its status code."""

from __future__ import annotations

import pytest

from contracts.factories import TeamFactory, UserFactory
from contracts.models import Event, OutboxAttempt, OutboxMessage, SlackMessage, SlackWebhook

pytestmark = pytest.mark.django_db

URL = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopXq9z"


@pytest.fixture
def admin_client(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_the_admin_connects_a_team_slack_and_shows_the_url_masked_only(admin_client):
    team = TeamFactory(slug="marketing-analytics")
    refused = admin_client.post(
        "/admin/contracts/slackwebhook/add/",
        {"team": team.pk, "url": "http://hooks.slack.com/x", "is_active": "on"},
    )
    assert refused.status_code == 200 and "must start with https://" in refused.content.decode()
    assert not SlackWebhook.objects.exists()

    added = admin_client.post(
        "/admin/contracts/slackwebhook/add/", {"team": team.pk, "url": URL, "is_active": "on"}
    )
    assert added.status_code == 302
    webhook = SlackWebhook.objects.get(team=team)
    assert webhook.url == URL
    assert Event.objects.filter(kind="team.slack_connected", team=team).count() == 1

    for path in (
        "/admin/contracts/slackwebhook/",
        f"/admin/contracts/slackwebhook/{webhook.pk}/change/",
        "/admin/contracts/team/",
    ):
        html = admin_client.get(path).content.decode()
        assert "https://hooks.slack.com/…Xq9z" in html, path
        assert URL not in html and "abcdefghijklmnop" not in html, path

    # Saving the form without a new URL keeps the current one.
    kept = admin_client.post(
        f"/admin/contracts/slackwebhook/{webhook.pk}/change/", {"url": "", "is_active": "on"}
    )
    assert kept.status_code == 302
    assert SlackWebhook.objects.get(pk=webhook.pk).url == URL


def test_the_admin_shows_each_attempt_with_its_status_code(admin_client):
    team = TeamFactory(slug="marketing-analytics")
    outbox = OutboxMessage.objects.create(kind="slack.post", args={}, attempts=2, status="sent")
    OutboxAttempt.objects.create(message=outbox, ok=False, status_code=503, error="HTTP 503 busy")
    OutboxAttempt.objects.create(message=outbox, ok=True, status_code=200)
    message = SlackMessage.objects.create(
        dedupe_key="k", kind="audit_failed", team=team, payload={}, outbox=outbox
    )
    page = admin_client.get(f"/admin/contracts/slackmessage/{message.pk}/change/").content.decode()
    assert "503" in page and "HTTP 503 busy" in page and "200" in page
    listing = admin_client.get("/admin/contracts/outboxmessage/").content.decode()
    assert "slack.post" in listing
    detail = admin_client.get(f"/admin/contracts/outboxmessage/{outbox.pk}/change/").content.decode()
    assert "HTTP 503 busy" in detail
