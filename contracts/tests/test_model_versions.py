"""Model versions on the demo's real manifests (real dbt builds): core's dim_products has v1
(deprecated, at the model's old relation) and v2 (latest); marketing reads v1 through its source.
Each version is an asset with its own contract, grouped as one model; a new version is no change
for the previous one's readers; a deprecated version has a campaign that follows who reads it."""

from __future__ import annotations

import copy
import datetime as dt

import msgspec
import pytest
from django.test import Client

from contracts.ingest.manifest import parse_manifest
from contracts.ingest.manifest_schema import Node
from contracts.ingest.versions import unpinned_refs
from contracts.models import (
    Asset,
    CampaignReader,
    DeprecationCampaign,
    Event,
    LineageEdge,
    Proposal,
    Registration,
    SyncRun,
)
from contracts.services.sync import sync_submit
from contracts.services.teams import team_ensure
from contracts.tasks import sync_run_task
from tessera_site.lib.auth import Actor

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))
V1 = "core.main.dim_products"  # v1 keeps the model's relation from before it was versioned
V2 = "core.main.dim_products_v2"
TEAMS = ("data-platform", "marketing-analytics", "finance-analytics")


def run_sync(manifest: bytes) -> SyncRun:
    run = sync_submit(manifest=manifest, team_slug=None, actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded", SyncRun.objects.get(pk=run.pk).error
    run.refresh_from_db()
    return run


@pytest.fixture
def synced(demo_artifacts):
    for slug in TEAMS:
        team_ensure(slug=slug)
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))
    return demo_artifacts


# --- the parser ------------------------------------------------------------------------------------
def test_the_parser_reads_each_version_with_its_latest_version_and_deprecation_date(demo_artifacts):
    parsed = parse_manifest(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    by_id = {a.unique_id: a for a in parsed.assets}
    v1, v2 = by_id["model.core.dim_products.v1"], by_id["model.core.dim_products.v2"]

    assert (v1.version, v1.latest_version, v1.relation) == ("1", "2", V1)
    assert (v2.version, v2.latest_version, v2.relation) == ("2", "2", V2)
    assert v1.deprecation_date == "2036-06-30" and v2.deprecation_date == ""
    assert "unit_price" in [c.name for c in v1.contract.columns]
    assert "list_price" in [c.name for c in v2.contract.columns] and "unit_price" not in [
        c.name for c in v2.contract.columns
    ]
    assert by_id["model.core.dim_customers"].version is None
    assert by_id["model.core.dim_customers"].latest_version is None


def _node(entry: dict) -> Node:
    """A manifest's node as the parser reads it (contracts.ingest.manifest_schema)."""
    return msgspec.convert(entry, Node)


def test_an_unpinned_ref_follows_the_latest_version_and_a_pinned_one_does_not(demo_artifacts):
    # core's singular test refs dim_products without a version: dbt resolved it to v2, the latest.
    manifest = demo_artifacts.load(demo_artifacts.manifests["core"])
    node = manifest["nodes"]["test.core.assert_dim_products_inactive_have_price"]
    assert node["depends_on"]["nodes"] == ["model.core.dim_products.v2"]
    assert unpinned_refs(_node(node)) == ["model.core.dim_products.v2"]

    pinned = copy.deepcopy(node)
    pinned["refs"] = [{"name": "dim_products", "package": None, "version": 2}]
    assert unpinned_refs(_node(pinned)) == []
    both = copy.deepcopy(node)
    both["refs"] = [
        {"name": "dim_products", "package": None, "version": 1},
        {"name": "dim_products", "package": None, "version": None},
    ]
    both["depends_on"]["nodes"] = ["model.core.dim_products.v1", "model.core.dim_products.v2"]
    assert unpinned_refs(_node(both)) == ["model.core.dim_products.v2"]


# --- assets ----------------------------------------------------------------------------------------
def test_the_two_versions_are_two_assets_of_one_model(synced):
    v1, v2 = Asset.objects.get(relation=V1), Asset.objects.get(relation=V2)

    assert (v1.name, v1.model_version, v1.unique_id) == ("dim_products", "1", "model.core.dim_products.v1")
    assert (v2.name, v2.model_version, v2.unique_id) == ("dim_products", "2", "model.core.dim_products.v2")
    assert not v1.is_latest and v2.is_latest
    assert v1.deprecation_date == dt.date(2036, 6, 30) and v2.deprecation_date is None
    assert v1.active_version.pk != v2.active_version.pk  # each its own contract
    assert "unit_price" in [c["name"] for c in v1.active_version.columns]
    assert "list_price" in [c["name"] for c in v2.active_version.columns]


def test_marketings_pinned_read_links_to_v1_only(synced):
    v1, v2 = Asset.objects.get(relation=V1), Asset.objects.get(relation=V2)
    catalogue = Asset.objects.get(relation="marketing.main.int_product_catalogue")

    assert LineageEdge.objects.filter(upstream=v1, downstream=catalogue).exists()
    assert not LineageEdge.objects.filter(
        upstream=v2, downstream__owner_team__slug="marketing-analytics"
    ).exists()
    assert Registration.objects.filter(asset=v1, team__slug="marketing-analytics").exists()
    assert not Registration.objects.filter(asset=v2, team__slug="marketing-analytics").exists()


def test_adding_v2_opens_no_proposal_for_v1s_readers(demo_artifacts):
    """core had only v1 (v2 taken out of its manifest), marketing read it; then core adds v2."""
    for slug in TEAMS:
        team_ensure(slug=slug)
    core = demo_artifacts.load(demo_artifacts.manifests["core"])
    only_v1 = copy.deepcopy(core)
    for uid in [u for u in only_v1["nodes"] if u.startswith("model.core.dim_products.v2")]:
        del only_v1["nodes"][uid]
    for uid, node in list(only_v1["nodes"].items()):
        if "model.core.dim_products.v2" in (node.get("depends_on") or {}).get("nodes", []):
            del only_v1["nodes"][uid]  # v2's tests, and core's test of the latest version
    only_v1["nodes"]["model.core.dim_products.v1"]["latest_version"] = 1
    import orjson

    run_sync(orjson.dumps(only_v1))
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))
    v1_contract = Asset.objects.get(relation=V1).active_version_id

    run = run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))

    v1 = Asset.objects.get(relation=V1)
    assert v1.active_version_id == v1_contract  # v1 is unchanged: its readers have nothing to answer
    assert v1.latest_version == "2" and not v1.is_latest
    assert run.summary["proposals_opened"] == 0
    assert not Proposal.objects.exists()
    assert Asset.objects.get(relation=V2).is_latest


# --- the campaign ----------------------------------------------------------------------------------
def test_the_campaign_lists_marketing_still_reading_v1_and_is_done_once_it_moved(synced):
    campaign = DeprecationCampaign.objects.get(asset__relation=V1)
    assert campaign.status == DeprecationCampaign.Status.OPEN
    assert campaign.deprecation_date == dt.date(2036, 6, 30)
    reader = CampaignReader.objects.get(campaign=campaign)
    assert (reader.team.slug, reader.moved_at, reader.via) == ("marketing-analytics", None, "lineage")
    assert not DeprecationCampaign.objects.filter(asset__relation=V2).exists()

    run_sync(synced.read_bytes(synced.marketing_products_v2_manifest))  # marketing reads v2 now

    campaign.refresh_from_db()
    reader.refresh_from_db()
    assert campaign.status == DeprecationCampaign.Status.DONE and campaign.done_at is not None
    assert reader.moved_at is not None
    catalogue = Asset.objects.get(relation="marketing.main.int_product_catalogue")
    assert LineageEdge.objects.filter(upstream__relation=V2, downstream=catalogue).exists()


def test_removing_v1_while_marketing_still_reads_it_asks_marketing(synced):
    run = run_sync(synced.read_bytes(synced.core_products_v1_removed_manifest))

    v1 = Asset.objects.get(relation=V1)
    assert v1.status == Asset.Status.ACTIVE  # not retired until marketing acknowledges
    proposal = Proposal.objects.get(asset=v1, status__in=Proposal.OPEN_STATUSES)
    assert proposal.relation_change["kind"] == "removed"
    assert list(proposal.required_teams.values_list("slug", flat=True)) == ["marketing-analytics"]
    assert run.summary["proposals_opened"] == 1
    assert DeprecationCampaign.objects.get(asset=v1).status == DeprecationCampaign.Status.OPEN


def test_once_marketing_moved_to_v2_its_lineage_registration_on_v1_goes_and_removing_v1_asks_nobody(synced):
    v1 = Asset.objects.get(relation=V1)
    marketing_on_v1 = Registration.objects.filter(asset=v1, team__slug="marketing-analytics")
    assert list(marketing_on_v1.values_list("origin", flat=True)) == ["lineage"]

    moved = run_sync(synced.read_bytes(synced.marketing_products_v2_manifest))  # marketing reads v2 now

    assert not marketing_on_v1.exists()
    assert Registration.objects.filter(
        asset__relation=V2, team__slug="marketing-analytics", origin="lineage"
    ).exists()
    assert moved.summary["registrations_removed"] == 1
    event = Event.objects.get(kind="registration.removed", asset=v1)
    assert event.payload == {"team": "marketing-analytics", "origin": "lineage", "relation": V1}
    assert DeprecationCampaign.objects.get(asset=v1).status == DeprecationCampaign.Status.DONE

    removed = run_sync(synced.read_bytes(synced.core_products_v1_removed_manifest))

    assert removed.summary["proposals_opened"] == 0
    assert not Proposal.objects.filter(asset=v1).exists()
    assert not Proposal.objects.filter(required_teams__slug="marketing-analytics").exists()


def test_the_api_groups_versions_as_one_model_and_lists_the_campaign(synced, admin_client_api):
    versions = admin_client_api.get(f"/api/v1/assets/{V1}/model-versions").json()
    assert [(a["relation"], a["model_version"], a["is_latest"]) for a in versions] == [
        (V2, "2", True),
        (V1, "1", False),
    ]
    assert {a["model_name"] for a in versions} == {"dim_products"}
    detail = admin_client_api.get(f"/api/v1/assets/{V1}").json()
    assert (detail["model_name"], detail["deprecation_date"]) == ("dim_products", "2036-06-30")

    campaigns = admin_client_api.get("/api/v1/deprecations").json()
    assert len(campaigns) == 1
    campaign = campaigns[0]
    assert campaign["asset"]["relation"] == V1 and campaign["latest"]["relation"] == V2
    assert [r["team"] for r in campaign["still_reading"]] == ["marketing-analytics"]
    assert campaign["still_reading"][0]["models"] == ["int_product_catalogue"]
    assert (campaign["moved_count"], campaign["readers_total"]) == (0, 1)
    assert admin_client_api.get(f"/api/v1/deprecations/{campaign['id']}").json()["id"] == campaign["id"]
    missing = admin_client_api.get("/api/v1/deprecations/999999")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert admin_client_api.get("/api/v1/deprecations?status=nonsense").status_code == 422


@pytest.fixture
def admin_client_api(db):
    from contracts.factories import api_key_for

    team, _ = team_ensure(slug="data-platform")
    _, secret = api_key_for(team, scopes="read,write,admin", name="admin")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_the_pages_need_a_login_and_an_unknown_campaign_is_a_404(synced, client, django_user_model):
    campaign = DeprecationCampaign.objects.get(asset__relation=V1)
    assert client.get("/deprecations/").status_code == 302  # to the login page
    assert client.get(f"/deprecations/{campaign.pk}/").status_code == 302

    client.force_login(django_user_model.objects.create_user("stranger", "stranger@example.com"))
    listing = client.get("/deprecations/")
    assert listing.status_code == 200 and b"dim_products_v1" in listing.content
    detail = client.get(f"/deprecations/{campaign.pk}/")
    assert detail.status_code == 200 and b"marketing-analytics" in detail.content
    assert client.get("/deprecations/999999/").status_code == 404
    page = client.get(f"/assets/{campaign.asset_id}/")
    assert b'id="deprecation"' in page.content and b'id="model-versions"' in page.content
