"""The pure result-file parsers on files the real tools wrote (see scripts/audit_fixtures/)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from audits.ingest import ResultFileError, detect_format, parse_results

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("dbt_core_build_pass.json", "dbt"),
        ("dbt_core_test_dim_customers.json", "dbt"),
        ("gx_validation_dim_customers.json", "great_expectations"),
        ("gx_checkpoint_core_marts.json", "great_expectations"),
        ("gx_checkpoint_describe.json", "great_expectations"),
        ("soda_scan_core.json", "soda"),
    ],
)
def test_detect_format_recognises_each_tools_real_file(name, expected):
    assert detect_format(read(name)) == expected


def test_dbt_passing_build_has_every_test_passing_and_no_model_rows():
    parsed = parse_results(read("dbt_core_build_pass.json"))
    assert parsed.tool == "dbt" and parsed.tool_version.startswith("1.11")
    assert parsed.partial is False
    assert parsed.counts() == {"pass": 113, "fail": 0, "warn": 0, "error": 0, "skipped": 0}
    assert all(c.unique_id.startswith("test.core.") for c in parsed.checks)
    assert parsed.run_id and parsed.started_at <= parsed.finished_at


def test_dbt_failing_build_reports_the_failing_test_with_its_failure_count():
    parsed = parse_results(read("dbt_core_build_failing.json"))
    failing = [c for c in parsed.checks if c.status == "fail"]
    assert [c.unique_id for c in failing] == ["test.core.not_null_dim_customers_email.ed68b54d1a"]
    assert failing[0].failing_rows == 1
    assert failing[0].check_type == "not_null"
    assert "Got 1 result" in failing[0].message


def test_dbt_select_run_is_marked_partial_with_its_selector():
    parsed = parse_results(read("dbt_core_test_dim_customers.json"))
    assert parsed.partial is True
    assert parsed.selector == "dim_customers"
    assert len(parsed.checks) == 14


@pytest.mark.parametrize(
    ("name", "dbt_version"),
    [
        ("run_results_v4_jaffle_shop.json", "1.0.0"),
        ("run_results_v5_jaffle_shop.json", "1.7.0"),
        ("run_results_v6_jaffle_shop.json", "1.9.0"),
    ],
)
def test_older_dbt_run_results_versions_parse(name, dbt_version):
    parsed = parse_results(read(name))
    assert parsed.tool_version == dbt_version
    assert parsed.counts() == {"pass": 20, "fail": 0, "warn": 0, "error": 0, "skipped": 0}


def test_dbt_unsupported_schema_version_is_a_clear_error():
    doc = orjson.loads(read("dbt_core_build_pass.json"))
    doc["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/run-results/v99.json"
    with pytest.raises(ResultFileError, match="v99 is not supported"):
        parse_results(orjson.dumps(doc))


def test_dbt_error_and_skipped_tests_keep_their_own_status_and_no_failure_count():
    doc = orjson.loads(read("dbt_core_build_pass.json"))
    tests = [r for r in doc["results"] if r["unique_id"].startswith("test.")]
    tests[0]["status"], tests[0]["message"] = "error", "Runtime Error: relation does not exist"
    tests[1]["status"] = "skipped"
    parsed = parse_results(orjson.dumps(doc))
    by_id = {c.unique_id: c for c in parsed.checks}
    assert by_id[tests[0]["unique_id"]].status == "error"
    assert by_id[tests[0]["unique_id"]].failing_rows is None
    assert "relation does not exist" in by_id[tests[0]["unique_id"]].message
    assert by_id[tests[1]["unique_id"]].status == "skipped"
    assert parsed.counts() == {"pass": 111, "fail": 0, "warn": 0, "error": 1, "skipped": 1}


def test_gx_validation_result_gives_pass_fail_warn_and_error_with_the_table():
    parsed = parse_results(read("gx_validation_dim_customers.json"))
    assert parsed.format == "great_expectations"
    by_name = {c.name: c for c in parsed.checks}
    assert {c.table for c in parsed.checks} == {"dim_customers"}
    assert by_name["expect_column_values_to_be_unique(email)"].status == "pass"
    segment = by_name["expect_column_values_to_be_in_set(customer_segment)"]
    assert (segment.status, segment.failing_rows, segment.column) == ("fail", 18, "customer_segment")
    assert by_name["expect_column_values_to_be_between(lifetime_value) [warning]"].status == "warn"
    missing = by_name["expect_column_values_to_not_be_null(loyalty_tier)"]
    assert missing.status == "error" and "loyalty_tier" in missing.message
    assert parsed.counts() == {"pass": 3, "fail": 1, "warn": 1, "error": 1, "skipped": 0}


def test_gx_checkpoint_result_covers_both_tables():
    parsed = parse_results(read("gx_checkpoint_core_marts.json"))
    tables = {c.table for c in parsed.checks}
    assert tables == {"dim_customers", "fct_orders"}
    orders = [c for c in parsed.checks if c.table == "fct_orders"]
    assert {c.status for c in orders} == {"pass", "fail", "warn"}
    assert parsed.run_id


def test_gx_checkpoint_describe_output_finds_tables_from_batch_ids_and_marks_unrun_as_error():
    parsed = parse_results(read("gx_checkpoint_describe.json"))
    assert {c.table for c in parsed.checks} == {"dim_customers", "fct_orders"}
    errored = [c for c in parsed.checks if c.status == "error"]
    assert [c.column for c in errored] == ["loyalty_tier"]


def test_soda_scan_result_gives_checks_with_table_column_and_outcome():
    parsed = parse_results(read("soda_scan_core.json"))
    assert parsed.format == "soda"
    by_name = {c.name: c for c in parsed.checks}
    segment = by_name["invalid_count(customer_segment) = 0"]
    assert (segment.table, segment.column, segment.status, segment.failing_rows) == (
        "dim_customers",
        "customer_segment",
        "fail",
        18,
    )
    assert by_name["lifetime value stays plausible"].status == "warn"
    assert by_name["missing_count(email) = 0"].status == "pass"
    assert parsed.counts() == {"pass": 6, "fail": 2, "warn": 1, "error": 0, "skipped": 0}


def test_soda_check_without_outcome_is_an_error_not_a_failure():
    doc = orjson.loads(read("soda_scan_core.json"))
    doc["checks"][0]["outcome"] = None
    parsed = parse_results(orjson.dumps(doc))
    assert parsed.checks[0].status == "error"
    assert "could not evaluate" in parsed.checks[0].message


def test_generic_document_validates_against_its_schema():
    doc = {
        "format": "tessera.audit-results/v1",
        "tool": "airflow-sql-checks",
        "run_id": "nightly-42",
        "started_at": "2026-01-05T06:00:00Z",
        "partial": True,
        "checks": [
            {
                "asset": "core.main.dim_customers",
                "name": "emails look like emails",
                "status": "warn",
                "failing_rows": 3,
            },
            {
                "table": "fct_orders",
                "name": "orders have customers",
                "guarantee": "test.core.x.1",
                "status": "pass",
            },
        ],
    }
    parsed = parse_results(orjson.dumps(doc))
    assert parsed.format == "generic" and parsed.tool == "airflow-sql-checks" and parsed.partial
    assert parsed.checks[0].asset == "core.main.dim_customers"
    assert parsed.checks[1].unique_id == "test.core.x.1"


@pytest.mark.parametrize(
    ("checks", "fragment"),
    [
        ([{"name": "x", "status": "broken"}], "checks/0/status"),
        ([{"status": "pass"}], "'name' is a required property"),
        ([{"name": "x", "status": "fail", "failing_rows": -1}], "checks/0/failing_rows"),
    ],
)
def test_generic_document_that_breaks_the_schema_says_where(checks, fragment):
    doc = {"format": "tessera.audit-results/v1", "checks": checks}
    with pytest.raises(ResultFileError, match="tessera.audit-results/v1") as info:
        parse_results(orjson.dumps(doc))
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"not json at all", "not valid JSON"),
        (b'{"hello": "world"}', "Unknown result file"),
        (b"[1, 2, 3]", "Unknown result file"),
        (
            orjson.dumps(
                {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}}
            ),
            "Unknown result file",
        ),
    ],
)
def test_unparseable_or_unknown_files_raise_a_clear_error(data, fragment):
    with pytest.raises(ResultFileError, match=fragment):
        parse_results(data)


def test_named_format_that_does_not_fit_the_file_is_an_error():
    with pytest.raises(ResultFileError, match="Soda"):
        parse_results(read("dbt_core_build_pass.json"), "soda")


def test_unknown_format_name_is_an_error():
    with pytest.raises(ResultFileError, match="Unknown format"):
        parse_results(read("dbt_core_build_pass.json"), "excel")
