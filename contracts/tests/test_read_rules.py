"""One read rule for the API and the dashboard: a signed-in member of team B sees in the dashboard
exactly what the API shows team B's read key, on the same data (audit history, result uploads,
proposals, the audit log)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from audits.models import ResultUpload
from contracts.factories import (
    AssetFactory,
    ContractVersionFactory,
    ProjectFactory,
    ProposalFactory,
    RegistrationFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
    api_key_for,
)
from contracts.models import Asset, Event, Proposal


@dataclass
class World:
    theirs: Asset  # data-platform's, marketing does not use it
    used: Asset  # finance's, marketing is a registered consumer
    own: Asset  # marketing's own
    uploads: dict[str, ResultUpload]
    proposals: list[Proposal]
    api: Client  # marketing's read key
    dashboard: Client  # a marketing member, signed in


def _failing_run(owner_secret: str, asset: Asset, run_id: str) -> None:
    payload = {
        "status": "failed",
        "triggered_by": "ci",
        "guarantees_checked": 2,
        "guarantees_passed": 1,
        "guarantees_failed": 1,
        "run_id": run_id,
        "results": [{"check": "row count", "status": "fail", "failing_rows": 3}],
    }
    response = Client().post(
        f"/api/v1/assets/{asset.pk}/audit-results",
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {owner_secret}",
    )
    assert response.status_code == 201, response.content


def _upload(team, name: str) -> ResultUpload:
    upload = ResultUpload(team=team, original_name=name, actor_label=f"api-key:{team.slug}/ci")
    upload.file.save(name, ContentFile(b"{}"), save=False)
    upload.save()
    return upload


@pytest.fixture
def world(db) -> World:
    platform, marketing, finance = (
        TeamFactory(slug="data-platform"),
        TeamFactory(slug="marketing-analytics"),
        TeamFactory(slug="finance-analytics"),
    )
    secrets = {
        t.slug: api_key_for(t, scopes="read,write", name="ci")[1] for t in (platform, marketing, finance)
    }
    theirs = AssetFactory(project=ProjectFactory(name="core", owner_team=platform), name="dim_customers")
    used = AssetFactory(project=ProjectFactory(name="finance", owner_team=finance), name="fct_revenue")
    own = AssetFactory(project=ProjectFactory(name="marketing", owner_team=marketing), name="campaigns")
    for asset in (theirs, used, own):
        ContractVersionFactory(asset=asset)
    RegistrationFactory(asset=used, team=marketing)
    for n in range(2):
        _failing_run(secrets["data-platform"], theirs, f"core-{n}")
        _failing_run(secrets["finance-analytics"], used, f"fin-{n}")
    _failing_run(secrets["marketing-analytics"], own, "mkt-0")
    uploads = {
        "platform": _upload(platform, "core_run_results.json"),
        "marketing": _upload(marketing, "mkt_gx.json"),
    }
    proposals = [
        ProposalFactory(asset=theirs, required_teams=[finance]),
        ProposalFactory(asset=used, required_teams=[marketing]),
    ]
    _key, read_secret = api_key_for(marketing, scopes="read", name="read-only")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {read_secret}")
    dashboard = Client()
    dashboard.force_login(TeamMembershipFactory(team=marketing, user=UserFactory(username="mia")).user)
    return World(theirs, used, own, uploads, proposals, api, dashboard)


def _api_run_ids(world: World, asset: Asset) -> set[int]:
    response = world.api.get(f"/api/v1/assets/{asset.pk}/audits")
    if response.status_code == 403:
        return set()
    assert response.status_code == 200, response.content
    return {run["id"] for run in response.json()["runs"]}


def _page_run_ids(world: World, asset: Asset) -> set[int]:
    response = world.dashboard.get(f"/assets/{asset.pk}/")
    assert response.status_code == 200
    return {int(n) for n in re.findall(r'id="audit-(\d+)"', response.content.decode())}


def test_audit_history_is_the_same_in_the_dashboard_and_the_api(world):
    for asset in (world.theirs, world.used, world.own):
        assert _page_run_ids(world, asset) == _api_run_ids(world, asset), asset.relation

    assert len(_api_run_ids(world, world.used)) == 2  # a consumer reads it
    assert len(_api_run_ids(world, world.own)) == 1  # the owner reads it
    assert world.api.get(f"/api/v1/assets/{world.theirs.pk}/audits").status_code == 403
    page = world.dashboard.get(f"/assets/{world.theirs.pk}/").content.decode()
    assert 'id="audits-hidden"' in page and "row count" not in page


def test_result_uploads_are_the_same_in_the_dashboard_and_the_api(world):
    statuses = {
        name: (
            world.api.get(f"/api/v1/audit-uploads/{upload.pk}").status_code,
            world.dashboard.get(reverse("result_upload_detail", args=[upload.pk])).status_code,
        )
        for name, upload in world.uploads.items()
    }
    assert statuses == {"platform": (404, 404), "marketing": (200, 200)}


def test_proposals_are_the_same_in_the_dashboard_and_the_api(world):
    listed = {p["id"] for p in world.api.get("/api/v1/proposals?limit=200").json()["items"]}
    assert listed == {p.pk for p in world.proposals}
    for proposal in world.proposals:
        api = world.api.get(f"/api/v1/proposals/{proposal.pk}").status_code
        page = world.dashboard.get(f"/proposals/{proposal.pk}/").status_code
        assert (api, page) == (200, 200)


def test_the_audit_log_is_the_same_in_the_dashboard_and_the_api(world):
    api_ids = {e["id"] for e in world.api.get("/api/v1/events?per_page=500").json()["results"]}
    page = world.dashboard.get("/events/").content.decode()
    page_ids = {int(n) for n in re.findall(r'id="event-(\d+)"', page)}

    assert page_ids == api_ids
    hidden = Event.objects.exclude(pk__in=api_ids)
    # What team B does not see: the failed audits of an asset it neither owns nor uses, and
    # the other teams' API keys. Everything else is the organisation's.
    assert {(e.kind, e.team.slug) for e in hidden} == {
        ("audit.failed", "data-platform"),
        ("apikey.created", "data-platform"),
        ("apikey.created", "finance-analytics"),
    }
    visible_audits = Event.objects.filter(pk__in=api_ids, kind="audit.failed")
    assert {e.asset_id for e in visible_audits} == {world.used.pk, world.own.pk}


def test_a_superuser_and_an_admin_key_both_read_everything(world):
    root = Client()
    root.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    _key, admin_secret = api_key_for(TeamFactory(slug="platform-admins"), scopes="read,admin", name="admin")
    admin = Client(HTTP_AUTHORIZATION=f"Bearer {admin_secret}")

    api_ids = {e["id"] for e in admin.get("/api/v1/events?per_page=500").json()["results"]}
    page_ids = {int(n) for n in re.findall(r'id="event-(\d+)"', root.get("/events/").content.decode())}
    assert page_ids == api_ids == set(Event.objects.values_list("pk", flat=True))
    assert admin.get(f"/api/v1/assets/{world.theirs.pk}/audits").status_code == 200
    assert admin.get(f"/api/v1/audit-uploads/{world.uploads['platform'].pk}").status_code == 200
