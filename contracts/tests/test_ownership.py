"""Ownership changes only on purpose: a team's consent to own assets of a project, and transfers
asked by one team and accepted by the other (or done by an admin), each recorded as events."""

from __future__ import annotations

import pytest
from django.test import Client

from contracts.factories import (
    AssetFactory,
    ContractVersionFactory,
    ProjectFactory,
    RegistrationFactory,
    TeamFactory,
    UserFactory,
)
from contracts.models import Asset, AssetTransfer, Event, ProjectOwnerConsent
from contracts.services.ownership import (
    asset_transfer_accept,
    asset_transfer_decline,
    asset_transfer_request,
    project_consent_grant,
    project_consent_revoke,
    team_may_own_in,
)
from tessera_site.lib.auth import Actor
from tessera_site.lib.errors import Conflict, InvalidInput, PermissionDenied


@pytest.fixture
def teams(db):
    return (
        TeamFactory(slug="data-platform"),
        TeamFactory(slug="finance-analytics"),
        TeamFactory(slug="marketing"),
    )


def _as_key(team, *scopes: str) -> Actor:
    # A real ApiKey row, so Actor.is_admin reads its scopes the way the API does.
    from contracts.factories import api_key_for
    from tessera_site.lib.auth import actor_for_key

    key, _ = api_key_for(
        team, scopes=",".join(scopes or ("read", "write")), name=f"k-{len(scopes)}-{team.slug}"
    )
    return actor_for_key(key)


def test_only_the_named_team_or_an_admin_gives_consent(teams):
    core, finance, marketing = teams
    project = ProjectFactory(name="core", owner_team=core)

    with pytest.raises(PermissionDenied) as refused:
        project_consent_grant(project=project, team=finance, actor=_as_key(core))  # the syncing team
    assert "finance-analytics" in refused.value.detail
    assert not team_may_own_in(team=finance, project=project)

    project_consent_grant(project=project, team=finance, actor=_as_key(finance))
    project_consent_grant(project=project, team=finance, actor=_as_key(finance))  # twice: no change
    assert team_may_own_in(team=finance, project=project)
    assert ProjectOwnerConsent.objects.filter(project=project).count() == 1
    assert Event.objects.filter(kind="project.owner_consent_granted", team=finance).count() == 1

    project_consent_grant(project=project, team=marketing, actor=_as_key(core, "admin"))
    assert team_may_own_in(team=marketing, project=project)

    assert project_consent_revoke(project=project, team=finance, actor=_as_key(finance))
    assert not team_may_own_in(team=finance, project=project)
    assert Event.objects.filter(kind="project.owner_consent_revoked").count() == 1


def test_a_transfer_moves_the_asset_only_after_the_other_team_accepts(teams):
    core, finance, _ = teams
    core_project = ProjectFactory(name="core", owner_team=core)
    finance_project = ProjectFactory(name="finance", owner_team=finance)
    asset = AssetFactory(project=core_project, name="revenue")
    version = ContractVersionFactory(asset=asset)
    RegistrationFactory(asset=asset, team=finance)

    transfer = asset_transfer_request(
        asset=asset,
        to_team=finance,
        to_project=finance_project,
        actor=_as_key(finance),
        note="we build it now",
    )
    asset.refresh_from_db()
    assert transfer.status == "requested" and transfer.answering_team_id == core.pk
    assert (asset.owner_team_id, asset.project_id) == (core.pk, core_project.pk)  # not yet

    with pytest.raises(PermissionDenied) as not_theirs:
        asset_transfer_accept(transfer=transfer, actor=_as_key(finance))  # the asking team cannot accept
    assert "data-platform" in not_theirs.value.detail
    asset.refresh_from_db()
    assert asset.owner_team_id == core.pk

    asset_transfer_accept(transfer=transfer, actor=_as_key(core))

    asset.refresh_from_db()
    assert (asset.owner_team_id, asset.project_id) == (finance.pk, finance_project.pk)
    assert asset.active_version_id == version.pk  # the contract history moves with it
    assert not asset.registrations.filter(team=finance).exists()  # never a consumer of itself
    kinds = list(Event.objects.filter(asset=asset).order_by("id").values_list("kind", flat=True))
    assert kinds == ["asset.transfer_requested", "asset.transfer_accepted", "asset.transferred"]
    moved = Event.objects.get(kind="asset.transferred")
    assert moved.payload["from_team"] == "data-platform" and moved.payload["to_project"] == "finance"

    with pytest.raises(Conflict):
        asset_transfer_accept(transfer=transfer, actor=_as_key(core))


def test_a_declined_or_cancelled_transfer_moves_nothing(teams):
    core, finance, _ = teams
    project = ProjectFactory(name="core", owner_team=core)
    project_consent_grant(project=project, team=finance, actor=_as_key(finance))
    asset = AssetFactory(project=project)

    offered = asset_transfer_request(asset=asset, to_team=finance, actor=_as_key(core))
    with pytest.raises(Conflict) as pending:
        asset_transfer_request(asset=asset, to_team=finance, actor=_as_key(finance))
    assert f"#{offered.pk}" in pending.value.detail
    declined = asset_transfer_decline(transfer=offered, actor=_as_key(finance), reason="not ours")
    assert declined.status == "declined"

    asked = asset_transfer_request(asset=asset, to_team=finance, actor=_as_key(finance))
    cancelled = asset_transfer_decline(transfer=asked, actor=_as_key(finance))
    assert cancelled.status == "cancelled"

    asset.refresh_from_db()
    assert asset.owner_team_id == core.pk
    assert not Event.objects.filter(kind="asset.transferred").exists()


def test_a_stranger_can_neither_ask_nor_answer(teams):
    core, finance, marketing = teams
    project = ProjectFactory(name="core", owner_team=core)
    project_consent_grant(project=project, team=finance, actor=_as_key(finance))
    asset = AssetFactory(project=project)

    with pytest.raises(PermissionDenied):
        asset_transfer_request(asset=asset, to_team=finance, actor=_as_key(marketing))
    transfer = asset_transfer_request(asset=asset, to_team=finance, actor=_as_key(finance))
    with pytest.raises(PermissionDenied):
        asset_transfer_accept(transfer=transfer, actor=_as_key(marketing))
    with pytest.raises(PermissionDenied):
        asset_transfer_decline(transfer=transfer, actor=_as_key(marketing))
    assert AssetTransfer.objects.get(pk=transfer.pk).status == "requested"


def test_a_team_must_allow_owning_assets_in_a_project_before_receiving_one(teams):
    core, finance, _ = teams
    project = ProjectFactory(name="core", owner_team=core)
    asset = AssetFactory(project=project)

    with pytest.raises(InvalidInput) as refused:
        asset_transfer_request(asset=asset, to_team=finance, actor=_as_key(core))
    assert refused.value.code == "owner_not_allowed" and "finance-analytics" in refused.value.detail
    assert not AssetTransfer.objects.exists()


def test_an_admin_transfer_takes_effect_at_once(teams):
    core, finance, marketing = teams
    project = ProjectFactory(name="core", owner_team=core)
    finance_project = ProjectFactory(name="finance", owner_team=finance)
    asset = AssetFactory(project=project)

    transfer = asset_transfer_request(
        asset=asset, to_team=finance, to_project=finance_project, actor=_as_key(marketing, "admin")
    )

    assert transfer.status == "accepted"
    asset.refresh_from_db()
    assert (asset.owner_team_id, asset.project_id) == (finance.pk, finance_project.pk)
    assert Event.objects.filter(kind="asset.transferred", asset=asset).exists()


def test_changing_the_owner_in_the_admin_is_a_recorded_transfer(teams):
    core, finance, _ = teams
    project = ProjectFactory(name="core", owner_team=core)
    finance_project = ProjectFactory(name="finance", owner_team=finance)
    asset = AssetFactory(project=project)
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    form = {
        "owner_team": finance.pk,
        "project": finance_project.pk,
        "compatibility_mode": "backward",
        "status": "active",
        "proposal_deadline_days": 14,
        "description": "",
    }

    response = client.post(f"/admin/contracts/asset/{asset.pk}/change/", form)

    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.owner_team_id, asset.project_id) == (finance.pk, finance_project.pk)
    event = Event.objects.get(kind="asset.transferred", asset=asset)
    assert event.actor_label == "user:root"


def test_the_admin_refuses_an_owner_the_project_does_not_allow(teams):
    core, finance, _ = teams
    project = ProjectFactory(name="core", owner_team=core)
    asset = AssetFactory(project=project)
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    form = {
        "owner_team": finance.pk,
        "project": project.pk,
        "compatibility_mode": "backward",
        "status": "active",
        "proposal_deadline_days": 14,
        "description": "",
    }

    response = client.post(f"/admin/contracts/asset/{asset.pk}/change/", form, follow=True)

    assert "has not allowed owning assets" in response.content.decode()
    assert Asset.objects.get(pk=asset.pk).owner_team_id == core.pk


def test_the_project_admin_keeps_the_list_of_allowed_teams(teams):
    core, finance, _ = teams
    project = ProjectFactory(name="core", owner_team=core)
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    form = {
        "name": "core",
        "owner_team": core.pk,
        "last_manifest_hash": "",
        "created_at_0": "2026-01-05",
        "created_at_1": "10:00:00",
        "last_synced_at_0": "",
        "last_synced_at_1": "",
        "owner_consents-TOTAL_FORMS": "1",
        "owner_consents-INITIAL_FORMS": "0",
        "owner_consents-MIN_NUM_FORMS": "0",
        "owner_consents-MAX_NUM_FORMS": "1000",
        "owner_consents-0-team": finance.pk,
    }

    response = client.post(f"/admin/contracts/project/{project.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:3000]
    consent = ProjectOwnerConsent.objects.get(project=project)
    assert consent.team == finance and consent.granted_by == "user:root"
    assert Event.objects.filter(kind="project.owner_consent_granted", team=finance).exists()
