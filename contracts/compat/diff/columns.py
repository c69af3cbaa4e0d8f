"""How a contract's columns changed: removed and added columns, each column's type (composites part
by part, on the widening lattice), its description, the column order and nullability.
"""

from __future__ import annotations

from contracts.compat.diff.change import Change, change
from contracts.compat.types.widening import type_deltas
from contracts.domain import ColumnSpec

Columns = dict[str, ColumnSpec]  # lower-cased name -> column, in the contract's order

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


def column_changes(
    old_cols: Columns, new_cols: Columns, adapter: str, carried: dict[str, list[str]]
) -> list[Change]:
    """Removed and changed columns in the old order, then added ones. ``carried``: column -> the
    kinds of the guarantees that go (or come) with it, named in its reason."""
    changes: list[Change] = []
    for name, col in old_cols.items():
        if name in new_cols:
            changes.extend(_one_column_changes(col, new_cols[name], adapter))
        else:
            changes.append(
                change(
                    "column_removed",
                    column=col.name,
                    old=col.as_dict(),
                    new=None,
                    backward=True,
                    forward=False,
                    reason=f"Column {col.name} ({_type_text(col.data_type)}) was removed{_with_guarantees(carried.get(name))}.",
                )
            )
    for name, col in new_cols.items():
        if name not in old_cols:
            changes.append(
                change(
                    "column_added",
                    column=col.name,
                    old=None,
                    new=col.as_dict(),
                    backward=False,
                    forward=True,
                    reason=f"Column {col.name} ({_type_text(col.data_type)}) was added{_with_guarantees(carried.get(name))}.",
                )
            )
    return changes


def _with_guarantees(kinds: list[str] | None) -> str:
    if not kinds:
        return ""
    return f", with its guarantee{'s' if len(kinds) > 1 else ''} {', '.join(kinds)}"


def _one_column_changes(old: ColumnSpec, new: ColumnSpec, adapter: str) -> list[Change]:
    changes = _type_changes(old, new, adapter)
    if old.description != new.description:
        changes.append(
            change(
                "description_changed",
                column=new.name,
                old=old.description,
                new=new.description,
                backward=False,
                forward=False,
                reason=f"Description of column {new.name} changed.",
            )
        )
    return changes


def _type_changes(old: ColumnSpec, new: ColumnSpec, adapter: str) -> list[Change]:
    old_raw, new_raw = old.data_type.strip(), new.data_type.strip()
    if old_raw == new_raw:
        return []  # the same spelling: the same type (the common case, so it skips the parser entirely)
    if not old_raw:
        # A first catalog or a first declared type: the warehouse did not change, we learnt more.
        return [_type_note("type_declared", old, new, f"is now typed: {new_raw} (no type was known before).")]
    if not new_raw:
        return [
            _type_note(
                "type_undeclared",
                old,
                new,
                f"no longer declares a type (was {old_raw}); it cannot be compared until it does.",
            )
        ]
    return _typed_changes(old, new, adapter)


def _typed_changes(old: ColumnSpec, new: ColumnSpec, adapter: str) -> list[Change]:
    """Both sides typed and spelled differently: each part that moved, or a respelling."""
    name = new.name
    changes: list[Change] = []
    deltas = type_deltas(old.data_type, new.data_type, adapter)
    for delta in deltas:
        kind, backward, forward, reason = _TYPE_CHANGES[delta.change]
        path = name + delta.path
        changes.append(
            change(
                kind,
                column=path,
                old=delta.old if delta.path else old.data_type,
                new=delta.new if delta.path else new.data_type,
                backward=backward,
                forward=forward,
                reason=reason.format(name=path, old=_type_text(delta.old), new=_type_text(delta.new)),
            )  # fmt: skip
        )
    old_raw, new_raw = old.data_type.strip(), new.data_type.strip()
    if not deltas and _clean_spelling(old_raw) != _clean_spelling(new_raw):
        where = f" on {adapter}" if adapter else ""
        changes.append(
            _type_note(
                "type_respelled",
                old,
                new,
                f"type is now written {new_raw} (was {old_raw}): the same type{where}.",
            )
        )
    return changes


def _type_note(kind: str, old: ColumnSpec, new: ColumnSpec, says: str) -> Change:
    """A type change that breaks nobody: we learnt or lost the type, or it is spelled otherwise."""
    return change(
        kind,
        column=new.name,
        old=old.data_type,
        new=new.data_type,
        backward=False,
        forward=False,
        reason=f"Column {new.name} {says}",
    )


def column_order_changes(old_cols: Columns, new_cols: Columns) -> list[Change]:
    """The order of the columns both versions have (added and removed ones aside)."""
    common_old = [n for n in old_cols if n in new_cols]
    common_new = [n for n in new_cols if n in old_cols]
    if common_old == common_new:
        return []
    return [
        change(
            "column_order_changed",
            old=common_old,
            new=common_new,
            backward=False,
            forward=False,
            reason=f"Column order changed from ({', '.join(common_old)}) to ({', '.join(common_new)}).",
        )
    ]


def nullability_changes(old_cols: Columns, new_cols: Columns, *, follows_not_null: set[str]) -> list[Change]:
    """NOT NULL dropped (loosened) or added (tightened), except on the columns in
    ``follows_not_null``, whose not_null guarantee moved too and says it."""
    changes: list[Change] = []
    for name, col in old_cols.items():
        other = new_cols.get(name)
        if other is None or other.nullable == col.nullable or name in follows_not_null:
            continue
        loosened = other.nullable
        changes.append(
            change(
                "nullability_changed",
                column=other.name,
                old=not loosened,
                new=loosened,
                backward=loosened,
                forward=not loosened,
                reason=f"Column {other.name} may now contain nulls (was NOT NULL; loosened)."
                if loosened
                else f"Column {other.name} is now NOT NULL (tightened).",
            )
        )
    return changes


def _type_text(raw: str) -> str:
    """A type as the warehouse wrote it (reasons show raw types, not our canonical names)."""
    return raw.strip() if raw and raw.strip() else "no declared type"


def _clean_spelling(raw: str) -> str:
    return " ".join(raw.lower().split())
