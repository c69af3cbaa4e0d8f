"""What real warehouses do to contracts: adapter type synonyms, composite types, guarantees by
meaning (tests, constraints, filters, severities, column sets) and first-time typing. Pure engine."""

from __future__ import annotations

import pytest

from contracts.compat import evaluate
from contracts.compat.diff.contract import diff_contracts
from contracts.compat.types.parse import normalize_type
from contracts.compat.types.widening import compare_types
from contracts.domain import ColumnSpec, ContractSpec, GuaranteeSpec

MODES = ("backward", "forward", "full", "none")


def spec(*columns: ColumnSpec, guarantees=(), adapter: str = "", notes=()) -> ContractSpec:
    return ContractSpec(
        columns=list(columns), guarantees=list(guarantees), adapter=adapter, notes=list(notes)
    )


def col(name: str, data_type: str = "integer") -> ColumnSpec:
    return ColumnSpec(name=name, data_type=data_type)


# --- adapter type tables -------------------------------------------------------------------------
ALIASES = {
    "snowflake": [
        ("NUMBER(38,0)", "BIGINT"),
        ("NUMBER(38,0)", "INT"),
        ("INTEGER", "SMALLINT"),
        ("NUMBER", "DECIMAL"),
        ("FLOAT", "DOUBLE"),
        ("FLOAT4", "FLOAT8"),
        ("REAL", "DOUBLE PRECISION"),
        ("TEXT", "VARCHAR"),
        ("STRING", "VARCHAR(16777216)"),
        ("TIMESTAMP", "TIMESTAMP_NTZ"),
        ("DATETIME", "TIMESTAMP_NTZ(9)"),
        ("TIMESTAMP_TZ", "TIMESTAMP_LTZ"),
    ],
    "bigquery": [
        ("INTEGER", "INT64"),
        ("INT", "INT64"),
        ("BIGINT", "SMALLINT"),
        ("FLOAT64", "FLOAT"),
        ("NUMERIC", "DECIMAL(38,9)"),
        ("DECIMAL", "NUMERIC"),
        ("BIGNUMERIC", "BIGDECIMAL"),
        ("BOOL", "BOOLEAN"),
        ("STRING", "VARCHAR"),
        ("ARRAY<INT64>", "ARRAY<INTEGER>"),
    ],
    "postgres": [
        ("character varying(50)", "varchar(50)"),
        ("int4", "integer"),
        ("float8", "double precision"),
        ("float", "double precision"),
        ("timestamp without time zone", "timestamp"),
        ("timestamp with time zone", "timestamptz"),
        ("bool", "boolean"),
        ("_int4", "integer[]"),
    ],
    "redshift": [
        ("numeric", "decimal(18,0)"),
        ("text", "varchar(256)"),
        ("varchar", "character varying(256)"),
        ("float", "float8"),
        ("int8", "bigint"),
        ("bpchar", "char(256)"),
    ],
    "duckdb": [
        ("decimal", "decimal(18,3)"),
        ("float", "real"),
        ("float4", "real"),
        ("string", "varchar"),
        ("long", "bigint"),
        ("int[]", "list<integer>"),
        ("STRUCT(a INTEGER)", "struct<a int4>"),
    ],
    "databricks": [
        ("long", "bigint"),
        ("int", "integer"),
        ("decimal", "decimal(10,0)"),
        ("timestamp", "timestamp_ltz"),
        ("string", "varchar"),
        ("float", "real"),
        ("byte", "tinyint"),
    ],
}
WIDENINGS = {
    "snowflake": [
        ("NUMBER(10,0)", "NUMBER(38,0)"),
        ("VARCHAR(10)", "VARCHAR"),
        ("NUMBER(10,2)", "NUMBER(20,4)"),
    ],
    "bigquery": [
        ("NUMERIC", "BIGNUMERIC"),
        ("INT64", "NUMERIC"),
        ("DATE", "DATETIME"),
        ("STRING(10)", "STRING"),
    ],
    "postgres": [("integer", "bigint"), ("varchar(10)", "text"), ("real", "float")],
    "redshift": [
        ("smallint", "integer"),
        ("varchar(10)", "varchar(256)"),
        ("numeric(10,2)", "numeric(12,2)"),
    ],
    "duckdb": [("integer", "bigint"), ("float", "double"), ("decimal(10,2)", "decimal")],
    "databricks": [("int", "bigint"), ("float", "double"), ("decimal(10,2)", "decimal(12,2)")],
}


@pytest.mark.parametrize(
    ("adapter", "a", "b"), [(adapter, a, b) for adapter, pairs in ALIASES.items() for a, b in pairs]
)
def test_aliases_of_one_warehouse_are_one_type(adapter: str, a: str, b: str) -> None:
    assert normalize_type(a, adapter) == normalize_type(b, adapter)
    assert compare_types(a, b, adapter) == "same"
    verdict = evaluate(
        old=spec(col("x", a), adapter=adapter), new=spec(col("x", b), adapter=adapter), mode="full"
    )
    assert not verdict.breaking
    assert verdict.bump in (None, "patch")


@pytest.mark.parametrize(
    ("adapter", "a", "b"), [(adapter, a, b) for adapter, pairs in WIDENINGS.items() for a, b in pairs]
)
def test_real_widenings_stay_widenings_on_each_warehouse(adapter: str, a: str, b: str) -> None:
    assert compare_types(a, b, adapter) == "wider"
    assert compare_types(b, a, adapter) == "narrower"
    changes = diff_contracts(spec(col("x", a), adapter=adapter), spec(col("x", b), adapter=adapter))
    assert [c.kind for c in changes] == ["type_widened"]
    assert a in changes[0].reason and b in changes[0].reason  # the raw types, as written


def test_snowflake_number_and_bigint_differ_elsewhere_but_not_on_snowflake() -> None:
    assert compare_types("NUMBER(38,0)", "BIGINT") == "narrower"  # no adapter: 38 digits do not fit a bigint
    assert compare_types("NUMBER(38,0)", "BIGINT", "snowflake") == "same"


def test_bigquery_timestamp_is_an_instant_and_datetime_is_not() -> None:
    assert compare_types("DATETIME", "TIMESTAMP", "bigquery") == "unrelated"
    assert compare_types("TIMESTAMP", "TIMESTAMP", "bigquery") == "same"


def test_a_respelled_alias_is_reported_as_a_patch_with_both_spellings() -> None:
    old = spec(col("amount", "NUMBER(38,0)"), adapter="snowflake")
    new = spec(col("amount", "BIGINT"), adapter="snowflake")
    verdict = evaluate(old=old, new=new, mode="full")
    assert [c.kind for c in verdict.changes] == ["type_respelled"]
    assert "BIGINT (was NUMBER(38,0)): the same type on snowflake" in verdict.reasons[0]


# --- composite types ----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_struct_field_added_is_judged_like_a_column_added(mode: str) -> None:
    old = spec(col("address", "STRUCT<city STRING>"), adapter="bigquery")
    new = spec(col("address", "STRUCT<city STRING, zip STRING>"), adapter="bigquery")
    verdict = evaluate(old=old, new=new, mode=mode)
    assert [(c.kind, c.column) for c in verdict.changes] == [("field_added", "address.zip")]
    assert verdict.breaking is (mode in ("forward", "full"))
    assert verdict.bump == ("major" if verdict.breaking else "minor")


@pytest.mark.parametrize("mode", MODES)
def test_struct_field_removed_is_judged_like_a_column_removed(mode: str) -> None:
    old = spec(col("address", "struct<city:string,zip:string>"), adapter="databricks")
    new = spec(col("address", "struct<city:string>"), adapter="databricks")
    verdict = evaluate(old=old, new=new, mode=mode)
    assert [(c.kind, c.column) for c in verdict.changes] == [("field_removed", "address.zip")]
    assert verdict.breaking is (mode in ("backward", "full"))


def test_nested_struct_fields_are_found_by_name_whatever_their_order() -> None:
    old = spec(col("c", "STRUCT<a STRUCT<x INT64, y STRING>, b INT64>"))
    new = spec(col("c", "STRUCT<b INT64, a STRUCT<y STRING, x INT64, z BOOL>>"))
    assert [(c.kind, c.column) for c in diff_contracts(old, new)] == [("field_added", "c.a.z")]


@pytest.mark.parametrize(
    ("old", "new", "kind", "backward", "forward"),
    [
        ("ARRAY<INT64>", "ARRAY<NUMERIC>", "type_widened", True, False),
        ("ARRAY<NUMERIC>", "ARRAY<INT64>", "type_narrowed", False, True),
        ("ARRAY<INT64>", "ARRAY<STRING>", "type_changed", True, True),
        ("ARRAY<STRUCT<a INT64>>", "ARRAY<STRUCT<a INT64, b INT64>>", "field_added", False, True),
        ("ARRAY<STRUCT<a INT64, b INT64>>", "ARRAY<STRUCT<a INT64>>", "field_removed", True, False),
    ],
)
def test_array_element_types_are_compared_recursively_both_ways(
    old: str, new: str, kind: str, backward: bool, forward: bool
) -> None:
    changes = diff_contracts(spec(col("v", old), adapter="bigquery"), spec(col("v", new), adapter="bigquery"))
    assert [(c.kind, c.backward_breaking, c.forward_breaking) for c in changes] == [(kind, backward, forward)]
    assert changes[0].column.startswith("v[]")


def test_map_value_type_change_names_the_value() -> None:
    changes = diff_contracts(spec(col("m", "MAP(VARCHAR, INTEGER)")), spec(col("m", "MAP(VARCHAR, BIGINT)")))
    assert [(c.kind, c.column) for c in changes] == [("type_widened", "m{value}")]


def test_a_struct_that_becomes_an_array_is_an_unrelated_type() -> None:
    changes = diff_contracts(spec(col("v", "STRUCT<a INT64>")), spec(col("v", "ARRAY<INT64>")))
    assert [(c.kind, c.backward_breaking, c.forward_breaking) for c in changes] == [
        ("type_changed", True, True)
    ]


# --- first-time typing ------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_first_type_is_a_patch_never_breaking(mode: str) -> None:
    old = spec(col("id", ""), col("amount", ""))
    new = spec(col("id", "BIGINT"), col("amount", "DECIMAL(38,0)"))
    verdict = evaluate(old=old, new=new, mode=mode)
    assert [c.kind for c in verdict.changes] == ["type_declared", "type_declared"]
    assert not verdict.breaking
    assert verdict.bump == "patch"
    assert "Column amount is now typed: DECIMAL(38,0)" in verdict.reasons[1]


def test_a_type_that_changes_between_two_known_values_is_judged_as_usual() -> None:
    verdict = evaluate(old=spec(col("id", "BIGINT")), new=spec(col("id", "INTEGER")), mode="forward")
    assert verdict.breaking


# --- guarantees by meaning ---------------------------------------------------------------------------------
def g(kind: str, column: str | None = None, mechanism: str = "test", severity: str = "error", **arguments):
    return GuaranteeSpec(
        kind=kind, column=column, arguments=arguments, severity=severity, mechanism=mechanism
    )


COLUMNS = (col("id"), col("region", "varchar"), col("day", "date"))


def changes_between(old_guarantees, new_guarantees, notes=()):
    return diff_contracts(
        spec(*COLUMNS, guarantees=old_guarantees), spec(*COLUMNS, guarantees=new_guarantees, notes=notes)
    )


def test_a_test_moved_to_a_constraint_is_the_same_promise() -> None:
    changes = changes_between(
        [g("not_null", "id"), g("unique", "id")],
        [g("not_null", "id", "constraint"), g("unique", "id", "constraint")],
    )
    assert {c.kind for c in changes} == {"guarantee_mechanism_changed"}
    assert not any(c.backward_breaking or c.forward_breaking for c in changes)


def test_a_primary_key_constraint_equals_not_null_plus_unique_tests() -> None:
    tests = [g("not_null", "id"), g("unique", "id")]
    key = [g("not_null", "id", "constraint"), g("unique", "id", "constraint")]  # what the parser makes of it
    assert not [c for c in changes_between(tests, tests + key) if c.kind != "guarantee_mechanism_changed"]


def test_removing_a_primary_key_reports_both_halves() -> None:
    key = [g("not_null", "id", "constraint"), g("unique", "id", "constraint")]
    changes = changes_between(key, [])
    assert sorted((c.kind, c.guarantee) for c in changes) == [
        ("guarantee_loosened", "not_null:id"),
        ("guarantee_loosened", "unique:id"),
    ]


def test_a_unique_combination_over_one_column_is_the_unique_test() -> None:
    changes = changes_between([g("unique", "id")], [g("unique_combination_of_columns", columns=["id"])])
    assert not [c for c in changes if c.backward_breaking or c.forward_breaking]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        (["id"], ["id", "region"], "guarantee_loosened"),
        (["id", "region"], ["id", "region", "day"], "guarantee_loosened"),
        (["id", "region", "day"], ["id", "region"], "guarantee_tightened"),
        (["id", "region"], ["region", "id"], None),
    ],
)
def test_uniqueness_is_compared_by_column_set_more_columns_is_looser(old, new, kind) -> None:
    def uniq(columns):
        if len(columns) == 1:
            return g("unique", columns[0])
        return g("unique_combination_of_columns", columns=columns)

    changes = changes_between([uniq(old)], [uniq(new)])
    assert [c.kind for c in changes] == ([kind] if kind else [])
    if kind:
        assert "Uniqueness over" in changes[0].reason


def test_uniqueness_over_an_unrelated_column_set_is_a_drop_and_an_add() -> None:
    changes = changes_between(
        [g("unique_combination_of_columns", columns=["id", "region"])],
        [g("unique_combination_of_columns", columns=["id", "day"])],
    )
    assert sorted(c.kind for c in changes) == ["guarantee_loosened", "guarantee_tightened"]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        (g("not_null", "id"), g("not_null", "id", where="day > '2020-01-01'"), "guarantee_loosened"),
        (g("not_null", "id", where="day > '2020-01-01'"), g("not_null", "id"), "guarantee_tightened"),
        (g("not_null", "id"), g("not_null", "id", severity="warn"), "guarantee_loosened"),
        (g("not_null", "id", severity="warn"), g("not_null", "id"), "guarantee_tightened"),
        (g("dbt_expectations.expect_column_values_to_be_between", "id", min_value=0),
         g("dbt_expectations.expect_column_values_to_be_between", "id", min_value=0, where="id > 5"), "guarantee_loosened"),
    ],
)  # fmt: skip
def test_filters_and_warn_severity_are_weaker_than_the_same_test_without(old, new, kind) -> None:
    assert [c.kind for c in changes_between([old], [new])] == [kind]


def test_the_strongest_of_several_ways_to_make_one_promise_counts() -> None:
    # A filtered warn test plus an enforced constraint: dropping the filtered test changes nothing.
    both = [g("not_null", "id", severity="warn", where="id > 0"), g("not_null", "id", "constraint")]
    assert changes_between(both, [g("not_null", "id", "constraint")]) == []


def test_constraints_dropped_with_the_contract_enforcement_say_why() -> None:
    note = "Constraints not_null(id) are not counted as guarantees: contract.enforced is not true."
    changes = changes_between([g("not_null", "id", "constraint")], [], notes=[note])
    assert [c.kind for c in changes] == ["guarantee_loosened"]
    assert "contract.enforced is not true" in changes[0].reason


def test_unenforced_constraints_are_said_in_the_verdict_reasons() -> None:
    note = "Constraints unique(id) are not counted as guarantees: contract.enforced is not true."
    verdict = evaluate(old=spec(col("id")), new=spec(col("id"), col("x"), notes=[note]), mode="backward")
    assert note in verdict.reasons
