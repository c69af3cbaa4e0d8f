"""Great Expectations 1.x suite against the demo's core marts (run by make_fixtures.sh in the tools venv).

Writes a validation result (dim_customers) and a checkpoint result (dim_customers + fct_orders),
each with passing, failing, warning-severity and erroring expectations, so Tessera's parser is
tested on what GX really produces.

GX reads the tables through pandas, from CSV exports of the DuckDB tables: GX 1.24's SQL engine
fetches results after returning its connection to the pool, and duckdb_engine then yields no rows
(every metric errors), so the SQL datasource cannot be used against DuckDB here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe

database, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
exports = database.parent / "gx-exports"  # scratch, beside the temporary database copy
exports.mkdir(exist_ok=True)
with duckdb.connect(str(database), read_only=True) as con:
    for name in ("dim_customers", "fct_orders"):
        con.execute(f"COPY main.{name} TO '{exports / name}.csv' (HEADER)")

context = gx.get_context(mode="ephemeral")
source = context.data_sources.add_pandas(name="core")


def definition(table: str, expectations: list) -> gx.ValidationDefinition:
    asset = source.add_csv_asset(name=table, filepath_or_buffer=exports / f"{table}.csv")
    batch = asset.add_batch_definition("whole table")
    suite = context.suites.add(gx.ExpectationSuite(name=f"{table}_quality"))
    for expectation in expectations:
        suite.add_expectation(expectation)
    return context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{table}_daily", data=batch, suite=suite)
    )


dim_customers = definition(
    "dim_customers",
    [
        gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
        gxe.ExpectColumnValuesToBeUnique(column="customer_id"),
        gxe.ExpectColumnValuesToBeUnique(column="email"),
        # Fails: the demo has 'prospect' customers (no orders yet).
        gxe.ExpectColumnValuesToBeInSet(column="customer_segment", value_set=["new", "loyal", "vip"]),
        # Warns: a few customers are above 1,000 of lifetime value.
        gxe.ExpectColumnValuesToBeBetween(
            column="lifetime_value", min_value=0, max_value=1000, severity="warning"
        ),
        # Errors: the column does not exist, so the expectation cannot run at all.
        gxe.ExpectColumnValuesToNotBeNull(column="loyalty_tier"),
    ],
)
fct_orders = definition(
    "fct_orders",
    [
        gxe.ExpectColumnValuesToNotBeNull(column="order_id"),
        gxe.ExpectColumnValuesToBeUnique(column="order_id"),
        gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=["web", "mobile"]),  # fails: 'store'
        gxe.ExpectColumnValuesToBeBetween(
            column="total_amount", min_value=0, max_value=500, severity="warning"
        ),
    ],
)

validation = dim_customers.run()
(out_dir / "gx_validation_dim_customers.json").write_text(json.dumps(validation.to_json_dict(), indent=1))

checkpoint = context.checkpoints.add(
    gx.Checkpoint(name="core_marts", validation_definitions=[dim_customers, fct_orders])
)
result = checkpoint.run()
checkpoint_doc = {
    "name": result.name,
    "run_id": result.run_id.to_json_dict(),
    "success": result.success,
    "checkpoint_config": json.loads(json.dumps(result.checkpoint_config.dict(), default=str)),
    "run_results": {str(key): value.to_json_dict() for key, value in result.run_results.items()},
}
(out_dir / "gx_checkpoint_core_marts.json").write_text(json.dumps(checkpoint_doc, indent=1, default=str))
# describe() is what GX prints for a checkpoint; it names no table, so uploads need asset=.
(out_dir / "gx_checkpoint_describe.json").write_text(
    json.dumps(result.describe_dict(), indent=1, default=str)
)
for csv in exports.iterdir():
    csv.unlink()
exports.rmdir()
print("great expectations: wrote validation and checkpoint results")
