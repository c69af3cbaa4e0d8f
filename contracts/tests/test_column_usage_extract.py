"""Column usage read from real compiled SQL: the demo projects' dbt build (DuckDB), a public
BigQuery project (jaffle_shop + elementary, dbt 1.7) and a public Snowflake project (dbt 1.10).
Pure: no database."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from contracts.ingest.column_usage import dialect_for_adapter, extract_usage, parse_sql
from contracts.ingest.manifest import parse_manifest

FIXTURES = Path(__file__).parent / "fixtures"


def _nodes(path: Path) -> tuple[str, dict]:
    doc = orjson.loads(path.read_bytes())
    return doc["metadata"]["adapter_type"], {**doc["nodes"], **doc.get("sources", {})}


def _relation(node: dict) -> str:
    parts = [
        node.get("database"),
        node.get("schema"),
        node.get("alias") or node.get("identifier") or node["name"],
    ]
    return ".".join(p.lower() for p in parts if p)


def _usage(path: Path, unique_id: str, columns: dict[str, list[str]] | None = None, *, contracts=None):
    """Extract one model's usage, knowing its parents' declared columns (as Tessera's contracts;
    ``contracts`` adds other projects' models, which a source of this project may name)."""
    adapter, nodes = _nodes(path)
    node = nodes[unique_id]
    known = {}
    for parent in node["depends_on"]["nodes"]:
        if parent in nodes:
            relation = _relation(nodes[parent])
            known[relation] = (contracts or {}).get(relation) or list(nodes[parent].get("columns") or {})
    known.update(columns or {})
    parsed = parse_sql(node["compiled_code"], dialect=dialect_for_adapter(adapter))
    return extract_usage(parsed, columns_by_relation=known)


# --- DuckDB: the demo projects, as dbt build compiled them ------------------------------------
@pytest.fixture
def demo_contracts(demo_artifacts) -> dict[str, list[str]]:
    """Every demo model's declared columns by relation: what Tessera holds after syncing all three."""
    out = {}
    for path in demo_artifacts.manifests.values():
        for asset in parse_manifest(path.read_bytes()).assets:
            if asset.resource_type != "source":
                out[asset.relation] = [c.name for c in asset.contract.columns]
    return out


def test_marketing_touchpoints_read_country_code_of_core_customers_through_an_aliased_join(
    demo_artifacts, demo_contracts
):
    usage = _usage(
        demo_artifacts.manifests["marketing"],
        "model.marketing.int_customer_touchpoints",
        contracts=demo_contracts,
    )
    assert usage.known, usage.message
    customers = usage.upstream["core.main.dim_customers"]
    assert customers.columns == {
        "country_code": ["select"],
        "customer_id": ["join"],
        "customer_segment": ["select"],
    }
    assert customers.star == ""
    # column-level lineage: which of the model's own columns each upstream column feeds
    assert customers.feeds == {"country_code": ["country_code"], "customer_segment": ["customer_segment"]}


def test_attribution_reads_order_status_only_as_a_filter_inside_a_cte_with_a_window(
    demo_artifacts, demo_contracts
):
    usage = _usage(
        demo_artifacts.manifests["marketing"],
        "model.marketing.int_order_attribution",
        contracts=demo_contracts,
    )
    assert usage.known, usage.message
    orders = usage.upstream["core.main.fct_orders"]
    assert orders.columns["status"] == ["filter"]
    assert set(orders.columns) == {"order_id", "customer_id", "order_date", "total_amount", "status"}
    assert "item_count" not in orders.columns


def test_finance_reads_order_amounts_but_not_status_or_item_count(demo_artifacts, demo_contracts):
    usage = _usage(
        demo_artifacts.manifests["finance"], "model.finance.int_invoice_payments", contracts=demo_contracts
    )
    assert usage.known, usage.message
    orders = usage.upstream["core.main.fct_orders"]
    assert set(orders.columns) == {"order_id", "customer_id", "total_amount"}
    assert orders.columns["order_id"] == ["join"]
    payments = usage.upstream["core.main.fct_payments"]
    assert payments.columns["payment_status"] == ["filter"]
    assert payments.columns["order_id"] == ["join", "group"]  # through the paid CTE


def test_group_by_ordinal_still_names_the_column(demo_artifacts, demo_contracts):
    usage = _usage(
        demo_artifacts.manifests["finance"], "model.finance.int_revenue_monthly", contracts=demo_contracts
    )
    revenue = usage.upstream["core.main.fct_daily_revenue"]
    assert "revenue_date" in revenue.columns and "net_revenue" in revenue.columns


def test_every_demo_model_is_read_without_guessing(demo_artifacts, demo_contracts):
    for project, path in demo_artifacts.manifests.items():
        _, nodes = _nodes(path)
        for unique_id, node in nodes.items():
            if node.get("resource_type") == "model":
                usage = _usage(path, unique_id, contracts=demo_contracts)
                assert usage.known, f"{unique_id}: {usage.message}"


# --- BigQuery: jaffle_shop and the elementary package (public manifest, dbt 1.7) ---------------
BIGQUERY = FIXTURES / "manifest_v11_jaffle_shop.json"


def test_bigquery_import_ctes_of_select_star_count_only_the_columns_used_later():
    usage = _usage(BIGQUERY, "model.jaffle_shop.customers")
    assert usage.known, usage.message
    stg_customers = usage.upstream["your-project.jaffle_shop.stg_customers"]
    assert stg_customers.star == ""  # select * in a CTE the final select narrows: not a star read
    assert set(stg_customers.columns) == {"customer_id", "first_name", "last_name"}
    payments = usage.upstream["your-project.jaffle_shop.stg_payments"]
    assert payments.columns["order_id"] == ["join"]
    assert payments.columns["amount"] == ["select"]


def test_bigquery_select_star_reaching_the_output_is_flagged_and_reads_every_column():
    usage = _usage(
        BIGQUERY,
        "model.jaffle_shop.stg_orders",
        {"your-project.jaffle_shop.raw_orders": ["id", "user_id", "order_date", "status", "_etl_loaded_at"]},
    )
    raw = usage.upstream["your-project.jaffle_shop.raw_orders"]
    assert raw.star == ""  # renamed CTE lists columns: not every column flows out
    assert set(raw.columns) == {"id", "user_id", "order_date", "status"}

    sql = "with source as (select * from `p`.`d`.`raw`) select * from source"
    star = extract_usage(parse_sql(sql, dialect="bigquery"), columns_by_relation={"p.d.raw": ["a", "b"]})
    assert star.upstream["p.d.raw"].star == "*"
    assert set(star.upstream["p.d.raw"].columns) == {"a", "b"}


def test_bigquery_columns_missing_from_the_upstream_contract_make_the_usage_unknown():
    # elementary's dbt_run_results declares no `materialization` column, yet the model reads it.
    usage = _usage(BIGQUERY, "model.elementary.model_run_results")
    assert not usage.known
    assert "materialization" in usage.message


def test_bigquery_star_over_a_relation_without_declared_columns_is_unknown_not_guessed():
    usage = _usage(BIGQUERY, "model.elementary.metrics_anomaly_score")
    assert not usage.known
    assert "cannot be expanded" in usage.message


def test_bigquery_window_functions_over_an_aliased_join_of_ctes():
    usage = _usage(
        BIGQUERY,
        "model.elementary.model_run_results",
        {
            "your-project.elementary.dbt_run_results": [
                "model_execution_id", "unique_id", "invocation_id", "query_id", "name", "generated_at",
                "status", "full_refresh", "message", "execution_time", "execute_started_at",
                "execute_completed_at", "compile_started_at", "compile_completed_at", "compiled_code",
                "adapter_response", "thread_id", "materialization", "rows_affected",
            ],
            "your-project.elementary.dbt_models": [
                "unique_id", "database_name", "schema_name", "materialization", "tags", "package_name",
                "path", "original_path", "owner", "alias", "checksum",
            ],
        },
    )  # fmt: skip
    assert usage.known, usage.message
    run_results = usage.upstream["your-project.elementary.dbt_run_results"]
    assert run_results.columns["generated_at"] == ["select"]  # PARTITION/ORDER BY of select-list windows
    assert run_results.columns["unique_id"] == ["select", "join"]
    assert "rows_affected" not in run_results.columns
    models = usage.upstream["your-project.elementary.dbt_models"]
    assert models.columns["unique_id"] == ["join"]
    assert "checksum" not in models.columns


def test_bigquery_except_is_flagged_with_the_columns_left_out():
    sql = "select * except (secret) from `p`.`d`.`users`"
    usage = extract_usage(
        parse_sql(sql, dialect="bigquery"), columns_by_relation={"p.d.users": ["id", "secret", "name"]}
    )
    assert usage.upstream["p.d.users"].star == "* EXCLUDE (secret)"
    assert set(usage.upstream["p.d.users"].columns) == {"id", "name"}


# --- Snowflake: a public project's compiled manifest (dbt 1.10) ----------------------------------
SNOWFLAKE = FIXTURES / "column_usage" / "snowflake_dbt_snowflake_proj_models.json"
STAGING_COLUMNS = {
    "finance_db.raw.stg_orders": ["order_id", "customer_id", "order_date", "order_status"],
    "finance_db.raw.stg_order_items": [
        "item_id",
        "order_id",
        "product_id",
        "quantity",
        "unit_price",
        "total_price",
    ],
}


def test_snowflake_unqualified_column_of_a_join_is_tied_to_the_relation_that_has_it():
    usage = _usage(SNOWFLAKE, "model.dbt_snowflake_proj.fact_daily_rev", STAGING_COLUMNS)
    assert usage.known, usage.message
    items = usage.upstream["finance_db.raw.stg_order_items"]
    assert items.columns == {"order_id": ["select", "join", "group"], "total_price": ["select"]}
    orders = usage.upstream["finance_db.raw.stg_orders"]
    assert orders.columns["order_status"] == ["select", "group"]
    assert orders.columns["order_id"] == ["join"]


def test_snowflake_upper_case_identifiers_match_lower_case_contracts():
    sql = "SELECT O.ORDER_ID FROM FINANCE_DB.RAW.STG_ORDERS O QUALIFY ROW_NUMBER() OVER (PARTITION BY O.CUSTOMER_ID ORDER BY O.ORDER_DATE DESC) = 1"
    usage = extract_usage(parse_sql(sql, dialect="snowflake"), columns_by_relation=STAGING_COLUMNS)
    orders = usage.upstream["finance_db.raw.stg_orders"]
    assert orders.columns == {"customer_id": ["filter"], "order_date": ["filter"], "order_id": ["select"]}


def test_snowflake_exclude_and_using_and_a_subquery():
    sql = """
        select * exclude (unit_price)
        from finance_db.raw.stg_order_items
        join finance_db.raw.stg_orders using (order_id)
        where order_id in (select order_id from finance_db.raw.stg_orders where order_status = 'paid')
    """
    usage = extract_usage(parse_sql(sql, dialect="snowflake"), columns_by_relation=STAGING_COLUMNS)
    assert usage.known, usage.message
    items = usage.upstream["finance_db.raw.stg_order_items"]
    assert items.star == "* EXCLUDE (unit_price)"
    assert "unit_price" not in items.columns
    orders = usage.upstream["finance_db.raw.stg_orders"]
    assert "join" in orders.columns["order_id"]
    assert orders.columns["order_status"] == ["filter"] or "filter" in orders.columns["order_status"]


# --- what is never guessed -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("selec id frm x", "could not be parsed"),
        ("select id from a.b.x join a.b.y on x.k = y.k", "could not be qualified"),
        ("create table a.b.t as select 1", "Expected one SELECT statement"),
    ],
)
def test_unparsable_or_ambiguous_sql_is_unknown_with_the_parsers_message(sql, expected):
    usage = extract_usage(parse_sql(sql, dialect="duckdb"), columns_by_relation={})
    assert not usage.known
    assert expected in usage.message
    assert usage.upstream == {}


def test_adapter_types_map_to_sqlglot_dialects():
    assert dialect_for_adapter("duckdb") == "duckdb"
    assert dialect_for_adapter("snowflake") == "snowflake"
    assert dialect_for_adapter("bigquery") == "bigquery"
    assert dialect_for_adapter("sqlserver") == "tsql"
    assert dialect_for_adapter("no-such-warehouse") is None
    assert dialect_for_adapter("") is None
