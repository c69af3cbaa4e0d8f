"""Consumer registrations through the API and the service: who may add or remove, and the rules."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from contracts.factories import AssetFactory, ProjectFactory, RegistrationFactory, TeamFactory, api_key_for
from contracts.models import Asset, Event, Registration, Team
from contracts.services.registrations import registration_add, registration_remove
from tessera_site.lib.errors import Conflict

pytestmark = pytest.mark.django_db

URL = "/api/v1/assets/core.main.dim_customers/registrations"


@dataclass
class Teams:
    owner: Team
    consumer: Team
    stranger: Team
    asset: Asset


def client_for(team: Team, scopes: str = "read,write") -> Client:
    _, secret = api_key_for(team, scopes=scopes, name=f"{team.slug}-{scopes}")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def teams() -> Teams:
    owner = TeamFactory(slug="data-platform")
    project = ProjectFactory(name="core", owner_team=owner)
    asset = AssetFactory(project=project, name="dim_customers")
    return Teams(owner, TeamFactory(slug="marketing-analytics"), TeamFactory(slug="sales-ops"), asset)


def test_a_team_registers_itself_as_consumer(teams: Teams) -> None:
    client = client_for(teams.consumer)
    response = client.post(URL, {"purpose": "weekly campaign report"}, content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["team"], body["origin"], body["created"]) == ("marketing-analytics", "manual", True)
    registration = Registration.objects.get(asset=teams.asset, team=teams.consumer)
    assert registration.purpose == "weekly campaign report"
    event = Event.objects.get(kind="registration.added")
    assert event.team == teams.consumer
    assert event.asset == teams.asset
    assert event.actor_api_key is not None
    assert event.payload["origin"] == "manual"

    listed = client.get(URL).json()
    assert [(r["team"], r["origin"]) for r in listed] == [("marketing-analytics", "manual")]


def test_registering_twice_is_harmless(teams: Teams) -> None:
    client = client_for(teams.consumer)
    client.post(URL, {"team": "marketing-analytics"}, content_type="application/json")
    again = client.post(
        URL, {"team": "marketing-analytics", "purpose": "now documented"}, content_type="application/json"
    )
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert Registration.objects.filter(asset=teams.asset).count() == 1
    assert Registration.objects.get(asset=teams.asset).purpose == "now documented"
    assert Event.objects.filter(kind="registration.added").count() == 1


def test_a_key_cannot_register_another_team(teams: Teams) -> None:
    response = client_for(teams.stranger).post(
        URL, {"team": "marketing-analytics"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert not Registration.objects.exists()
    assert not Event.objects.filter(kind="registration.added").exists()


def test_an_admin_key_of_another_team_still_cannot_register_for_it(teams: Teams) -> None:
    response = client_for(teams.stranger, "admin").post(
        URL, {"team": "marketing-analytics"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not Registration.objects.exists()


def test_the_owner_team_cannot_consume_its_own_asset(teams: Teams) -> None:
    response = client_for(teams.owner).post(URL, {}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"] == "self_consumption"
    assert "never a consumer of its own asset" in response.json()["detail"]
    assert not Registration.objects.exists()


def test_registration_needs_write_scope(teams: Teams) -> None:
    response = client_for(teams.consumer, "read").post(URL, {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert not Registration.objects.exists()


def test_registering_an_unknown_team_or_asset_is_404(teams: Teams) -> None:
    client = client_for(teams.consumer)
    assert client.post(URL, {"team": "ghosts"}, content_type="application/json").status_code == 404
    missing = client.post("/api/v1/assets/core.main.nope/registrations", {}, content_type="application/json")
    assert missing.status_code == 404
    assert not Registration.objects.exists()


def test_registering_on_a_retired_asset_is_a_conflict(teams: Teams) -> None:
    Asset.objects.filter(pk=teams.asset.pk).update(status=Asset.Status.RETIRED)
    response = client_for(teams.consumer).post(URL, {}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"] == "asset_retired"


def test_malformed_body_is_a_4xx_not_a_500(teams: Teams) -> None:
    client = client_for(teams.consumer)
    response = client.post(URL, "not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    response = client.post(URL, {"purpose": "x" * 600}, content_type="application/json")
    assert response.status_code == 422
    assert not Registration.objects.exists()


def test_open_demo_mode_must_name_the_team(teams: Teams, settings) -> None:
    settings.TESSERA_OPEN_API = True
    response = Client().post(URL, {}, content_type="application/json")
    assert response.status_code == 422
    assert "Say which team registers" in response.json()["detail"]
    ok = Client().post(URL, {"team": "marketing-analytics"}, content_type="application/json")
    assert ok.status_code == 201


@pytest.mark.parametrize("remover", ["consumer", "owner", "admin"])
def test_the_team_itself_the_owner_or_an_admin_key_may_remove(teams: Teams, remover: str) -> None:
    RegistrationFactory(asset=teams.asset, team=teams.consumer)
    client = {
        "consumer": client_for(teams.consumer),
        "owner": client_for(teams.owner),
        "admin": client_for(teams.stranger, "admin"),
    }[remover]
    response = client.delete(f"{URL}?team=marketing-analytics")
    assert response.status_code == 200, response.json()
    assert response.json() == {"removed": 1}
    assert not Registration.objects.exists()
    event = Event.objects.get(kind="registration.removed")
    assert event.team == teams.consumer
    assert event.payload == {
        "asset": "core.main.dim_customers",
        "team": "marketing-analytics",
        "origin": "manual",
    }


def test_a_stranger_cannot_remove_a_registration(teams: Teams) -> None:
    RegistrationFactory(asset=teams.asset, team=teams.consumer)
    response = client_for(teams.stranger).delete(f"{URL}?team=marketing-analytics")
    assert response.status_code == 403
    assert "only that team, the owner team 'data-platform' or an admin key" in response.json()["detail"]
    assert Registration.objects.count() == 1
    assert not Event.objects.filter(kind="registration.removed").exists()


def test_removing_a_missing_manual_registration_explains_sync_origins(teams: Teams) -> None:
    RegistrationFactory(asset=teams.asset, team=teams.consumer, origin=Registration.Origin.LINEAGE)
    client = client_for(teams.consumer)
    response = client.delete(URL)
    assert response.status_code == 404
    assert response.json()["error"] == "not_registered"
    assert "origin lineage, which the sync maintains" in response.json()["detail"]
    assert Registration.objects.count() == 1

    forced = client.delete(f"{URL}?origin=lineage")
    assert forced.status_code == 200
    assert not Registration.objects.exists()


def test_removing_with_an_unknown_origin_is_422(teams: Teams) -> None:
    response = client_for(teams.consumer).delete(f"{URL}?origin=telepathy")
    assert response.status_code == 422


def test_service_refuses_self_consumption_for_every_origin(teams: Teams) -> None:
    for origin in Registration.Origin.values:
        with pytest.raises(Conflict):
            registration_add(asset=teams.asset, team=teams.owner, origin=origin)
    assert not Registration.objects.exists()


def test_service_keeps_one_row_per_team_and_origin(teams: Teams) -> None:
    first, created = registration_add(asset=teams.asset, team=teams.consumer, origin="explicit", purpose="a")
    second, created_again = registration_add(asset=teams.asset, team=teams.consumer, origin="explicit")
    lineage, _ = registration_add(asset=teams.asset, team=teams.consumer, origin="lineage")
    assert (created, created_again) == (True, False)
    assert first.pk == second.pk != lineage.pk
    assert registration_remove(asset=teams.asset, team=teams.consumer, origin="explicit") == 1
    assert list(Registration.objects.values_list("origin", flat=True)) == ["lineage"]
