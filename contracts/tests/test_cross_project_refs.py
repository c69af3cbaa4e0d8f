"""Cross-project refs (issue #19): another project's models inside a manifest are reads of that
project's assets, never definitions. Hand-made fragments shaped as dbt-loom writes them
(contracts.tests.cross_project), synced against the real database; the real dbt-loom build of the
demo is tested in test_cross_project_demo.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contracts.models import (
    Asset,
    AssetNode,
    ContractVersion,
    Event,
    LineageEdge,
    PendingReference,
    Proposal,
    Registration,
    SyncRun,
)
from contracts.services.sync import sync_submit
from contracts.services.sync.check import sync_check
from contracts.services.teams import team_ensure
from contracts.tasks.sync import sync_run_task
from contracts.tests.cross_project import (
    DIM_COLUMNS,
    MARKETING_OWNER,
    core_manifest,
    exposure,
    injected,
    manifest,
    marketing_manifest,
    model,
)
from tessera_site.lib.auth import Actor

OPEN = Actor(label="test-open", is_open=True, scopes=("read", "write", "admin"))
DIM = "core.main.dim_customers"


def run_sync(manifest: bytes) -> SyncRun:
    run = sync_submit(manifest=manifest, catalog=None, team_slug=None, actor=OPEN)
    assert sync_run_task(run.pk) == "succeeded"
    run.refresh_from_db()
    return run


@pytest.fixture
def teams(db):
    for slug in ("data-platform", "marketing-analytics"):
        team_ensure(slug=slug)


def _edges() -> set[tuple[str, str, str]]:
    return set(LineageEdge.objects.values_list("upstream__relation", "downstream__relation", "project__name"))


def test_a_cross_project_ref_is_lineage_and_a_registration_never_an_asset_of_the_reader(teams):
    run_sync(core_manifest())
    dim = Asset.objects.get(relation=DIM)
    versions = ContractVersion.objects.count()

    run = run_sync(marketing_manifest())

    # Only marketing's own models are marketing's assets: not core's injected ones, not elementary's.
    assert sorted(Asset.objects.filter(project__name="marketing").values_list("relation", flat=True)) == [
        "marketing.main.fct_attribution",
        "marketing.main.int_customer_touchpoints",
    ]
    assert not Asset.objects.filter(relation__contains="elementary").exists()
    assert ContractVersion.objects.count() == versions + 2
    assert ("core.main.dim_customers", "marketing.main.int_customer_touchpoints", "marketing") in _edges()
    registration = Registration.objects.get(asset=dim, team__slug="marketing-analytics")
    assert registration.origin == Registration.Origin.LINEAGE
    assert AssetNode.objects.get(project__name="marketing", unique_id="model.core.dim_customers").asset == dim
    dim.refresh_from_db()
    assert (dim.owner_team.slug, dim.project.name) == ("data-platform", "core")
    # core's stg_customers was injected but nothing reads it: no edge, no consumer.
    assert not Registration.objects.filter(asset__relation="core.main.stg_customers").exists()
    assert run.summary["cross_project_refs"] == 1
    assert run.summary["package_nodes_skipped_by_package"] == {"elementary": 1}
    assert run.summary["refused"] == 0 and run.warnings == []


def test_cores_later_sync_keeps_its_owner_and_the_readers_registration(teams):
    run_sync(core_manifest())
    run_sync(marketing_manifest())

    again = run_sync(core_manifest())

    assert again.summary["unchanged"] == 2 and again.summary["created"] == 0
    dim = Asset.objects.select_related("owner_team").get(relation=DIM)
    assert dim.owner_team.slug == "data-platform"
    assert Registration.objects.filter(asset=dim, team__slug="marketing-analytics", origin="lineage").exists()
    resync = run_sync(marketing_manifest())
    assert resync.summary["registrations_added"] == 0 and resync.summary["lineage_edges_added"] == 0


def test_a_breaking_change_in_core_asks_the_team_that_reads_it_by_ref(teams):
    run_sync(core_manifest())
    run_sync(marketing_manifest())  # core declares no consumers: the ref is marketing's only claim

    dropped = {k: v for k, v in DIM_COLUMNS.items() if k != "country_code"}
    run = run_sync(core_manifest(columns=dropped))

    proposal = Proposal.objects.get(asset__relation=DIM, status="open")
    assert run.summary["proposals_opened"] == 1
    assert list(proposal.required_teams.values_list("slug", flat=True)) == ["marketing-analytics"]


def test_a_ref_to_a_project_tessera_does_not_know_yet_waits_and_links_when_that_project_syncs(teams):
    first = run_sync(marketing_manifest())

    assert not Asset.objects.filter(relation__startswith="core.").exists()
    (warning,) = first.warnings
    assert "model.core.dim_customers of project 'core', which Tessera does not know yet" in warning
    assert first.summary["cross_project_refs_unresolved"] == 1
    (pending,) = PendingReference.objects.all()
    assert (pending.upstream_project, pending.unique_id) == ("core", "model.core.dim_customers")

    core = run_sync(core_manifest())  # core claims its own models: marketing never took them

    dim = Asset.objects.select_related("owner_team", "project").get(relation=DIM)
    assert (dim.owner_team.slug, dim.project.name) == ("data-platform", "core")
    # Linked by core's sync, before marketing syncs again: marketing is asked from now on.
    assert core.summary["cross_project_refs_adopted"] == 1
    assert Registration.objects.filter(asset=dim, team__slug="marketing-analytics", origin="lineage").exists()
    assert ("core.main.dim_customers", "marketing.main.int_customer_touchpoints", "marketing") in _edges()
    assert Event.objects.filter(kind="registration.added", asset=dim, sync_run=core).count() == 1
    assert not PendingReference.objects.exists()

    again = run_sync(marketing_manifest())
    assert again.summary["cross_project_refs"] == 1 and again.warnings == []
    assert again.summary["registrations_added"] == again.summary["lineage_edges_added"] == 0


def test_a_ref_marketing_no_longer_makes_stops_waiting(teams):
    run_sync(marketing_manifest())
    run_sync(manifest("marketing", model("marketing", "int_customer_touchpoints", meta=MARKETING_OWNER)))

    assert not PendingReference.objects.exists()
    run_sync(core_manifest())
    assert not Registration.objects.filter(team__slug="marketing-analytics").exists()


def test_an_exposure_reading_a_cross_project_ref_reaches_the_upstream_asset(teams):
    run_sync(core_manifest())
    dashboard = exposure(
        "marketing", "audiences", depends_on=("model.core.dim_customers",), team="marketing-analytics"
    )
    reader = manifest(
        "marketing",
        injected("core", "dim_customers"),
        model("marketing", "stg_channels", meta=MARKETING_OWNER),
        exposures=(dashboard,),
    )

    run = run_sync(reader)

    assert run.summary["cross_project_refs"] == 1
    assert not Asset.objects.filter(project__name="marketing", relation__startswith="core.").exists()
    dim = Asset.objects.get(relation=DIM)
    assert AssetNode.objects.get(project__name="marketing", unique_id="model.core.dim_customers").asset == dim
    assert Registration.objects.filter(
        asset=dim, team__slug="marketing-analytics", origin="exposure"
    ).exists()


def test_the_ci_check_reports_the_reference_and_adds_no_asset(teams):
    run_sync(core_manifest())

    report = sync_check(manifest=marketing_manifest(), actor=OPEN)

    assert [a["relation"] for a in report["added"]] == [
        "marketing.main.int_customer_touchpoints",
        "marketing.main.fct_attribution",
    ]
    (ref,) = report["references"]
    assert ref | {"asset_id": None} == {
        "unique_id": "model.core.dim_customers",
        "project": "core",
        "relation": DIM,
        "asset_id": None,
        "owner_team": "data-platform",
        "access": "public",
    }
    assert report["refused"] == [] and report["warnings"] == []
    assert report["counts"]["references"] == 1


def test_the_ci_check_warns_about_an_unknown_upstream_project(teams):
    report = sync_check(manifest=marketing_manifest(), actor=OPEN)
    assert report["references"] == []
    assert any("project 'core', which Tessera does not know yet" in w for w in report["warnings"])
    assert all(not a["relation"].startswith("core.") for a in report["added"])


def _cli(live_server, *args: str) -> subprocess.CompletedProcess:
    script = Path(__file__).resolve().parents[2] / "bin" / "tessera-check"
    return subprocess.run(
        [sys.executable, str(script), *args, "--url", live_server.url],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_bin_tessera_check_prints_the_cross_project_read(live_server, tmp_path, settings):
    settings.TESSERA_OPEN_API = True  # the local open demo: no key needed
    for slug in ("data-platform", "marketing-analytics"):
        team_ensure(slug=slug)
    run_sync(core_manifest())
    path = tmp_path / "manifest.json"
    path.write_bytes(marketing_manifest())

    text = _cli(live_server, str(path))
    markdown = _cli(live_server, str(path), "--format", "markdown")

    assert text.returncode == 0, text.stdout + text.stderr
    assert "[->] reads core.main.dim_customers of project 'core' (data-platform)" in text.stdout
    assert "core.main.dim_customers) is new" not in text.stdout
    assert "- reads: `core.main.dim_customers` of project `core` (data-platform)" in markdown.stdout


def test_the_admin_lists_the_refs_that_wait(teams, admin_client):
    run_sync(marketing_manifest())

    page = admin_client.get("/admin/contracts/pendingreference/")

    assert page.status_code == 200
    assert "model.core.dim_customers" in page.content.decode()
