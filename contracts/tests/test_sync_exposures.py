"""dbt exposures, groups and model access through the sync, on the real builds of the demo and on
public manifests (issue #19)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from contracts.models import Asset, DbtGroup, Exposure, Proposal, Registration, Team
from contracts.services.sync import sync_submit
from contracts.services.teams import team_ensure
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.auth import Actor

FIXTURES = Path(__file__).parent / "fixtures"
OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))
EXPOSURE = Registration.Origin.EXPOSURE


def run_sync(manifest: bytes, *, team: str | None = None):
    run = sync_submit(manifest=manifest, catalog=None, team_slug=team, actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded", run.error if hasattr(run, "error") else run
    run.refresh_from_db()
    return run


def without(manifest: bytes, section: str) -> bytes:
    doc = orjson.loads(manifest)
    doc[section] = {}
    return orjson.dumps(doc)


@pytest.fixture
def demo(db, demo_artifacts):
    runs = {
        p: run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests[p]))
        for p in ("core", "marketing", "finance")
    }
    return runs


def registered(relation: str, origin: str) -> set[str]:
    return set(
        Registration.objects.filter(asset__relation=relation, origin=origin).values_list(
            "team__slug", flat=True
        )
    )


def test_the_revenue_dashboard_is_a_consumer_of_what_it_reads_directly_and_through_models(demo):
    exposure = Exposure.objects.get(unique_id="exposure.finance.revenue_dashboard")

    assert (exposure.team.slug, exposure.type, exposure.maturity) == (
        "finance-analytics",
        "dashboard",
        "high",
    )
    assert exposure.url == "https://bi.example.com/dashboards/revenue"
    assert (exposure.owner_name, exposure.owner_email) == (
        "Finance Analytics",
        "finance-analytics@example.com",
    )
    direct = set(exposure.links.filter(direct=True).values_list("asset__relation", flat=True))
    assert direct == {
        "core.main.fct_daily_revenue",
        "core.main.dim_customers",
        "finance.main.fct_pnl_monthly",
    }
    through = set(exposure.links.filter(direct=False).values_list("asset__relation", flat=True))
    assert "finance.main.int_revenue_monthly" in through  # fct_pnl_monthly reads it
    assert registered("core.main.fct_daily_revenue", EXPOSURE) == {"finance-analytics"}
    assert registered("core.main.dim_customers", EXPOSURE) == {"finance-analytics"}
    # finance owns fct_pnl_monthly: its own dashboard makes no registration on it
    assert registered("finance.main.fct_pnl_monthly", EXPOSURE) == set()
    assert demo["finance"].summary["exposures"] == 1
    # the five marts, dim_products in two versions
    assert demo["core"].summary["groups"] == 1 and demo["core"].summary["access"]["public"] == 6


def test_a_removed_exposure_takes_its_registrations_away(demo, demo_artifacts):
    finance = demo_artifacts.read_bytes(demo_artifacts.manifests["finance"])

    run = run_sync(without(finance, "exposures"))

    assert not Exposure.objects.exists()
    assert not Registration.objects.filter(origin=EXPOSURE).exists()
    assert run.summary["registrations_removed"] >= 2
    # the other origins stay: finance still reads fct_daily_revenue through its models
    assert "finance-analytics" in registered("core.main.fct_daily_revenue", Registration.Origin.LINEAGE)
    run_sync(finance)
    assert registered("core.main.fct_daily_revenue", EXPOSURE) == {"finance-analytics"}


def test_core_marts_carry_access_and_group_and_the_group_is_kept(demo):
    dim = Asset.objects.get(relation="core.main.dim_customers")
    staging = Asset.objects.get(relation="core.main.stg_orders")
    group = DbtGroup.objects.get(project__name="core", name="platform")

    assert (dim.access, dim.dbt_group) == ("public", "platform")
    assert (staging.access, staging.dbt_group) == ("protected", "")
    assert group.team.slug == "data-platform" and group.owner_email == "data-platform@example.com"


def test_the_group_owner_owns_a_model_that_names_no_team_before_the_projects_team(db, demo_artifacts):
    team_ensure(slug="marketing-analytics", name="Marketing Analytics")
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]), team="marketing-analytics")

    revenue = Asset.objects.get(relation="core.main.fct_daily_revenue")
    assert revenue.project.owner_team.slug == "marketing-analytics"  # the sync's team claimed the project
    assert revenue.owner_team.slug == "data-platform"  # the platform group's owner, not the project's team


def test_a_group_owner_found_by_a_members_email(db, demo_artifacts):
    from django.contrib.auth import get_user_model

    from contracts.models import TeamMembership

    team, _ = team_ensure(slug="platform-guild", name="Platform guild")
    user = get_user_model().objects.create(username="dp", email="Data-Platform@example.com")
    TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.LEAD)
    doc = orjson.loads(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    doc["groups"]["group.core.platform"]["owner"]["name"] = None  # the email alone names the owner
    run_sync(orjson.dumps(doc))

    assert DbtGroup.objects.get(name="platform").team == team
    assert Asset.objects.get(relation="core.main.fct_daily_revenue").owner_team == team


def test_public_to_private_while_other_projects_read_it_asks_them(demo, demo_artifacts):
    private = demo_artifacts.read_bytes(demo_artifacts.core_private_manifest)

    run = run_sync(private)

    (opened,) = [p for p in run.summary["proposals"] if p["relation"] == "core.main.dim_customers"]
    assert opened["new"] and opened["relation_change"]["kind"] == "access"
    assert opened["required_teams"] == ["finance-analytics", "marketing-analytics"]
    assert "narrows from public to private" in opened["reasons"][0]
    proposal = Proposal.objects.get(pk=opened["proposal"])
    assert proposal.status == Proposal.Status.OPEN
    assert Asset.objects.get(relation="core.main.dim_customers").access == "public"  # until answered
    from contracts.services.proposal_emails import proposal_opened_notify

    subjects = {e.subject for e in proposal_opened_notify(proposal_id=proposal.pk)}
    assert any("dim_customers is no longer public (private)" in subject for subject in subjects)

    again = run_sync(private)
    assert [p["new"] for p in again.summary["proposals"]] == [False]
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN

    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))  # public again
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.WITHDRAWN


def test_reading_another_projects_private_model_is_a_warning(db, demo_artifacts):
    run_sync(demo_artifacts.read_bytes(demo_artifacts.core_private_manifest))  # nobody reads it yet
    assert Asset.objects.get(relation="core.main.dim_customers").access == "private"

    run = run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))

    assert any("core.main.dim_customers, which project 'core' declares private" in w for w in run.warnings)


@pytest.mark.parametrize(
    ("name", "exposures", "groups", "access"),
    [
        (
            "manifest_v12_dbt_core_defer_state_groups.json",
            1,
            2,
            {"public": 1, "protected": 7},
        ),  # + 1 ephemeral
        (
            "manifest_v12_dbt_bouncer_exposures.json",
            2,
            0,
            {"public": 4, "protected": 7},
        ),  # + package models, ephemerals
        ("manifest_v10_dbt_core_state_exposure.json", 1, 0, {"protected": 1}),
        ("manifest_v9_jaffle_shop_dbt1.5.json", 0, 0, None),
    ],
)
def test_public_manifests_sync_with_their_exposures_groups_and_access(db, name, exposures, groups, access):
    team_ensure(slug="shop-platform", name="Shop platform")

    run = run_sync((FIXTURES / name).read_bytes(), team="shop-platform")

    assert (run.summary["exposures"], run.summary["groups"]) == (exposures, groups)
    if access is not None:
        assert run.summary["access"] == access
    assert Exposure.objects.count() == exposures
    assert Team.objects.filter(slug="shop-platform").exists()


def _impact(relation: str, team: str):
    from contracts.models import ProposalImpact

    proposal = Proposal.objects.get(asset__relation=relation, status=Proposal.Status.OPEN)
    return ProposalImpact.objects.get(proposal=proposal, team__slug=team)


def test_a_breaking_change_to_a_model_only_an_exposure_reads_asks_the_exposures_team(demo, demo_artifacts):
    run_sync(
        demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest)
    )  # dim_customers drops country_code

    impact = _impact("core.main.dim_customers", "finance-analytics")
    assert impact.role == impact.Role.REQUIRED
    assert "Revenue dashboard (dashboard exposure)" in impact.reason
    (reader,) = impact.readers
    assert reader["known"] is False and reader["exposure"] == "exposure.finance.revenue_dashboard"
    assert reader["url"] == "https://bi.example.com/dashboards/revenue"


def test_an_exposure_listing_the_columns_it_reads_is_informed_when_they_do_not_change(db, demo_artifacts):
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))
    finance = orjson.loads(demo_artifacts.read_bytes(demo_artifacts.manifests["finance"]))
    dashboard = finance["exposures"]["exposure.finance.revenue_dashboard"]
    dashboard["config"]["meta"]["tessera"]["columns"] = {"dim_customers": ["customer_id", "customer_segment"]}
    run_sync(orjson.dumps(finance))

    run_sync(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))

    impact = _impact("core.main.dim_customers", "finance-analytics")
    assert impact.role == impact.Role.INFORMED
    assert impact.readers[0]["columns"] == {"customer_id": ["exposure"], "customer_segment": ["exposure"]}


def test_the_ci_check_warns_about_reading_another_projects_private_model(db, demo_artifacts):
    from contracts.services.sync.check import sync_check

    run_sync(demo_artifacts.read_bytes(demo_artifacts.core_private_manifest))

    report = sync_check(manifest=demo_artifacts.read_bytes(demo_artifacts.manifests["finance"]), actor=OPEN)

    (warning,) = [w for w in report["warnings"] if "dbt access" in w]
    assert warning.startswith("source.finance.core.dim_customers reads core.main.dim_customers")
    assert "declares private" in warning


def test_fct_daily_revenue_page_shows_the_dashboard_access_and_group(demo, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    client.force_login(get_user_model().objects.create(username="reader"))
    asset = Asset.objects.get(relation="core.main.fct_daily_revenue")

    page = client.get(reverse("asset_detail", args=[asset.pk])).content.decode()

    exposures = page[page.index('id="exposures"') :]
    assert (
        'href="https://bi.example.com/dashboards/revenue"' in exposures and "Revenue dashboard" in exposures
    )
    assert "dashboard · maturity high · project finance" in exposures
    assert "owner Finance Analytics &lt;finance-analytics@example.com&gt;" in exposures
    assert "finance-analytics" in exposures
    assert "dbt exposure" in page  # the registration's origin, under Consumers
    assert ">public</span>" in page and "platform" in page and "owned by Data Platform" in page
    sync = client.get(reverse("sync_detail", args=[demo["finance"].pk])).content.decode()
    assert "dbt exposures" in sync


def test_the_asset_endpoint_lists_exposures_access_and_group(demo):
    from django.test import Client

    from contracts.factories import api_key_for

    _, secret = api_key_for(Team.objects.get(slug="marketing-analytics"), scopes="read")
    body = (
        Client()
        .get("/api/v1/assets/core.main.fct_daily_revenue", HTTP_AUTHORIZATION=f"Bearer {secret}")
        .json()
    )

    assert body["access"] == "public"
    assert body["group"] == {
        "name": "platform",
        "owner_name": "Data Platform",
        "owner_email": "data-platform@example.com",
        "team": "data-platform",
    }
    (exposure,) = body["exposures"]
    assert exposure | {"url": None} == {
        "unique_id": "exposure.finance.revenue_dashboard", "name": "revenue_dashboard", "label": "Revenue dashboard",
        "type": "dashboard", "url": None, "maturity": "high", "owner_name": "Finance Analytics",
        "owner_email": "finance-analytics@example.com", "team": "finance-analytics", "project": "finance",
        "direct": True,
    }  # fmt: skip
    assert {"team": "finance-analytics", "origin": "exposure"}.items() <= next(
        c for c in body["consumers"] if c["origin"] == "exposure"
    ).items()


def test_home_leads_with_changes_to_public_models(demo, demo_artifacts, client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from contracts.models import TeamMembership

    run_sync(
        demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest)
    )  # dim_customers, fct_orders: public
    # dim_customers' proposal opened first (lower id, same deadline): made protected, it comes second
    Asset.objects.filter(relation="core.main.dim_customers").update(access="protected")
    user = get_user_model().objects.create(username="mk")
    TeamMembership.objects.create(team=Team.objects.get(slug="marketing-analytics"), user=user)
    client.force_login(user)

    page = client.get(reverse("home")).content.decode()

    assert page.index("fct_orders</strong>") < page.index("dim_customers</strong>")
    assert page.count("public model</span>") >= 1


def test_once_the_readers_approve_the_model_becomes_private(demo, demo_artifacts):
    from contracts.services.proposals.answering import acknowledgment_record

    run = run_sync(demo_artifacts.read_bytes(demo_artifacts.core_private_manifest))
    proposal = Proposal.objects.get(pk=run.summary["proposals"][0]["proposal"])

    for team in proposal.required_teams.all():
        acknowledgment_record(proposal=proposal, team=team, answer="approved", actor=OPEN, via="api")

    proposal.refresh_from_db()
    dim = Asset.objects.get(relation="core.main.dim_customers")
    assert proposal.status == Proposal.Status.PUBLISHED
    assert dim.access == "private"
    assert dim.active_version.semver == "1.0.0"  # access is no part of the contract: it stays
    proposal.proposed_version.refresh_from_db()
    assert proposal.proposed_version.status == "superseded"
    again = run_sync(demo_artifacts.read_bytes(demo_artifacts.core_private_manifest))
    assert again.summary["proposals"] == [] and again.summary["published"] == 0


def test_the_ci_check_reports_a_public_model_going_private_while_read(demo, demo_artifacts):
    from contracts.services.sync.check import sync_check

    report = sync_check(manifest=demo_artifacts.read_bytes(demo_artifacts.core_private_manifest), actor=OPEN)

    (change,) = report["access_changes"]
    assert (change["relation"], change["from"], change["to"]) == (
        "core.main.dim_customers",
        "public",
        "private",
    )
    assert change["readers"] == ["finance", "marketing"]
    assert any("narrows from public to private" in w and "proposal" in w for w in report["warnings"])
    assert not Proposal.objects.exists()  # a dry run


def test_the_ci_check_refuses_a_group_owned_model_like_the_sync(db, demo_artifacts):
    from contracts.services.sync.check import sync_check
    from contracts.services.teams import team_ensure as ensure

    ensure(slug="marketing-analytics", name="Marketing Analytics")
    ensure(slug="data-platform", name="Data Platform")
    key_actor = Actor(
        label="marketing key", team=Team.objects.get(slug="marketing-analytics"), scopes=("read",)
    )
    doc = orjson.loads(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    for node in doc["nodes"].values():  # only the group names data-platform
        node.get("config", {}).get("meta", {}).get("tessera", {}).pop("owner_team", None)

    report = sync_check(manifest=orjson.dumps(doc), actor=key_actor)

    refused = {r["unique_id"] for r in report["refused"]}
    assert "model.core.fct_daily_revenue" in refused  # data-platform, through its group, never allowed it
    assert "model.core.stg_orders" not in refused  # no group: the project's (marketing's) own


def test_a_narrowing_that_comes_with_a_breaking_change_waits_instead_of_applying_at_once(
    demo, demo_artifacts
):
    """dim_customers goes private and loses a column in one deploy, while marketing and finance read
    it. The column's removal waits for its proposal; the narrowing must not slip through meanwhile
    (it used to: the model became private at once, its readers never asked about it)."""
    doc = orjson.loads(demo_artifacts.read_bytes(demo_artifacts.core_private_manifest))
    node = doc["nodes"]["model.core.dim_customers"]
    dropped = sorted(node["columns"])[-1]
    del node["columns"][dropped]
    both = orjson.dumps(doc)

    run = run_sync(both)

    dim = Asset.objects.get(relation="core.main.dim_customers")
    assert dim.access == "public"
    (contract,) = [p for p in run.summary["proposals"] if p["relation"] == "core.main.dim_customers"]
    assert not contract.get("relation_change")  # the contract change's own proposal
    assert any("narrowing from public to private waits" in w for w in run.warnings), run.warnings
    again = run_sync(both)
    assert Asset.objects.get(relation="core.main.dim_customers").access == "public"
    assert Proposal.objects.get(pk=contract["proposal"]).status == Proposal.Status.OPEN
    assert [p["new"] for p in again.summary["proposals"] if p["relation"] == "core.main.dim_customers"] == [
        False
    ]
    from contracts.services.proposals.answering import acknowledgment_record

    proposal = Proposal.objects.get(pk=contract["proposal"])
    for team in proposal.required_teams.all():
        acknowledgment_record(proposal=proposal, team=team, answer="approved", actor=OPEN, via="api")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.PUBLISHED  # the column's removal is agreed and live
    assert Asset.objects.get(relation="core.main.dim_customers").access == "public"

    after = run_sync(both)  # now the narrowing is asked on its own

    (asked,) = [p for p in after.summary["proposals"] if p["relation"] == "core.main.dim_customers"]
    assert asked["relation_change"]["kind"] == "access" and asked["new"]
    assert asked["required_teams"] == ["finance-analytics", "marketing-analytics"]
    assert Asset.objects.get(relation="core.main.dim_customers").access == "public"  # until they answer
