"""The demo dbt projects, checked on the artifacts of real dbt builds (fixture `demo_artifacts`).

No database: everything here reads manifests and run results, or runs dbt / DuckDB directly.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

from contracts.demo_builds import (
    PROJECTS,
    DemoArtifacts,
    copy_demo_projects,
    run_dbt,
)
from contracts.domain import COMPATIBILITY_MODES

pytestmark = pytest.mark.integration

TEAMS = {"core": "data-platform", "marketing": "marketing-analytics", "finance": "finance-analytics"}
LAYERS = {
    "core": {"staging": 5, "intermediate": 3, "marts": 6},  # dim_products has two versions
    "marketing": {"staging": 4, "intermediate": 3, "marts": 4},
    "finance": {"staging": 4, "intermediate": 3, "marts": 5},
}
SINGULAR_TESTS = {"core": 6, "marketing": 3, "finance": 3}
GROUP_OWNERS = {"platform": "data-platform"}  # core's group, owned by data-platform's address
TEST_KINDS = {
    "unique",
    "not_null",
    "accepted_values",
    "relationships",
    "dbt_utils.accepted_range",
    "dbt_utils.unique_combination_of_columns",
    "singular",
}


def models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    project = manifest["metadata"]["project_name"]
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == project
    }


def data_tests_in(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"}


def kind_of(node: dict[str, Any]) -> str:
    meta = node.get("test_metadata")
    if not meta:
        return "singular"
    return f"{meta['namespace']}.{meta['name']}" if meta.get("namespace") else meta["name"]


def layer(node: dict[str, Any]) -> str:
    return Path(node["original_file_path"]).parts[1]


def model_key(node: dict[str, Any]) -> str:
    """A model's name, with its version for a versioned model (dim_products_v1)."""
    return f"{node['name']}_v{node['version']}" if node.get("version") is not None else node["name"]


def contract(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a variant may change: each model's columns with types, and the tests by name."""
    return {
        "columns": {
            model_key(node): {name: column["data_type"] for name, column in node["columns"].items()}
            for node in models(manifest).values()
        },
        "meta": {model_key(node): node["config"]["meta"] for node in models(manifest).values()},
        "tests": {node["name"]: node["unique_id"] for node in data_tests_in(manifest).values()},
    }


@pytest.fixture(scope="module")
def manifests(demo_artifacts: DemoArtifacts) -> dict[str, dict[str, Any]]:
    return {project: demo_artifacts.load(demo_artifacts.manifests[project]) for project in PROJECTS}


@pytest.mark.parametrize("project", PROJECTS)
def test_project_has_the_agreed_models_per_layer(manifests, project):
    counts = Counter(layer(node) for node in models(manifests[project]).values())

    assert dict(counts) == LAYERS[project]


def test_the_three_projects_have_37_models(manifests):
    assert sum(len(models(manifest)) for manifest in manifests.values()) == 37


@pytest.mark.parametrize("project", PROJECTS)
def test_project_has_its_singular_tests_each_on_one_model(manifests, project):
    singular = [node for node in data_tests_in(manifests[project]).values() if kind_of(node) == "singular"]

    assert len(singular) == SINGULAR_TESTS[project]
    for node in singular:
        assert len(node["depends_on"]["nodes"]) == 1, node["unique_id"]
        assert node["depends_on"]["nodes"][0].startswith(f"model.{project}."), node["unique_id"]


def test_well_over_seventy_tests_of_every_kind(manifests):
    all_tests = [node for manifest in manifests.values() for node in data_tests_in(manifest).values()]
    kinds = Counter(kind_of(node) for node in all_tests)

    assert len(all_tests) >= 70
    assert set(kinds) == TEST_KINDS
    assert any(node["config"]["severity"].lower() == "warn" for node in all_tests)


def test_dbt_utils_tests_come_from_the_local_package_with_hub_argument_names(manifests):
    arguments = {
        kind_of(node): set(node["test_metadata"]["kwargs"])
        for manifest in manifests.values()
        for node in data_tests_in(manifest).values()
        if kind_of(node).startswith("dbt_utils.")
    }

    assert arguments["dbt_utils.unique_combination_of_columns"] >= {"combination_of_columns"}
    assert {"min_value", "max_value", "inclusive"} & arguments["dbt_utils.accepted_range"]
    assert all(
        macro.startswith("macro.dbt_utils.")
        for manifest in manifests.values()
        for node in data_tests_in(manifest).values()
        if kind_of(node).startswith("dbt_utils.")
        for macro in node["depends_on"]["macros"]
        if "accepted_range" in macro or "unique_combination" in macro
    )


@pytest.mark.parametrize("project", PROJECTS)
def test_every_column_of_every_model_declares_a_data_type(manifests, project):
    untyped = [
        f"{node['name']}.{name}"
        for node in models(manifests[project]).values()
        for name, column in node["columns"].items()
        if not column.get("data_type")
    ]

    assert all(node["columns"] for node in models(manifests[project]).values())
    assert untyped == []


@pytest.mark.parametrize("project", PROJECTS)
def test_every_model_builds_into_the_catalog_named_after_its_project(manifests, project):
    relations = {node["relation_name"] for node in models(manifests[project]).values()}

    assert all(relation.startswith(f'"{project}"."main".') for relation in relations), relations


def test_every_mart_declares_its_tessera_contract(manifests):
    modes = set()
    for project, manifest in manifests.items():
        for node in models(manifest).values():
            if layer(node) != "marts":
                continue
            tessera = node["config"]["meta"]["tessera"]
            # A mart without owner_team is owned through its dbt group (core's platform group).
            assert tessera.get("owner_team", GROUP_OWNERS.get(node.get("group"))) == TEAMS[project], node[
                "unique_id"
            ]
            assert tessera["compatibility_mode"] in COMPATIBILITY_MODES, node["unique_id"]
            for consumer in tessera["consumers"]:
                assert consumer["team"] in TEAMS.values() and consumer["team"] != TEAMS[project]
                assert consumer["purpose"]
            modes.add(tessera["compatibility_mode"])

    assert {"backward", "forward", "full", "none"} <= modes


def test_core_declares_the_consumers_the_demo_story_needs(manifests):
    core = {node["name"]: node["config"]["meta"]["tessera"] for node in models(manifests["core"]).values()}

    assert core["dim_customers"]["compatibility_mode"] == "backward"
    assert core["fct_orders"]["compatibility_mode"] == "full"
    for mart in ("dim_customers", "fct_orders"):
        teams = {consumer["team"] for consumer in core[mart]["consumers"]}
        assert teams == {"marketing-analytics", "finance-analytics"}


@pytest.mark.parametrize(
    ("project", "core_models"),
    [
        ("marketing", {"dim_customers", "dim_products", "fct_orders"}),
        ("finance", {"fct_daily_revenue", "fct_orders", "fct_payments", "dim_customers"}),
    ],
)
def test_team_project_reads_core_marts_through_sources(manifests, project, core_models):
    manifest = manifests[project]
    exposure_reads = {d for e in manifest["exposures"].values() for d in e["depends_on"]["nodes"]}
    core_relations = {node["alias"]: node["relation_name"] for node in models(manifests["core"]).values()}
    sources = {source["identifier"]: source for source in manifest["sources"].values()}

    assert set(sources) == core_models
    for name, source in sources.items():
        assert (source["database"], source["schema"]) == ("core", "main")
        assert source["relation_name"] == core_relations[name]
        readers = [
            node["unique_id"]
            for node in models(manifest).values()
            if source["unique_id"] in node["depends_on"]["nodes"]
        ]
        assert readers or source["unique_id"] in exposure_reads, (
            f"no {project} model or exposure reads {name}"
        )


@pytest.mark.parametrize("project", PROJECTS)
def test_normal_build_passes_every_test(demo_artifacts, project):
    results = demo_artifacts.load(demo_artifacts.run_results[project])["results"]
    statuses = Counter(result["status"] for result in results)

    # dbt reports an exposure as a no-op node (finance's revenue dashboard)
    exposures = demo_artifacts.load(demo_artifacts.manifests[project])["exposures"]
    assert set(statuses) - {"no-op"} == {"success", "pass"} and statuses["no-op"] == len(exposures)
    assert statuses["pass"] == len(data_tests_in(demo_artifacts.load(demo_artifacts.manifests[project])))


def test_core_catalog_types_match_the_declared_types(demo_artifacts, manifests):
    catalog = demo_artifacts.load(demo_artifacts.catalogs["core"])
    mismatches = []
    for uid, node in models(manifests["core"]).items():
        built = {
            name.lower(): column["type"].lower() for name, column in catalog["nodes"][uid]["columns"].items()
        }
        for name, column in node["columns"].items():
            declared = column["data_type"].lower().replace(" ", "")
            if built.get(name) != declared:
                mismatches.append((node["name"], name, declared, built.get(name)))

    assert mismatches == []


def test_breaking_variant_changes_exactly_the_scripted_contract(demo_artifacts, manifests):
    normal = contract(manifests["core"])
    breaking = contract(demo_artifacts.load(demo_artifacts.core_breaking_manifest))

    expected_columns = json.loads(json.dumps(normal["columns"]))
    del expected_columns["dim_customers"]["country_code"]
    expected_columns["fct_orders"]["item_count"] = "varchar"
    assert normal["columns"]["fct_orders"]["item_count"] == "integer"
    assert breaking["columns"] == expected_columns
    assert breaking["meta"] == normal["meta"]
    removed = set(normal["tests"]) - set(breaking["tests"])
    assert removed == {"accepted_values_fct_orders_status__placed__shipped__completed__returned__cancelled"}
    assert set(breaking["tests"]) - set(normal["tests"]) == set()


def test_retyped_variant_is_a_different_breaking_change_with_the_same_fct_orders(demo_artifacts, manifests):
    normal = contract(manifests["core"])
    breaking = contract(demo_artifacts.load(demo_artifacts.core_breaking_manifest))
    retyped = contract(demo_artifacts.load(demo_artifacts.core_retyped_manifest))

    expected_columns = json.loads(json.dumps(normal["columns"]))
    expected_columns["dim_customers"]["signup_date"] = "timestamp"
    expected_columns["fct_orders"] = breaking["columns"]["fct_orders"]
    assert retyped["columns"] == expected_columns
    assert set(retyped["tests"]) == set(breaking["tests"])
    results = demo_artifacts.load(demo_artifacts.core_retyped_run_results)["results"]
    assert {result["status"] for result in results} == {"success", "pass"}


def test_breaking_variant_still_builds_green(demo_artifacts):
    results = demo_artifacts.load(demo_artifacts.core_breaking_run_results)["results"]

    assert {result["status"] for result in results} == {"success", "pass"}


def test_marketing_reads_the_column_the_breaking_variant_drops(manifests):
    source = "source.marketing.core.dim_customers"
    readers = [
        node["name"]
        for node in models(manifests["marketing"]).values()
        if source in node["depends_on"]["nodes"] and "country_code" in node["compiled_code"]
    ]

    assert readers


def test_additive_variant_adds_one_nullable_column_to_dim_customers(demo_artifacts, manifests):
    normal = contract(manifests["core"])
    additive_manifest = demo_artifacts.load(demo_artifacts.core_additive_manifest)
    additive = contract(additive_manifest)

    expected_columns = json.loads(json.dumps(normal["columns"]))
    expected_columns["dim_customers"]["preferred_channel"] = "varchar"
    assert additive["columns"] == expected_columns
    assert list(additive["columns"]["dim_customers"])[-1] == "preferred_channel"
    assert additive["tests"] == normal["tests"]
    assert additive["meta"] == normal["meta"]
    assert not any(
        node.get("column_name") == "preferred_channel" for node in data_tests_in(additive_manifest).values()
    ), "the new column must be nullable: no test may guard it"
    results = demo_artifacts.load(demo_artifacts.core_additive_run_results)["results"]
    assert {result["status"] for result in results} == {"success", "pass"}


def test_failing_variant_fails_exactly_the_chosen_test(demo_artifacts, manifests):
    results = demo_artifacts.load(demo_artifacts.core_failing_run_results)["results"]
    not_passing = [result for result in results if result["status"] not in ("success", "pass")]

    assert [
        (result["unique_id"].split(".")[2], result["status"], result["failures"]) for result in not_passing
    ] == [(demo_artifacts.failing_test_name, "fail", 1)]
    built_models = {result["unique_id"] for result in results if result["unique_id"].startswith("model.")}
    assert built_models == set(models(manifests["core"]))
    assert contract(demo_artifacts.load(demo_artifacts.core_failing_manifest)) == contract(manifests["core"])


def test_partial_run_tested_only_dim_customers(demo_artifacts, manifests):
    results = demo_artifacts.load(demo_artifacts.core_partial_run_results)["results"]
    core_tests = data_tests_in(manifests["core"])

    assert results and all(result["unique_id"] in core_tests for result in results)
    assert all(
        "model.core.dim_customers" in core_tests[r["unique_id"]]["depends_on"]["nodes"] for r in results
    )
    assert len(results) < len(core_tests)
    assert {result["status"] for result in results} == {"pass"}


@pytest.mark.parametrize(
    ("test_name", "bad_rows_sql"),
    [
        (
            "dbt_utils_accepted_range_fct_orders_total_amount__0",
            "select 1 as order_id, -0.01 as total_amount union all select 2, 5.00",
        ),
        (
            "dbt_utils_unique_combination_of_columns_stg_order_items_order_id__product_id",
            "select 1 as order_id, 7 as product_id union all select 1, 7 union all select 1, 8",
        ),
    ],
)
def test_local_dbt_utils_tests_catch_bad_rows(manifests, test_name, bad_rows_sql):
    # Run the SQL dbt compiled for the test against a table with one bad row/combination:
    # a stand-in package whose tests can never fail would make every audit meaningless.
    node = next(node for node in data_tests_in(manifests["core"]).values() if node["name"] == test_name)
    model = manifests["core"]["nodes"][node["attached_node"]]
    connection = duckdb.connect()
    connection.execute("attach ':memory:' as core")
    connection.execute(f'create table core.main."{model["alias"]}" as {bad_rows_sql}')

    failing = connection.execute(node["compiled_code"]).fetchall()

    assert len(failing) == 1


def test_building_marketing_before_core_fails_telling_to_build_core(tmp_path):
    root = copy_demo_projects(tmp_path / "demo")
    run_dbt(root / "marketing", "deps")

    completed = run_dbt(root / "marketing", "build", "--profiles-dir", ".", expect_success=False)

    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "build core first" in output
    assert "cd ../core && dbt deps && dbt build --profiles-dir ." in output
    assert not (root / "marketing" / "target" / "run_results.json").exists() or not any(
        result["unique_id"].startswith("model.")
        for result in json.loads((root / "marketing" / "target" / "run_results.json").read_text())["results"]
    )


def test_core_marts_are_public_in_an_owned_group_and_finance_declares_its_dashboard(
    manifests, demo_artifacts
):
    core = manifests["core"]
    marts = [node for node in models(core).values() if layer(node) == "marts"]

    assert {(node["access"], node["group"]) for node in marts} == {("public", "platform")}
    assert core["groups"]["group.core.platform"]["owner"]["email"] == "data-platform@example.com"
    dashboard = manifests["finance"]["exposures"]["exposure.finance.revenue_dashboard"]
    assert dashboard["type"] == "dashboard"
    assert "source.finance.core.fct_daily_revenue" in dashboard["depends_on"]["nodes"]
    private = demo_artifacts.load(demo_artifacts.core_private_manifest)["nodes"]["model.core.dim_customers"]
    assert private["access"] == "private"


def test_core_publishes_dim_products_v1_deprecated_and_v2_latest(manifests):
    versions = {
        node["version"]: node for node in models(manifests["core"]).values() if node["name"] == "dim_products"
    }

    assert set(versions) == {1, 2}
    v1, v2 = versions[1], versions[2]
    assert v1["latest_version"] == v2["latest_version"] == 2
    # A literal date far in the future, so the demo's campaign is live whenever it runs.
    assert v1["deprecation_date"].startswith("2036-06-30") and v2["deprecation_date"] is None
    assert v1["relation_name"] == '"core"."main"."dim_products"'  # v1 keeps the model's old relation
    assert v2["relation_name"] == '"core"."main"."dim_products_v2"'
    assert (
        "unit_price" in v1["columns"] and "list_price" in v2["columns"] and "unit_price" not in v2["columns"]
    )


def test_marketing_reads_v1_and_its_products_v2_variant_reads_v2(demo_artifacts, manifests):
    moved = demo_artifacts.load(demo_artifacts.marketing_products_v2_manifest)
    before = manifests["marketing"]["sources"]["source.marketing.core.dim_products"]["relation_name"]
    after = moved["sources"]["source.marketing.core.dim_products"]["relation_name"]

    assert (before, after) == ('"core"."main"."dim_products"', '"core"."main"."dim_products_v2"')
    assert "list_price" in moved["nodes"]["model.marketing.int_product_catalogue"]["compiled_code"]


def test_the_products_v1_removed_variant_disables_v1_only(demo_artifacts):
    removed = demo_artifacts.load(demo_artifacts.core_products_v1_removed_manifest)

    assert "model.core.dim_products.v1" in removed["disabled"]
    assert "model.core.dim_products.v1" not in removed["nodes"]
    assert "model.core.dim_products.v2" in removed["nodes"]
