"""The ownership API: a team allows a project's models to name it as owner (only that team, or
an admin key), and asset transfers are asked, accepted or declined through the API."""

from __future__ import annotations

import pytest
from django.test import Client

from contracts.factories import AssetFactory, ContractVersionFactory, ProjectFactory, TeamFactory, api_key_for
from contracts.models import Asset, AssetTransfer


def client_for(team, scopes: str = "read,write") -> Client:
    _key, secret = api_key_for(team, scopes=scopes, name=f"{team.slug}-{scopes}")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def setup(db):
    platform, finance = TeamFactory(slug="data-platform"), TeamFactory(slug="finance-analytics")
    core = ProjectFactory(name="core", owner_team=platform)
    ProjectFactory(name="finance", owner_team=finance)
    asset = AssetFactory(project=core, name="fct_revenue")
    ContractVersionFactory(asset=asset)
    return platform, finance, asset, client_for(platform), client_for(finance)


def test_the_named_team_allows_owning_assets_of_a_project(setup):
    _platform, _finance, _asset, platform_api, finance_api = setup

    refused = platform_api.put("/api/v1/projects/core/owner-teams/finance-analytics")
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert "finance-analytics" in refused.json()["detail"]

    allowed = finance_api.put("/api/v1/projects/core/owner-teams/finance-analytics")
    assert allowed.status_code == 200
    assert allowed.json() == {
        "name": "core",
        "owner_team": "data-platform",
        "allowed_owner_teams": ["finance-analytics"],
        "last_synced_at": None,
    }
    assert finance_api.get("/api/v1/projects/core").json()["allowed_owner_teams"] == ["finance-analytics"]
    kinds = [e["kind"] for e in finance_api.get("/api/v1/events?kind=project").json()["results"]]
    assert kinds == ["project.owner_consent_granted"]

    withdrawn = finance_api.delete("/api/v1/projects/core/owner-teams/finance-analytics")
    assert withdrawn.status_code == 200 and withdrawn.json()["allowed_owner_teams"] == []


def test_a_read_key_cannot_give_consent(setup):
    _platform, finance, *_ = setup
    response = client_for(finance, "read").put("/api/v1/projects/core/owner-teams/finance-analytics")
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/projects/nope/owner-teams/finance-analytics", "/api/v1/projects/core/owner-teams/nobody"],
)
def test_unknown_project_or_team_is_a_json_404(setup, path):
    *_, finance_api = setup
    response = finance_api.put(path)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_a_transfer_through_the_api_moves_the_asset_only_once_accepted(setup):
    platform, finance, asset, platform_api, finance_api = setup

    asked = finance_api.post(
        f"/api/v1/assets/{asset.relation}/transfers",
        {"to_team": "finance-analytics", "to_project": "finance", "note": "we build it now"},
        content_type="application/json",
    )
    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert (body["status"], body["waiting_for"], body["from_team"], body["to_project"]) == (
        "requested",
        "data-platform",
        "data-platform",
        "finance",
    )
    assert Asset.objects.get(pk=asset.pk).owner_team_id == platform.pk

    again = finance_api.post(
        f"/api/v1/assets/{asset.pk}/transfers",
        {"to_team": "finance-analytics", "to_project": "finance"},
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["error"] == "transfer_pending"
    own_accept = finance_api.post(f"/api/v1/transfers/{body['id']}/accept")
    assert own_accept.status_code == 403
    assert Asset.objects.get(pk=asset.pk).owner_team_id == platform.pk

    accepted = platform_api.post(f"/api/v1/transfers/{body['id']}/accept")

    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    moved = Asset.objects.get(pk=asset.pk)
    assert (moved.owner_team_id, moved.project.name) == (finance.pk, "finance")
    assert finance_api.get(f"/api/v1/assets/{asset.pk}").json()["team"] == "finance-analytics"
    kinds = {e["kind"] for e in finance_api.get(f"/api/v1/events?asset={asset.pk}").json()["results"]}
    assert {"asset.transfer_requested", "asset.transfer_accepted", "asset.transferred"} <= kinds
    closed = platform_api.post(f"/api/v1/transfers/{body['id']}/decline", {}, content_type="application/json")
    assert closed.status_code == 409 and closed.json()["error"] == "transfer_closed", closed.content


def test_a_declined_transfer_leaves_the_asset_where_it_was(setup):
    platform, _finance, asset, platform_api, finance_api = setup
    offered = platform_api.post(
        f"/api/v1/assets/{asset.pk}/transfers",
        {"to_team": "finance-analytics", "to_project": "finance"},
        content_type="application/json",
    ).json()
    assert offered["waiting_for"] == "finance-analytics"

    declined = finance_api.post(
        f"/api/v1/transfers/{offered['id']}/decline", {"reason": "not ours"}, content_type="application/json"
    )

    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert Asset.objects.get(pk=asset.pk).owner_team_id == platform.pk
    listed = finance_api.get("/api/v1/transfers?team=finance-analytics").json()["items"]
    assert [t["status"] for t in listed] == ["declined"]


def test_bad_transfer_input_is_a_clear_4xx_and_changes_nothing(setup):
    *_, asset, _platform_api, finance_api = setup
    for body, status in (
        ({"to_team": "nobody"}, 404),
        ({"to_team": "finance-analytics", "to_project": "nope"}, 404),
        ({"to_team": "data-platform"}, 400),
        ({}, 422),
    ):
        response = finance_api.post(
            f"/api/v1/assets/{asset.pk}/transfers", body, content_type="application/json"
        )
        assert response.status_code == status, (body, response.content)
        assert set(response.json()) >= {"error", "detail"}
    assert finance_api.get("/api/v1/transfers?status=bogus").status_code == 400
    assert not AssetTransfer.objects.exists()
