"""Diff two contract specs into a list of :class:`Change`, each judged in both directions.

``backward_breaking``: existing (old) consumers cannot read data of the new contract.
``forward_breaking``: new consumers cannot read data written under the old contract
(history, backfills). The verdict module decides what breaks under a given mode; this
module only says, per change, which direction it breaks (SPEC §5):

====================================================  ========  =======
change                                                backward  forward
====================================================  ========  =======
column removed (a rename is a remove plus an add)     breaking  ok
column added                                          ok        breaking
type widened (int→bigint, varchar(10)→varchar(50))    breaking  ok
type narrowed                                         ok        breaking
type changed to an unrelated type                     breaking  breaking
type unknown (not recognised, cannot be compared)     breaking  breaking
guarantee loosened (dropped, value added, widened)    breaking  ok
guarantee tightened (added, value removed, narrowed)  ok        breaking
guarantee changed both ways                           breaking  breaking
description, column order, mode                       ok        ok
====================================================  ========  =======

Nullability follows ``not_null``: when a column's nullability moves together with a
``not_null`` guarantee on it, only the guarantee is reported. Likewise the guarantees of a
removed (or added) column go (or come) with it: they are named in the column change's reason
rather than listed as separate changes, which could only repeat the same direction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import orjson

from contracts.compat.types.widening import type_deltas
from contracts.domain import ColumnSpec, ContractSpec, GuaranteeSpec

SCHEMA_KINDS = frozenset(
    {
        "column_removed", "column_added", "field_removed", "field_added", "type_widened", "type_narrowed",
        "type_changed", "type_unknown", "relation_removed", "relation_moved",
    }
)  # fmt: skip
GUARANTEE_KINDS = frozenset(
    {"guarantee_loosened", "guarantee_tightened", "guarantee_changed", "nullability_changed"}
)
METADATA_KINDS = frozenset(
    {
        "description_changed", "column_order_changed", "mode_changed", "type_declared", "type_undeclared",
        "type_respelled", "guarantee_mechanism_changed",
    }
)  # fmt: skip

# dbt_utils / dbt-expectations spell some guarantees with a namespace; the engine compares
# them by what they promise.
_KIND_ALIASES = {
    "dbt_utils.accepted_range": "accepted_range",
    "dbt_utils.unique_combination_of_columns": "unique_combination_of_columns",
    "dbt_utils.expression_is_true": "expression",
    "expression_is_true": "expression",
}

_SEVERITY_RANK = {"warn": 0, "error": 1}
_MECHANISMS = {"test": "a data test", "constraint": "a constraint of the enforced contract"}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two contracts, judged in both compatibility directions."""

    kind: str
    column: str | None
    guarantee: str | None  # guarantee_key() of the guarantee concerned, None for column changes
    old: Any
    new: Any
    backward_breaking: bool
    forward_breaking: bool
    reason: str
    against: str | None = None  # set by transitive checks: which earlier version this was found against

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def is_schema_change(self) -> bool:
        return self.kind in SCHEMA_KINDS

    def breaks(self, direction: str) -> bool:
        if direction == "backward":
            return self.backward_breaking
        if direction == "forward":
            return self.forward_breaking
        raise ValueError(f"unknown direction {direction!r}")


@lru_cache(maxsize=4096)
def canonical_kind(kind: str) -> str:
    kind = (kind or "").strip().lower()
    return _KIND_ALIASES.get(kind, kind)


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


def _combination(g: GuaranteeSpec) -> list[str]:
    columns = g.arguments.get("combination_of_columns") or g.arguments.get("columns") or []
    return sorted(str(c).lower() for c in columns)


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


def _describe_guarantee(g: GuaranteeSpec) -> str:
    kind = canonical_kind(g.kind)
    on = f" on {g.column}" if g.column else ""
    if kind == "accepted_values":
        return f"accepted_values{on} ({_values_text(g.arguments.get('values') or [])})"
    if kind == "accepted_range":
        return f"accepted_range{on} {_range_text(g)}"
    if kind == "relationships":
        return f"relationships{on} → {g.arguments.get('to', '?')}.{g.arguments.get('field', '?')}"
    if kind == "unique_combination_of_columns":
        return f"unique_combination_of_columns ({', '.join(_combination(g))})"
    if kind == "singular":
        return f"singular test {g.name or g.test_unique_id}"
    if kind == "expression":
        return f"expression{on} ({g.arguments.get('expression', '')})"
    return f"{kind}{on}"


def _values_text(values: Iterable[Any]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


def _range_text(g: GuaranteeSpec) -> str:
    inclusive = g.arguments.get("inclusive", True) is not False
    low, high = g.arguments.get("min_value"), g.arguments.get("max_value")
    left = "(-∞" if low is None else f"{'[' if inclusive else '('}{low}"
    right = "+∞)" if high is None else f"{high}{']' if inclusive else ')'}"
    return f"{left}, {right}"


def _change(
    kind: str,
    *,
    column: str | None = None,
    guarantee: str | None = None,
    old: Any = None,
    new: Any = None,
    backward: bool,
    forward: bool,
    reason: str,
) -> Change:
    return Change(
        kind=kind,
        column=column,
        guarantee=guarantee,
        old=old,
        new=new,
        backward_breaking=backward,
        forward_breaking=forward,
        reason=reason,
    )


def _type_text(raw: str) -> str:
    """A type as the warehouse wrote it (reasons show raw types, not our canonical names)."""
    return raw.strip() if raw and raw.strip() else "no declared type"


# How a part of a column's type moved (type_deltas) -> the change: its kind, whether it breaks
# backward and forward, and the reason (a format string of the column/field path and both types).
_TYPE_CHANGES = {
    "wider": ("type_widened", True, False, "Column {name} type widened from {old} to {new}."),
    "narrower": ("type_narrowed", False, True, "Column {name} type narrowed from {old} to {new}."),
    "unrelated": (
        "type_changed",
        True,
        True,
        "Column {name} type changed from {old} to the unrelated type {new}.",
    ),
    "unknown": (
        "type_unknown",
        True,
        True,
        "Column {name} type changed from {old} to {new}, which cannot be compared "
        "(unrecognised type); treated as breaking.",
    ),
    # Inside a struct a field is a column of its own: added and removed alike.
    "field_removed": ("field_removed", True, False, "Field {name} ({old}) was removed."),
    "field_added": ("field_added", False, True, "Field {name} ({new}) was added."),
}


def _column_changes(old: ColumnSpec, new: ColumnSpec, adapter: str) -> list[Change]:
    changes: list[Change] = []
    name = new.name
    old_raw, new_raw = old.data_type.strip(), new.data_type.strip()
    if old_raw == new_raw:
        pass  # the same spelling: the same type (the common case, so it skips the parser entirely)
    elif not old_raw and new_raw:
        # A first catalog or a first declared type: the warehouse did not change, we learnt more.
        changes.append(
            _change(
                "type_declared",
                column=name,
                old=old.data_type,
                new=new.data_type,
                backward=False,
                forward=False,
                reason=f"Column {name} is now typed: {new_raw} (no type was known before).",
            )  # fmt: skip
        )
    elif old_raw and not new_raw:
        changes.append(
            _change(
                "type_undeclared",
                column=name,
                old=old.data_type,
                new=new.data_type,
                backward=False,
                forward=False,
                reason=f"Column {name} no longer declares a type (was {old_raw}); it cannot be compared until it does.",
            )  # fmt: skip
        )
    else:
        deltas = type_deltas(old.data_type, new.data_type, adapter)
        for delta in deltas:
            kind, backward, forward, reason = _TYPE_CHANGES[delta.change]
            path = name + delta.path
            changes.append(
                _change(
                    kind,
                    column=path,
                    old=delta.old if delta.path else old.data_type,
                    new=delta.new if delta.path else new.data_type,
                    backward=backward,
                    forward=forward,
                    reason=reason.format(name=path, old=_type_text(delta.old), new=_type_text(delta.new)),
                )  # fmt: skip
            )
        if not deltas and _clean_spelling(old_raw) != _clean_spelling(new_raw):
            where = f" on {adapter}" if adapter else ""
            changes.append(
                _change(
                    "type_respelled",
                    column=name,
                    old=old.data_type,
                    new=new.data_type,
                    backward=False,
                    forward=False,
                    reason=f"Column {name} type is now written {new_raw} (was {old_raw}): the same type{where}.",
                )  # fmt: skip
            )
    if old.description != new.description:
        changes.append(
            _change(
                "description_changed",
                column=name,
                old=old.description,
                new=new.description,
                backward=False,
                forward=False,
                reason=f"Description of column {name} changed.",
            )
        )
    return changes


def _clean_spelling(raw: str) -> str:
    return " ".join(raw.lower().split())


def _bound_cmp(old: Any, new: Any) -> int | None:
    """-1 / 0 / 1 comparing two range bounds, None when they cannot be ordered."""
    if old == new:
        return 0
    try:
        a, b = Decimal(str(old)), Decimal(str(new))
    except (InvalidOperation, ValueError):
        # ISO dates and timestamps order correctly as text; anything else is not comparable.
        if (
            isinstance(old, str)
            and isinstance(new, str)
            and old[:4].isdigit()
            and new[:4].isdigit()
            and len(old) == len(new)
        ):
            return (old > new) - (old < new)
        return None
    return (a > b) - (a < b)


def _range_direction(old: GuaranteeSpec, new: GuaranteeSpec) -> str:
    """'same' | 'looser' | 'tighter' | 'changed' for two accepted_range guarantees."""
    old_inc = old.arguments.get("inclusive", True) is not False
    new_inc = new.arguments.get("inclusive", True) is not False
    directions = set()
    for bound, sign in (("min_value", -1), ("max_value", 1)):
        a, b = old.arguments.get(bound), new.arguments.get(bound)
        if a is None and b is None:
            continue
        if b is None:
            directions.add("looser")
            continue
        if a is None:
            directions.add("tighter")
            continue
        order = _bound_cmp(a, b)
        if order is None:
            directions.add("changed")
        elif order == 0:
            if old_inc != new_inc:
                directions.add("looser" if new_inc else "tighter")
        else:
            # For the upper bound a larger new value is looser; for the lower bound a smaller one.
            directions.add("looser" if (order < 0) == (sign > 0) else "tighter")
    directions.discard("same")
    if not directions:
        return "same"
    if len(directions) == 1:
        return directions.pop()
    return "changed"


def _freshness_seconds(arguments: dict[str, Any], level: str) -> float | None:
    spec = arguments.get(level) or {}
    count, period = spec.get("count"), spec.get("period")
    if count is None or period is None:
        return None
    scale = {"minute": 60, "hour": 3600, "day": 86400}.get(str(period).rstrip("s"))
    return None if scale is None else float(count) * scale


def _guarantee_pair_changes(key: str, old: GuaranteeSpec, new: GuaranteeSpec) -> list[Change]:
    if (old.kind, old.column, old.severity, old.mechanism, old.arguments) == (
        new.kind,
        new.column,
        new.severity,
        new.mechanism,
        new.arguments,
    ):
        return []  # the same promise (only its test's id or name may differ): nothing to compare
    kind = canonical_kind(new.kind)
    column = new.column
    label = _describe_guarantee(new)
    changes: list[Change] = []

    def record(kind: str, *, backward: bool, forward: bool) -> Callable[[str], None]:
        def add(reason: str) -> None:
            changes.append(
                _change(
                    kind,
                    column=column,
                    guarantee=key,
                    old=old.as_dict(),
                    new=new.as_dict(),
                    backward=backward,
                    forward=forward,
                    reason=reason,
                )
            )

        return add

    loosened = record("guarantee_loosened", backward=True, forward=False)
    tightened = record("guarantee_tightened", backward=False, forward=True)
    changed = record("guarantee_changed", backward=True, forward=True)

    on = f" on {column}" if column else ""
    old_where, new_where = old.arguments.get("where"), new.arguments.get("where")
    if old_where != new_where:
        # A filtered test promises less than an unfiltered one.
        if old_where is None:
            loosened(f"{label} now only checks rows where {new_where} (loosened).")
        elif new_where is None:
            tightened(f"{label} now checks every row, not only where {old_where} (tightened).")
        else:
            changed(f"{label} changed its row filter from {old_where} to {new_where}.")
    if kind == "accepted_values":
        old_values = list(old.arguments.get("values") or [])
        new_values = list(new.arguments.get("values") or [])
        added = [v for v in new_values if v not in old_values]
        removed = [v for v in old_values if v not in new_values]
        if added and removed:
            changed(
                f"accepted_values{on} now allows {_values_text(added)} and no longer allows "
                f"{_values_text(removed)}."
            )
        elif added:
            loosened(f"accepted_values{on} now also allows {_values_text(added)} (loosened).")
        elif removed:
            tightened(f"accepted_values{on} no longer allows {_values_text(removed)} (tightened).")
        elif old.arguments.get("quote", True) != new.arguments.get("quote", True):
            changed(f"accepted_values{on} changed how its values are quoted.")
    elif kind == "accepted_range":
        direction = _range_direction(old, new)
        text = f"accepted_range{on} changed from {_range_text(old)} to {_range_text(new)}"
        if direction == "looser":
            loosened(f"{text} (widened).")
        elif direction == "tighter":
            tightened(f"{text} (narrowed).")
        elif direction == "changed":
            changed(f"{text}; the bounds moved in both directions or cannot be compared.")
    elif kind == "freshness":
        directions = set()
        for level in ("warn_after", "error_after"):
            a, b = _freshness_seconds(old.arguments, level), _freshness_seconds(new.arguments, level)
            if a == b:
                continue
            if a is None or b is None:
                directions.add("looser" if b is None else "tighter")
            else:
                directions.add("looser" if b > a else "tighter")
        if old.arguments != new.arguments and not directions:
            directions.add("changed")
        text = f"freshness{on} thresholds changed"
        if directions == {"looser"}:
            loosened(f"{text}: data may now be older (loosened).")
        elif directions == {"tighter"}:
            tightened(f"{text}: data must now be fresher (tightened).")
        elif directions:
            changed(f"{text} in both directions.")
    elif _comparable_arguments(kind, old) != _comparable_arguments(kind, new):
        changed(f"{label} changed its arguments.")

    if old.mechanism != new.mechanism:
        was, now = (
            _MECHANISMS.get(old.mechanism, old.mechanism),
            _MECHANISMS.get(new.mechanism, new.mechanism),
        )
        changes.append(
            _change(
                "guarantee_mechanism_changed",
                column=column,
                guarantee=key,
                old=old.as_dict(),
                new=new.as_dict(),
                backward=False,
                forward=False,
                reason=f"{label} is now made by {now} (was {was}): the same promise.",
            )  # fmt: skip
        )
    old_rank = _SEVERITY_RANK.get(old.severity, 1)
    new_rank = _SEVERITY_RANK.get(new.severity, 1)
    if new_rank < old_rank:
        loosened(f"{label} was downgraded from severity {old.severity} to {new.severity} (loosened).")
    elif new_rank > old_rank:
        tightened(f"{label} was upgraded from severity {old.severity} to {new.severity} (tightened).")
    return changes


def _comparable_arguments(kind: str, g: GuaranteeSpec) -> str:
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
    return (0 if g.arguments.get("where") else 1, _SEVERITY_RANK.get(g.severity, 1))


def _keyed(guarantees: Sequence[GuaranteeSpec]) -> dict[str, GuaranteeSpec]:
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
            if _comparable_arguments(kind, held) == _comparable_arguments(kind, g):
                stronger = _strength(g) > _strength(held)
                if stronger or (_strength(g) == _strength(held) and g.mechanism == "test"):
                    keyed[unique] = g  # a test is kept over an equal constraint: results name tests
                break
            unique = f"{key}#{n}"
            n += 1
        else:
            keyed[unique] = g
    return keyed


def _uniqueness(g: GuaranteeSpec) -> frozenset[str] | None:
    """The column set a uniqueness guarantee is over (unique test, combination, key constraint)."""
    kind = canonical_kind(g.kind)
    if kind == "unique" and g.column:
        return frozenset({g.column.lower()})
    if kind == "unique_combination_of_columns":
        return frozenset(_combination(g))
    return None


def _uniqueness_changes(dropped: dict[str, GuaranteeSpec], added: dict[str, GuaranteeSpec]) -> list[Change]:
    """Pair a dropped uniqueness with an added one over a superset (looser: more columns promise
    less) or a subset (tighter). Paired keys leave ``dropped``/``added``; the rest stay drops/adds."""
    changes: list[Change] = []
    for old_key, old_g in list(dropped.items()):
        old_set = _uniqueness(old_g)
        if old_set is None or old_g.arguments.get("where"):
            continue
        for new_key, new_g in list(added.items()):
            new_set = _uniqueness(new_g)
            if (
                new_set is None
                or new_g.arguments.get("where")
                or not (new_set > old_set or new_set < old_set)
            ):
                continue
            looser = new_set > old_set
            text = (
                f"Uniqueness over ({', '.join(sorted(old_set))}) is now over ({', '.join(sorted(new_set))})"
                + (
                    ": more columns, a weaker promise (loosened)."
                    if looser
                    else ": fewer columns, a stronger promise (tightened)."
                )
            )
            changes.append(
                _change(
                    "guarantee_loosened" if looser else "guarantee_tightened",
                    column=new_g.column,
                    guarantee=new_key,
                    old=old_g.as_dict(),
                    new=new_g.as_dict(),
                    backward=looser,
                    forward=not looser,
                    reason=text,
                )  # fmt: skip
            )
            del dropped[old_key], added[new_key]
            break
    return changes


def _guarantee_changes(old: ContractSpec, new: ContractSpec) -> list[Change]:
    old_keyed, new_keyed = _keyed(old.guarantees), _keyed(new.guarantees)
    dropped = {k: g for k, g in old_keyed.items() if k not in new_keyed}
    added = {k: g for k, g in new_keyed.items() if k not in old_keyed}
    changes = _uniqueness_changes(dropped, added)
    for key, g in dropped.items():
        changes.append(
            _change(
                "guarantee_loosened",
                column=g.column,
                guarantee=key,
                old=g.as_dict(),
                new=None,
                backward=True,
                forward=False,
                reason=f"Guarantee {_describe_guarantee(g)} was dropped (loosened).{_mechanism_note(g, new)}",
            )  # fmt: skip
        )
    for key, g in new_keyed.items():
        if key in added:
            changes.append(
                _change(
                    "guarantee_tightened",
                    column=g.column,
                    guarantee=key,
                    old=None,
                    new=g.as_dict(),
                    backward=False,
                    forward=True,
                    reason=f"Guarantee {_describe_guarantee(g)} was added (tightened).",
                )  # fmt: skip
            )
        elif key in old_keyed:
            changes.extend(_guarantee_pair_changes(key, old_keyed[key], g))
    return changes


def _mechanism_note(g: GuaranteeSpec, new: ContractSpec) -> str:
    """Why a constraint's promise went: usually the contract is no longer enforced (the parser's note)."""
    if g.mechanism != "constraint" or not new.notes:
        return ""
    return " " + " ".join(new.notes)


def diff_contracts(old: ContractSpec, new: ContractSpec) -> list[Change]:
    """Every difference between ``old`` and ``new``, in a stable order: columns (old order,
    then added ones), column order, guarantees, mode."""
    changes: list[Change] = []
    adapter = new.adapter or old.adapter
    old_cols = {c.name.lower(): c for c in old.columns}
    new_cols = {c.name.lower(): c for c in new.columns}
    removed = {n for n in old_cols if n not in new_cols}
    added = {n for n in new_cols if n not in old_cols}

    # A removed column takes its guarantees with it, and an added one brings its own: those are
    # part of the column change (same direction), so they are named in its reason, not listed twice.
    guarantee_changes: list[Change] = []
    folded: dict[str, list[str]] = {}
    for change in _guarantee_changes(old, new):
        column = (change.column or "").lower()
        gone_with_column = column in removed and change.new is None
        came_with_column = column in added and change.old is None
        if gone_with_column or came_with_column:
            folded.setdefault(column, []).append(canonical_kind((change.old or change.new)["kind"]))
        else:
            guarantee_changes.append(change)

    def with_guarantees(name: str) -> str:
        kinds = folded.get(name)
        if not kinds:
            return ""
        return f", with its guarantee{'s' if len(kinds) > 1 else ''} {', '.join(kinds)}"

    for name, col in old_cols.items():
        if name in removed:
            changes.append(
                _change(
                    "column_removed",
                    column=col.name,
                    old=col.as_dict(),
                    new=None,
                    backward=True,
                    forward=False,
                    reason=f"Column {col.name} ({_type_text(col.data_type)}) was removed{with_guarantees(name)}.",
                )
            )
        else:
            changes.extend(_column_changes(col, new_cols[name], adapter))
    for name, col in new_cols.items():
        if name in added:
            changes.append(
                _change(
                    "column_added",
                    column=col.name,
                    old=None,
                    new=col.as_dict(),
                    backward=False,
                    forward=True,
                    reason=f"Column {col.name} ({_type_text(col.data_type)}) was added{with_guarantees(name)}.",
                )
            )

    common_old = [n for n in old_cols if n in new_cols]
    common_new = [n for n in new_cols if n in old_cols]
    if common_old != common_new:
        changes.append(
            _change(
                "column_order_changed",
                old=common_old,
                new=common_new,
                backward=False,
                forward=False,
                reason=f"Column order changed from ({', '.join(common_old)}) to ({', '.join(common_new)}).",
            )
        )

    not_null_moved = {
        (c.column or "").lower()
        for c in guarantee_changes
        if c.guarantee and c.guarantee.startswith("not_null:")
    }
    for name, col in old_cols.items():
        other = new_cols.get(name)
        if other is None or other.nullable == col.nullable or name in not_null_moved:
            continue
        if other.nullable:
            changes.append(
                _change(
                    "nullability_changed",
                    column=other.name,
                    old=False,
                    new=True,
                    backward=True,
                    forward=False,
                    reason=f"Column {other.name} may now contain nulls (was NOT NULL; loosened).",
                )
            )
        else:
            changes.append(
                _change(
                    "nullability_changed",
                    column=other.name,
                    old=True,
                    new=False,
                    backward=False,
                    forward=True,
                    reason=f"Column {other.name} is now NOT NULL (tightened).",
                )
            )
    changes.extend(guarantee_changes)

    if old.mode != new.mode:
        changes.append(
            _change(
                "mode_changed",
                old=old.mode,
                new=new.mode,
                backward=False,
                forward=False,
                reason=f"Compatibility mode changed from {old.mode} to {new.mode}.",
            )
        )
    return changes
