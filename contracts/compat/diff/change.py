"""What the engine finds: a :class:`Change`, one difference between two contracts (or two states
of a relation), judged in both compatibility directions, and the kinds of change there are.

``backward_breaking``: existing (old) consumers cannot read data of the new contract.
``forward_breaking``: new consumers cannot read data written under the old contract (history,
backfills). Which direction a mode checks is the verdict's business
(:mod:`contracts.compat.verdict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Schema kinds make at least a minor version; the others a patch unless they break.
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


def change(
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
    """A :class:`Change` with what a kind does not concern left out (keyword-only, short names)."""
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
