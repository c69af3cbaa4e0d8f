"""SPEC §5: every row of the verdict table under every mode, transitive history, semver bumps."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from contracts.compat import bump_version, evaluate, format_version, parse_version
from contracts.domain import COMPATIBILITY_MODES, ColumnSpec, ContractSpec, GuaranteeSpec


def spec(
    *columns: ColumnSpec, guarantees: list[GuaranteeSpec] | None = None, mode: str = "backward"
) -> ContractSpec:
    return ContractSpec(columns=list(columns), guarantees=list(guarantees or []), mode=mode)


def col(name: str, data_type: str = "integer", *, nullable: bool = True, description: str = "") -> ColumnSpec:
    return ColumnSpec(name=name, data_type=data_type, nullable=nullable, description=description)


ID = col("id", "integer")
EMAIL = col("email", "varchar(50)")


def not_null(column: str) -> GuaranteeSpec:
    return GuaranteeSpec(kind="not_null", column=column)


def unique(column: str) -> GuaranteeSpec:
    return GuaranteeSpec(kind="unique", column=column)


def accepted(column: str, *values: str) -> GuaranteeSpec:
    return GuaranteeSpec(kind="accepted_values", column=column, arguments={"values": list(values)})


def in_range(column: str, low: float | None, high: float | None) -> GuaranteeSpec:
    return GuaranteeSpec(
        kind="accepted_range", column=column, arguments={"min_value": low, "max_value": high}
    )


def references(column: str) -> GuaranteeSpec:
    return GuaranteeSpec(
        kind="relationships", column=column, arguments={"to": "ref('dim_customers')", "field": "customer_id"}
    )


# Each row: (old, new, breaks backward, breaks forward) — the SPEC §5 table, one or more examples per row.
Row = tuple[Callable[[], ContractSpec], Callable[[], ContractSpec], bool, bool]
TABLE: dict[str, Row] = {
    "column removed": (lambda: spec(ID, EMAIL), lambda: spec(ID), True, False),
    "column renamed (remove plus add)": (
        lambda: spec(ID, EMAIL),
        lambda: spec(ID, col("email_address", "varchar(50)")),
        True,
        True,
    ),
    "column added": (lambda: spec(ID), lambda: spec(ID, EMAIL), False, True),
    "type widened int to bigint": (lambda: spec(ID), lambda: spec(col("id", "bigint")), True, False),
    "type widened varchar(10) to varchar(50)": (
        lambda: spec(col("code", "varchar(10)")),
        lambda: spec(col("code", "varchar(50)")),
        True,
        False,
    ),
    "type widened date to timestamp": (
        lambda: spec(col("ordered_at", "date")),
        lambda: spec(col("ordered_at", "timestamp")),
        True,
        False,
    ),
    "type narrowed bigint to int": (lambda: spec(col("id", "bigint")), lambda: spec(ID), False, True),
    "type narrowed decimal(14,2) to decimal(12,2)": (
        lambda: spec(col("amount", "decimal(14,2)")),
        lambda: spec(col("amount", "numeric(12,2)")),
        False,
        True,
    ),
    "type changed to unrelated int to varchar": (
        lambda: spec(ID),
        lambda: spec(col("id", "varchar")),
        True,
        True,
    ),
    "type changed to unknown": (lambda: spec(ID), lambda: spec(col("id", "mystery_type")), True, True),
    "guarantee loosened: not_null dropped": (
        lambda: spec(ID, guarantees=[not_null("id")]),
        lambda: spec(ID),
        True,
        False,
    ),
    "guarantee loosened: unique dropped": (
        lambda: spec(ID, guarantees=[unique("id")]),
        lambda: spec(ID),
        True,
        False,
    ),
    "guarantee loosened: accepted value added": (
        lambda: spec(EMAIL, guarantees=[accepted("email", "a", "b")]),
        lambda: spec(EMAIL, guarantees=[accepted("email", "a", "b", "c")]),
        True,
        False,
    ),
    "guarantee loosened: range widened": (
        lambda: spec(ID, guarantees=[in_range("id", 0, 100)]),
        lambda: spec(ID, guarantees=[in_range("id", 0, 1000)]),
        True,
        False,
    ),
    "guarantee loosened: relationship dropped": (
        lambda: spec(ID, guarantees=[references("id")]),
        lambda: spec(ID),
        True,
        False,
    ),
    "guarantee tightened: not_null added": (
        lambda: spec(ID),
        lambda: spec(ID, guarantees=[not_null("id")]),
        False,
        True,
    ),
    "guarantee tightened: unique added": (
        lambda: spec(ID),
        lambda: spec(ID, guarantees=[unique("id")]),
        False,
        True,
    ),
    "guarantee tightened: accepted value removed": (
        lambda: spec(EMAIL, guarantees=[accepted("email", "a", "b", "c")]),
        lambda: spec(EMAIL, guarantees=[accepted("email", "a", "b")]),
        False,
        True,
    ),
    "guarantee tightened: range narrowed": (
        lambda: spec(ID, guarantees=[in_range("id", 0, 1000)]),
        lambda: spec(ID, guarantees=[in_range("id", 10, 1000)]),
        False,
        True,
    ),
    "guarantee tightened: relationship added": (
        lambda: spec(ID),
        lambda: spec(ID, guarantees=[references("id")]),
        False,
        True,
    ),
    "description changed": (
        lambda: spec(col("id", description="old words")),
        lambda: spec(col("id", description="new words")),
        False,
        False,
    ),
    "column order changed": (lambda: spec(ID, EMAIL), lambda: spec(EMAIL, ID), False, False),
}


def expected_breaking(mode: str, backward: bool, forward: bool) -> bool:
    base = mode.removesuffix("_transitive")
    return {"backward": backward, "forward": forward, "full": backward or forward, "none": False}[base]


@pytest.mark.parametrize("mode", COMPATIBILITY_MODES)
@pytest.mark.parametrize("row", list(TABLE), ids=list(TABLE))
def test_spec_table_row_under_every_mode(row: str, mode: str) -> None:
    make_old, make_new, backward, forward = TABLE[row]
    verdict = evaluate(old=make_old(), new=make_new(), mode=mode)

    assert verdict.breaking is expected_breaking(mode, backward, forward)
    assert verdict.changes, "every row is a change that must be listed, even when it breaks nothing"
    assert verdict.mode == mode
    if verdict.breaking:
        assert verdict.bump == "major"
        assert verdict.breaking_changes
        assert all(
            f"Breaking under {mode}" in reason for reason in verdict.reasons[: len(verdict.breaking_changes)]
        )
    else:
        assert verdict.breaking_changes == []
        assert verdict.bump in {"minor", "patch"}


@pytest.mark.parametrize("row", list(TABLE), ids=list(TABLE))
def test_each_change_carries_both_directions_as_in_the_spec_table(row: str) -> None:
    make_old, make_new, backward, forward = TABLE[row]
    verdict = evaluate(old=make_old(), new=make_new(), mode="none")
    assert any(c.backward_breaking for c in verdict.changes) is backward
    assert any(c.forward_breaking for c in verdict.changes) is forward


def test_removed_column_reason_names_the_column_and_the_rule() -> None:
    verdict = evaluate(old=spec(ID, EMAIL), new=spec(ID), mode="backward")
    assert verdict.reasons == [
        "Column email (varchar(50)) was removed. Breaking under backward "
        "(backward: existing consumers' queries that select it fail)."
    ]


def test_type_change_reason_names_old_and_new_type() -> None:
    verdict = evaluate(old=spec(ID), new=spec(col("id", "varchar")), mode="full")
    (reason,) = verdict.reasons
    assert "Column id type changed from integer to the unrelated type varchar" in reason
    assert "backward:" in reason and "forward:" in reason


def test_mode_none_lists_changes_but_never_breaks() -> None:
    verdict = evaluate(old=spec(ID, EMAIL), new=spec(col("id", "varchar")), mode="none")
    assert verdict.breaking is False
    assert {c.kind for c in verdict.changes} == {"column_removed", "type_changed"}
    assert verdict.bump == "minor"
    assert len(verdict.reasons) == 2


def test_unknown_type_is_reported_and_breaking_under_every_checking_mode() -> None:
    for mode in COMPATIBILITY_MODES:
        verdict = evaluate(old=spec(ID), new=spec(col("id", "geometry_custom(4326)")), mode=mode)
        assert verdict.unknown, mode
        assert "cannot be compared" in verdict.unknown[0]
        assert verdict.breaking is (mode != "none")


def test_unchanged_unrecognised_type_does_not_break_when_another_column_changes() -> None:
    old = spec(col("shape", "mystery"), ID)
    new = spec(col("shape", "mystery"), ID, EMAIL)
    verdict = evaluate(old=old, new=new, mode="backward")
    assert verdict.breaking is False
    assert [c.kind for c in verdict.changes] == ["column_added"]
    assert verdict.unknown == ["Column shape has type 'mystery', which is not recognised."]


def test_first_version_is_initial_and_reports_unknown_types() -> None:
    verdict = evaluate(old=None, new=spec(ID, col("blob", "weird")), mode="full")
    assert verdict.bump == "initial"
    assert verdict.breaking is False
    assert verdict.unknown == ["Column blob has type 'weird', which is not recognised."]


def test_identical_contract_is_no_change() -> None:
    verdict = evaluate(old=spec(ID, EMAIL), new=spec(ID, EMAIL), mode="full_transitive")
    assert verdict.bump is None
    assert verdict.changes == []
    assert verdict.breaking is False
    assert verdict.summary == "No change."


def test_alias_spelling_is_only_a_respelling_patch() -> None:
    verdict = evaluate(old=spec(col("id", "INT4")), new=spec(col("id", "integer")), mode="full")
    assert [c.kind for c in verdict.changes] == ["type_respelled"]
    assert not verdict.breaking
    assert verdict.bump == "patch"
    assert "now written integer (was INT4)" in verdict.reasons[0]


@pytest.mark.parametrize(
    ("old", "new", "mode", "bump"),
    [
        (spec(ID, EMAIL), spec(ID), "backward", "major"),
        (spec(ID), spec(ID, EMAIL), "backward", "minor"),
        (spec(ID), spec(col("id", "bigint")), "forward", "minor"),
        (spec(ID, EMAIL), spec(ID), "forward", "minor"),
        (spec(ID), spec(ID, EMAIL), "full", "major"),
        (spec(ID), spec(ID, guarantees=[not_null("id")]), "backward", "patch"),
        (spec(ID, guarantees=[not_null("id")]), spec(ID), "forward", "patch"),
        (spec(ID, guarantees=[not_null("id")]), spec(ID), "backward", "major"),
        (spec(col("id", description="a")), spec(col("id", description="b")), "full", "patch"),
        (spec(ID, EMAIL), spec(EMAIL, ID), "full", "patch"),
        (spec(ID, mode="backward"), spec(ID, mode="full"), "backward", "patch"),
        (spec(ID, EMAIL), spec(ID), "none", "minor"),
        (spec(ID), spec(ID), "full", None),
    ],
)
def test_semver_bump(old: ContractSpec, new: ContractSpec, mode: str, bump: str | None) -> None:
    assert evaluate(old=old, new=new, mode=mode).bump == bump


@pytest.mark.parametrize(
    ("current", "bump", "expected"),
    [
        (None, "initial", (1, 0, 0)),
        (None, "major", (1, 0, 0)),
        ((1, 2, 3), "major", (2, 0, 0)),
        ((1, 2, 3), "minor", (1, 3, 0)),
        ((1, 2, 3), "patch", (1, 2, 4)),
        ((1, 2, 3), None, (1, 2, 3)),
    ],
)
def test_bump_version(
    current: tuple[int, int, int] | None, bump: str | None, expected: tuple[int, int, int]
) -> None:
    assert bump_version(current, bump) == expected


def test_version_strings_round_trip_and_reject_garbage() -> None:
    assert format_version(parse_version("2.10.0")) == "2.10.0"
    for bad in ("1.2", "v1.2.3", "1.2.x", "", "1.².0", "1.2.٣", "1.2.1234567890", "1.2." + "9" * 5000):
        with pytest.raises(ValueError):
            parse_version(bad)


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown compatibility mode"):
        evaluate(old=spec(ID), new=spec(ID), mode="sideways")


def test_verdict_as_dict_is_json_serialisable() -> None:
    old = spec(ID, EMAIL, guarantees=[in_range("id", 0, 10), accepted("email", "a")])
    new = spec(col("id", "bigint"), guarantees=[in_range("id", 0, 20)])
    payload = evaluate(old=old, new=new, mode="full").as_dict()
    decoded = json.loads(json.dumps(payload))
    assert decoded["breaking"] is True
    assert decoded["bump"] == "major"
    assert {c["kind"] for c in decoded["changes"]} >= {"column_removed", "type_widened", "guarantee_loosened"}


# Transitive modes: v1 → v2 was a breaking change that was accepted (approved proposal), v3 is
# compatible with v2 but not with v1. Only the transitive mode sees v1.
TRANSITIVE_SEQUENCES = {
    "backward": (
        spec(ID, EMAIL, col("name", "varchar")),
        spec(ID, col("name", "varchar")),  # email dropped: breaking, published as 2.0.0 after approval
        spec(ID, col("name", "varchar"), col("phone", "varchar")),  # an added column: fine against v2
        "email",
    ),
    "forward": (
        spec(ID, col("amount", "decimal(12,2)")),
        spec(ID, col("amount", "decimal(12,2)"), EMAIL),  # email added: breaking forward, accepted
        spec(ID, col("amount", "decimal(14,2)"), EMAIL),  # widened: fine forward against v2
        "email",
    ),
    "full": (
        spec(EMAIL, guarantees=[accepted("email", "a", "b", "c")]),
        spec(EMAIL, guarantees=[accepted("email", "a", "b")]),  # tightened: breaking, accepted
        spec(col("email", "varchar(50)", description="documented"), guarantees=[accepted("email", "a", "b")]),
        "email",
    ),
}


@pytest.mark.parametrize("base", list(TRANSITIVE_SEQUENCES))
def test_transitive_mode_checks_every_earlier_version(base: str) -> None:
    v1, v2, v3, column = TRANSITIVE_SEQUENCES[base]

    plain = evaluate(old=v2, new=v3, mode=base, history=[("1.0.0", v1)])
    assert plain.breaking is False, plain.reasons
    assert plain.checked_against == 1

    transitive = evaluate(old=v2, new=v3, mode=f"{base}_transitive", history=[("1.0.0", v1)])
    assert transitive.breaking is True
    assert transitive.bump == "major"
    assert transitive.checked_against == 2
    (change,) = transitive.breaking_changes
    assert change.against == "version 1.0.0"
    assert change.column == column
    assert transitive.reasons[0].startswith("Against version 1.0.0: ")
    assert column in transitive.reasons[0]


def test_transitive_history_of_plain_specs_is_labelled_by_position() -> None:
    v1, v2, v3, _ = TRANSITIVE_SEQUENCES["backward"]
    verdict = evaluate(old=v2, new=v3, mode="backward_transitive", history=[v1])
    assert verdict.breaking_changes[0].against == "earlier version #1 of 1"


def test_transitive_does_not_repeat_a_change_already_found_against_the_active_version() -> None:
    v1 = spec(ID, EMAIL)
    v2 = spec(ID, EMAIL, col("name", "varchar"))
    v3 = spec(ID)
    verdict = evaluate(old=v2, new=v3, mode="backward_transitive", history=[v1])
    assert sorted(c.column for c in verdict.breaking_changes) == ["email", "name"]
    assert all(c.against is None for c in verdict.breaking_changes)


def test_transitive_v3_compatible_with_every_version_is_not_breaking() -> None:
    v1 = spec(ID)
    v2 = spec(ID, EMAIL)
    v3 = spec(ID, EMAIL, col("name", "varchar"))
    verdict = evaluate(old=v2, new=v3, mode="backward_transitive", history=[v1])
    assert verdict.breaking is False
    assert verdict.bump == "minor"
