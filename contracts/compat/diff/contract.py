"""Two contract specs in, every difference between them out (:func:`diff_contracts`), each
:class:`~contracts.compat.diff.change.Change` judged in both directions.

Nullability follows ``not_null``: when a column's nullability moves together with a ``not_null``
guarantee on it, only the guarantee is reported. Likewise the guarantees of a removed (or added)
column go (or come) with it: they are named in the column change's reason rather than listed as
separate changes, which could only repeat the same direction.
"""

from __future__ import annotations

from contracts.compat.diff.change import Change, change
from contracts.compat.diff.columns import column_changes, column_order_changes, nullability_changes
from contracts.compat.diff.guarantee_changes import guarantee_changes
from contracts.compat.diff.guarantees import canonical_kind
from contracts.domain import ContractSpec


def diff_contracts(old: ContractSpec, new: ContractSpec) -> list[Change]:
    """Every difference between ``old`` and ``new``, in a stable order: columns (old order, then
    added ones), column order, nullability, guarantees, mode."""
    old_cols = {c.name.lower(): c for c in old.columns}
    new_cols = {c.name.lower(): c for c in new.columns}
    removed = {n for n in old_cols if n not in new_cols}
    added = {n for n in new_cols if n not in old_cols}
    guarantees, carried = _carried_by_columns(guarantee_changes(old, new), removed=removed, added=added)
    return [
        *column_changes(old_cols, new_cols, new.adapter or old.adapter, carried),
        *column_order_changes(old_cols, new_cols),
        *nullability_changes(old_cols, new_cols, follows_not_null=_not_null_moved(guarantees)),
        *guarantees,
        *_mode_changes(old, new),
    ]


def _carried_by_columns(
    changes: list[Change], *, removed: set[str], added: set[str]
) -> tuple[list[Change], dict[str, list[str]]]:
    """Split off the guarantees that went with a removed column or came with an added one: they
    are part of the column change (same direction), named in its reason, not listed twice.
    Returns the other guarantee changes, and column -> the kinds it carried."""
    kept: list[Change] = []
    carried: dict[str, list[str]] = {}
    for c in changes:
        column = (c.column or "").lower()
        gone_with_column = column in removed and c.new is None
        came_with_column = column in added and c.old is None
        if gone_with_column or came_with_column:
            carried.setdefault(column, []).append(canonical_kind((c.old or c.new)["kind"]))
        else:
            kept.append(c)
    return kept, carried


def _not_null_moved(guarantees: list[Change]) -> set[str]:
    """The columns whose not_null guarantee changed: their nullability moves with it."""
    return {
        (c.column or "").lower() for c in guarantees if c.guarantee and c.guarantee.startswith("not_null:")
    }


def _mode_changes(old: ContractSpec, new: ContractSpec) -> list[Change]:
    if old.mode == new.mode:
        return []
    return [
        change(
            "mode_changed",
            old=old.mode,
            new=new.mode,
            backward=False,
            forward=False,
            reason=f"Compatibility mode changed from {old.mode} to {new.mode}.",
        )
    ]
