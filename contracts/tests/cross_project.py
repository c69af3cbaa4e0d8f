"""Hand-made manifest fragments with nodes of other packages, shaped as dbt writes them.

The injected node copies what dbt-core 1.11 with dbt-loom 0.9.6 wrote into marketing's manifest for
``{{ ref('core', 'dim_customers') }}`` (the demo's ``loom`` variant): ``ModelNode.from_args`` gives
an empty ``path`` and ``original_file_path``, no SQL, no columns, ``config.materialized: view`` and
``access`` at the top level. An installed package's model (elementary) has its file and SQL.
"""

from __future__ import annotations

from typing import Any

import orjson

SCHEMA_URL = "https://schemas.getdbt.com/dbt/manifest/v12.json"


def model(
    project: str,
    name: str,
    *,
    depends_on: tuple[str, ...] = (),
    columns: dict[str, str] | None = None,
    meta: dict[str, Any] | None = None,
    database: str | None = None,
    access: str = "protected",
) -> dict[str, Any]:
    """A model of its own project, built from a file."""
    return {
        "unique_id": f"model.{project}.{name}",
        "resource_type": "model",
        "package_name": project,
        "name": name,
        "database": database or project,
        "schema": "main",
        "alias": name,
        "path": f"marts/{name}.sql",
        "original_file_path": f"models/marts/{name}.sql",
        "raw_code": "select 1",
        "config": {"enabled": True, "materialized": "table", "meta": meta or {}, "access": access},
        "access": access,
        "columns": {c: {"name": c, "data_type": t} for c, t in (columns or {}).items()},
        "depends_on": {"nodes": list(depends_on), "macros": []},
    }


def injected(project: str, name: str, *, access: str = "public", kind: str = "model") -> dict[str, Any]:
    """A node dbt-loom injects from the upstream project's manifest."""
    return {
        "database": project,
        "schema": "main",
        "name": name,
        "resource_type": "model",
        "package_name": project,
        "path": "",
        "original_file_path": "",
        "unique_id": f"{kind}.{project}.{name}",
        "fqn": [project, name],
        "alias": name,
        "config": {"enabled": True, "materialized": "view", "meta": {}, "access": "protected"},
        "relation_name": f'"{project}"."main"."{name}"',
        "raw_code": "",
        "language": "sql",
        "depends_on": {"macros": [], "nodes": [f"model.{project}.stg_{name}"]},
        "columns": {},
        "access": access,
        "version": None,
    }


def package_model(package: str, name: str, *, database: str) -> dict[str, Any]:
    """A model of an installed package (elementary, ...): it has a file and SQL."""
    node = model(package, name, database=database)
    node["schema"] = package
    return node


def exposure(project: str, name: str, *, depends_on: tuple[str, ...], team: str) -> dict[str, Any]:
    """A dashboard outside dbt that reads ``depends_on``, owned by ``team`` (meta.tessera.team)."""
    return {
        "unique_id": f"exposure.{project}.{name}",
        "name": name,
        "type": "dashboard",
        "owner": {"name": team, "email": ""},
        "depends_on": {"nodes": list(depends_on), "macros": []},
        "config": {"enabled": True, "meta": {"tessera": {"team": team}}},
    }


def manifest(project: str, *nodes: dict[str, Any], exposures: tuple[dict[str, Any], ...] = ()) -> bytes:
    doc = {
        "exposures": {e["unique_id"]: e for e in exposures},
        "metadata": {
            "dbt_schema_version": SCHEMA_URL,
            "dbt_version": "1.11.16",
            "project_name": project,
            "adapter_type": "duckdb",
            "generated_at": "2026-11-30T10:00:00Z",
            "invocation_id": "00000000-0000-0000-0000-000000000000",
        },
        "nodes": {n["unique_id"]: n for n in nodes},
        "sources": {},
    }
    return orjson.dumps(doc)


CORE_OWNER = {"tessera": {"owner_team": "data-platform"}}
MARKETING_OWNER = {"tessera": {"owner_team": "marketing-analytics"}}
DIM_COLUMNS = {"customer_id": "integer", "email": "varchar", "country_code": "varchar"}


def core_manifest(columns: dict[str, str] = DIM_COLUMNS) -> bytes:
    """core: dim_customers (no declared consumers) and stg_customers."""
    return manifest(
        "core",
        model("core", "stg_customers", columns={"customer_id": "integer"}, meta=CORE_OWNER),
        model(
            "core",
            "dim_customers",
            depends_on=("model.core.stg_customers",),
            columns=columns,
            meta=CORE_OWNER,
            access="public",  # read by marketing's cross-project ref, as dbt Mesh requires
        ),
    )


def marketing_manifest() -> bytes:
    """marketing reads core's dim_customers through a cross-project ref and elementary's dbt_models
    (an installed package); dbt-loom injected core's stg_customers too, which nothing reads."""
    return manifest(
        "marketing",
        injected("core", "dim_customers"),
        injected("core", "stg_customers", access="protected"),
        package_model("elementary", "dbt_models", database="marketing"),
        model(
            "marketing",
            "int_customer_touchpoints",
            depends_on=("model.core.dim_customers",),
            columns={"customer_id": "integer"},
            meta=MARKETING_OWNER,
        ),
        model(
            "marketing",
            "fct_attribution",
            depends_on=("model.marketing.int_customer_touchpoints", "model.elementary.dbt_models"),
            columns={"customer_id": "integer"},
            meta=MARKETING_OWNER,
        ),
    )
