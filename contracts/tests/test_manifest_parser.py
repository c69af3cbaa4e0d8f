"""The manifest parser on real dbt manifests (v4–v12) and on malformed input. No database."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest

from contracts.domain import DEFAULT_MODE
from contracts.ingest.catalog import parse_catalog
from contracts.ingest.manifest import ManifestError, parse_manifest

FIXTURES = Path(__file__).parent / "fixtures"
REAL_MANIFESTS = {
    "manifest_v4_jaffle_shop.json": (4, "1.0.0", {"model": 5, "seed": 3}),
    "manifest_v7_jaffle_shop.json": (7, "1.3.0", {"model": 5, "seed": 3}),
    # The jaffle_shops of dbt 1.5, 1.7 and 1.8 install elementary: its 29–30 models are not assets.
    "manifest_v9_jaffle_shop_dbt1.5.json": (9, "1.5.0rc1", {"model": 5, "seed": 3}),
    "manifest_v10_jaffle_shop.json": (10, "1.6.0", {"model": 6, "seed": 3}),
    "manifest_v11_jaffle_shop.json": (11, "1.7.0", {"model": 5, "seed": 3}),
    "manifest_v12_jaffle_shop_dbt1.8.json": (12, "1.8.9", {"model": 6, "seed": 3}),
    "manifest_v12_jaffle_shop_dbt1.11.json": (12, "1.11.7", {"model": 13, "seed": 7, "source": 6}),
    "small_shop_manifest.json": (12, None, {"model": 12, "source": 5}),
}


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _doc(name: str) -> dict:
    return orjson.loads(_read(name))


def _by_id(parsed):
    return {a.unique_id: a for a in parsed.assets}


@pytest.mark.parametrize("name", sorted(REAL_MANIFESTS))
def test_real_manifest_parses_every_asset_and_every_test(name):
    schema_version, dbt_version, expected_counts = REAL_MANIFESTS[name]
    doc = _doc(name)
    parsed = parse_manifest(_read(name))

    assert parsed.schema_version == schema_version
    if dbt_version:
        assert parsed.dbt_version == dbt_version
    assert parsed.project_name
    counts: dict[str, int] = {}
    for asset in parsed.assets:
        counts[asset.resource_type] = counts.get(asset.resource_type, 0) + 1
    assert counts == expected_counts
    # Every enabled test of the manifest becomes exactly one guarantee somewhere (nothing dropped).
    test_ids = {
        uid
        for uid, node in doc["nodes"].items()
        if node["resource_type"] == "test" and node["config"]["enabled"]
    }
    guarantee_ids = [
        g.test_unique_id for a in parsed.assets for g in a.contract.guarantees if g.kind != "freshness"
    ]
    assert sorted(guarantee_ids) == sorted(test_ids)
    for asset in parsed.assets:
        assert asset.relation == asset.relation.lower()
        assert all(c.name == c.name.lower() for c in asset.contract.columns)


def test_operations_and_tests_are_not_assets_and_package_models_belong_to_their_package():
    parsed = parse_manifest(_read("manifest_v11_jaffle_shop.json"))
    kinds = {a.resource_type for a in parsed.assets}
    assert kinds == {"model", "seed"}
    assert {a.package_name for a in parsed.assets} == {"jaffle_shop"}
    assert parsed.project_name == "jaffle_shop"
    # elementary's models are the package's (SPEC §4), kept aside as built package nodes.
    assert len(parsed.package_nodes) == 30
    assert {(n.package_name, n.external) for n in parsed.package_nodes} == {("elementary", False)}
    runs = next(n for n in parsed.package_nodes if n.unique_id == "model.elementary.dbt_run_results")
    assert runs.relation == "your-project.elementary.dbt_run_results"


def test_tests_are_grouped_on_the_node_they_test_and_relationships_belong_to_the_child():
    assets = _by_id(parse_manifest(_read("manifest_v12_jaffle_shop_dbt1.11.json")))
    orders = assets["model.jaffle_shop.orders"]
    kinds = sorted((g.kind, g.column) for g in orders.contract.guarantees)
    assert ("relationships", "customer_id") in kinds
    rel = next(g for g in orders.contract.guarantees if g.kind == "relationships")
    assert rel.arguments == {"to": "ref('stg_customers')", "field": "customer_id"}
    assert rel.severity == "error"  # dbt writes "ERROR"
    assert rel.test_unique_id.startswith("test.jaffle_shop.relationships_orders_customer_id")
    # The parent of the relationship does not receive the child's test.
    parent = assets["model.jaffle_shop.stg_customers"]
    assert all(g.kind != "relationships" for g in parent.contract.guarantees)
    expression = [g for g in orders.contract.guarantees if g.kind == "expression"]
    assert {g.arguments["expression"] for g in expression} == {
        "order_items_subtotal = subtotal",
        "order_total = subtotal + tax_paid",
    }


def test_not_null_test_makes_the_column_not_nullable():
    assets = _by_id(parse_manifest(_read("manifest_v12_jaffle_shop_dbt1.11.json")))
    columns = {c.name: c for c in assets["model.jaffle_shop.customers"].contract.columns}
    assert columns["customer_id"].nullable is False
    assert columns["customer_name"].nullable is True


def test_catalog_fills_in_warehouse_types_and_keeps_descriptions():
    without = _by_id(parse_manifest(_read("manifest_v12_jaffle_shop_dbt1.11.json")))
    assert {c.data_type for c in without["model.jaffle_shop.customers"].contract.columns} == {""}
    parsed = parse_manifest(
        _read("manifest_v12_jaffle_shop_dbt1.11.json"), catalog=_read("catalog_v1_jaffle_shop_dbt1.11.json")
    )
    customers = _by_id(parsed)["model.jaffle_shop.customers"]
    columns = {c.name: c for c in customers.contract.columns}
    assert columns["lifetime_spend"].data_type == "DECIMAL(38,2)"
    assert columns["count_lifetime_orders"].data_type == "BIGINT"
    assert columns["customer_name"].description == "Customers' full name."
    # Columns only the warehouse knows are appended (orders declares few columns in YAML).
    orders = _by_id(parsed)["model.jaffle_shop.orders"]
    assert "customer_order_number" in [c.name for c in orders.contract.columns]


def test_catalog_that_is_not_a_catalog_is_rejected():
    with pytest.raises(ManifestError) as err:
        parse_catalog(_read("manifest_v12_jaffle_shop_dbt1.11.json"))
    assert err.value.code == "invalid_catalog"
    with pytest.raises(ManifestError):
        parse_catalog(b"{not json")


def test_meta_tessera_gives_owner_mode_and_consumers():
    assets = _by_id(parse_manifest(_read("small_shop_manifest.json")))
    dim = assets["model.small_shop.dim_store"]
    assert dim.owner_team == "finance-data"
    assert dim.compatibility_mode == "backward"
    assert dim.contract.mode == "backward"
    assert [c.team for c in dim.consumers] == ["executive-reporting", "finance-ops"]
    assert all(c.purpose for c in dim.consumers)
    staging = assets["model.small_shop.stg_stripe__stores"]
    assert staging.owner_team is None and staging.compatibility_mode is None
    assert staging.contract.mode == DEFAULT_MODE
    assert staging.depends_on == ["source.small_shop.stripe.stores"]
    assert staging.relation == "memory.main_staging.stg_stripe__stores"
    # Columns keep their declared types and order.
    assert [c.data_type for c in dim.contract.columns][0] in ("bigint", "varchar")


def test_dbt_1_11_arguments_syntax_keeps_accepted_values():
    assets = _by_id(parse_manifest(_read("small_shop_manifest.json")))
    accepted = [g for a in assets.values() for g in a.contract.guarantees if g.kind == "accepted_values"]
    assert accepted and all(
        isinstance(g.arguments["values"], list) and g.arguments["values"] for g in accepted
    )


def test_breaking_variant_differs_exactly_where_the_generator_says():
    base = _by_id(parse_manifest(_read("small_shop_manifest.json")))
    breaking = _by_id(parse_manifest(_read("small_shop_breaking_manifest.json")))
    changes = orjson.loads(_read("small_shop_breaking_changes.json"))
    changed_ids = {c["unique_id"] for c in changes}
    for uid, asset in base.items():
        same = asset.contract.content_hash() == breaking[uid].contract.content_hash()
        assert same == (uid not in changed_ids), uid
    drop = next(c for c in changes if c["kind"] == "drop_column")
    assert drop["column"] not in [c.name for c in breaking[drop["unique_id"]].contract.columns]


def _mutated(mutate) -> bytes:
    doc = _doc("manifest_v12_jaffle_shop_dbt1.11.json")
    mutate(doc)
    return orjson.dumps(doc)


def test_disabled_and_ephemeral_models_are_skipped():
    def mutate(doc):
        doc["nodes"]["model.jaffle_shop.customers"]["config"]["enabled"] = False
        doc["nodes"]["model.jaffle_shop.orders"]["config"]["materialized"] = "ephemeral"

    ids = _by_id(parse_manifest(_mutated(mutate)))
    assert "model.jaffle_shop.customers" not in ids
    assert "model.jaffle_shop.orders" not in ids
    assert "model.jaffle_shop.stg_orders" in ids


def test_versioned_models_are_one_asset_per_version_named_by_alias():
    def mutate(doc):
        v1 = doc["nodes"].pop("model.jaffle_shop.customers")
        v2 = copy.deepcopy(v1)
        for node, version in ((v1, 1), (v2, 2)):
            node["unique_id"] = f"model.jaffle_shop.customers.v{version}"
            node["version"] = version
            node["latest_version"] = 2
            node["alias"] = f"customers_v{version}"
            doc["nodes"][node["unique_id"]] = node
        del v2["columns"]["customer_type"]

    ids = _by_id(parse_manifest(_mutated(mutate)))
    v1, v2 = ids["model.jaffle_shop.customers.v1"], ids["model.jaffle_shop.customers.v2"]
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.relation == "jaffle_shop.main.customers_v1"
    assert v2.relation == "jaffle_shop.main.customers_v2"
    assert "customer_type" in [c.name for c in v1.contract.columns]
    assert "customer_type" not in [c.name for c in v2.contract.columns]


def test_singular_tests_attach_to_every_model_they_select_from_and_other_tests_keep_their_arguments():
    def mutate(doc):
        doc["nodes"]["test.jaffle_shop.assert_totals"] = {
            "unique_id": "test.jaffle_shop.assert_totals",
            "resource_type": "test",
            "name": "assert_totals",
            "package_name": "jaffle_shop",
            "config": {"enabled": True, "severity": "warn"},
            "depends_on": {"nodes": ["model.jaffle_shop.orders", "model.jaffle_shop.customers"]},
            "attached_node": None,
            "column_name": None,
        }
        doc["nodes"]["test.jaffle_shop.range"] = {
            "unique_id": "test.jaffle_shop.range",
            "resource_type": "test",
            "name": "range",
            "config": {"enabled": True, "severity": "ERROR", "where": "amount > 0"},
            "test_metadata": {
                "name": "accepted_range",
                "namespace": "dbt_utils",
                "kwargs": {"min_value": 0, "max_value": 100, "inclusive": True, "column_name": "Order_Total"},
            },
            "attached_node": "model.jaffle_shop.orders",
            "column_name": "Order_Total",
            "depends_on": {"nodes": ["model.jaffle_shop.orders"]},
        }
        doc["nodes"]["test.jaffle_shop.combo"] = {
            "unique_id": "test.jaffle_shop.combo",
            "resource_type": "test",
            "name": "combo",
            "config": {"enabled": True},
            "test_metadata": {
                "name": "unique_combination_of_columns",
                "namespace": "dbt_utils",
                "kwargs": {"combination_of_columns": ["Order_ID", "customer_id"], "model": "x"},
            },
            "attached_node": "model.jaffle_shop.orders",
            "depends_on": {"nodes": ["model.jaffle_shop.orders"]},
        }
        doc["nodes"]["test.jaffle_shop.custom"] = {
            "unique_id": "test.jaffle_shop.custom",
            "resource_type": "test",
            "name": "custom",
            "config": {"enabled": True},
            "test_metadata": {
                "name": "is_even",
                "namespace": "my_pkg",
                "kwargs": {"column_name": "x", "strict": 1},
            },
            "attached_node": "model.jaffle_shop.orders",
            "column_name": "x",
            "depends_on": {"nodes": ["model.jaffle_shop.orders"]},
        }
        doc["nodes"]["test.jaffle_shop.disabled"] = {
            "unique_id": "test.jaffle_shop.disabled",
            "resource_type": "test",
            "config": {"enabled": False},
            "test_metadata": {"name": "not_null", "kwargs": {}},
            "attached_node": "model.jaffle_shop.orders",
            "column_name": "order_total",
        }

    ids = _by_id(parse_manifest(_mutated(mutate)))
    orders = {g.test_unique_id: g for g in ids["model.jaffle_shop.orders"].contract.guarantees}
    customers = {g.test_unique_id: g for g in ids["model.jaffle_shop.customers"].contract.guarantees}
    assert orders["test.jaffle_shop.assert_totals"].kind == "singular"
    assert orders["test.jaffle_shop.assert_totals"].severity == "warn"
    assert customers["test.jaffle_shop.assert_totals"].kind == "singular"
    rng = orders["test.jaffle_shop.range"]
    assert (rng.kind, rng.column) == ("accepted_range", "order_total")
    assert rng.arguments == {"min_value": 0, "max_value": 100, "inclusive": True, "where": "amount > 0"}
    assert orders["test.jaffle_shop.combo"].arguments == {"columns": ["order_id", "customer_id"]}
    custom = orders["test.jaffle_shop.custom"]
    assert (custom.kind, custom.arguments) == ("my_pkg.is_even", {"strict": 1})
    assert "test.jaffle_shop.disabled" not in orders


def test_source_freshness_becomes_a_guarantee_and_meta_at_top_level_is_read():
    def mutate(doc):
        source = doc["sources"]["source.jaffle_shop.ecom.raw_orders"]
        source["freshness"] = {
            "warn_after": {"count": 12, "period": "hour"},
            "error_after": {"count": 24, "period": "hour"},
            "filter": None,
        }
        source["loaded_at_field"] = "ordered_at"
        source["meta"] = {"tessera": {"owner_team": "ingest", "compatibility_mode": "sideways"}}

    parsed = parse_manifest(_mutated(mutate))
    raw = _by_id(parsed)["source.jaffle_shop.ecom.raw_orders"]
    fresh = [g for g in raw.contract.guarantees if g.kind == "freshness"]
    assert len(fresh) == 1 and fresh[0].severity == "error"
    assert fresh[0].arguments["error_after"] == {"count": 24, "period": "hour"}
    assert raw.owner_team == "ingest"
    assert raw.compatibility_mode is None
    assert any("sideways" in w for w in parsed.warnings)


def _with_constraints(*, enforced: bool):
    def mutate(doc):
        node = doc["nodes"]["model.jaffle_shop.customers"]
        node["config"]["contract"] = {"enforced": enforced}
        node["columns"]["customer_name"]["constraints"] = [{"type": "not_null"}]
        node["constraints"] = [
            {"type": "primary_key", "columns": ["customer_id", "first_name"]},
            {"type": "check", "columns": ["customer_id"], "expression": "customer_id > 0"},
        ]

    return _by_id(parse_manifest(_mutated(mutate)))["model.jaffle_shop.customers"]


def test_constraints_of_an_enforced_contract_are_guarantees_like_tests():
    customers = _with_constraints(enforced=True)
    assert {c.name: c.nullable for c in customers.contract.columns}["customer_name"] is False
    made = sorted(
        (g.kind, g.column, tuple(g.arguments.get("columns", ())))
        for g in customers.contract.guarantees
        if g.mechanism == "constraint"
    )
    assert made == [
        ("expression", "customer_id", ()),
        ("not_null", "customer_id", ()),
        ("not_null", "customer_name", ()),
        ("not_null", "first_name", ()),
        ("unique_combination_of_columns", None, ("customer_id", "first_name")),
    ]
    assert customers.contract.notes == []


def test_constraints_of_an_unenforced_contract_are_not_counted_and_say_so():
    customers = _with_constraints(enforced=False)
    assert not [g for g in customers.contract.guarantees if g.mechanism == "constraint"]
    assert {c.name: c.nullable for c in customers.contract.columns}["customer_name"] is True
    assert "contract.enforced is not true" in customers.contract.notes[0]
    assert "primary_key(customer_id, first_name)" in customers.contract.notes[0]


def test_the_adapter_type_travels_with_every_contract():
    parsed = parse_manifest(_read("manifest_v12_jaffle_shop_dbt1.11.json"))
    assert parsed.adapter_type == "duckdb"
    assert {a.contract.adapter for a in parsed.assets} == {"duckdb"}


@pytest.mark.parametrize("name", ["manifest_v4_jaffle_shop.json", "manifest_v7_jaffle_shop.json"])
def test_old_manifest_names_its_project_by_id_and_reports_what_it_cannot_say(name):
    parsed = parse_manifest(_read(name))
    assert parsed.project_name == "jaffle_shop"  # from metadata.project_id, the md5 of the name
    assert not any("project_name is missing" in w for w in parsed.warnings)
    assert any("predates model contracts and constraints" in w for w in parsed.warnings)
    assert any("declare no data_type" in w and "not guessed" in w for w in parsed.warnings)
    assert all(
        c.data_type == "" for a in parsed.assets for c in a.contract.columns if a.resource_type == "model"
    )


def test_old_manifest_tests_attach_through_their_model_argument():
    assets = _by_id(parse_manifest(_read("manifest_v4_jaffle_shop.json")))
    orders = assets["model.jaffle_shop.orders"]
    kinds = sorted({(g.kind, g.column) for g in orders.contract.guarantees})
    assert ("relationships", "customer_id") in kinds
    assert ("accepted_values", "status") in kinds
    # A relationships test is the child's guarantee only, never its parent's.
    customers = assets.get("model.jaffle_shop.customers")
    assert customers is None or not [g for g in customers.contract.guarantees if g.kind == "relationships"]


@pytest.mark.parametrize(
    ("body", "code", "phrase"),
    [
        (b"", "empty_body", "empty"),
        (b"this is not json", "invalid_json", "not valid JSON"),
        (b'{"nodes": {}', "invalid_json", "not valid JSON"),
        (b"[1, 2, 3]", "not_a_manifest", "JSON list"),
        (b'{"hello": "world"}', "not_a_manifest", "dbt_schema_version is missing"),
        (
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}, "results": []}',
            "not_a_manifest",
            "run-results",
        ),
        (
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v3.json"}, "nodes": {}}',
            "unsupported_schema_version",
            "v3 is not supported",
        ),
        (
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v1.json"}, "nodes": {}}',
            "unsupported_schema_version",
            "dbt 1.0 or later",
        ),
        (
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v13.json"}, "nodes": {}}',
            "unsupported_schema_version",
            "v4–v12",
        ),
        (
            b'{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": []}',
            "not_a_manifest",
            "nodes",
        ),
    ],
)
def test_malformed_input_raises_a_clear_manifest_error(body, code, phrase):
    with pytest.raises(ManifestError) as err:
        parse_manifest(body)
    assert err.value.code == code
    assert phrase in err.value.detail


def test_run_results_file_is_not_mistaken_for_a_manifest():
    run_results = _read("run_results_v6_jaffle_shop.json")
    with pytest.raises(ManifestError) as err:
        parse_manifest(run_results)
    assert err.value.code == "not_a_manifest"


def test_models_carry_their_compiled_sql_when_the_manifest_has_it():
    # dbt 1.7 build (BigQuery): every model was compiled; seeds never carry SQL.
    compiled = parse_manifest(_read("manifest_v11_jaffle_shop.json"))
    models = [a for a in compiled.assets if a.resource_type == "model"]
    assert models and all(a.compiled_code and "select" in a.compiled_code.lower() for a in models)
    assert all(a.compiled_code is None for a in compiled.assets if a.resource_type != "model")
    # dbt parse writes no compiled SQL: the field says so instead of holding an empty string.
    parsed_only = parse_manifest(_read("manifest_v12_jaffle_shop_dbt1.11.json"))
    assert all(a.compiled_code is None for a in parsed_only.assets)
