"""How a contract's guarantees changed: dropped (loosened), added (tightened), a uniqueness over
more or fewer columns, and one guarantee whose promise moved (its row filter, its values, range
or freshness, what makes it, its severity).

Guarantees are matched by meaning (:func:`~contracts.compat.diff.guarantees.keyed_by_meaning`),
so the same promise made by a test in one version and a constraint in the next is a patch.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from contracts.compat.diff.change import Change, change
from contracts.compat.diff.guarantees import (
    SEVERITY_RANK,
    canonical_kind,
    comparable_arguments,
    describe_guarantee,
    keyed_by_meaning,
    range_text,
    uniqueness_columns,
    values_text,
)
from contracts.domain import ContractSpec, GuaranteeSpec

_MECHANISMS = {"test": "a data test", "constraint": "a constraint of the enforced contract"}

# How a guarantee's promise moved -> the change's kind and whether it breaks backward, forward.
_MOVES = {
    "looser": ("guarantee_loosened", True, False),
    "tighter": ("guarantee_tightened", False, True),
    "changed": ("guarantee_changed", True, True),
}
Move = tuple[str, str]  # (looser | tighter | changed, the reason)


def guarantee_changes(old: ContractSpec, new: ContractSpec) -> list[Change]:
    """Uniqueness moves first, then dropped guarantees, then added and changed ones in the new order."""
    old_keyed, new_keyed = keyed_by_meaning(old.guarantees), keyed_by_meaning(new.guarantees)
    dropped = {k: g for k, g in old_keyed.items() if k not in new_keyed}
    added = {k: g for k, g in new_keyed.items() if k not in old_keyed}
    changes = _uniqueness_changes(dropped, added)
    for key, g in dropped.items():
        changes.append(
            change(
                "guarantee_loosened",
                column=g.column,
                guarantee=key,
                old=g.as_dict(),
                new=None,
                backward=True,
                forward=False,
                reason=f"Guarantee {describe_guarantee(g)} was dropped (loosened).{_mechanism_note(g, new)}",
            )  # fmt: skip
        )
    for key, g in new_keyed.items():
        if key in added:
            changes.append(
                change(
                    "guarantee_tightened",
                    column=g.column,
                    guarantee=key,
                    old=None,
                    new=g.as_dict(),
                    backward=False,
                    forward=True,
                    reason=f"Guarantee {describe_guarantee(g)} was added (tightened).",
                )  # fmt: skip
            )
        elif key in old_keyed:
            changes.extend(guarantee_pair_changes(key, old_keyed[key], g))
    return changes


def _mechanism_note(g: GuaranteeSpec, new: ContractSpec) -> str:
    """Why a constraint's promise went: usually the contract is no longer enforced (the parser's note)."""
    if g.mechanism != "constraint" or not new.notes:
        return ""
    return " " + " ".join(new.notes)


def _uniqueness_changes(dropped: dict[str, GuaranteeSpec], added: dict[str, GuaranteeSpec]) -> list[Change]:
    """Pair a dropped uniqueness with an added one over a superset (looser: more columns promise
    less) or a subset (tighter). Paired keys leave ``dropped``/``added``; the rest stay drops/adds."""
    changes: list[Change] = []
    for old_key, old_g in list(dropped.items()):
        old_set = uniqueness_columns(old_g)
        if old_set is None or old_g.arguments.get("where"):
            continue
        for new_key, new_g in list(added.items()):
            new_set = uniqueness_columns(new_g)
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
                change(
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


def guarantee_pair_changes(key: str, old: GuaranteeSpec, new: GuaranteeSpec) -> list[Change]:
    """One guarantee in both versions: its row filter, then its arguments, what makes it and its
    severity, each a change of its own."""
    if (old.kind, old.column, old.severity, old.mechanism, old.arguments) == (
        new.kind,
        new.column,
        new.severity,
        new.mechanism,
        new.arguments,
    ):
        return []  # the same promise (only its test's id or name may differ): nothing to compare
    label = describe_guarantee(new)
    moves = [*_filter_moves(old, new, label), *_argument_moves(old, new, label)]
    changes = [_moved(key, old, new, move) for move in moves]
    if old.mechanism != new.mechanism:
        changes.append(_mechanism_changed(key, old, new, label))
    changes.extend(_moved(key, old, new, move) for move in _severity_moves(old, new, label))
    return changes


def _moved(key: str, old: GuaranteeSpec, new: GuaranteeSpec, move: Move) -> Change:
    direction, reason = move
    kind, backward, forward = _MOVES[direction]
    return change(
        kind,
        column=new.column,
        guarantee=key,
        old=old.as_dict(),
        new=new.as_dict(),
        backward=backward,
        forward=forward,
        reason=reason,
    )


def _filter_moves(old: GuaranteeSpec, new: GuaranteeSpec, label: str) -> list[Move]:
    """A filtered test promises less than an unfiltered one."""
    old_where, new_where = old.arguments.get("where"), new.arguments.get("where")
    if old_where == new_where:
        return []
    if old_where is None:
        return [("looser", f"{label} now only checks rows where {new_where} (loosened).")]
    if new_where is None:
        return [("tighter", f"{label} now checks every row, not only where {old_where} (tightened).")]
    return [("changed", f"{label} changed its row filter from {old_where} to {new_where}.")]


def _argument_moves(old: GuaranteeSpec, new: GuaranteeSpec, label: str) -> list[Move]:
    kind = canonical_kind(new.kind)
    on = f" on {new.column}" if new.column else ""
    if kind == "accepted_values":
        return _values_moves(old, new, on)
    if kind == "accepted_range":
        return _range_moves(old, new, on)
    if kind == "freshness":
        return _freshness_moves(old, new, on)
    if comparable_arguments(kind, old) != comparable_arguments(kind, new):
        return [("changed", f"{label} changed its arguments.")]
    return []


def _values_moves(old: GuaranteeSpec, new: GuaranteeSpec, on: str) -> list[Move]:
    old_values = list(old.arguments.get("values") or [])
    new_values = list(new.arguments.get("values") or [])
    added = [v for v in new_values if v not in old_values]
    removed = [v for v in old_values if v not in new_values]
    if added and removed:
        return [
            (
                "changed",
                f"accepted_values{on} now allows {values_text(added)} and no longer allows "
                f"{values_text(removed)}.",
            )
        ]
    if added:
        return [("looser", f"accepted_values{on} now also allows {values_text(added)} (loosened).")]
    if removed:
        return [("tighter", f"accepted_values{on} no longer allows {values_text(removed)} (tightened).")]
    if old.arguments.get("quote", True) != new.arguments.get("quote", True):
        return [("changed", f"accepted_values{on} changed how its values are quoted.")]
    return []


def _range_moves(old: GuaranteeSpec, new: GuaranteeSpec, on: str) -> list[Move]:
    direction = _range_direction(old, new)
    text = f"accepted_range{on} changed from {range_text(old)} to {range_text(new)}"
    if direction == "looser":
        return [("looser", f"{text} (widened).")]
    if direction == "tighter":
        return [("tighter", f"{text} (narrowed).")]
    if direction == "changed":
        return [("changed", f"{text}; the bounds moved in both directions or cannot be compared.")]
    return []


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


def _freshness_moves(old: GuaranteeSpec, new: GuaranteeSpec, on: str) -> list[Move]:
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
        return [("looser", f"{text}: data may now be older (loosened).")]
    if directions == {"tighter"}:
        return [("tighter", f"{text}: data must now be fresher (tightened).")]
    if directions:
        return [("changed", f"{text} in both directions.")]
    return []


def _freshness_seconds(arguments: dict[str, Any], level: str) -> float | None:
    spec = arguments.get(level) or {}
    count, period = spec.get("count"), spec.get("period")
    if count is None or period is None:
        return None
    scale = {"minute": 60, "hour": 3600, "day": 86400}.get(str(period).rstrip("s"))
    return None if scale is None else float(count) * scale


def _mechanism_changed(key: str, old: GuaranteeSpec, new: GuaranteeSpec, label: str) -> Change:
    was = _MECHANISMS.get(old.mechanism, old.mechanism)
    now = _MECHANISMS.get(new.mechanism, new.mechanism)
    return change(
        "guarantee_mechanism_changed",
        column=new.column,
        guarantee=key,
        old=old.as_dict(),
        new=new.as_dict(),
        backward=False,
        forward=False,
        reason=f"{label} is now made by {now} (was {was}): the same promise.",
    )


def _severity_moves(old: GuaranteeSpec, new: GuaranteeSpec, label: str) -> list[Move]:
    old_rank = SEVERITY_RANK.get(old.severity, 1)
    new_rank = SEVERITY_RANK.get(new.severity, 1)
    if new_rank < old_rank:
        return [
            ("looser", f"{label} was downgraded from severity {old.severity} to {new.severity} (loosened).")
        ]
    if new_rank > old_rank:
        return [
            ("tighter", f"{label} was upgraded from severity {old.severity} to {new.severity} (tightened).")
        ]
    return []
