"""The notifications API: a team's own key reads and changes its channels and switches; any other
key (admin scope included) gets 403 and changes nothing; the Slack URL is only ever shown masked."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from contracts.factories import TeamFactory, api_key_for
from contracts.models import Event, NotificationSwitch, SlackWebhook

pytestmark = pytest.mark.django_db

URL = "https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnopXq9z"


def client_for(team, scopes: str = "read,write") -> Client:
    _key, secret = api_key_for(team, scopes=scopes, name=f"{team.slug}-{scopes}")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def teams():
    return TeamFactory(slug="marketing-analytics", email="m@example.com"), TeamFactory(
        slug="finance-analytics"
    )


def send(client: Client, method: str, path: str, body) -> object:
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def test_the_team_connects_slack_and_switches_notices_with_its_own_key(teams):
    marketing, _finance = teams
    api = client_for(marketing)
    base = f"/api/v1/teams/{marketing.slug}/notifications"

    fresh = api.get(base)
    assert fresh.status_code == 200
    body = fresh.json()
    assert body["slack"] == {"status": "not_configured", "configured": False, "url": None, "is_active": False}
    assert body["email_recipients"] == 1
    rows = {r["kind"]: r for r in body["switches"]}
    assert rows["proposal_opened"] | {"label": ""} == {
        "kind": "proposal_opened",
        "label": "",
        "email": True,
        "slack": True,
        "webhook": True,
    }
    assert rows["proposal_reminder"]["webhook"] is None

    connected = send(api, "put", f"{base}/slack", {"url": URL})
    assert connected.status_code == 200
    assert connected.json()["slack"] == {
        "status": "active",
        "configured": True,
        "url": "https://hooks.slack.com/…Xq9z",
        "is_active": True,
    }
    assert URL not in connected.content.decode()
    assert SlackWebhook.objects.get(team=marketing).url == URL

    switched = send(
        api, "patch", base, {"switches": [{"kind": "audit_failed", "channel": "slack", "enabled": False}]}
    )
    assert switched.status_code == 200
    assert {r["kind"]: r for r in switched.json()["switches"]}["audit_failed"]["slack"] is False
    assert URL not in api.get(base).content.decode()

    assert api.delete(f"{base}/slack").status_code == 204
    assert not SlackWebhook.objects.exists()
    kinds = list(
        Event.objects.filter(team=marketing, kind__startswith="team.")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["team.slack_connected", "team.notifications_changed", "team.slack_disconnected"]


def test_another_teams_key_gets_403_and_changes_nothing(teams):
    marketing, finance = teams
    SlackWebhook.objects.create(team=marketing, url=URL)
    base = f"/api/v1/teams/{marketing.slug}/notifications"
    for other in (client_for(finance), client_for(finance, scopes="read,write,admin")):
        assert other.get(base).status_code == 403
        refused = send(other, "put", f"{base}/slack", {"url": "https://hooks.slack.com/services/T/B/evil"})
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        assert URL not in refused.content.decode()
        assert (
            send(
                other,
                "patch",
                base,
                {"switches": [{"kind": "audit_failed", "channel": "email", "enabled": False}]},
            ).status_code
            == 403
        )
        assert other.delete(f"{base}/slack").status_code == 403
    assert SlackWebhook.objects.get(team=marketing).url == URL
    assert not NotificationSwitch.objects.exists()
    assert not Event.objects.filter(kind__startswith="team.").exists()


def test_bad_input_gets_a_clear_4xx_and_changes_nothing(teams):
    marketing, _finance = teams
    api = client_for(marketing)
    base = f"/api/v1/teams/{marketing.slug}/notifications"
    for url in ("http://hooks.slack.com/services/T/B/x", "https://127.0.0.1/x", "nope", ""):
        bad = send(api, "put", f"{base}/slack", {"url": url})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_url", url
    assert send(api, "put", f"{base}/slack", {}).status_code == 422
    assert (
        send(
            api, "patch", base, {"switches": [{"kind": "nope", "channel": "email", "enabled": False}]}
        ).status_code
        == 400
    )
    assert (
        send(
            api, "patch", base, {"switches": [{"kind": "audit_failed", "channel": "sms", "enabled": False}]}
        ).status_code
        == 422
    )
    assert api.get("/api/v1/teams/nobody/notifications").status_code == 404
    reader = client_for(marketing, scopes="read")
    assert send(reader, "put", f"{base}/slack", {"url": URL}).status_code == 403
    assert not SlackWebhook.objects.exists() and not NotificationSwitch.objects.exists()


def test_an_inactive_slack_webhook_is_said_to_be_stored_but_posting_nothing(teams):
    marketing, _finance = teams
    api = client_for(marketing)
    base = f"/api/v1/teams/{marketing.slug}/notifications"
    assert send(api, "put", f"{base}/slack", {"url": URL}).status_code == 200
    SlackWebhook.objects.filter(team=marketing).update(is_active=False)  # e.g. switched off in the admin

    slack = api.get(base).json()["slack"]
    assert slack == {
        "status": "inactive",
        "configured": True,
        "url": "https://hooks.slack.com/…Xq9z",
        "is_active": False,
    }
    resumed = send(api, "put", f"{base}/slack", {"url": URL})  # connecting it again resumes it
    assert resumed.json()["slack"]["status"] == "active"
