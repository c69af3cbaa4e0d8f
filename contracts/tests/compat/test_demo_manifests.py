"""The engine on real manifests from real dbt builds of the demo projects (no database).

Core's variants drive the demo story: ``breaking`` drops dim_customers.country_code, turns
fct_orders.item_count into varchar and drops the accepted_values test on fct_orders.status;
``additive`` adds a nullable column to dim_customers.
"""

from __future__ import annotations

import json

import pytest

from contracts.compat import compare_types, evaluate
from contracts.compat.types.parse import parse_type
from contracts.domain import AssetSpec
from contracts.ingest.manifest import parse_manifest

pytestmark = pytest.mark.integration


def assets(path) -> dict[str, AssetSpec]:
    return {a.unique_id: a for a in parse_manifest(path.read_bytes()).assets}


@pytest.fixture(scope="module")
def core(demo_artifacts) -> dict[str, dict[str, AssetSpec]]:
    return {
        "normal": assets(demo_artifacts.manifests["core"]),
        "breaking": assets(demo_artifacts.core_breaking_manifest),
        "additive": assets(demo_artifacts.core_additive_manifest),
    }


def verdicts(core: dict[str, dict[str, AssetSpec]], variant: str) -> dict[str, object]:
    out = {}
    for unique_id, new in core[variant].items():
        old = core["normal"][unique_id]
        verdict = evaluate(old=old.contract, new=new.contract, mode=old.contract.mode)
        if verdict.changes:
            out[unique_id] = verdict
    return out


def test_breaking_variant_is_breaking_where_the_story_says(core) -> None:
    changed = verdicts(core, "breaking")
    assert set(changed) == {"model.core.dim_customers", "model.core.fct_orders"}

    dim = changed["model.core.dim_customers"]
    assert dim.breaking and dim.bump == "major"
    assert [(c.kind, c.column) for c in dim.breaking_changes] == [("column_removed", "country_code")]
    assert "country_code" in dim.reasons[0]

    orders = changed["model.core.fct_orders"]
    mode = core["normal"]["model.core.fct_orders"].contract.mode
    kinds = {(c.kind, c.column) for c in orders.changes}
    assert ("type_changed", "item_count") in kinds
    assert ("guarantee_loosened", "status") in kinds
    # integer → varchar breaks in both directions, so fct_orders breaks under any checking mode.
    assert orders.breaking is (mode != "none")


def test_additive_variant_is_a_minor_version_without_breaking(core) -> None:
    changed = verdicts(core, "additive")
    assert list(changed) == ["model.core.dim_customers"]
    verdict = changed["model.core.dim_customers"]
    assert verdict.breaking is False
    assert verdict.bump == "minor"
    assert [(c.kind, c.column) for c in verdict.changes] == [("column_added", "preferred_channel")]


def test_a_manifest_compared_with_itself_has_no_changes(core) -> None:
    assert verdicts(core, "normal") == {}


@pytest.mark.parametrize("project", ["core", "marketing", "finance"])
def test_every_declared_type_is_recognised_and_matches_the_warehouse_catalog(demo_artifacts, project) -> None:
    manifest = json.loads(demo_artifacts.manifests[project].read_bytes())
    catalog_path = demo_artifacts.catalogs.get(project)
    catalog = json.loads(catalog_path.read_bytes()) if catalog_path else {"nodes": {}}
    checked = declared_count = 0
    for unique_id, node in manifest["nodes"].items():
        if node.get("resource_type") != "model":
            continue
        declared_count += len(node.get("columns", {}))
        built = catalog["nodes"].get(unique_id, {}).get("columns", {})
        warehouse = {name.lower(): col["type"] for name, col in built.items()}
        for name, column in node.get("columns", {}).items():
            declared = column.get("data_type") or ""
            assert not parse_type(declared).is_unknown, f"{unique_id}.{name}: {declared!r}"
            if name.lower() in warehouse:
                # DuckDB spells the built types its own way (VARCHAR, DECIMAL(12,2), INTEGER).
                assert compare_types(declared, warehouse[name.lower()]) == "same", (
                    f"{unique_id}.{name}: declared {declared!r}, built {warehouse[name.lower()]!r}"
                )
                checked += 1
    assert declared_count > 20
    if catalog_path:  # the demo fixture builds a catalog for core only
        assert checked > 20
