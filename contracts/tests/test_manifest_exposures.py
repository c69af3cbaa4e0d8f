"""dbt's exposures, groups and model access, parsed from real public manifests (see
fixtures/README_dbt_artifacts.md) and from the older ones that have none of them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from contracts.ingest.manifest import parse_manifest

FIXTURES = Path(__file__).parent / "fixtures"


def parse(name: str):
    return parse_manifest((FIXTURES / name).read_bytes())


def test_exposures_keep_type_owner_maturity_url_and_what_they_depend_on():
    parsed = parse("manifest_v12_dbt_core_defer_state_groups.json")

    (exposure,) = parsed.exposures
    assert exposure.unique_id == "exposure.test.weekly_jaffle_metrics"
    assert (exposure.type, exposure.maturity) == ("dashboard", "high")
    assert (exposure.owner.name, exposure.owner.email) == ("Callum McData", "data@jaffleshop.com")
    assert exposure.url.startswith("http")
    assert exposure.depends_on == ["model.test.incremental"]
    assert exposure.team is None and exposure.columns is None


def test_groups_and_model_access_are_read():
    parsed = parse("manifest_v12_dbt_core_defer_state_groups.json")

    assert {(g.name, g.owner.email) for g in parsed.groups} == {
        ("important_tests", "data@example.com"),
        ("finance", "finance@jaffleshop.com"),
    }
    by_id = {a.unique_id: a for a in parsed.assets}
    assert by_id["model.test.model_with_lots_of_schema_configs"].access == "public"
    assert (
        by_id["model.test.metricflow_time_spine"].access,
        by_id["model.test.metricflow_time_spine"].group,
    ) == (
        "protected",
        "finance",
    )
    assert {a.access for a in parsed.assets if a.resource_type != "model"} == {""}


def test_a_notebook_exposure_reading_two_versioned_models():
    parsed = parse("manifest_v12_dbt_bouncer_exposures.json")

    assert [(e.name, e.type) for e in parsed.exposures] == [
        ("customers", "dashboard"),
        ("pulse_queries", "notebook"),
    ]
    assert parsed.exposures[1].depends_on == [
        "model.dbt_bouncer_test_project.customers.v3",
        "model.dbt_bouncer_test_project.orders",
    ]
    public = sorted(a.unique_id for a in parsed.assets if a.access == "public")
    assert public == [
        "model.dbt_bouncer_test_project.customers.v1",
        "model.dbt_bouncer_test_project.customers.v2",
        "model.dbt_bouncer_test_project.customers.v3",
        "model.dbt_bouncer_test_project.orders",
    ]
    assert parsed.groups == []


def test_dbt_1_6_exposure_on_a_source_and_a_model():
    parsed = parse("manifest_v10_dbt_core_state_exposure.json")

    (exposure,) = parsed.exposures
    assert exposure.owner.email == "something@example.com" and exposure.owner.name == ""
    assert exposure.depends_on == ["source.test.my_source.my_table", "model.test.my_model"]
    assert [a.access for a in parsed.assets if a.resource_type == "model"] == ["protected"]


@pytest.mark.parametrize(
    "name",
    ["manifest_v4_jaffle_shop.json", "manifest_v7_jaffle_shop.json", "manifest_v9_jaffle_shop_dbt1.5.json"],
)
def test_older_manifests_without_groups_or_access_parse_with_none(name):
    parsed = parse(name)

    assert parsed.groups == []
    assert all(a.access in ("", "protected") for a in parsed.assets)
    assert not [w for w in parsed.warnings if "exposure" in w or "group" in w]


def _with(doc_name: str, **sections) -> bytes:
    doc = orjson.loads((FIXTURES / doc_name).read_bytes())
    doc.update(sections)
    return orjson.dumps(doc)


def test_meta_names_the_team_and_the_columns_and_bad_entries_are_warned_not_fatal():
    exposures = {
        "exposure.test.a": {
            "name": "a", "type": "ml", "owner": {"name": "Ops"}, "depends_on": {"nodes": ["model.test.my_model"]},
            "config": {"meta": {"tessera": {"team": "ops", "columns": ["ID", " "]}}},
        },
        "exposure.test.b": "not an object",
        "exposure.test.c": {"name": "c", "config": {"enabled": False}},
        "exposure.test.d": {"name": "d", "meta": {"tessera": {"team": 3, "columns": {"my_model": "id"}}}},
    }  # fmt: skip
    parsed = parse_manifest(
        _with("manifest_v10_dbt_core_state_exposure.json", exposures=exposures, groups=[1])
    )

    assert [e.name for e in parsed.exposures] == ["a", "d"]
    assert parsed.exposures[0].team == "ops" and parsed.exposures[0].columns == {"*": ["id"]}
    assert parsed.exposures[1].team is None and parsed.exposures[1].columns is None
    text = " ".join(parsed.warnings)
    assert "exposure.test.b" in text and "meta.tessera.team 3" in text and "meta.tessera.columns" in text
    assert "'groups' is not an object" in text
