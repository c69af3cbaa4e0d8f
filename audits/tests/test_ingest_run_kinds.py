"""The parsers read what a dbt command did: executed tests are checks, compiled ones are refused,
builds are builds, sources.json is freshness. Real files (audits/tests/fixtures, the demo's)."""

from __future__ import annotations

import orjson
import pytest

from audits.ingest import ResultFileError, detect_format, parse_results
from audits.tests.conftest import fixture_bytes


def _build_pass() -> dict:
    return orjson.loads(fixture_bytes("dbt_core_build_pass.json"))


def test_a_build_reads_its_kind_project_and_builds_and_counts_only_executed_tests():
    parsed = parse_results(fixture_bytes("dbt_core_build_pass.json"))
    assert (parsed.run_kind, parsed.project) == ("build", "core")
    assert len(parsed.checks) == 113 and {c.status for c in parsed.checks} == {"pass"}
    assert {b.status for b in parsed.builds} == {"success"} and len(parsed.builds) == 18
    assert parsed.not_counted == [
        {
            "what": "builds",
            "count": 18,
            "why": "a successful build is the write, not a check (a failed one holds the gate)",
        }
    ]


@pytest.mark.parametrize(
    ("which", "said"), [("compile", "compile"), ("generate", "docs generate"), ("list", "list")]
)
def test_compile_only_commands_are_refused_saying_which(which, said):
    doc = _build_pass()
    doc["args"]["which"] = which
    for result in doc["results"]:
        result["status"] = "success"
    with pytest.raises(ResultFileError, match=f"comes from `dbt {said}`: its 113 test") as refused:
        parse_results(orjson.dumps(doc))
    assert refused.value.summary["run_kind"] == said
    assert {"what": "compiled tests", "count": 113}.items() <= refused.value.summary["not_counted"][0].items()


def test_a_file_of_an_unknown_command_whose_tests_all_say_success_is_refused_too():
    doc = _build_pass()
    doc["args"] = {}
    for result in doc["results"]:
        result["status"] = "success"
    with pytest.raises(ResultFileError, match="a dbt command that runs no tests"):
        parse_results(orjson.dumps(doc))


def test_a_failed_model_build_is_read_as_a_build_error_with_dbts_message():
    parsed = parse_results(fixture_bytes("run_results_v4_jaffle_shop.json"))
    errors = [b for b in parsed.builds if b.status == "error"]
    assert [b.unique_id for b in errors] == ["model.jaffle_shop.test_insert_overwrite"]
    assert errors[0].message.startswith("Database Error in model test_insert_overwrite")


def _sources(version: int, status: str = "pass") -> bytes:
    doc = {
        "metadata": {
            "dbt_schema_version": f"https://schemas.getdbt.com/dbt/sources/v{version}.json",
            "dbt_version": "1.11.16",
            "generated_at": "2026-11-27T16:40:00Z",
            "invocation_id": "f0e1",
        },
        "results": [
            {
                "unique_id": "source.marketing.core.fct_orders",
                "max_loaded_at": "2026-11-27T15:40:00+00:00",
                "snapshotted_at": "2026-11-27T16:40:00+00:00",
                "max_loaded_at_time_ago_in_s": 3600.0,
                "status": status,
                "criteria": {
                    "warn_after": {"count": 12, "period": "hour"},
                    "error_after": {"count": 1, "period": "day"},
                },
            }
        ],
        "elapsed_time": 1.2,
    }
    return orjson.dumps(doc)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_sources_json_v1_to_v3_is_a_dbt_freshness_file(version):
    assert detect_format(_sources(version)) == "dbt"
    parsed = parse_results(_sources(version))
    (check,) = parsed.checks
    assert (parsed.run_kind, parsed.project, check.status, check.check_type) == (
        "source freshness",
        "marketing",
        "pass",
        "freshness",
    )
    assert check.unique_id == "source.marketing.core.fct_orders"
    assert "rule: warn after 12 hour, error after 1 day" in check.message


@pytest.mark.parametrize(
    ("dbt", "ours"), [("pass", "pass"), ("warn", "warn"), ("error", "fail"), ("runtime error", "error")]
)
def test_freshness_statuses_mean_what_they_say_for_the_guarantee(dbt, ours):
    (check,) = parse_results(_sources(3, dbt)).checks
    assert check.status == ours and check.message.startswith(f"dbt source freshness: {dbt}")


def test_an_unknown_sources_json_version_is_refused():
    with pytest.raises(ResultFileError, match="sources.json schema v9 is not supported"):
        parse_results(_sources(9))
