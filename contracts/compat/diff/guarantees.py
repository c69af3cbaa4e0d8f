"""What a guarantee promises, whatever makes it: its identity across versions
(:func:`guarantee_key`), its label in reasons (:func:`describe_guarantee`), and one guarantee per
meaning (:func:`keyed_by_meaning`).

A guarantee is (kind, columns, arguments): a data test, a column constraint or a model constraint
making the same promise is one guarantee. ``unique`` over one column and
``unique_combination_of_columns`` over that one column are the same promise; dbt_utils' and
dbt-expectations' namespaced spellings are compared by what they promise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import orjson

from contracts.domain import GuaranteeSpec

# dbt_utils / dbt-expectations spell some guarantees with a namespace; the engine compares
# them by what they promise.
_KIND_ALIASES = {
    "dbt_utils.accepted_range": "accepted_range",
    "dbt_utils.unique_combination_of_columns": "unique_combination_of_columns",
    "dbt_utils.expression_is_true": "expression",
    "expression_is_true": "expression",
}

SEVERITY_RANK = {"warn": 0, "error": 1}


@lru_cache(maxsize=4096)
def canonical_kind(kind: str) -> str:
    kind = (kind or "").strip().lower()
    return _KIND_ALIASES.get(kind, kind)


def guarantee_key(g: GuaranteeSpec) -> str:
    """The identity of a guarantee across versions.

    Guarantees whose arguments can loosen or tighten (accepted_values, accepted_range,
    freshness) are keyed without those arguments so a change is compared, not seen as a drop
    plus an add. Other guarantees are keyed with their arguments: changing them is a drop plus
    an add, which breaks both directions.
    """
    kind = canonical_kind(g.kind)
    column = (g.column or "").lower()
    if kind == "unique_combination_of_columns" and len(_combination(g)) == 1:
        # Unique over one column is the unique test, whichever spelling (or constraint) says it.
        kind, column = "unique", _combination(g)[0]
    if kind in {"not_null", "unique", "accepted_values", "accepted_range"}:
        return f"{kind}:{column}"
    if kind == "relationships":
        # ref('x') and ref("x") name the same model.
        to = str(g.arguments.get("to", "")).replace(" ", "").replace('"', "'").lower()
        return f"relationships:{column}->{to}.{str(g.arguments.get('field', '')).lower()}"
    if kind == "unique_combination_of_columns":
        return f"unique_combination_of_columns:{','.join(_combination(g))}"
    if kind == "freshness":
        return f"freshness:{column}"
    if kind == "singular":
        return f"singular:{g.name or g.test_unique_id or ''}"
    if kind == "expression":
        return f"expression:{column}:{g.arguments.get('expression', '')}"
    # A row filter makes the same promise weaker, not another promise: compared, not keyed.
    arguments = {k: v for k, v in g.arguments.items() if k not in {"column_name", "model", "where"}}
    return f"{kind}:{column}:{_json(arguments)}"


def describe_guarantee(g: GuaranteeSpec) -> str:
    kind = canonical_kind(g.kind)
    on = f" on {g.column}" if g.column else ""
    if kind == "accepted_values":
        return f"accepted_values{on} ({values_text(g.arguments.get('values') or [])})"
    if kind == "accepted_range":
        return f"accepted_range{on} {range_text(g)}"
    if kind == "relationships":
        return f"relationships{on} → {g.arguments.get('to', '?')}.{g.arguments.get('field', '?')}"
    if kind == "unique_combination_of_columns":
        return f"unique_combination_of_columns ({', '.join(_combination(g))})"
    if kind == "singular":
        return f"singular test {g.name or g.test_unique_id}"
    if kind == "expression":
        return f"expression{on} ({g.arguments.get('expression', '')})"
    return f"{kind}{on}"


def values_text(values: Iterable[Any]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


def range_text(g: GuaranteeSpec) -> str:
    inclusive = g.arguments.get("inclusive", True) is not False
    low, high = g.arguments.get("min_value"), g.arguments.get("max_value")
    left = "(-∞" if low is None else f"{'[' if inclusive else '('}{low}"
    right = "+∞)" if high is None else f"{high}{']' if inclusive else ')'}"
    return f"{left}, {right}"


def comparable_arguments(kind: str, g: GuaranteeSpec) -> str:
    arguments = {k: v for k, v in g.arguments.items() if k != "where"}
    if canonical_kind(g.kind) == "unique_combination_of_columns" and len(_combination(g)) == 1:
        kind = "unique"  # keyed as the unique test on that column: compare it as one
        arguments.pop("combination_of_columns", None)
        arguments.pop("columns", None)
    if kind == "relationships":
        # Already compared through the key (where quoting and case are normalised).
        arguments.pop("to", None)
        arguments.pop("field", None)
    elif kind == "unique_combination_of_columns" and canonical_kind(g.kind) == kind:
        # The order the columns are listed in promises nothing.
        arguments.pop("combination_of_columns", None)
        arguments.pop("columns", None)
        arguments["columns"] = _combination(g)
    return _json(arguments)


def _strength(g: GuaranteeSpec) -> tuple[int, int]:
    """Orders the same promise made several ways: unfiltered beats filtered, error beats warn."""
    return (0 if g.arguments.get("where") else 1, SEVERITY_RANK.get(g.severity, 1))


def keyed_by_meaning(guarantees: Sequence[GuaranteeSpec]) -> dict[str, GuaranteeSpec]:
    """One guarantee per meaning: the same promise made by a test and a constraint (or twice)
    is one promise, the strongest of them; the same kind with other arguments stays apart."""
    keyed: dict[str, GuaranteeSpec] = {}
    for g in guarantees:
        key = guarantee_key(g)
        kind = canonical_kind(g.kind)
        n = 2
        unique = key
        while unique in keyed and keyed[unique] != g:
            held = keyed[unique]
            if comparable_arguments(kind, held) == comparable_arguments(kind, g):
                stronger = _strength(g) > _strength(held)
                if stronger or (_strength(g) == _strength(held) and g.mechanism == "test"):
                    keyed[unique] = g  # a test is kept over an equal constraint: results name tests
                break
            unique = f"{key}#{n}"
            n += 1
        else:
            keyed[unique] = g
    return keyed


def uniqueness_columns(g: GuaranteeSpec) -> frozenset[str] | None:
    """The column set a uniqueness guarantee is over (unique test, combination, key constraint)."""
    kind = canonical_kind(g.kind)
    if kind == "unique" and g.column:
        return frozenset({g.column.lower()})
    if kind == "unique_combination_of_columns":
        return frozenset(_combination(g))
    return None


def _combination(g: GuaranteeSpec) -> list[str]:
    columns = g.arguments.get("combination_of_columns") or g.arguments.get("columns") or []
    return sorted(str(c).lower() for c in columns)


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()
