"""The type lattice: spellings from DuckDB, PostgreSQL, Snowflake and BigQuery, and widening."""

from __future__ import annotations

import pytest

from contracts.compat.types.parse import normalize_type
from contracts.compat.types.widening import compare_types


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        # integers
        ("INT4", "integer"),
        ("int", "integer"),
        ("INTEGER", "integer"),
        ("Int", "integer"),
        ("int(11)", "integer"),
        ("serial", "integer"),
        ("int1", "tinyint"),
        ("TINYINT", "tinyint"),
        ("int2", "smallint"),
        ("SMALLINT", "smallint"),
        ("int8", "bigint"),
        ("BIGINT", "bigint"),
        ("INT64", "bigint"),
        ("bigserial", "bigint"),
        ("HUGEINT", "hugeint"),
        ("UBIGINT", "ubigint"),
        ("int unsigned", "uinteger"),
        # decimals
        ("NUMERIC(12, 2)", "decimal(12,2)"),
        ("decimal(12,2)", "decimal(12,2)"),
        ("DECIMAL(38,2)", "decimal(38,2)"),
        ("NUMBER(38,0)", "decimal(38,0)"),
        ("NUMBER", "decimal(38,0)"),
        ("numeric(10)", "decimal(10,0)"),
        ("numeric", "decimal"),
        ("BIGNUMERIC", "decimal(76,38)"),
        # floats
        ("real", "real"),
        ("float4", "real"),
        ("float", "real"),
        ("float(53)", "double"),
        ("DOUBLE", "double"),
        ("double precision", "double"),
        ("float8", "double"),
        ("FLOAT64", "double"),
        # strings
        ("varchar", "varchar"),
        ("VARCHAR", "varchar"),
        ("text", "varchar"),
        ("string", "varchar"),
        ("STRING", "varchar"),
        ("VARCHAR(16777216)", "varchar"),
        ("varchar(max)", "varchar"),
        ("character varying", "varchar"),
        ("character varying(50)", "varchar(50)"),
        ("VARCHAR(50)", "varchar(50)"),
        ("varchar ( 50 )", "varchar(50)"),
        ("STRING(10)", "varchar(10)"),
        ("char", "char(1)"),
        ("character(3)", "char(3)"),
        ("bpchar", "varchar"),
        # others
        ("bool", "boolean"),
        ("BOOLEAN", "boolean"),
        ("BYTES", "bytes"),
        ("bytea", "bytes"),
        ("BLOB", "bytes"),
        ("binary(16)", "bytes(16)"),
        ("date", "date"),
        ("DATE", "date"),
        ("timestamp", "timestamp"),
        ("TIMESTAMP", "timestamp"),
        ("timestamp without time zone", "timestamp"),
        ("datetime", "timestamp"),
        ("DATETIME", "timestamp"),
        ("TIMESTAMP_NTZ", "timestamp"),
        ("TIMESTAMP_NTZ(9)", "timestamp(9)"),
        ("timestamp(6)", "timestamp"),
        ("timestamp_ms", "timestamp(3)"),
        ("timestamptz", "timestamptz"),
        ("timestamp with time zone", "timestamptz"),
        ("timestamp(3) with time zone", "timestamptz(3)"),
        ("TIMESTAMP_LTZ", "timestamptz"),
        ("TIMESTAMP_TZ", "timestamptz"),
        ("time", "time"),
        ("time with time zone", "timetz"),
        ("interval", "interval"),
        ("interval day to second", "interval"),
        ("uuid", "uuid"),
        ("json", "json"),
        ("jsonb", "jsonb"),
        ("VARIANT", "variant"),
        ("GEOGRAPHY", "geography"),
        # composites
        ("INTEGER[]", "array<integer>"),
        ("_int4", "array<integer>"),
        ("ARRAY<INT64>", "array<bigint>"),
        ("ARRAY", "array"),
        ("STRUCT<a INT64, b STRING>", "struct<a bigint, b varchar>"),
        ("STRUCT(a INTEGER, b VARCHAR)", "struct<a integer, b varchar>"),
        ("MAP(VARCHAR, INTEGER)", "map<varchar, integer>"),
        # unknown
        ("", "unknown"),
        ("   ", "unknown"),
        ("foo", "unknown:foo"),
        ("decimal(3,4)", "unknown:decimal(3,4)"),
        ("varchar(ten)", "unknown:varchar(ten)"),
        ("ARRAY<FOO>", "unknown:ARRAY<FOO>"),
    ],
)
def test_normalize_type_maps_warehouse_spellings_to_one_canonical_form(raw: str, canonical: str) -> None:
    assert normalize_type(raw) == canonical


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("int", "int4"),
        ("INTEGER", "integer"),
        ("varchar", "TEXT"),
        ("string", "varchar"),
        ("numeric(12,2)", "DECIMAL(12, 2)"),
        ("float8", "double precision"),
        ("FLOAT64", "double"),
        ("bool", "boolean"),
        ("timestamp without time zone", "timestamp"),
        ("ARRAY<INT64>", "int8[]"),
        ("foo_custom", "FOO_CUSTOM"),
        ("", ""),
    ],
)
def test_aliases_compare_as_same(old: str, new: str) -> None:
    assert compare_types(old, new) == "same"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("tinyint", "smallint"),
        ("int2", "int4"),
        ("int", "bigint"),
        ("integer", "INT64"),
        ("bigint", "hugeint"),
        ("utinyint", "smallint"),
        ("uinteger", "bigint"),
        ("integer", "decimal(10,0)"),
        ("integer", "numeric(12,2)"),
        ("bigint", "number(38,0)"),
        ("integer", "numeric"),
        ("number(9,0)", "integer"),
        ("decimal(18,0)", "bigint"),
        ("decimal(12,2)", "decimal(14,2)"),
        ("decimal(12,2)", "decimal(13,3)"),
        ("decimal(12,2)", "numeric"),
        ("integer", "decimal(12,2)"),
        ("smallint", "real"),
        ("integer", "double"),
        ("float4", "float8"),
        ("real", "FLOAT64"),
        ("float", "double precision"),
        ("varchar(10)", "varchar(50)"),
        ("varchar(10)", "text"),
        ("varchar(10)", "STRING"),
        ("character varying(255)", "VARCHAR(16777216)"),
        ("char(3)", "varchar(3)"),
        ("char(3)", "text"),
        ("bytes(16)", "bytea"),
        ("date", "timestamp"),
        ("date", "datetime"),
        ("date", "TIMESTAMP_NTZ(9)"),
        ("timestamp(3)", "timestamp"),
        ("timestamp", "timestamp(9)"),
        ("timestamptz(3)", "timestamptz"),
    ],
)
def test_widening_is_detected(old: str, new: str) -> None:
    assert compare_types(old, new) == "wider"
    assert compare_types(new, old) == "narrower"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("int", "varchar"),
        ("integer", "boolean"),
        ("bigint", "double"),  # lossy above 2^53
        ("integer", "real"),  # lossy above 2^24
        ("decimal(12,2)", "double"),  # binary floats do not hold decimal fractions
        ("decimal(10,2)", "integer"),
        ("decimal(12,2)", "decimal(12,3)"),  # gains scale but loses an integer digit
        ("double", "numeric"),
        ("timestamp", "timestamptz"),
        ("timestamptz", "timestamp"),
        ("date", "timestamptz"),
        ("time", "timestamp"),
        ("json", "jsonb"),
        ("json", "varchar"),
        ("uuid", "varchar"),
        ("varchar(5)", "char(10)"),
        ("boolean", "tinyint"),
        ("integer", "uinteger"),
    ],
)
def test_unrelated_types_are_neither_wider_nor_narrower(old: str, new: str) -> None:
    assert compare_types(old, new) == "unrelated"
    assert compare_types(new, old) == "unrelated"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("foo", "bar"),
        ("integer", "foo"),
        ("foo", "integer"),
        ("", "integer"),
        ("integer", ""),
        ("ARRAY", "ARRAY<INT64>"),
        ("ARRAY<FOO>", "ARRAY<INT64>"),
    ],
)
def test_unrecognised_types_are_unknown_never_compatible(old: str, new: str) -> None:
    assert compare_types(old, new) == "unknown"


@pytest.mark.parametrize(
    ("old", "new", "relation"),
    [
        ("ARRAY<INT64>", "ARRAY<STRING>", "unrelated"),
        ("ARRAY<INT64>", "INT64", "unrelated"),
        ("STRUCT<a INT64>", "ARRAY<INT64>", "unrelated"),
        ("MAP(VARCHAR, INTEGER)", "MAP(VARCHAR, BIGINT)", "wider"),
        ("integer[]", "bigint[]", "wider"),
        ("STRUCT<a INT64>", "STRUCT<a INT64, b STRING>", "structural"),
        ("struct<a:int,b:string>", "STRUCT<b STRING, a INT>", "same"),
    ],
)
def test_composite_types_are_compared_part_by_part(old: str, new: str, relation: str) -> None:
    assert compare_types(old, new) == relation


def test_narrowing_varchar_from_unbounded_to_bounded_is_narrower() -> None:
    assert compare_types("text", "varchar(20)") == "narrower"
    assert compare_types("varchar(50)", "char(10)") == "narrower"


@pytest.mark.parametrize(
    "hostile",
    [
        "numeric(10000000)",  # 10**precision: seconds of CPU per normalisation, hours at 999999999
        "numeric(999999999, 2)",
        "decimal(1001)",
        "varchar(" + "9" * 5000 + ")",  # int() of over 4,300 digits raises ValueError
        "varchar(²)",  # a digit to str.isdigit, not to int()
        "numeric(٣٨)",  # Arabic-Indic digits
        "timestamp(" + "9" * 20 + ")",
    ],
)
def test_type_parameters_no_warehouse_accepts_are_unknown_and_cheap(hostile: str) -> None:
    """A manifest is user input: a parameter beyond any warehouse's is an unknown type (judged
    breaking when it changes), never an exception and never a bound of 10**precision."""
    assert normalize_type(hostile) == hostile.lower() or compare_types("integer", hostile) == "unknown"
    assert compare_types("integer", hostile) == "unknown"
    assert compare_types(hostile, "numeric(38,0)") == "unknown"


def test_the_widest_real_parameters_still_parse() -> None:
    """The limits sit above every warehouse's own: PostgreSQL's NUMERIC(1000), Snowflake's longest VARCHAR."""
    assert compare_types("numeric(38,0)", "numeric(1000,0)") == "wider"
    assert compare_types("varchar(16777216)", "varchar(134217728)") in {"same", "wider"}
