"""Real dbt runs of the demo projects (fixture `demo_artifacts`: dbt-core + dbt-duckdb, cached):
what a result file means depends on what dbt did. A `docs generate` run_results never opens a
gate; a model that failed to build holds its gate until a later build succeeds; `dbt source
freshness` reports the freshness guarantee of the source, pass or stale."""

from __future__ import annotations

import pytest
from django.test import Client

from audits.ingest import ResultFileError
from audits.models import AuditRun, ResultUpload
from audits.selectors import publish_gate
from audits.services import audit_ingest_run_results, result_upload_create
from audits.tasks import ingest_result_upload
from contracts.factories import TeamFactory, TeamMembershipFactory, UserFactory, api_key_for
from contracts.models import Asset, Guarantee, SyncRun, Team
from tessera_site.lib.auth import actor_for_key

pytestmark = pytest.mark.django_db


def sync_demo(path, team: Team) -> None:
    from contracts.ingest.manifest import parse_manifest
    from contracts.services.sync import sync_apply

    key, _ = api_key_for(team, scopes="read,write", name=f"sync-{SyncRun.objects.count()}")
    run = SyncRun.objects.create(manifest="syncs/demo.json", team=team, api_key=key)
    sync_apply(parsed=parse_manifest(path.read_bytes()), run=run, actor=actor_for_key(key))


def ingest(path, team: Team) -> ResultUpload:
    key, _ = api_key_for(team, scopes="read,write", name=f"upload-{ResultUpload.objects.count()}")
    row = result_upload_create(content=path.read_bytes(), filename=path.name, actor=actor_for_key(key))
    assert ingest_result_upload(row.pk) in ("succeeded", "failed")
    row.refresh_from_db()
    return row


@pytest.fixture
def platform(db) -> Team:
    return TeamFactory(slug="data-platform", name="Data Platform", email="platform@example.com")


@pytest.fixture
def demo_core(demo_artifacts, platform) -> Team:
    TeamFactory(slug="marketing-analytics", name="Marketing", email="m@example.com")
    TeamFactory(slug="finance-analytics", name="Finance", email="f@example.com")
    sync_demo(demo_artifacts.manifests["core"], platform)
    return platform


def test_a_docs_generate_run_results_of_the_demo_is_refused_and_opens_no_gate(demo_artifacts, demo_core):
    row = ingest(demo_artifacts.core_docs_run_results, demo_core)
    assert row.status == "failed"
    assert "comes from `dbt docs generate`" in row.error and "compiled, not executed" in row.error
    assert row.summary["run_kind"] == "docs generate"
    assert {n["what"]: n["count"] for n in row.summary["not_counted"]}["compiled tests"] > 70
    assert not AuditRun.objects.exists()
    assets = Asset.objects.filter(project__name="core")
    assert assets.count() > 10
    assert {publish_gate(asset=asset).decision for asset in assets} == {"hold"}
    # The same file brought by a sync (CI uploads target/ after docs generate) is refused too.
    with pytest.raises(ResultFileError, match="dbt docs generate"):
        audit_ingest_run_results(
            run_results=demo_artifacts.core_docs_run_results.read_bytes(),
            actor=actor_for_key(api_key_for(demo_core, name="ci")[0]),
        )
    assert not AuditRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_docs_generate_upload_with_wait_answers_422(demo_artifacts, demo_core, celery_eager, settings):
    settings.TESSERA_SYNC_WAIT_SECONDS = 30
    _, secret = api_key_for(demo_core, scopes="read,write", name="ci-wait")
    response = Client().post(
        "/api/v1/audit-results/upload?wait=true",
        data=demo_artifacts.core_docs_run_results.read_bytes(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 422, response.content
    assert "comes from `dbt docs generate`" in response.json()["detail"]
    assert response.json()["summary"]["run_kind"] == "docs generate"
    assert not AuditRun.objects.exists()


def test_a_model_build_error_of_the_demo_holds_its_gate_until_a_later_successful_build(
    demo_artifacts, demo_core
):
    dim_products = Asset.objects.get(relation="core.main.dim_products")
    assert ingest(demo_artifacts.run_results["core"], demo_core).status == "succeeded"
    assert publish_gate(asset=dim_products).decision == "publish"

    row = ingest(demo_artifacts.core_broken_run_results, demo_core)
    assert row.status == "succeeded" and row.summary["run_kind"] == "build"
    broken = AuditRun.objects.get(upload=row, asset=dim_products)
    assert (broken.status, broken.build_status, broken.errored) == ("error", "error", 1)
    assert broken.skipped > 0 and broken.passed == 0
    build_check = broken.checks.get(check_type="dbt_build")
    assert (
        build_check.name == "model.core.dim_products.v1" and build_check.status == "error"
    )  # v1 is core.main.dim_products
    assert build_check.message.startswith("The build failed: Runtime Error in model dim_products")
    assert "Conversion Error" in build_check.message
    gate = publish_gate(asset=dim_products)
    assert gate.decision == "hold"
    assert any(r.startswith("The latest build of this asset failed") for r in gate.reasons)
    assert gate.latest_build["id"] == broken.pk

    # The failing variant is a later, complete build: dim_products builds again and its tests pass.
    later = ingest(demo_artifacts.core_failing_run_results, demo_core)
    assert AuditRun.objects.get(upload=later, asset=dim_products).build_status == "success"
    gate = publish_gate(asset=dim_products)
    assert gate.decision == "publish", gate.reasons
    assert gate.latest_build["build_status"] == "success"


def test_each_required_guarantee_says_which_run_and_tool_last_checked_it(demo_artifacts, demo_core):
    dim_customers = Asset.objects.get(relation="core.main.dim_customers")
    ingest(demo_artifacts.run_results["core"], demo_core)
    ingest(demo_artifacts.core_failing_run_results, demo_core)
    gate = publish_gate(asset=dim_customers)
    failing = AuditRun.objects.get(asset=dim_customers, status="failed")
    email = next(g for g in gate.guarantees if g.guarantee == "not_null(email)")
    assert (email.status, email.audit_run_id, email.tool, email.run_kind, email.executed) == (
        "fail",
        failing.pk,
        "dbt",
        "build",
        True,
    )
    assert email.run_id == failing.run_id and email.run_id
    assert all(g.executed for g in gate.guarantees if g.status in ("pass", "fail"))
    _, secret = api_key_for(demo_core, scopes="read", name="reader")
    body = (
        Client()
        .get(f"/api/v1/assets/{dim_customers.pk}/publish-gate", HTTP_AUTHORIZATION=f"Bearer {secret}")
        .json()
    )
    over_http = next(g for g in body["guarantees"] if g["guarantee"] == "not_null(email)")
    assert {k: over_http[k] for k in ("audit_run_id", "run_id", "tool", "run_kind", "executed")} == {
        "audit_run_id": failing.pk,
        "run_id": failing.run_id,
        "tool": "dbt",
        "run_kind": "build",
        "executed": True,
    }
    assert body["latest_build"]["build_status"] == "success"


def test_the_asset_page_shows_the_last_check_of_each_guarantee(demo_artifacts, demo_core, client):
    ingest(demo_artifacts.core_failing_run_results, demo_core)
    user = UserFactory(username="platform-lead")
    TeamMembershipFactory(team=demo_core, user=user)
    client.force_login(user)
    dim_customers = Asset.objects.get(relation="core.main.dim_customers")
    page = client.get(f"/assets/{dim_customers.pk}/").content.decode()
    section = page[page.index('id="gate-guarantees"') :]
    failing = AuditRun.objects.get(asset=dim_customers, status="failed")
    assert f"not_null(email): <strong>fail</strong> — dbt build run {failing.run_id}" in section


@pytest.fixture
def marketing(demo_artifacts, db) -> Team:
    """marketing synced on its own: its source core.fct_orders (with marketing's freshness rule)
    is a source asset of marketing's, as any project's raw sources are."""
    team = TeamFactory(slug="marketing-analytics", name="Marketing Analytics", email="m@example.com")
    TeamFactory(slug="data-platform", name="Data Platform", email="p@example.com")
    sync_demo(demo_artifacts.manifests["marketing"], team)
    return team


def test_source_freshness_of_the_demo_checks_the_sources_freshness_guarantee(demo_artifacts, marketing):
    source = Asset.objects.get(relation="core.main.fct_orders")
    assert source.resource_type == "source" and source.owner_team == marketing
    freshness = Guarantee.objects.get(version=source.active_version, kind="freshness")
    assert freshness.severity == "error" and freshness.arguments["error_after"] == {
        "count": 1,
        "period": "day",
    }

    fresh = ingest(demo_artifacts.marketing_sources, marketing)
    assert fresh.status == "succeeded" and fresh.summary["run_kind"] == "source freshness"
    run = AuditRun.objects.get(upload=fresh)
    assert (run.asset, run.status, run.passed, run.unchecked) == (source, "passed", 1, [])
    check = run.checks.get()
    assert (check.guarantee, check.status, check.check_type) == (freshness, "pass", "freshness")
    assert check.message.startswith("dbt source freshness: pass — last loaded 1.0 hours before the check")
    assert publish_gate(asset=source).decision == "publish"

    stale = ingest(demo_artifacts.marketing_stale_sources, marketing)
    run = AuditRun.objects.get(upload=stale)
    assert (run.status, run.failed) == ("failed", 1)
    check = run.checks.get()
    assert (check.guarantee, check.status) == (freshness, "fail")
    assert check.message.startswith("dbt source freshness: error — last loaded 3.0 days before the check")
    gate = publish_gate(asset=source)
    assert gate.decision == "hold"
    assert any("freshness of core.fct_orders failed its latest check" in r for r in gate.reasons)


def test_a_stale_source_shows_in_the_home_pages_failing_audits(demo_artifacts, marketing, client):
    ingest(demo_artifacts.marketing_sources, marketing)
    ingest(demo_artifacts.marketing_stale_sources, marketing)
    user = UserFactory(username="marketer")
    TeamMembershipFactory(team=marketing, user=user)
    client.force_login(user)
    home = client.get("/").content.decode()
    failing = home[home.index('id="failing"') : home.index("</section>", home.index('id="failing"'))]
    assert "fct_orders" in failing, failing
    source = Asset.objects.get(relation="core.main.fct_orders")
    page = client.get(f"/assets/{source.pk}/").content.decode()
    assert "freshness" in page


def test_freshness_of_a_source_that_reads_another_projects_model_is_kept_unmatched_with_why(
    demo_artifacts, demo_core
):
    marketing = Team.objects.get(slug="marketing-analytics")
    sync_demo(demo_artifacts.manifests["marketing"], marketing)
    row = ingest(demo_artifacts.marketing_stale_sources, marketing)
    assert row.status == "succeeded" and not AuditRun.objects.exists()
    (entry,) = row.unmatched
    assert entry["name"] == "source.marketing.core.fct_orders" and entry["status"] == "fail"
    assert entry["reason"].startswith("this source reads core.main.fct_orders, a model of project core")
