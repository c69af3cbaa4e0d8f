from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse

from contracts.models import ApiKey, Team, TeamMembership
from contracts.services.apikeys import apikey_create, apikey_revoke


@pytest.fixture
def team(db) -> Team:
    return Team.objects.create(slug="data-platform", name="Data Platform")


@pytest.fixture
def other_team(db) -> Team:
    return Team.objects.create(slug="marketing-analytics", name="Marketing Analytics")


def test_database_vendor_matches_database_url(db):
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_health_reports_database_and_version(client, db):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["version"]


def test_api_without_key_is_401_with_json_error(client, db):
    response = client.get("/api/v1/teams")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_unknown_key_is_refused(client, db):
    response = client.get("/api/v1/teams", HTTP_AUTHORIZATION="Bearer tsr_nothing_here")
    assert response.status_code == 401


def test_revoked_key_is_refused(client, team):
    key, secret = apikey_create(team=team, name="ci", scopes="read")
    assert client.get("/api/v1/teams", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    apikey_revoke(key=key)
    assert client.get("/api/v1/teams", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_key_is_stored_hashed_only(team):
    key, secret = apikey_create(team=team, name="ci", scopes="read,write")
    row = ApiKey.objects.values().get(pk=key.pk)
    assert all(secret not in str(value) for value in row.values())
    assert key.secret_hash != secret and len(key.secret_hash) == 64


def test_key_records_last_use(client, team):
    key, secret = apikey_create(team=team, name="ci", scopes="read")
    client.get("/api/v1/teams", HTTP_AUTHORIZATION=f"Bearer {secret}")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_whoami_names_the_key_team(client, team):
    _, secret = apikey_create(team=team, name="ci", scopes="read")
    body = client.get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert body["team"] == "data-platform" and body["scopes"] == ["read"]


def test_open_api_accepts_loopback_calls_only_when_enabled(client, db, settings):
    settings.TESSERA_OPEN_API = False
    assert client.get("/api/v1/teams").status_code == 401
    settings.TESSERA_OPEN_API = True
    assert client.get("/api/v1/teams").status_code == 200
    assert client.get("/api/v1/teams", REMOTE_ADDR="10.1.2.3").status_code == 401


def test_create_api_key_command_prints_the_key_once(team, capsys):
    from django.core.management import call_command

    call_command("create_api_key", "--team", "data-platform", "--scopes", "read,write")
    secret = capsys.readouterr().out.strip()
    key = ApiKey.objects.get(team=team)
    assert secret.startswith("tsr_") and key.scopes == ["read", "write"]


def test_create_api_key_rejects_unknown_team_and_scope(db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown team"):
        call_command("create_api_key", "--team", "nobody", "--scopes", "read")
    Team.objects.create(slug="t", name="t")
    with pytest.raises(CommandError, match="Scopes"):
        call_command("create_api_key", "--team", "t", "--scopes", "root")


def test_lead_logs_in_and_sees_their_team_on_home(client, team):
    user = get_user_model().objects.create_user("lead", password="pw-123456789")
    TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.LEAD)
    response = client.post(reverse("login"), {"username": "lead", "password": "pw-123456789"}, follow=True)
    assert response.status_code == 200
    assert b"Data Platform" in response.content


def test_home_requires_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_events_api_lists_the_audit_log_newest_first_with_filters(client, team, other_team):
    _, secret = apikey_create(team=team, name="ci", scopes="read")  # records apikey.created
    from contracts.services.events import event_record

    event_record(kind="proposal.opened", team=other_team, payload={"n": 1})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    body = client.get("/api/v1/events", **auth).json()
    assert [e["kind"] for e in body["results"]][:2] == ["proposal.opened", "apikey.created"]
    only = client.get("/api/v1/events?kind=proposal&team=marketing-analytics", **auth).json()
    assert only["count"] == 1 and only["results"][0]["payload"] == {"n": 1}
    assert client.get("/api/v1/events?per_page=0", **auth).status_code == 422
