"""Guarantee directions, nullability, column order and the reasons a diff gives."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.compat import diff_contracts, guarantee_key
from contracts.domain import ColumnSpec, ContractSpec, GuaranteeSpec

COLUMNS = [
    ColumnSpec("id", "integer"),
    ColumnSpec("status", "varchar"),
    ColumnSpec("amount", "decimal(12,2)"),
]


def with_guarantees(*guarantees: GuaranteeSpec) -> ContractSpec:
    return ContractSpec(columns=list(COLUMNS), guarantees=list(guarantees))


def g(
    kind: str, column: str | None = None, severity: str = "error", name: str = "", **arguments: Any
) -> GuaranteeSpec:
    return GuaranteeSpec(kind=kind, column=column, arguments=arguments, severity=severity, name=name)


def kinds(old: list[GuaranteeSpec], new: list[GuaranteeSpec]) -> list[str]:
    return [c.kind for c in diff_contracts(with_guarantees(*old), with_guarantees(*new))]


RANGE = {"min_value": 0, "max_value": 100}

DIRECTIONS = {
    "not_null dropped": ([g("not_null", "id")], [], ["guarantee_loosened"]),
    "not_null added": ([], [g("not_null", "id")], ["guarantee_tightened"]),
    "unique dropped": ([g("unique", "id")], [], ["guarantee_loosened"]),
    "unique added": ([], [g("unique", "id")], ["guarantee_tightened"]),
    "accepted value added": (
        [g("accepted_values", "status", values=["a", "b"])],
        [g("accepted_values", "status", values=["a", "b", "c"])],
        ["guarantee_loosened"],
    ),
    "accepted value removed": (
        [g("accepted_values", "status", values=["a", "b"])],
        [g("accepted_values", "status", values=["a"])],
        ["guarantee_tightened"],
    ),
    "accepted values swapped": (
        [g("accepted_values", "status", values=["a", "b"])],
        [g("accepted_values", "status", values=["a", "c"])],
        ["guarantee_changed"],
    ),
    "accepted values reordered": (
        [g("accepted_values", "status", values=["a", "b"])],
        [g("accepted_values", "status", values=["b", "a"])],
        [],
    ),
    "accepted values list dropped": (
        [g("accepted_values", "status", values=["a"])],
        [],
        ["guarantee_loosened"],
    ),
    "range max raised": (
        [g("accepted_range", "amount", **RANGE)],
        [g("accepted_range", "amount", min_value=0, max_value=1000)],
        ["guarantee_loosened"],
    ),
    "range min lowered": (
        [g("accepted_range", "amount", **RANGE)],
        [g("accepted_range", "amount", min_value=-5, max_value=100)],
        ["guarantee_loosened"],
    ),
    "range min raised": (
        [g("accepted_range", "amount", **RANGE)],
        [g("accepted_range", "amount", min_value=1, max_value=100)],
        ["guarantee_tightened"],
    ),
    "range upper bound removed": (
        [g("accepted_range", "amount", **RANGE)],
        [g("accepted_range", "amount", min_value=0)],
        ["guarantee_loosened"],
    ),
    "range upper bound added": (
        [g("accepted_range", "amount", min_value=0)],
        [g("accepted_range", "amount", **RANGE)],
        ["guarantee_tightened"],
    ),
    "range shifted": (
        [g("accepted_range", "amount", **RANGE)],
        [g("accepted_range", "amount", min_value=10, max_value=200)],
        ["guarantee_changed"],
    ),
    "range made exclusive": (
        [g("accepted_range", "amount", **RANGE)],
        [g("accepted_range", "amount", inclusive=False, **RANGE)],
        ["guarantee_tightened"],
    ),
    "range made inclusive": (
        [g("accepted_range", "amount", inclusive=False, **RANGE)],
        [g("accepted_range", "amount", inclusive=True, **RANGE)],
        ["guarantee_loosened"],
    ),
    "range of dates widened": (
        [g("accepted_range", "amount", min_value="2020-01-01", max_value="2024-12-31")],
        [g("accepted_range", "amount", min_value="2019-01-01", max_value="2024-12-31")],
        ["guarantee_loosened"],
    ),
    "range bound not comparable": (
        [g("accepted_range", "amount", min_value="current_date - 1")],
        [g("accepted_range", "amount", min_value="current_date - 7")],
        ["guarantee_changed"],
    ),
    "range dropped": ([g("accepted_range", "amount", **RANGE)], [], ["guarantee_loosened"]),
    "range spelled with its dbt_utils namespace": (
        [g("dbt_utils.accepted_range", "amount", **RANGE)],
        [g("accepted_range", "amount", min_value=0, max_value=50)],
        ["guarantee_tightened"],
    ),
    "relationship dropped": (
        [g("relationships", "id", to="ref('customers')", field="id")],
        [],
        ["guarantee_loosened"],
    ),
    "relationship added": (
        [],
        [g("relationships", "id", to="ref('customers')", field="id")],
        ["guarantee_tightened"],
    ),
    "relationship repointed": (
        [g("relationships", "id", to="ref('customers')", field="id")],
        [g("relationships", "id", to="ref('accounts')", field="id")],
        ["guarantee_loosened", "guarantee_tightened"],
    ),
    "relationship target spelled with other quotes": (
        [g("relationships", "id", to="ref('customers')", field="id")],
        [g("relationships", "id", to='ref("customers")', field="id")],
        [],
    ),
    "unique combination dropped": (
        [g("unique_combination_of_columns", combination_of_columns=["id", "status"])],
        [],
        ["guarantee_loosened"],
    ),
    "unique combination added": (
        [],
        [g("unique_combination_of_columns", combination_of_columns=["id", "status"])],
        ["guarantee_tightened"],
    ),
    "unique combination listed in another order": (
        [g("unique_combination_of_columns", combination_of_columns=["id", "status"])],
        [g("unique_combination_of_columns", combination_of_columns=["status", "id"])],
        [],
    ),
    "other generic test removed": (
        [g("dbt_expectations.expect_column_to_exist", "id")],
        [],
        ["guarantee_loosened"],
    ),
    "other generic test added": ([], [g("my_pkg.is_even", "id")], ["guarantee_tightened"]),
    "other generic test arguments changed": (
        [g("my_pkg.at_most", "id", limit=5)],
        [g("my_pkg.at_most", "id", limit=10)],
        ["guarantee_loosened", "guarantee_tightened"],
    ),
    "singular test removed": ([g("singular", name="assert_totals_match")], [], ["guarantee_loosened"]),
    "expression added": ([], [g("expression", expression="amount >= 0")], ["guarantee_tightened"]),
    "severity error to warn": (
        [g("unique", "id")],
        [g("unique", "id", severity="warn")],
        ["guarantee_loosened"],
    ),
    "severity warn to error": (
        [g("unique", "id", severity="warn")],
        [g("unique", "id")],
        ["guarantee_tightened"],
    ),
    "freshness relaxed": (
        [g("freshness", error_after={"count": 12, "period": "hour"})],
        [g("freshness", error_after={"count": 1, "period": "day"})],
        ["guarantee_loosened"],
    ),
    "freshness tightened": (
        [g("freshness", error_after={"count": 1, "period": "day"})],
        [g("freshness", error_after={"count": 6, "period": "hour"})],
        ["guarantee_tightened"],
    ),
    "row filter added": (
        [g("not_null", "id")],
        [g("not_null", "id", where="id > 0")],
        ["guarantee_loosened"],
    ),
    "row filter removed": ([g("unique", "id", where="id > 0")], [g("unique", "id")], ["guarantee_tightened"]),
    "row filter changed": (
        [g("unique", "id", where="id > 0")],
        [g("unique", "id", where="id > 10")],
        ["guarantee_changed"],
    ),
    "unique combination over more columns (a weaker promise)": (
        [g("unique_combination_of_columns", columns=["id", "status"])],
        [g("unique_combination_of_columns", columns=["status", "id", "amount"])],
        ["guarantee_loosened"],
    ),
    "unchanged guarantees": (
        [g("not_null", "id"), g("unique", "id")],
        [g("unique", "id"), g("not_null", "id")],
        [],
    ),
}


@pytest.mark.parametrize("case", list(DIRECTIONS), ids=list(DIRECTIONS))
def test_guarantee_direction(case: str) -> None:
    old, new, expected = DIRECTIONS[case]
    assert kinds(old, new) == expected


def test_loosened_breaks_backward_only_and_tightened_forward_only() -> None:
    (loosened,) = diff_contracts(with_guarantees(g("unique", "id")), with_guarantees())
    (tightened,) = diff_contracts(with_guarantees(), with_guarantees(g("unique", "id")))
    assert (loosened.backward_breaking, loosened.forward_breaking) == (True, False)
    assert (tightened.backward_breaking, tightened.forward_breaking) == (False, True)


def test_guarantee_reasons_say_what_changed_in_words() -> None:
    changes = diff_contracts(
        with_guarantees(
            g("accepted_values", "status", values=["placed", "shipped"]),
            g("accepted_range", "amount", **RANGE),
            g("not_null", "id"),
        ),
        with_guarantees(
            g("accepted_values", "status", values=["placed", "shipped", "returned"]),
            g("accepted_range", "amount", min_value=0, max_value=1000),
        ),
    )
    reasons = [c.reason for c in changes]
    assert "Guarantee not_null on id was dropped (loosened)." in reasons
    assert "accepted_values on status now also allows 'returned' (loosened)." in reasons
    assert "accepted_range on amount changed from [0, 100] to [0, 1000] (widened)." in reasons


def test_nullability_follows_not_null_and_is_not_reported_twice() -> None:
    old = ContractSpec(
        columns=[ColumnSpec("id", "integer", nullable=False)], guarantees=[g("not_null", "id")]
    )
    new = ContractSpec(columns=[ColumnSpec("id", "integer", nullable=True)], guarantees=[])
    assert [c.kind for c in diff_contracts(old, new)] == ["guarantee_loosened"]


def test_nullability_from_a_constraint_without_a_test_is_reported() -> None:
    old = ContractSpec(columns=[ColumnSpec("id", "integer", nullable=False)])
    new = ContractSpec(columns=[ColumnSpec("id", "integer", nullable=True)])
    (change,) = diff_contracts(old, new)
    assert change.kind == "nullability_changed"
    assert (change.backward_breaking, change.forward_breaking) == (True, False)
    (reverse,) = diff_contracts(new, old)
    assert (reverse.backward_breaking, reverse.forward_breaking) == (False, True)
    assert reverse.reason == "Column id is now NOT NULL (tightened)."


def test_column_order_change_is_one_metadata_change_and_additions_do_not_count_as_reordering() -> None:
    a, b, c = ColumnSpec("a", "int"), ColumnSpec("b", "int"), ColumnSpec("c", "int")
    (change,) = diff_contracts(ContractSpec(columns=[a, b]), ContractSpec(columns=[b, a]))
    assert change.kind == "column_order_changed"
    assert not change.backward_breaking and not change.forward_breaking
    assert [
        x.kind for x in diff_contracts(ContractSpec(columns=[a, b]), ContractSpec(columns=[a, c, b]))
    ] == ["column_added"]


def test_column_names_match_case_insensitively() -> None:
    changes = diff_contracts(
        ContractSpec(columns=[ColumnSpec("ID", "int")]),
        ContractSpec(columns=[ColumnSpec("id", "INTEGER")]),
    )
    # Only the spelling of the (same) type is reported; the column itself is the same one.
    assert [c.kind for c in changes] == ["type_respelled"]


def test_guarantee_key_identifies_a_guarantee_across_versions() -> None:
    assert guarantee_key(g("not_null", "id")) == "not_null:id"
    assert guarantee_key(g("accepted_values", "status", values=["a"])) == guarantee_key(
        g("accepted_values", "status", values=["a", "b"])
    )
    assert guarantee_key(g("dbt_utils.accepted_range", "amount", min_value=0)) == "accepted_range:amount"
    assert guarantee_key(g("relationships", "id", to="ref('a')", field="id")) != guarantee_key(
        g("relationships", "id", to="ref('b')", field="id")
    )


def test_change_as_dict_has_every_field() -> None:
    (change,) = diff_contracts(with_guarantees(g("unique", "id")), with_guarantees())
    assert set(change.as_dict()) == {
        "kind",
        "column",
        "guarantee",
        "old",
        "new",
        "backward_breaking",
        "forward_breaking",
        "reason",
        "against",
    }


def test_stored_json_round_trips_to_the_same_contract() -> None:
    from contracts.compat.serialize import columns_to_json, guarantees_to_json, spec_from_json

    original = with_guarantees(g("accepted_range", "amount", **RANGE), g("unique", "id", severity="warn"))
    stored_columns = columns_to_json(original)
    assert stored_columns[2]["normalized_type"] == "decimal(12,2)"
    rebuilt = spec_from_json(stored_columns, guarantees_to_json(original), original.mode)
    assert diff_contracts(original, rebuilt) == []
    assert rebuilt.content_hash() == original.content_hash()


def test_stored_columns_are_each_column_as_column_to_json_writes_it_for_the_adapter() -> None:
    from contracts.compat.serialize import column_to_json, columns_to_json

    spec = ContractSpec(
        columns=[
            ColumnSpec("id", "INT64", nullable=False, description="key"),
            ColumnSpec("tags", "ARRAY<STRING>"),
            ColumnSpec("amount", "NUMERIC(12, 2)"),
            ColumnSpec("blob", "made_up_type"),
            ColumnSpec("untyped", ""),
        ],
        adapter="bigquery",
    )

    stored = columns_to_json(spec)

    assert stored == [column_to_json(c, "bigquery") for c in spec.columns]
    assert [list(c) for c in stored] == [[*c.as_dict(), "normalized_type"] for c in spec.columns]
    assert stored[0]["normalized_type"] == "bigint" and stored[3]["normalized_type"].startswith("unknown")


def test_guarantees_of_a_removed_or_added_column_are_part_of_that_change() -> None:
    old = ContractSpec(
        columns=[ColumnSpec("id", "integer"), ColumnSpec("email", "varchar")],
        guarantees=[g("not_null", "email"), g("unique", "email"), g("not_null", "id")],
    )
    new = ContractSpec(
        columns=[ColumnSpec("id", "integer"), ColumnSpec("phone", "varchar")],
        guarantees=[g("not_null", "id"), g("not_null", "phone")],
    )
    changes = diff_contracts(old, new)
    assert [(c.kind, c.column) for c in changes] == [("column_removed", "email"), ("column_added", "phone")]
    assert changes[0].reason == "Column email (varchar) was removed, with its guarantees not_null, unique."
    assert changes[1].reason == "Column phone (varchar) was added, with its guarantee not_null."


def test_a_multi_column_guarantee_naming_a_removed_column_is_still_reported() -> None:
    old = ContractSpec(
        columns=[ColumnSpec("id", "integer"), ColumnSpec("day", "date")],
        guarantees=[g("unique_combination_of_columns", columns=["id", "day"])],
    )
    new = ContractSpec(columns=[ColumnSpec("id", "integer")])
    assert [c.kind for c in diff_contracts(old, new)] == ["column_removed", "guarantee_loosened"]


def test_a_guarantee_first_made_on_a_removed_column_is_a_change_of_its_own() -> None:
    """Only what went with the column is folded into its removal; a test newly written on a
    column the contract no longer lists is news of its own."""
    old = ContractSpec(columns=[ColumnSpec("id", "integer"), ColumnSpec("email", "varchar")])
    new = ContractSpec(columns=[ColumnSpec("id", "integer")], guarantees=[g("not_null", "email")])
    changes = diff_contracts(old, new)
    assert [(c.kind, c.column) for c in changes] == [
        ("column_removed", "email"),
        ("guarantee_tightened", "email"),
    ]
    assert changes[0].reason == "Column email (varchar) was removed."


def test_one_guarantee_moved_every_way_reports_each_move_in_a_fixed_order() -> None:
    """Row filter, then the arguments, then what makes the promise, then its severity: each a
    change of its own, each judged in its own direction."""
    old = GuaranteeSpec("accepted_values", "status", {"values": ["a", "b"]}, severity="warn")
    new = GuaranteeSpec(
        "accepted_values",
        "status",
        {"values": ["a", "b", "c"], "where": "amount > 0"},
        severity="error",
        mechanism="constraint",
    )
    changes = diff_contracts(ContractSpec(guarantees=[old]), ContractSpec(guarantees=[new]))
    assert [(c.kind, c.backward_breaking, c.forward_breaking, c.reason) for c in changes] == [
        (
            "guarantee_loosened",
            True,
            False,
            "accepted_values on status ('a', 'b', 'c') now only checks rows where amount > 0 (loosened).",
        ),
        ("guarantee_loosened", True, False, "accepted_values on status now also allows 'c' (loosened)."),
        (
            "guarantee_mechanism_changed",
            False,
            False,
            "accepted_values on status ('a', 'b', 'c') is now made by a constraint of the enforced "
            "contract (was a data test): the same promise.",
        ),
        (
            "guarantee_tightened",
            False,
            True,
            "accepted_values on status ('a', 'b', 'c') was upgraded from severity warn to error (tightened).",
        ),
    ]
    assert {c.guarantee for c in changes} == {"accepted_values:status"}
