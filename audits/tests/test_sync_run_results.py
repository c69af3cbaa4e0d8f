"""run_results that come with a manifest sync are ingested after the sync commits; a real worker
ingests an upload end to end (integration)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.models import AuditRun, ResultUpload
from audits.tests.conftest import bearer, fixture_bytes
from contracts.factories import TeamFactory, api_key_for
from tessera_site.lib.auth import actor_for_key
from testsupport.fixtures import requires_worker_stack, wait_for


@pytest.mark.django_db
def test_run_results_sent_with_the_manifest_become_audit_runs_after_the_sync(
    django_capture_on_commit_callbacks,
):
    from contracts.services.sync import sync_submit
    from contracts.tasks.sync import sync_run_task

    platform = TeamFactory(slug="data-platform")
    key, _ = api_key_for(platform)
    with django_capture_on_commit_callbacks():
        run = sync_submit(
            manifest=fixture_bytes("dbt_core_manifest.json"),
            run_results=fixture_bytes("dbt_core_build_failing.json"),
            team_slug=None,
            actor=actor_for_key(key),
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_run_task(run.pk) == "succeeded"
    upload = ResultUpload.objects.get(sync_run=run)
    assert (upload.status, upload.format, upload.unmatched) == ("succeeded", "dbt", [])
    runs = {r.asset.relation: r.status for r in AuditRun.objects.select_related("asset")}
    assert runs["core.main.dim_customers"] == "failed"
    assert set(runs.values()) == {"passed", "failed"}
    assert AuditRun.objects.filter(upload=upload).count() == len(runs)


@requires_worker_stack
@pytest.mark.integration
def test_a_real_worker_ingests_an_uploaded_soda_scan(core, api, celery_worker):
    response = api.post(
        "/api/v1/audit-results/upload",
        {"file": SimpleUploadedFile("scan.json", fixture_bytes("soda_scan_core.json")), "format": "soda"},
        **bearer(core.platform_secret),
    )
    assert response.status_code == 202, response.content
    upload_id = response.json()["id"]

    def done():
        upload = ResultUpload.objects.get(pk=upload_id)
        return upload if upload.status in ("succeeded", "failed") else None

    upload = wait_for(done, timeout=60, message=f"upload {upload_id} ingested\n{celery_worker.log()}")
    assert upload.status == "succeeded", upload.error
    assert sorted(r["asset"] for r in upload.summary["runs"]) == [
        "core.main.dim_customers",
        "core.main.fct_orders",
    ]
    assert AuditRun.objects.filter(upload_id=upload_id).count() == 2


@pytest.mark.django_db
def test_without_a_named_ingestion_the_sync_says_its_run_results_were_not_ingested(
    settings, django_capture_on_commit_callbacks
):
    """contracts reaches the audits ingestion only through TESSERA_RUN_RESULTS_INGEST: unset, the
    sync still succeeds and its warnings say the run_results were stored but not ingested."""
    from contracts.models import SyncRun
    from contracts.services.sync import sync_submit
    from contracts.tasks.sync import sync_run_task

    del settings.TESSERA_RUN_RESULTS_INGEST
    platform = TeamFactory(slug="data-platform")
    key, _ = api_key_for(platform)
    with django_capture_on_commit_callbacks():
        run = sync_submit(
            manifest=fixture_bytes("dbt_core_manifest.json"),
            run_results=fixture_bytes("dbt_core_build_failing.json"),
            team_slug=None,
            actor=actor_for_key(key),
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_run_task(run.pk) == "succeeded"
    assert "run_results was stored but not ingested" in " ".join(SyncRun.objects.get(pk=run.pk).warnings)
    assert not AuditRun.objects.exists()
    assert not ResultUpload.objects.exists()
