"""An aborted scan is an error, never an empty success: an errored run on the asset when one is
known, a failed upload saying why otherwise."""

from __future__ import annotations

import orjson
import pytest

from audits.ingest import parse_results
from audits.models import AuditRun
from audits.selectors import publish_gate
from audits.tests.conftest import fixture_bytes
from audits.tests.test_matching_live_assets import upload

pytestmark = pytest.mark.django_db


def test_the_parser_reads_an_aborted_soda_scan_as_aborted_with_sodas_reason():
    parsed = parse_results(fixture_bytes("soda_scan_aborted.json"))
    assert parsed.checks == []
    assert parsed.aborted.startswith("The Soda scan aborted before it checked anything: Could not connect")


def test_an_aborted_soda_scan_with_asset_is_an_errored_run_that_holds_the_gate(core):
    row = upload(core, fixture_bytes("dbt_core_build_pass.json"))
    assert publish_gate(asset=core.dim_customers).decision == "publish"
    row = upload(core, fixture_bytes("soda_scan_aborted.json"), asset="core.main.dim_customers")
    assert row.status == "succeeded"
    run = AuditRun.objects.get(tool="soda")
    assert (run.asset, run.status, run.checked, run.errored, run.passed) == (
        core.dim_customers,
        "error",
        1,
        1,
        0,
    )
    check = run.checks.get()
    assert check.status == "error" and "Could not connect to data source" in check.message
    gate = publish_gate(asset=core.dim_customers)
    assert gate.decision == "hold"
    assert any("could not run 1 check(s)" in reason for reason in gate.reasons)


def test_an_aborted_soda_scan_with_no_known_asset_fails_the_upload_and_records_nothing(core):
    row = upload(core, fixture_bytes("soda_scan_aborted.json"))
    assert row.status == "failed"
    assert row.error.startswith("The Soda scan aborted before it checked anything")
    assert "give asset=" in row.error
    assert not AuditRun.objects.exists()


def _gx_every_expectation_raised() -> bytes:
    doc = orjson.loads(fixture_bytes("gx_validation_dim_customers.json"))
    for result in doc["results"]:
        result["success"] = False
        result["result"] = {}
        result["exception_info"] = {
            "raised_exception": True,
            "exception_message": "Binder Error: Table dim_customers does not exist",
            "exception_traceback": "...",
        }
    return orjson.dumps(doc)


def test_gx_exceptions_on_every_expectation_make_an_errored_run_not_a_pass(core):
    row = upload(core, _gx_every_expectation_raised())
    assert row.status == "succeeded"
    run = AuditRun.objects.get()
    assert run.asset == core.dim_customers
    assert run.status == "error" and run.passed == 0 and run.errored == run.checked > 0


def test_gx_exceptions_everywhere_on_an_unknown_table_fail_the_upload(core):
    doc = orjson.loads(_gx_every_expectation_raised())
    doc["meta"]["active_batch_definition"]["data_asset_name"] = "no_such_table"
    row = upload(core, orjson.dumps(doc))
    assert row.status == "failed"
    assert "Great Expectations could not run any expectation" in row.error
    assert not AuditRun.objects.exists()
