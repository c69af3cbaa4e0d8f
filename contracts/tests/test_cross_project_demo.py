"""Cross-project refs on real dbt builds (issue #19): marketing's `loom` variant reads core's
dim_customers through ``{{ ref('core', 'dim_customers') }}``, built by dbt-core 1.11 with dbt-loom
0.9.6 injecting core's models from core's manifest (contracts.demo_builds). Also a real public
manifest with an installed package (elementary)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.models import (
    Asset,
    ColumnUsage,
    LineageEdge,
    PendingReference,
    Project,
    Proposal,
    ProposalImpact,
    Registration,
    SyncRun,
)
from contracts.services.column_usage import column_usage_refresh
from contracts.services.sync import sync_submit
from contracts.services.sync.check import sync_check
from contracts.services.teams import team_ensure
from contracts.tasks.sync import sync_run_task
from tessera_site.lib.auth import Actor

OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))
DIM = "core.main.dim_customers"
READERS = ("marketing.main.int_customer_touchpoints", "marketing.main.fct_attribution")
FIXTURES = Path(__file__).parent / "fixtures"


def run_sync(manifest: bytes, team: str | None = None) -> SyncRun:
    run = sync_submit(manifest=manifest, catalog=None, team_slug=team, actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded"
    run.refresh_from_db()
    return run


@pytest.fixture
def teams(db):
    for slug in ("data-platform", "marketing-analytics", "finance-analytics"):
        team_ensure(slug=slug)


@pytest.fixture
def loom_synced(teams, demo_artifacts) -> SyncRun:
    """core's normal build synced, then marketing's loom build."""
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    return run_sync(demo_artifacts.read_bytes(demo_artifacts.marketing_loom_manifest))


@pytest.mark.slow
def test_the_loom_build_injects_core_models_as_external_nodes_of_package_core(demo_artifacts):
    doc = demo_artifacts.load(demo_artifacts.marketing_loom_manifest)
    dim = doc["nodes"]["model.core.dim_customers"]
    assert (dim["package_name"], dim["path"], dim["original_file_path"], dim["raw_code"]) == (
        "core",
        "",
        "",
        "",
    )
    assert dim["access"] == "public" and dim["relation_name"] == '"core"."main"."dim_customers"'
    reads = doc["nodes"]["model.marketing.int_customer_touchpoints"]["depends_on"]["nodes"]
    assert "model.core.dim_customers" in reads and "source.marketing.core.dim_customers" not in reads
    # dbt-loom injects every node of core's manifest, read or not.
    assert (
        sum(1 for n in doc["nodes"].values() if n["package_name"] == "core") == 19
    )  # dim_products: 2 versions


@pytest.mark.slow
def test_a_cross_project_ref_creates_lineage_and_a_registration_and_no_asset_of_marketing(loom_synced):
    run = loom_synced

    assert run.summary["cross_project_refs"] == 1  # only dim_customers is read; 18 more injected
    assert run.summary["refused"] == 0
    assert not [w for w in run.warnings if "core" in w], run.warnings
    assert not Asset.objects.filter(project__name="marketing", relation__startswith="core.").exists()
    assert set(
        Asset.objects.filter(relation__startswith="core.").values_list("project__name", flat=True)
    ) == {"core"}
    edges = set(
        LineageEdge.objects.filter(upstream__relation=DIM).values_list(
            "downstream__relation", "project__name"
        )
    )
    assert {(reader, "marketing") for reader in READERS} <= edges
    dim = Asset.objects.select_related("owner_team").get(relation=DIM)
    assert dim.owner_team.slug == "data-platform"
    assert Registration.objects.filter(asset=dim, team__slug="marketing-analytics", origin="lineage").exists()
    # core's other injected models, which marketing does not read, gain no consumer from it.
    # (marketing reads dim_products v1 through its source, not through the injected nodes)
    assert not Registration.objects.filter(
        asset__relation="core.main.fct_daily_revenue", team__slug="marketing-analytics", origin="lineage"
    ).exists()


@pytest.mark.slow
def test_cores_later_sync_is_unaffected_by_the_ref(loom_synced, demo_artifacts):
    again = run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))

    assert again.summary["created"] == again.summary["published"] == again.summary["retired"] == 0
    assert again.summary["refused"] == 0
    assert Project.objects.get(name="core").owner_team.slug == "data-platform"
    for asset in Asset.objects.filter(project__name="core").select_related("owner_team"):
        assert asset.owner_team.slug == "data-platform", asset.relation
    assert Registration.objects.filter(
        asset__relation=DIM, team__slug="marketing-analytics", origin="lineage"
    ).exists()


@pytest.mark.slow
def test_a_breaking_change_to_dim_customers_asks_marketing(loom_synced, demo_artifacts):
    # core's meta also names marketing; test_cross_project_refs proves the ref alone asks it.
    run = run_sync(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))

    proposal = Proposal.objects.get(asset__relation=DIM, status="open")
    assert run.summary["proposals_opened"] >= 1
    assert "marketing-analytics" in set(proposal.required_teams.values_list("slug", flat=True))


@pytest.mark.slow
def test_column_usage_reads_core_through_the_ref_and_the_breaking_change_asks_for_it(
    loom_synced, demo_artifacts
):
    column_usage_refresh(sync_run_id=loom_synced.pk)
    usage = ColumnUsage.objects.get(
        consumer__relation="marketing.main.int_customer_touchpoints", upstream__relation=DIM
    )
    assert usage.known and "country_code" in usage.columns

    run_sync(demo_artifacts.read_bytes(demo_artifacts.core_breaking_manifest))  # drops country_code

    impact = ProposalImpact.objects.get(proposal__asset__relation=DIM, team__slug="marketing-analytics")
    assert impact.role == ProposalImpact.Role.REQUIRED, impact.reason
    assert "int_customer_touchpoints" in str(impact.readers)


@pytest.mark.slow
def test_marketing_synced_before_core_warns_and_keeps_the_ref_waiting(teams, demo_artifacts):
    first = run_sync(demo_artifacts.read_bytes(demo_artifacts.marketing_loom_manifest))

    # The injected models are no assets; the only core relations marketing knows are its sources
    # (as before: a source read before its producer syncs is the reader's until a transfer).
    assert set(
        Asset.objects.filter(relation__startswith="core.").values_list("resource_type", flat=True)
    ) == {"source"}
    assert any(
        "model.core.dim_customers of project 'core', which Tessera does not know yet" in w
        for w in first.warnings
    )
    (pending,) = PendingReference.objects.all()
    assert (pending.project.name, pending.unique_id) == ("marketing", "model.core.dim_customers")
    readers = set(Asset.objects.filter(pk__in=pending.reader_ids).values_list("relation", flat=True))
    assert readers == set(READERS)


@pytest.mark.slow
def test_the_ci_check_reports_the_ref_as_a_read(teams, demo_artifacts):
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["core"]))
    run_sync(demo_artifacts.read_bytes(demo_artifacts.manifests["marketing"]))

    report = sync_check(
        manifest=demo_artifacts.read_bytes(demo_artifacts.marketing_loom_manifest), actor=OPEN
    )

    assert [(r["unique_id"], r["project"], r["relation"]) for r in report["references"]] == [
        ("model.core.dim_customers", "core", DIM)
    ]
    assert report["added"] == [] and report["refused"] == [] and report["may_merge"]


def test_an_installed_package_is_not_turned_into_assets_of_the_project(db):
    # A real public manifest (jaffle_shop, dbt 1.7) that installs elementary: 30 package models.
    team_ensure(slug="shop-platform")
    run = run_sync((FIXTURES / "manifest_v11_jaffle_shop.json").read_bytes(), team="shop-platform")

    assert run.summary["created"] == Asset.objects.count() == 8
    assert not Asset.objects.filter(package_name="elementary").exists()
    assert run.summary["package_nodes_skipped_by_package"] == {"elementary": 30}
