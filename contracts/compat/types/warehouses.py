"""How each warehouse spells its types, applied before the shared spellings and the lattice.

``metadata.adapter_type`` selects a table (:data:`ADAPTER_TYPES`), so Snowflake's
``NUMBER(38,0)`` and ``BIGINT`` or BigQuery's ``INT64`` and ``INTEGER`` are one type there.
Without an adapter (or for one not listed) only the shared spellings apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AdapterTypes:
    """How one warehouse spells its types, applied before the shared tables and the lattice.

    ``bare``: what a type name means when written without arguments on this warehouse
    (Snowflake's ``INT`` is ``NUMBER(38,0)``, BigQuery's ``NUMERIC`` is ``NUMERIC(38,9)``).
    ``renames``: names that mean another type on this warehouse, arguments kept.
    """

    bare: dict[str, str]
    renames: dict[str, str] = field(default_factory=dict)


_SNOWFLAKE_INT = dict.fromkeys(("int", "integer", "bigint", "smallint", "tinyint", "byteint"), "number(38,0)")
_BIGQUERY_INT = dict.fromkeys(
    ("int", "integer", "int64", "bigint", "smallint", "tinyint", "byteint"), "bigint"
)

# Sources: each warehouse's data type reference (Snowflake "Numeric data types", BigQuery "Data
# types", PostgreSQL §8, Redshift "Data types", DuckDB "Data types", Databricks "Data types").
ADAPTER_TYPES: dict[str, AdapterTypes] = {
    "snowflake": AdapterTypes(
        bare=_SNOWFLAKE_INT
        | dict.fromkeys(("number", "decimal", "numeric"), "number(38,0)")
        # FLOAT, FLOAT4, FLOAT8, REAL, DOUBLE are all 64-bit on Snowflake.
        | dict.fromkeys(("float", "float4", "float8", "real", "double", "double precision"), "double")
        | dict.fromkeys(("timestamp", "datetime", "timestamp_ntz", "timestampntz"), "timestamp_ntz(9)")
        | dict.fromkeys(("timestamp_tz", "timestamptz", "timestamp_ltz", "timestampltz"), "timestamp_tz(9)")
        | {
            "time": "time(9)",
            "text": "varchar",
            "string": "varchar",
            "char": "char(1)",
            "character": "char(1)",
        },
        renames=dict.fromkeys(("int", "integer", "bigint", "smallint", "tinyint", "byteint"), "number")
        | {"timestamp": "timestamp_ntz", "datetime": "timestamp_ntz", "text": "varchar", "string": "varchar"},
    ),
    "bigquery": AdapterTypes(
        bare=_BIGQUERY_INT
        | dict.fromkeys(("float", "float64"), "double")
        | dict.fromkeys(("numeric", "decimal"), "decimal(38,9)")
        | dict.fromkeys(("bignumeric", "bigdecimal"), "decimal(76,38)")
        # BigQuery's TIMESTAMP is an absolute instant; its DATETIME is the civil (zone-less) one.
        | {"timestamp": "timestamptz", "datetime": "timestamp", "string": "varchar"},
        renames={"timestamp": "timestamptz", "datetime": "timestamp", "string": "varchar"},
    ),
    "postgres": AdapterTypes(bare={"float": "double"}),  # float without a precision is float8
    "redshift": AdapterTypes(
        bare={"float": "double", "numeric": "decimal(18,0)", "decimal": "decimal(18,0)", "super": "variant"}
        | dict.fromkeys(("varchar", "character varying", "nvarchar", "text"), "varchar(256)")
        | dict.fromkeys(("char", "character", "nchar"), "char(1)")
        | {"bpchar": "char(256)"},
    ),
    "duckdb": AdapterTypes(bare={"decimal": "decimal(18,3)", "numeric": "decimal(18,3)", "float": "real"}),
    "databricks": AdapterTypes(
        bare=dict.fromkeys(("decimal", "dec", "numeric"), "decimal(10,0)")
        | {"float": "real", "byte": "tinyint", "timestamp": "timestamptz", "timestamp_ltz": "timestamptz"},
        # Spark's TIMESTAMP is TIMESTAMP_LTZ: an instant shown in the session time zone.
        renames={"timestamp": "timestamptz", "timestamp_ltz": "timestamptz", "byte": "tinyint"},
    ),
}
ADAPTER_TYPES["spark"] = ADAPTER_TYPES["databricks"]
