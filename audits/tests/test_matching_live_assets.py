"""Results land on the right asset: the live asset of the project that produced the run, never a
retired one or the first hit; `asset=` chooses among candidates and says when it went unused.
Real result files (audits/tests/fixtures) against the real core manifest, synced under other
relation namings by renaming its database, as a warehouse migration would."""

from __future__ import annotations

import copy
from functools import cache

import orjson
import pytest

from audits.models import AuditRun, ResultUpload
from audits.selectors import publish_gate
from audits.services import audit_ingest_run_results, result_upload_create
from audits.tasks import ingest_result_upload
from audits.tests.conftest import fixture_bytes
from contracts.models import Asset, SyncRun
from tessera_site.lib.auth import actor_for_key

pytestmark = pytest.mark.django_db


@cache
def _core_manifest() -> dict:
    return orjson.loads(fixture_bytes("dbt_core_manifest.json"))


def renamed_manifest(*, database: str, project: str = "core") -> bytes:
    """The real core manifest with every relation in another database (and, optionally, another
    project name, as a second team's copy of the same models would be)."""
    doc = copy.deepcopy(_core_manifest())
    doc["metadata"]["project_name"] = project
    for section in ("nodes", "sources"):
        for node in doc.get(section, {}).values():
            if node.get("package_name") == "core":
                node["package_name"] = project  # its own models, not references to core's
            if node.get("database") == "core":
                node["database"] = database
            if node.get("relation_name"):
                node["relation_name"] = node["relation_name"].replace('"core"', f'"{database}"')
    return orjson.dumps(doc)


def sync(core, manifest: bytes) -> None:
    from contracts.ingest.manifest import parse_manifest
    from contracts.services.sync import sync_apply

    run = SyncRun.objects.create(manifest="syncs/test.json", team=core.platform, api_key=core.platform_key)
    sync_apply(parsed=parse_manifest(manifest), run=run, actor=actor_for_key(core.platform_key))


def upload(core, content: bytes, *, asset: str | None = None) -> ResultUpload:
    row = result_upload_create(
        content=content, filename="results.json", actor=actor_for_key(core.platform_key), asset_ref=asset
    )
    assert ingest_result_upload(row.pk) in ("succeeded", "failed")
    row.refresh_from_db()
    return row


@pytest.fixture
def two_namings(core):
    """core synced as core.main.*, its assets retired (as a sync that found them gone retires
    them: they keep their active contract versions, so the same test unique_ids), then synced
    under a new naming, warehouse.main.*: the live assets."""
    Asset.objects.filter(relation__startswith="core.main.").update(status=Asset.Status.RETIRED)
    sync(core, renamed_manifest(database="warehouse"))
    return core


def test_failures_of_a_project_synced_under_two_namings_land_on_its_live_assets(two_namings):
    core = two_namings
    old = Asset.objects.get(relation="core.main.dim_customers")
    live = Asset.objects.get(relation="warehouse.main.dim_customers")
    assert (old.status, live.status) == (Asset.Status.RETIRED, Asset.Status.ACTIVE)
    assert old.active_version_id is not None  # the trap: a retired asset keeps an active version
    summary = audit_ingest_run_results(
        run_results=fixture_bytes("dbt_core_build_failing.json"), actor=actor_for_key(core.platform_key)
    )
    assert not AuditRun.objects.filter(asset__relation__startswith="core.").exists()
    failed = AuditRun.objects.get(status=AuditRun.Status.FAILED)
    assert failed.asset == live
    assert failed.checks.get(status="fail").name.startswith("test.core.not_null_dim_customers_email")
    gate = publish_gate(asset=live)
    assert gate.decision == "hold"
    assert any("not_null(email) failed its latest check" in reason for reason in gate.reasons)
    # The retired naming's asset got nothing: it is not where the data lives.
    assert not old.audit_runs.exists()
    assert summary.unmatched == []


def test_results_of_a_retired_assets_tests_only_are_unmatched_with_the_reason(core):
    Asset.objects.filter(relation="core.main.dim_customers").update(status=Asset.Status.RETIRED)
    summary = audit_ingest_run_results(
        run_results=fixture_bytes("dbt_core_build_failing.json"), actor=actor_for_key(core.platform_key)
    )
    reasons = {u["reason"] for u in summary.unmatched if "dim_customers" in u["name"]}
    assert reasons == {"only retired assets carry this test: sync the project's current manifest"}
    assert not AuditRun.objects.filter(asset__relation="core.main.dim_customers").exists()


@pytest.fixture
def second_project(core):
    """Another project with the same model names in another database (core_eu.main.dim_customers)."""
    sync(core, renamed_manifest(database="core_eu", project="core_eu"))
    return Asset.objects.get(relation="core_eu.main.dim_customers")


def test_a_gx_result_for_an_ambiguous_table_stays_unmatched_with_the_candidates(core, second_project):
    row = upload(core, fixture_bytes("gx_validation_dim_customers.json"))
    assert row.status == "succeeded" and not AuditRun.objects.exists()
    reasons = {u["reason"] for u in row.unmatched}
    assert len(reasons) == 1
    (reason,) = reasons
    assert "matches several assets" in reason and "core.main.dim_customers" in reason
    assert "core_eu.main.dim_customers" in reason and "asset=" in reason


def test_a_gx_result_for_an_ambiguous_table_with_asset_lands_on_that_asset(core, second_project):
    row = upload(core, fixture_bytes("gx_validation_dim_customers.json"), asset="core_eu.main.dim_customers")
    assert row.status == "succeeded"
    run = AuditRun.objects.get()
    assert run.asset == second_project
    assert row.unmatched == [] and row.warnings == []
    assert run.checks.filter(guarantee__asset=second_project).exists()


def test_an_asset_hint_the_table_does_not_name_is_unused_and_a_warning_says_so(core, second_project):
    row = upload(core, fixture_bytes("gx_validation_dim_customers.json"), asset="core.main.fct_orders")
    assert not AuditRun.objects.exists()
    assert any("asset=core.main.fct_orders was not used" in w for w in row.warnings)


def test_dbt_tests_on_two_live_assets_are_unmatched_unless_asset_chooses(two_namings):
    # The first naming's assets brought back to life (nobody retired them), in the same project:
    # the same test unique_ids live on two assets, and without the project's node mapping nothing
    # decides between them, so nothing may be guessed.
    from contracts.models import AssetNode

    core = two_namings
    Asset.objects.filter(relation__startswith="core.main.").update(status=Asset.Status.ACTIVE)
    AssetNode.objects.all().delete()
    failing = fixture_bytes("dbt_core_build_failing.json")
    row = upload(core, failing)
    email = [u for u in row.unmatched if "not_null_dim_customers_email" in u["name"]]
    assert email and email[0]["reason"] == "2 live assets carry this test; give asset= to choose one"
    assert not AuditRun.objects.filter(asset__name="dim_customers").exists()

    AuditRun.objects.all().delete()
    upload(core, failing, asset="warehouse.main.dim_customers")
    run = AuditRun.objects.get(status=AuditRun.Status.FAILED)
    assert run.asset.relation == "warehouse.main.dim_customers"
