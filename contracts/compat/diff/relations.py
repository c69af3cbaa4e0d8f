"""Changes of the relation an asset names, not of its contract (SPEC §5): a relation removed or
moved breaks backward (every query that reads it fails), not forward."""

from __future__ import annotations

from contracts.compat.diff.change import Change, change

REMOVAL_WHY = {
    "deleted": "its model was deleted from the project",
    "disabled": "its model is disabled",
    "ephemeral": "its model is now ephemeral (no relation is built)",
}


def relation_removed(*, relation: str, why: str = "deleted") -> Change:
    """The relation an asset names is gone from the manifest (deleted, disabled, made ephemeral)."""
    text = REMOVAL_WHY.get(why, why)
    return change(
        "relation_removed", old=relation, new=None, backward=True, forward=False,
        reason=f"Relation {relation} is being removed: {text}.",
    )  # fmt: skip


def relation_moved(*, old_relation: str, new_relation: str) -> Change:
    """Same dbt unique_id, new database/schema/identifier: a removal of the old relation plus a new one."""
    return change(
        "relation_moved", old=old_relation, new=new_relation, backward=True, forward=False,
        reason=f"Relation {old_relation} moves to {new_relation}: {old_relation} is removed and "
        f"{new_relation} is a new relation.",
    )  # fmt: skip
