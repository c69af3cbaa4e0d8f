"""The parser keeps nodes of other packages out of the project's assets (SPEC §4, issue #19).
No database: hand-made fragments shaped as dbt and dbt-loom write them (contracts.tests.cross_project)."""

from __future__ import annotations

from contracts.domain import PackageNode
from contracts.ingest.manifest import parse_manifest
from contracts.tests.cross_project import injected, manifest, marketing_manifest, model


def test_injected_upstream_models_are_package_nodes_never_assets_of_the_reading_project():
    parsed = parse_manifest(marketing_manifest())

    assert parsed.project_name == "marketing"
    assert sorted(a.unique_id for a in parsed.assets) == [
        "model.marketing.fct_attribution",
        "model.marketing.int_customer_touchpoints",
    ]
    nodes = {n.unique_id: n for n in parsed.package_nodes}
    assert nodes["model.core.dim_customers"] == PackageNode(
        unique_id="model.core.dim_customers",
        package_name="core",
        resource_type="model",
        name="dim_customers",
        relation="core.main.dim_customers",
        access="public",  # dbt writes the real access at the top level, config keeps the default
        external=True,
    )
    assert nodes["model.core.stg_customers"].access == "protected"
    elementary = nodes["model.elementary.dbt_models"]
    assert (elementary.external, elementary.relation) == (False, "marketing.elementary.dbt_models")
    # The reading model still says what it reads: the sync turns that into lineage.
    touchpoints = next(a for a in parsed.assets if a.name == "int_customer_touchpoints")
    assert touchpoints.depends_on == ["model.core.dim_customers"]


def test_versioned_injected_models_and_disabled_package_nodes():
    versioned = injected("core", "dim_customers")
    versioned.update(unique_id="model.core.dim_customers.v2", version=2, alias="dim_customers_v2")
    disabled = injected("core", "fct_orders")
    disabled["config"]["enabled"] = False
    parsed = parse_manifest(manifest("marketing", versioned, disabled, model("marketing", "m")))

    assert [a.unique_id for a in parsed.assets] == ["model.marketing.m"]
    (node,) = parsed.package_nodes
    assert (node.version, node.relation) == ("2", "core.main.dim_customers_v2")


def test_a_project_with_no_other_package_has_no_package_nodes():
    parsed = parse_manifest(manifest("core", model("core", "dim_customers")))
    assert parsed.package_nodes == []
    assert [a.unique_id for a in parsed.assets] == ["model.core.dim_customers"]
