"""POST /api/v1/sync/dbt, GET /api/v1/syncs/{id}: through Django's test client and the real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contracts.models import Asset, ContractVersion, Event, Project, SyncRun, Team
from contracts.services.apikeys import apikey_create
from contracts.services.teams import team_ensure
from contracts.tasks.sync import sync_run_task

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = (FIXTURES / "small_shop_manifest.json").read_bytes()


@pytest.fixture
def open_api(settings):
    settings.TESSERA_OPEN_API = True


@pytest.fixture
def shop(db):
    team, _ = team_ensure(slug="shop-platform")
    return team


def _post(client, body: bytes, query: str = "", **headers):
    return client.post(f"/api/v1/sync/dbt{query}", data=body, content_type="application/json", **headers)


def _nothing_written() -> bool:
    return not (SyncRun.objects.exists() or Asset.objects.exists() or Project.objects.exists())


def test_raw_body_as_in_the_demo_readme_is_accepted_with_a_status_url(client, open_api, shop):
    response = _post(client, SMALL, "?team=shop-platform")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["status_url"].endswith(f"/api/v1/syncs/{body['sync_id']}")

    sync_run_task(body["sync_id"])  # what the worker does with the enqueued message
    status = client.get(body["status_url"]).json()
    assert status["status"] == "succeeded"
    assert status["project"] == "small_shop"
    assert status["summary"]["created"] == 17
    assert Asset.objects.count() == 17


@pytest.mark.django_db(transaction=True)
def test_wait_true_returns_the_finished_summary(client, open_api, celery_eager):
    team_ensure(slug="shop-platform")
    response = _post(client, SMALL, "?team=shop-platform&wait=true")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["summary"]["published_by_bump"] == {"initial": 17}
    assert body["warnings"]  # the unknown meta teams were reported


@pytest.mark.django_db(transaction=True)
def test_wait_true_reports_a_manifest_broken_past_its_head_as_422(client, open_api, celery_eager, settings):
    team_ensure(slug="shop-platform")
    settings.TESSERA_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    import contracts.services.sync.submit as sync_service

    previous = sync_service.FULL_CHECK_BYTES
    sync_service.FULL_CHECK_BYTES = 1000  # judge by the head only, as for a 140 MB upload
    try:
        response = _post(client, SMALL[: len(SMALL) // 2], "?team=shop-platform&wait=true")
    finally:
        sync_service.FULL_CHECK_BYTES = previous
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "sync_failed" and "not valid JSON" in body["detail"]
    assert not Asset.objects.exists()


def test_multipart_upload_with_catalog_and_run_results(
    client, open_api, db, django_capture_on_commit_callbacks
):
    team_ensure(slug="jaffle")
    manifest = (FIXTURES / "manifest_v12_jaffle_shop_dbt1.11.json").read_bytes()
    response = client.post(
        "/api/v1/sync/dbt?team=jaffle",
        data={
            "manifest": SimpleUploadedFile("manifest.json", manifest, "application/json"),
            "catalog": SimpleUploadedFile(
                "catalog.json", (FIXTURES / "catalog_v1_jaffle_shop_dbt1.11.json").read_bytes()
            ),
            "run_results": SimpleUploadedFile(
                "run_results.json", (FIXTURES / "run_results_v6_jaffle_shop.json").read_bytes()
            ),
        },
    )
    assert response.status_code == 202, response.content
    run = SyncRun.objects.get(pk=response.json()["sync_id"])
    assert run.catalog and run.run_results
    with django_capture_on_commit_callbacks(execute=True):
        sync_run_task(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    # The run results went to the audits ingestion once the sync had committed.
    from audits.models import ResultUpload

    assert ResultUpload.objects.filter(sync_run=run).exists()
    customers = Asset.objects.get(relation="jaffle_shop.main.customers").active_version
    assert {c["name"]: c["data_type"] for c in customers.columns}["lifetime_spend"] == "DECIMAL(38,2)"


@pytest.mark.parametrize(
    ("body", "status", "code", "phrase"),
    [
        (b"<html>not json</html>", 400, "invalid_json", "not valid JSON"),
        (b'{"some": "json"}', 422, "not_a_manifest", "not a dbt manifest"),
        (
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v20.json"}, "nodes": {}}',
            422,
            "unsupported_schema_version",
            "v20 is not supported",
        ),
        (b"", 400, "empty_body", "empty"),
    ],
)
def test_bad_bodies_get_a_clear_4xx_and_write_nothing(client, open_api, db, body, status, code, phrase):
    response = _post(client, body)

    assert response.status_code == status
    assert response.json()["error"] == code
    assert phrase in response.json()["detail"]
    assert _nothing_written()


def test_body_over_the_size_limit_is_413(client, open_api, db, settings):
    settings.TESSERA_MAX_UPLOAD_BYTES = 50_000
    response = _post(client, SMALL)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large" and "TESSERA_MAX_UPLOAD_BYTES" in response.json()["detail"]
    assert _nothing_written()


def test_unknown_team_is_a_4xx_and_creates_no_team(client, open_api, db):
    response = _post(client, SMALL, "?team=no-such-team")
    assert response.status_code == 400
    assert response.json() == {
        "error": "unknown_team",
        "detail": "Team 'no-such-team' does not exist (create it in the admin first).",
    }
    assert _nothing_written() and not Team.objects.exists()


def test_multipart_without_manifest_field_is_400(client, open_api, db):
    response = client.post("/api/v1/sync/dbt", data={"catalog": SimpleUploadedFile("c.json", b"{}")})
    assert response.status_code == 400 and response.json()["error"] == "missing_manifest"


def test_sync_needs_a_key_with_write_scope_for_its_team(client, shop):
    assert _post(client, SMALL).status_code == 401
    _, read_secret = apikey_create(team=shop, name="reader", scopes="read")
    response = _post(client, SMALL, HTTP_AUTHORIZATION=f"Bearer {read_secret}")
    assert response.status_code == 403
    other, _ = team_ensure(slug="other")
    _, secret = apikey_create(team=shop, name="ci", scopes="read,write")
    response = _post(client, SMALL, "?team=other", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403
    assert _nothing_written()

    response = _post(client, SMALL, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 202
    sync_run_task(response.json()["sync_id"])
    # Nodes without meta owner fall to the project owner: the key's team on a first sync.
    assert Asset.objects.get(relation="memory.main_staging.stg_stripe__stores").owner_team == shop
    event = Event.objects.get(kind="sync.completed")
    assert event.actor_api_key is not None and event.actor_label == "api-key:shop-platform/ci"


def test_unknown_sync_id_is_404(client, open_api, db):
    response = client.get("/api/v1/syncs/999999")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_identical_resync_through_the_api_adds_no_version(client, open_api, shop):
    for _ in range(2):
        response = _post(client, SMALL, "?team=shop-platform")
        sync_run_task(response.json()["sync_id"])
    assert ContractVersion.objects.count() == 17
    last = SyncRun.objects.order_by("-id").first()
    assert last.summary["unchanged"] == 17


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_demo_readme_curl_lines_sync_the_three_projects(client, open_api, celery_eager, demo_artifacts):
    """`curl -X POST .../api/v1/sync/dbt -H "Content-Type: application/json" -d @core/target/manifest.json`,
    then marketing, then finance: in-process tasks, as in the demo."""
    for slug in ("data-platform", "marketing-analytics", "finance-analytics"):
        team_ensure(slug=slug)
    for project in ("core", "marketing", "finance"):
        body = demo_artifacts.read_bytes(demo_artifacts.manifests[project]).replace(
            b"\n", b""
        )  # curl -d strips newlines
        response = _post(client, body)
        assert response.status_code == 202, response.content
        status = client.get(response.json()["status_url"]).json()
        assert status["status"] == "succeeded", status["error"]
        assert status["project"] == project
    assert Asset.objects.filter(resource_type="model").count() == 37


@pytest.mark.integration
def test_a_real_celery_worker_runs_the_sync_enqueued_by_the_api(client, open_api, celery_worker):
    from testsupport.fixtures import wait_for

    team_ensure(slug="shop-platform")
    response = _post(client, SMALL, "?team=shop-platform")
    assert response.status_code == 202
    status_url = response.json()["status_url"]
    done = wait_for(
        lambda: (body := client.get(status_url).json())["status"] in ("succeeded", "failed") and body,
        timeout=90,
        message="the worker to finish the sync",
    )
    assert done["status"] == "succeeded", done["error"] + celery_worker.log()
    assert done["summary"]["created"] == 17


def test_another_teams_key_may_not_sync_a_project_it_does_not_own(client, shop):
    _, owner_secret = apikey_create(team=shop, name="ci", scopes="read,write")
    sync_run_task(_post(client, SMALL, HTTP_AUTHORIZATION=f"Bearer {owner_secret}").json()["sync_id"])
    stranger, _ = team_ensure(slug="stranger")
    _, stranger_secret = apikey_create(team=stranger, name="ci", scopes="read,write")

    response = _post(client, SMALL, HTTP_AUTHORIZATION=f"Bearer {stranger_secret}")

    assert response.status_code == 403
    assert "belongs to team 'shop-platform'" in response.json()["detail"]
    assert SyncRun.objects.count() == 1
