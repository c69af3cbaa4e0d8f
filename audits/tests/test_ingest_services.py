"""Ingesting the real result files into audit runs: matching to assets and guarantees, statuses,
partial runs, unmatched checks, idempotency, bad files and who may report."""

from __future__ import annotations

import orjson
import pytest

from audits.models import AuditRun, CheckResult, ResultUpload
from audits.services import audit_ingest_run_results, result_upload_create
from audits.tasks import ingest_result_upload
from audits.tests.conftest import fixture_bytes
from contracts.models import Event, Guarantee
from tessera_site.lib.auth import actor_for_key

pytestmark = pytest.mark.django_db


def upload_and_ingest(core, name_or_bytes, *, actor=None, format=None, asset=None) -> ResultUpload:
    content = name_or_bytes if isinstance(name_or_bytes, bytes) else fixture_bytes(name_or_bytes)
    upload = result_upload_create(
        content=content,
        filename="results.json",
        actor=actor or actor_for_key(core.platform_key),
        format=format,
        asset_ref=asset,
    )
    assert ingest_result_upload(upload.pk) in ("succeeded", "failed")
    upload.refresh_from_db()
    return upload


def runs_by_relation() -> dict[str, AuditRun]:
    return {run.asset.relation: run for run in AuditRun.objects.select_related("asset")}


def test_passing_dbt_build_makes_one_passed_run_per_asset_with_every_test_matched(core):
    summary = audit_ingest_run_results(
        run_results=fixture_bytes("dbt_core_build_pass.json"), actor=actor_for_key(core.platform_key)
    )
    assert summary.unmatched == []
    runs = runs_by_relation()
    tested_assets = set(
        Guarantee.objects.exclude(test_unique_id="").values_list("asset__relation", flat=True)
    )
    assert set(runs) == tested_assets
    assert {run.status for run in runs.values()} == {"passed"}
    dim = runs["core.main.dim_customers"]
    expected = (
        Guarantee.objects.filter(version=core.dim_customers.active_version).exclude(test_unique_id="").count()
    )
    assert (dim.checked, dim.passed, dim.failed, dim.unchecked) == (expected, expected, 0, [])
    assert dim.contract_version_id == core.dim_customers.active_version_id
    invocation = orjson.loads(fixture_bytes("dbt_core_build_pass.json"))["metadata"]["invocation_id"]
    assert dim.tool == "dbt" and dim.run_id == invocation
    assert not CheckResult.objects.filter(guarantee__isnull=True).exists()
    assert CheckResult.objects.count() == 113


def test_failing_dbt_build_fails_only_the_asset_whose_test_failed_and_records_an_event(core):
    audit_ingest_run_results(
        run_results=fixture_bytes("dbt_core_build_failing.json"), actor=actor_for_key(core.platform_key)
    )
    runs = runs_by_relation()
    dim = runs.pop("core.main.dim_customers")
    assert (dim.status, dim.failed, dim.passed) == ("failed", 1, dim.checked - 1)
    failing = dim.checks.get(status="fail")
    assert (failing.guarantee.kind, failing.guarantee.column, failing.failing_rows) == (
        "not_null",
        "email",
        1,
    )
    assert {run.status for run in runs.values()} == {"passed"}
    event = Event.objects.get(kind="audit.failed")
    assert event.asset_id == core.dim_customers.pk
    assert event.payload["failing_checks"] == ["test.core.not_null_dim_customers_email.ed68b54d1a"]
    assert set(event.payload["consumer_teams"]) == {"marketing-analytics", "finance-analytics"}


def test_partial_dbt_run_leaves_the_guarantees_it_did_not_run_unchecked(core):
    audit_ingest_run_results(
        run_results=fixture_bytes("dbt_core_test_dim_customers.json"), actor=actor_for_key(core.platform_key)
    )
    runs = runs_by_relation()
    assert runs["core.main.dim_customers"].status == "passed"
    # --select dim_customers also ran the relationships test of fct_orders, and nothing else of it.
    orders = runs["core.main.fct_orders"]
    assert orders.status == "partial"
    assert orders.checked == 1 and orders.passed == 1
    assert "not_null(order_id)" in orders.unchecked and "unique(order_id)" in orders.unchecked
    unchecked_ids = set(
        Guarantee.objects.filter(version=core.fct_orders.active_version)
        .exclude(kind="relationships")
        .values_list("id", flat=True)
    )
    assert not CheckResult.objects.filter(guarantee_id__in=unchecked_ids).exists()


def test_same_dbt_invocation_twice_is_recorded_once(core):
    actor = actor_for_key(core.platform_key)
    first = audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_pass.json"), actor=actor)
    count = AuditRun.objects.count()
    second = audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_pass.json"), actor=actor)
    assert AuditRun.objects.count() == count == len(first.runs)
    assert second.runs == [] and len(second.duplicates) == count


def test_dbt_tests_unknown_to_the_synced_manifest_are_reported_unmatched_not_dropped(core):
    doc = orjson.loads(fixture_bytes("dbt_core_build_pass.json"))
    doc["results"][-1]["unique_id"] = "test.core.not_null_somewhere_else_x.123abc"
    upload = upload_and_ingest(core, orjson.dumps(doc))
    assert upload.status == "succeeded"
    assert [u["name"] for u in upload.unmatched] == ["test.core.not_null_somewhere_else_x.123abc"]
    assert "sync the manifest" in upload.unmatched[0]["reason"]
    assert upload.summary["unmatched_count"] == 1


def test_gx_validation_is_matched_by_table_with_fail_warn_and_error_kept_apart(core):
    upload = upload_and_ingest(core, "gx_validation_dim_customers.json")
    assert upload.status == "succeeded" and upload.format == "great_expectations"
    run = AuditRun.objects.get()
    assert run.asset_id == core.dim_customers.pk and run.tool == "great_expectations"
    assert (run.status, run.checked, run.passed, run.failed, run.warned, run.errored) == (
        "failed",
        6,
        3,
        1,
        1,
        1,
    )
    linked = {c.name: c.guarantee for c in run.checks.all()}
    assert (
        linked["expect_column_values_to_be_unique(email)"].kind,
        linked["expect_column_values_to_be_unique(email)"].column,
    ) == ("unique", "email")
    assert linked["expect_column_values_to_not_be_null(customer_id)"].kind == "not_null"
    assert linked["expect_column_values_to_not_be_null(loyalty_tier)"] is None
    # Same kind and column as accepted_values(customer_segment), but another value set: not that guarantee.
    assert linked["expect_column_values_to_be_in_set(customer_segment)"] is None
    assert run.checks.get(status="error").column == "loyalty_tier"
    assert run.upload_id == upload.pk


def test_gx_checkpoint_makes_a_run_per_table(core):
    upload = upload_and_ingest(core, "gx_checkpoint_core_marts.json")
    runs = runs_by_relation()
    assert set(runs) == {"core.main.dim_customers", "core.main.fct_orders"}
    orders = runs["core.main.fct_orders"]
    assert (orders.status, orders.passed, orders.failed, orders.warned, orders.errored) == (
        "failed",
        2,
        1,
        1,
        0,
    )
    assert upload.unmatched == []


def test_soda_scan_makes_a_run_per_table_with_warnings_counted_apart(core):
    upload_and_ingest(core, "soda_scan_core.json")
    runs = runs_by_relation()
    dim = runs["core.main.dim_customers"]
    assert (dim.tool, dim.status, dim.passed, dim.failed, dim.warned) == ("soda", "failed", 3, 1, 1)
    assert dim.checks.get(name="missing_count(email) = 0").guarantee.kind == "not_null"
    assert dim.checks.get(name="duplicate_count(customer_id) = 0").guarantee.kind == "unique"
    assert dim.checks.get(name="invalid_count(customer_segment) = 0").guarantee is None
    assert runs["core.main.fct_orders"].failed == 1


def test_checks_naming_an_unknown_table_are_kept_as_unmatched(core):
    doc = {
        "format": "tessera.audit-results/v1",
        "tool": "homegrown",
        "checks": [
            {"table": "core.main.fct_orders", "name": "orders exist", "status": "pass"},
            {"table": "warehouse.nowhere.ghost_table", "name": "ghosts are friendly", "status": "fail"},
        ],
    }
    upload = upload_and_ingest(core, orjson.dumps(doc))
    assert upload.status == "succeeded"
    assert [u["name"] for u in upload.unmatched] == ["ghosts are friendly"]
    assert "matches no asset" in upload.unmatched[0]["reason"]
    assert AuditRun.objects.get().asset_id == core.fct_orders.pk


def test_asset_hint_places_checks_that_name_no_table(core):
    doc = {"format": "tessera.audit-results/v1", "checks": [{"name": "row count sane", "status": "pass"}]}
    upload = upload_and_ingest(core, orjson.dumps(doc), asset="core.main.fct_orders")
    assert upload.unmatched == []
    assert AuditRun.objects.get().asset_id == core.fct_orders.pk


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"this is not json", "not valid JSON"),
        (b'{"some": "thing"}', "Unknown result file"),
    ],
)
def test_unparseable_upload_fails_its_job_with_the_reason_and_writes_nothing(core, content, fragment):
    upload = upload_and_ingest(core, content)
    assert upload.status == "failed"
    assert fragment in upload.error
    assert not AuditRun.objects.exists() and not CheckResult.objects.exists()


def test_a_team_that_neither_owns_nor_uses_the_asset_cannot_report_on_it(core):
    upload = upload_and_ingest(core, "soda_scan_core.json", actor=actor_for_key(core.outsider.api_keys.get()))
    assert upload.status == "succeeded"
    assert not AuditRun.objects.exists()
    assert len(upload.unmatched) == 9
    assert all("may not report" in u["reason"] for u in upload.unmatched)


def test_a_consumer_team_may_report_on_an_asset_it_uses(core):
    upload_and_ingest(core, "soda_scan_core.json", actor=actor_for_key(core.marketing.api_keys.get()))
    assert AuditRun.objects.count() == 2


def test_table_names_match_whatever_their_case_or_qualification(core):
    doc = {
        "format": "tessera.audit-results/v1",
        "checks": [
            {"table": "DIM_CUSTOMERS", "name": "upper case", "status": "pass"},
            {"table": "main.fct_orders", "name": "schema qualified", "status": "pass"},
            {"table": '"core"."main"."fct_payments"', "name": "quoted", "status": "pass"},
        ],
    }
    upload = upload_and_ingest(core, orjson.dumps(doc))
    assert upload.unmatched == []
    assert set(runs_by_relation()) == {
        "core.main.dim_customers",
        "core.main.fct_orders",
        "core.main.fct_payments",
    }


def test_a_table_name_shared_by_two_assets_is_unmatched_with_both_named(core):
    from contracts.factories import AssetFactory

    AssetFactory(name="dim_customers", database="other", owner_team=core.platform, project=None)
    doc = {
        "format": "tessera.audit-results/v1",
        "checks": [{"table": "dim_customers", "name": "x", "status": "pass"}],
    }
    upload = upload_and_ingest(core, orjson.dumps(doc))
    assert "matches several assets" in upload.unmatched[0]["reason"]
    assert "core.main.dim_customers" in upload.unmatched[0]["reason"]
    assert not AuditRun.objects.exists()


def test_an_expectation_with_the_guarantees_own_value_set_proves_that_guarantee(core):
    doc = orjson.loads(fixture_bytes("gx_validation_dim_customers.json"))
    for result in doc["results"]:
        config = result["expectation_config"]
        if config["type"] == "expect_column_values_to_be_in_set":
            config["kwargs"]["value_set"] = ["vip", "loyal", "new", "prospect"]
    upload_and_ingest(core, orjson.dumps(doc))
    check = AuditRun.objects.get().checks.get(name="expect_column_values_to_be_in_set(customer_segment)")
    assert (check.guarantee.kind, check.guarantee.column) == ("accepted_values", "customer_segment")


def test_losing_a_race_with_another_ingestion_of_the_same_run_records_it_once(core, monkeypatch):
    import audits.services.writing as services

    actor = actor_for_key(core.platform_key)
    first = audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_pass.json"), actor=actor)
    real = services.recorded_assets
    calls = []

    def stale_then_real(**kwargs):
        calls.append(kwargs)
        return set() if len(calls) == 1 else real(**kwargs)  # the other worker committed in between

    monkeypatch.setattr(services, "recorded_assets", stale_then_real)
    second = audit_ingest_run_results(run_results=fixture_bytes("dbt_core_build_pass.json"), actor=actor)
    assert len(calls) == 2
    assert second.runs == [] and len(second.duplicates) == len(first.runs)
    assert AuditRun.objects.count() == len(first.runs)
