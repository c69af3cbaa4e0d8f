"""The audit API: the demo README's curl, 422 for inconsistent counts, idempotent run_id, 404,
uploads with their job rows, history and the gate over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.models import AuditRun, CheckResult, ResultUpload
from audits.tests.conftest import bearer, fixture_bytes

pytestmark = pytest.mark.django_db

README_PAYLOAD = {
    "status": "passed",
    "triggered_by": "dbt_test",
    "guarantees_checked": 15,
    "guarantees_passed": 15,
    "guarantees_failed": 0,
}

UNIQUE_ID_TEST = "test.core.unique_dim_customers_customer_id.15c9f1e2fd"


@pytest.fixture
def open_api(settings):
    settings.TESSERA_OPEN_API = True


def post_results(api, ref, payload, **headers):
    return api.post(
        f"/api/v1/assets/{ref}/audit-results", payload, content_type="application/json", **headers
    )


@pytest.mark.parametrize(
    "ref", ["id", "core.main.dim_customers", "CORE.MAIN.DIM_CUSTOMERS", "model.core.dim_customers"]
)
def test_readme_curl_records_a_run_by_id_relation_or_unique_id_in_open_mode(core, api, open_api, ref):
    ref = str(core.dim_customers.pk) if ref == "id" else ref
    response = post_results(api, ref, README_PAYLOAD)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["asset_id"], body["status"], body["checked"], body["passed"]) == (
        core.dim_customers.pk,
        "passed",
        15,
        15,
    )
    run = AuditRun.objects.get()
    assert (run.tool, run.triggered_by, run.contract_version_id) == (
        "custom",
        "dbt_test",
        core.dim_customers.active_version_id,
    )


def test_demo_readme_curl_payload_works_as_written(core, api, open_api):
    readme = (Path(__file__).resolve().parents[2] / "demo_dbt_projects" / "README.md").read_text()
    line = next(line for line in readme.splitlines() if "/audit-results -H" in line)
    payload = json.loads(line.split("-d '", 1)[1].rsplit("'", 1)[0])
    for ref in (str(core.dim_customers.pk), "core.main.dim_customers"):
        response = post_results(api, ref, payload)
        assert response.status_code in (200, 201), response.content
    run = AuditRun.objects.get()  # the same run_id twice: one run
    check = run.checks.select_related("guarantee").get()
    assert (check.status, check.guarantee.kind, check.guarantee.column) == ("pass", "not_null", "customer_id")


def test_api_key_of_the_owner_team_may_post_results(core, api):
    response = post_results(api, "core.main.dim_customers", README_PAYLOAD, **bearer(core.platform_secret))
    assert response.status_code == 201


def test_results_are_matched_to_guarantees_by_name_or_test_id(core, api, open_api):
    payload = {
        "status": "failed",
        "triggered_by": "airflow",
        "guarantees_checked": 3,
        "guarantees_passed": 1,
        "guarantees_failed": 1,
        "run_id": "airflow-2026-01-05",
        "run_at": "2026-01-05T06:00:00Z",
        "results": [
            {
                "guarantee": "not_null(email)",
                "status": "fail",
                "failing_rows": 2,
                "message": "2 blank emails",
            },
            {"guarantee": UNIQUE_ID_TEST, "status": "pass"},
            {"check": "row count within 10% of yesterday", "status": "warn"},
        ],
    }
    response = post_results(api, "core.main.dim_customers", payload)
    assert response.status_code == 201, response.content
    run = AuditRun.objects.get()
    assert (run.status, run.warned, run.run_at.isoformat()) == ("failed", 1, "2026-01-05T06:00:00+00:00")
    checks = {c.name: c for c in run.checks.select_related("guarantee")}
    assert (checks["not_null(email)"].guarantee.kind, checks["not_null(email)"].failing_rows) == (
        "not_null",
        2,
    )
    assert checks[UNIQUE_ID_TEST].guarantee.kind == "unique"
    assert checks["row count within 10% of yesterday"].guarantee is None
    assert "not_null(customer_id)" in run.unchecked


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"guarantees_passed": 15, "guarantees_failed": 3}, "is more than guarantees_checked"),
        ({"guarantees_passed": 12, "guarantees_failed": 3}, "status is 'passed' but guarantees_failed is 3"),
        ({"status": "failed"}, "status is 'failed' but guarantees_failed is 0"),
        (
            {"status": "partial", "guarantees_passed": 10, "guarantees_failed": 2},
            "a run with failures is 'failed'",
        ),
        ({"guarantees_checked": 0, "guarantees_passed": 0}, "no guarantee was checked"),
        ({"results": [{"check": "a", "status": "fail"}]}, "results has 1 failing checks"),
        ({"run_at": "2099-01-01T00:00:00Z"}, "is in the future"),
    ],
)
def test_counts_that_contradict_each_other_or_the_status_are_422_with_the_reason(
    core, api, open_api, changes, reason
):
    response = post_results(api, "core.main.dim_customers", {**README_PAYLOAD, **changes})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "inconsistent_audit"
    assert any(reason in r for r in body["reasons"]), body
    assert not AuditRun.objects.exists()


def test_malformed_payload_is_422_not_500(core, api, open_api):
    response = post_results(api, "core.main.dim_customers", {"status": "great", "guarantees_checked": -1})
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    response = api.post(
        f"/api/v1/assets/{core.dim_customers.pk}/audit-results", b"{not json", content_type="application/json"
    )
    assert 400 <= response.status_code < 500
    assert not AuditRun.objects.exists()


def test_the_same_run_id_twice_answers_with_the_first_run(core, api, open_api):
    payload = {**README_PAYLOAD, "run_id": "ci-1234"}
    first = post_results(api, "core.main.dim_customers", payload)
    second = post_results(
        api, "core.main.dim_customers", {**payload, "guarantees_passed": 14, "status": "partial"}
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"] and second.json()["status"] == "passed"
    assert AuditRun.objects.count() == 1


def test_unknown_asset_is_404(core, api, open_api):
    response = post_results(api, "core.main.no_such_table", README_PAYLOAD)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_team_that_neither_owns_nor_uses_the_asset_gets_403(core, api):
    response = post_results(api, "core.main.dim_customers", README_PAYLOAD, **bearer(core.outsider_secret))
    assert response.status_code == 403
    assert not AuditRun.objects.exists()


def test_a_read_only_key_cannot_post_and_no_key_is_401(core, api):
    assert (
        post_results(api, "core.main.dim_customers", README_PAYLOAD, **bearer(core.reader_secret)).status_code
        == 403
    )
    assert post_results(api, "core.main.dim_customers", README_PAYLOAD).status_code == 401


def upload(api, name_or_bytes, *, secret, wait=False, **fields):
    content = name_or_bytes if isinstance(name_or_bytes, bytes) else fixture_bytes(name_or_bytes)
    data = {"file": SimpleUploadedFile("results.json", content, content_type="application/json"), **fields}
    url = "/api/v1/audit-results/upload" + ("?wait=true" if wait else "")
    return api.post(url, data, **bearer(secret))


def test_upload_is_accepted_with_a_status_url_and_ingested_after_commit(
    core, api, django_capture_on_commit_callbacks
):
    from audits.tasks import ingest_result_upload

    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(api, "soda_scan_core.json", secret=core.platform_secret)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "pending" and body["status_url"].endswith(f"/api/v1/audit-uploads/{body['id']}")
    assert len(callbacks) == 1 and not AuditRun.objects.exists()
    ingest_result_upload(body["id"])  # what the worker does with the enqueued message
    status = api.get(f"/api/v1/audit-uploads/{body['id']}", **bearer(core.platform_secret)).json()
    assert status["status"] == "succeeded" and status["format"] == "soda"
    assert [r["asset"] for r in status["summary"]["runs"]] == [
        "core.main.dim_customers",
        "core.main.fct_orders",
    ]
    assert AuditRun.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_upload_with_wait_answers_with_the_outcome(core, api, celery_eager, settings):
    settings.TESSERA_SYNC_WAIT_SECONDS = 30
    response = upload(
        api, "gx_validation_dim_customers.json", secret=core.platform_secret, wait=True, format="gx"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["format"], body["requested_format"]) == (
        "succeeded",
        "great_expectations",
        "great_expectations",
    )
    assert body["summary"]["runs"][0]["status"] == "failed"


def test_a_file_that_is_not_json_is_refused_before_the_202_and_nothing_is_stored(core, api):
    response = upload(api, b"<html>not results</html>", secret=core.platform_secret, wait=True)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_result_file" and "not valid JSON" in body["detail"]
    assert not ResultUpload.objects.exists()
    assert not AuditRun.objects.exists() and not CheckResult.objects.exists()


def test_a_file_past_the_upload_limit_is_413_and_nothing_is_stored(core, api, settings):
    settings.TESSERA_MAX_UPLOAD_BYTES = 100
    response = upload(api, b'{"results": []}' + b" " * 200, secret=core.platform_secret)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large" and "TESSERA_MAX_UPLOAD_BYTES" in response.json()["detail"]
    assert not ResultUpload.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_wait_answers_422_when_the_worker_refuses_the_file_and_writes_nothing(
    core, api, celery_eager, settings
):
    settings.TESSERA_SYNC_WAIT_SECONDS = 30
    # JSON of no format the named parser understands: only the worker's full parse can say so.
    response = upload(api, b'{"hello": "world"}', secret=core.platform_secret, format="soda", wait=True)
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "failed" and body["detail"] == body["error"] != ""
    assert not AuditRun.objects.exists() and not CheckResult.objects.exists()


def test_upload_with_an_unknown_format_or_asset_or_empty_file_is_a_4xx(core, api):
    assert upload(api, "soda_scan_core.json", secret=core.platform_secret, format="excel").status_code == 400
    assert (
        upload(api, "soda_scan_core.json", secret=core.platform_secret, asset="core.main.nope").status_code
        == 404
    )
    assert upload(api, b"", secret=core.platform_secret).status_code == 400
    assert not ResultUpload.objects.exists()


def test_raw_body_upload_is_accepted_like_curl_data_binary(core, api, django_capture_on_commit_callbacks):
    from audits.tasks import ingest_result_upload

    with django_capture_on_commit_callbacks():
        response = api.post(
            "/api/v1/audit-results/upload?format=dbt",
            fixture_bytes("dbt_core_build_failing.json"),
            content_type="application/json",
            **bearer(core.platform_secret),
        )
    assert response.status_code == 202, response.content
    assert ingest_result_upload(response.json()["id"]) == "succeeded"
    assert AuditRun.objects.get(asset=core.dim_customers).status == "failed"


def test_multipart_without_a_file_field_is_400(core, api):
    response = api.post("/api/v1/audit-results/upload", {"format": "dbt"}, **bearer(core.platform_secret))
    assert response.status_code == 400 and response.json()["error"] == "missing_file"


def test_another_teams_upload_status_is_404(core, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        body = upload(api, "soda_scan_core.json", secret=core.platform_secret).json()
    assert api.get(f"/api/v1/audit-uploads/{body['id']}", **bearer(core.outsider_secret)).status_code == 404


def test_history_lists_runs_trend_pass_rates_and_failing_checks(core, api):
    from audits.services import audit_ingest_run_results
    from tessera_site.lib.auth import actor_for_key

    actor = actor_for_key(core.platform_key)
    audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_failing.json"), actor=actor)
    audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_pass.json"), actor=actor)
    response = api.get(
        "/api/v1/assets/core.main.dim_customers/audits?checks=true", **bearer(core.marketing_secret)
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["status"] for r in body["runs"]] == ["passed", "failed"]
    assert body["runs"][1]["checks"] and body["trend"][0]["runs"] == 2
    email = next(
        c for c in body["checks"] if c["name"] == "test.core.not_null_dim_customers_email.ed68b54d1a"
    )
    assert (email["results"], email["passed"], email["failed"], email["pass_rate"]) == (2, 1, 1, 0.5)
    assert body["most_failing"][0]["name"] == "test.core.not_null_dim_customers_email.ed68b54d1a"
    assert (
        api.get("/api/v1/assets/core.main.dim_customers/audits", **bearer(core.outsider_secret)).status_code
        == 403
    )


def test_publish_gate_over_http(core, api):
    response = api.get("/api/v1/assets/core.main.dim_customers/publish-gate", **bearer(core.reader_secret))
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "hold"
    assert body["reasons"][0] == "No audit results have been recorded for this asset."
    assert "Guarantee not_null(email) has not been checked by any recorded audit." in body["reasons"]
    assert body["version"] == "1.0.0" and body["requires_passing_audit"] is False
    assert (
        api.get("/api/v1/assets/core.main.nope/publish-gate", **bearer(core.reader_secret)).status_code == 404
    )
