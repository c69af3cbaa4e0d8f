"""API keys may expire: ``create_api_key --expires-in 90d`` or the admin; an expired key gets 401
"expired"; the admin shows each key's last use and expiry. Time is frozen with time-machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from contracts.factories import TeamFactory, UserFactory
from contracts.models import ApiKey
from contracts.services.apikeys import apikey_create

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def _whoami(secret: str):
    return Client().get("/api/v1/whoami", HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def team(db):
    return TeamFactory(slug="marketing-analytics")


def test_create_api_key_expires_in_90_days(team):
    out, err = StringIO(), StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command(
            "create_api_key",
            "--team",
            team.slug,
            "--scopes",
            "read",
            "--expires-in",
            "90d",
            stdout=out,
            stderr=err,
        )
    key = ApiKey.objects.get(team=team)
    assert key.expires_at == NOW + timedelta(days=90)
    assert "expiring 2026-06-30 12:00 UTC" in err.getvalue()
    secret = out.getvalue().strip()

    with time_machine.travel(NOW + timedelta(days=89), tick=False):
        assert _whoami(secret).status_code == 200
    with time_machine.travel(NOW + timedelta(days=90, seconds=1), tick=False):
        response = _whoami(secret)

    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "expired"
    assert "expired at 2026-06-30 12:00 UTC" in body["detail"]


@pytest.mark.parametrize("bad", ["90", "ninety days", "0d", "-3d", "5y"])
def test_a_malformed_expiry_is_refused_and_no_key_is_made(team, bad):
    with pytest.raises(CommandError, match="90d, 12h or 2w"):
        call_command("create_api_key", "--team", team.slug, expires_in=bad, stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_a_key_without_expiry_keeps_working(team):
    _key, secret = apikey_create(team=team, name="ci", scopes="read")
    with time_machine.travel(NOW + timedelta(days=3650), tick=False):
        assert _whoami(secret).status_code == 200


def test_an_expired_key_is_not_mistaken_for_an_unknown_one(team):
    with time_machine.travel(NOW, tick=False):
        _key, secret = apikey_create(team=team, name="ci", scopes="read", expires_at=NOW + timedelta(hours=1))
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        expired = _whoami(secret)
        unknown = _whoami(secret[:-4] + "abcd")
    assert (expired.status_code, expired.json()["error"]) == (401, "expired")
    assert (unknown.status_code, unknown.json()["error"]) == (401, "unauthorized")


def test_the_admin_sets_an_expiry_and_lists_last_use_and_expiry(team):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            "/admin/contracts/apikey/add/",
            {
                "team": team.pk,
                "name": "ci",
                "scopes": '["read"]',
                "expires_at_0": "2026-04-15",
                "expires_at_1": "09:00:00",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        key = ApiKey.objects.get(name="ci")
        assert key.expires_at == datetime(2026, 4, 15, 9, 0, tzinfo=UTC)
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=NOW - timedelta(hours=3))
        listing = client.get("/admin/contracts/apikey/").content.decode()
    assert "Last used at" in listing and "Expires at" in listing
    assert "April 15, 2026, 9 a.m." in listing and "April 1, 2026, 9 a.m." in listing
    assert "active" in listing
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        later = client.get("/admin/contracts/apikey/").content.decode()
    assert "expired" in later
