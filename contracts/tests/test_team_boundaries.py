"""Team boundaries in the sync (issue #12), on the demo's real dbt manifests with real API keys:
a key acts only for its team, ownership never moves through a sync, and a monorepo project holds
the assets of the teams that allowed it. The check endpoint reports the refusals a sync makes."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from django.test import Client

from contracts.factories import api_key_for
from contracts.models import Asset, ContractVersion, Project, Proposal, SyncRun, Team
from contracts.services.sync import sync_submit
from contracts.services.teams import team_ensure
from contracts.tasks import sync_run_task
from tessera_site.lib.auth import actor_for_key

pytestmark = pytest.mark.slow
TEAMS = ("data-platform", "marketing-analytics", "finance-analytics")


@dataclass
class Keys:
    secrets: dict[str, str]
    keys: dict[str, Any]

    def client(self, slug: str) -> Client:
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.secrets[slug]}")


@pytest.fixture
def keys(db) -> Keys:
    secrets, made = {}, {}
    for slug in TEAMS:
        team, _ = team_ensure(slug=slug)
        made[slug], secrets[slug] = api_key_for(team, scopes="read,write", name="ci")
    return Keys(secrets, made)


def sync(keys: Keys, slug: str, manifest: bytes) -> SyncRun:
    """What CI does: the team's key submits, the worker's task body runs it."""
    run = sync_submit(manifest=manifest, team_slug=None, actor=actor_for_key(keys.keys[slug]))
    sync_run_task(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def owner_team_everywhere(doc: dict[str, Any], slug: str, only: set[str] | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for unique_id, node in doc["nodes"].items():
        if node["resource_type"] == "model" and (only is None or unique_id in only):
            node["config"].setdefault("meta", {}).setdefault("tessera", {})["owner_team"] = slug
            node.setdefault("meta", {}).setdefault("tessera", {})["owner_team"] = slug
    return doc


def snapshot(team: str) -> dict[str, Any]:
    """Every asset, version and proposal of ``team``, as the comparison after an attempt."""
    return {
        "assets": sorted(
            Asset.objects.filter(owner_team__slug=team).values_list(
                "pk", "relation", "project_id", "owner_team_id", "status", "resource_type", "active_version_id",
                "content_hash", "updated_at",
            )
        ),
        "versions": sorted(
            ContractVersion.objects.filter(asset__owner_team__slug=team).values_list(
                "pk", "asset_id", "status", "major", "minor", "patch", "content_hash"
            )
        ),
        "proposals": sorted(
            Proposal.objects.filter(asset__owner_team__slug=team).values_list("pk", "asset_id", "status", "proposed_hash")
        ),
    }  # fmt: skip


@pytest.fixture
def platform_with_a_proposal(keys, demo_artifacts):
    """core synced by data-platform, marketing by marketing-analytics (a consumer of core's marts),
    then core's breaking variant: a proposal waits for marketing."""
    sync(keys, "data-platform", demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    sync(keys, "marketing-analytics", demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))
    sync(keys, "data-platform", demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))
    assert Proposal.objects.filter(asset__owner_team__slug="data-platform", status="open").exists()
    return snapshot("data-platform")


def test_a_key_cannot_create_assets_in_the_name_of_a_team_that_did_not_allow_it(
    keys, demo_artifacts, platform_with_a_proposal
):
    # Marketing's key syncs a new project whose models all name data-platform as owner.
    doc = owner_team_everywhere(demo_artifacts.load(demo_artifacts.manifests["finance"]), "data-platform")
    models = sorted(u for u, n in doc["nodes"].items() if n["resource_type"] == "model")

    run = sync(keys, "marketing-analytics", orjson.dumps(doc))

    assert snapshot("data-platform") == platform_with_a_proposal
    assert not Asset.objects.filter(project__name="finance", owner_team__slug="data-platform").exists()
    assert (
        Project.objects.get(name="finance").owner_team.slug == "marketing-analytics"
    )  # claimed by the key's team
    assert sorted(run.summary["refused_nodes"]) == models and run.summary["refused"] == len(models)
    for unique_id in models:
        assert any(
            w.startswith(f"{unique_id} names owner team 'data-platform', which has not allowed")
            for w in run.warnings
        )


def test_a_sync_never_takes_over_a_relation_another_team_holds_as_a_source(
    keys, demo_artifacts, platform_with_a_proposal
):
    # data-platform's project "platform_raw" reads raw.main.fct_orders as a source: the relation is its own.
    finance = demo_artifacts.load(demo_artifacts.manifests["finance"])
    raw = copy.deepcopy(finance)
    raw["metadata"]["project_name"] = "platform_raw"
    source = copy.deepcopy(finance["sources"]["source.finance.core.fct_orders"])
    source.update(
        unique_id="source.platform_raw.raw.fct_orders", package_name="platform_raw", database="raw",
        relation_name='"raw"."main"."fct_orders"', source_name="raw",
    )  # fmt: skip
    raw["nodes"], raw["sources"] = {}, {source["unique_id"]: source}
    raw["parent_map"], raw["child_map"] = {}, {}
    sync(keys, "data-platform", orjson.dumps(raw))
    held = Asset.objects.get(relation="raw.main.fct_orders")
    assert (held.owner_team.slug, held.project.name, held.resource_type) == (
        "data-platform",
        "platform_raw",
        "source",
    )
    before = snapshot("data-platform")

    # Finance's key syncs a model that writes that very relation.
    doc = copy.deepcopy(finance)
    node = doc["nodes"]["model.finance.stg_budgets"]
    node.update(database="raw", schema="main", alias="fct_orders", relation_name='"raw"."main"."fct_orders"')
    run = sync(keys, "finance-analytics", orjson.dumps(doc))

    assert snapshot("data-platform") == before
    assert "model.finance.stg_budgets" in run.summary["refused_nodes"]
    assert any(
        w.startswith(
            "model.finance.stg_budgets writes raw.main.fct_orders, which belongs to team 'data-platform'"
        )
        and "transfer" in w
        for w in run.warnings
    )
    # The rest of finance's sync applied, under finance's own name.
    finance_models = Asset.objects.filter(project__name="finance", resource_type="model")
    assert finance_models.count() == 11
    assert set(finance_models.values_list("owner_team__slug", flat=True)) == {"finance-analytics"}
    # data-platform syncing its project again still holds the relation, untouched.
    again = sync(keys, "data-platform", orjson.dumps(raw))
    assert (
        not again.warnings
        and Asset.objects.get(relation="raw.main.fct_orders").project.name == "platform_raw"
    )


def test_later_syncs_of_a_claimed_project_need_its_team_key_or_an_admin_key(keys, demo_artifacts):
    manifest = demo_artifacts.read_bytes(demo_artifacts.manifests["core"])
    sync(keys, "data-platform", manifest)

    refused = keys.client("finance-analytics").post(
        "/api/v1/sync/dbt", manifest, content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "forbidden",
        "detail": "Project 'core' belongs to team 'data-platform'; api-key:finance-analytics/ci may not sync it "
        "(a key of that team, or an admin key, may).",
    }
    _key, admin_secret = api_key_for(
        Team.objects.get(slug="finance-analytics"), scopes="read,write,admin", name="adm"
    )
    allowed = Client(HTTP_AUTHORIZATION=f"Bearer {admin_secret}").post(
        "/api/v1/sync/dbt", manifest, content_type="application/json"
    )
    assert allowed.status_code == 202
    sync_run_task(allowed.json()["sync_id"])  # the worker rebuilds the key with its admin scope
    assert SyncRun.objects.get(pk=allowed.json()["sync_id"]).status == "succeeded"
    # An admin sync does not re-claim the project.
    assert Project.objects.get(name="core").owner_team.slug == "data-platform"


def test_a_project_claimed_between_upload_and_run_is_refused_by_the_worker(keys, demo_artifacts):
    manifest = demo_artifacts.read_bytes(demo_artifacts.manifests["core"])
    late = sync_submit(manifest=manifest, team_slug=None, actor=actor_for_key(keys.keys["finance-analytics"]))
    sync(keys, "data-platform", manifest)

    sync_run_task(late.pk)

    late.refresh_from_db()
    assert late.status == "failed" and "belongs to team 'data-platform'" in late.error
    assert not Asset.objects.filter(owner_team__slug="finance-analytics").exists()


def test_with_consent_a_monorepo_project_synced_with_one_key_creates_each_teams_assets(keys, demo_artifacts):
    doc = demo_artifacts.load(demo_artifacts.manifests["core"])
    doc = owner_team_everywhere(doc, "finance-analytics", only={"model.core.fct_daily_revenue"})
    doc = owner_team_everywhere(doc, "marketing-analytics", only={"model.core.dim_customers"})
    Project.objects.create(name="core", owner_team=Team.objects.get(slug="data-platform"))
    # The named team consents, with its own key; the syncing team could not do it for it.
    assert (
        keys.client("data-platform").put("/api/v1/projects/core/owner-teams/finance-analytics").status_code
        == 403
    )
    assert (
        keys.client("finance-analytics")
        .put("/api/v1/projects/core/owner-teams/finance-analytics")
        .status_code
        == 200
    )

    run = sync(keys, "data-platform", orjson.dumps(doc))

    owners = dict(Asset.objects.filter(project__name="core").values_list("name", "owner_team__slug"))
    assert owners["fct_daily_revenue"] == "finance-analytics"
    assert "dim_customers" not in owners  # marketing-analytics did not allow it
    assert run.summary["refused_nodes"] == ["model.core.dim_customers"]
    assert {o for n, o in owners.items() if n != "fct_daily_revenue"} == {"data-platform"}

    keys.client("marketing-analytics").put("/api/v1/projects/core/owner-teams/marketing-analytics")
    again = sync(keys, "data-platform", orjson.dumps(doc))
    assert Asset.objects.get(relation="core.main.dim_customers").owner_team.slug == "marketing-analytics"
    assert again.summary["refused"] == 0 and again.summary["created"] == 1


def test_the_check_reports_the_refusals_a_sync_would_make(keys, demo_artifacts):
    sync(keys, "data-platform", demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    doc = owner_team_everywhere(demo_artifacts.load(demo_artifacts.manifests["finance"]), "data-platform")
    doc["nodes"]["model.finance.stg_budgets"].update(
        database="core", schema="main", alias="dim_customers", relation_name='"core"."main"."dim_customers"'
    )

    body = (
        keys.client("finance-analytics")
        .post("/api/v1/sync/dbt/check", orjson.dumps(doc), content_type="application/json")
        .json()
    )
    by_node = {r["unique_id"]: r["reason"] for r in body["refused"]}
    assert by_node["model.finance.stg_budgets"].startswith(
        "model.finance.stg_budgets writes core.main.dim_customers, which belongs to team 'data-platform'"
    )
    assert "names owner team 'data-platform', which has not allowed" in by_node["model.finance.fct_invoices"]
    assert body["counts"]["refused"] == len(by_node) == 12
    assert not body["added"] or all(a["unique_id"] not in by_node for a in body["added"])

    foreign = (
        keys.client("finance-analytics")
        .post(
            "/api/v1/sync/dbt/check",
            demo_artifacts.read_bytes(demo_artifacts.manifests["core"]),
            content_type="application/json",
        )
        .json()
    )
    assert foreign["refused"] == [
        {
            "unique_id": None,
            "relation": None,
            "reason": "Project 'core' belongs to team 'data-platform'; api-key:finance-analytics/ci may not sync it "
            "(a key of that team, or an admin key, may).",
        }
    ]
