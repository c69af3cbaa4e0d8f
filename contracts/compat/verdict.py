"""The verdict on a contract change under an asset's compatibility mode, and the semver bump.

Modes (SPEC §5; Tessera's meaning, which is *not* Confluent Schema Registry's):

* ``backward``: the new contract must be readable by existing (old) consumers.
* ``forward``: data written under the old contract (history, backfills) must be readable by
  consumers written against the new one.
* ``full``: both. ``none``: nothing is checked; changes are still listed so consumers can be told.
* ``backward_transitive`` / ``forward_transitive`` / ``full_transitive``: the same checks
  against every earlier version (``history``) as well as the active one.

In Confluent Schema Registry the reader/writer roles are swapped: there, BACKWARD means new
consumers can read old data. Our ``backward`` is Confluent's FORWARD and our ``forward`` is
Confluent's BACKWARD; ``full``/``none`` and the transitive variants map the same way.

Warehouse readers are SQL queries: a missing column always breaks a query that selects it and
there are no default values to fall back on. Unknown types are breaking under every checking
mode: the engine never calls something compatible that it could not compare.

Semver: a change that breaks under the mode → major; any other schema change (columns, types)
→ minor; guarantee-only or metadata changes (descriptions, order, mode) → patch; nothing → None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from contracts.compat.diff.change import Change
from contracts.compat.diff.contract import diff_contracts
from contracts.compat.diff.relations import relation_removed
from contracts.compat.types.parse import parse_type
from contracts.domain import COMPATIBILITY_MODES, ContractSpec

Bump = Literal["major", "minor", "patch", "initial"]
HistoryItem = ContractSpec | tuple[str, ContractSpec]

# Why a change breaks, per direction, in words for a consumer reading the reason.
_BACKWARD_WHY = {
    "column_removed": "existing consumers' queries that select it fail",
    "type_widened": "existing consumers may receive values their queries and target columns cannot hold",
    "type_changed": "existing consumers' queries were written for the old type",
    "type_unknown": "the types cannot be compared, so compatibility cannot be shown",
    "guarantee_loosened": "existing consumers rely on the old promise and may now receive data that breaks it",
    "guarantee_changed": "existing consumers rely on the old promise",
    "nullability_changed": "existing consumers may now receive nulls",
    "field_removed": "existing consumers' queries that read the field fail",
    "relation_removed": "every existing query that reads the relation fails",
    "relation_moved": "every existing query that reads the old relation fails",
    "access_narrowed": "the other projects that read it may no longer read it (their refs stop compiling)",
}
_FORWARD_WHY = {
    "column_added": "consumers of the new contract select it, but existing data (history, backfills) lacks it",
    "type_narrowed": "existing data may hold values the new type cannot",
    "type_changed": "existing data has the old type",
    "type_unknown": "the types cannot be compared, so compatibility cannot be shown",
    "guarantee_tightened": "existing data was never held to the new promise",
    "guarantee_changed": "existing data was held to the old promise, not the new one",
    "nullability_changed": "existing data may contain nulls",
    "field_added": "consumers of the new contract read the field, but existing data lacks it",
}


def mode_directions(mode: str) -> tuple[frozenset[str], bool]:
    """The directions a mode checks and whether it is transitive."""
    if mode not in COMPATIBILITY_MODES:
        raise ValueError(
            f"unknown compatibility mode {mode!r}; expected one of {', '.join(COMPATIBILITY_MODES)}"
        )
    base, _, transitive = mode.partition("_")
    directions = {
        "backward": frozenset({"backward"}),
        "forward": frozenset({"forward"}),
        "full": frozenset({"backward", "forward"}),
        "none": frozenset(),
    }[base]
    return directions, bool(transitive)


def breaks_under(change: Change, directions: frozenset[str]) -> bool:
    return any(change.breaks(d) for d in directions)


@dataclass(slots=True)
class Verdict:
    mode: str
    breaking: bool
    bump: Bump | None
    changes: list[Change] = field(default_factory=list)
    breaking_changes: list[Change] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    summary: str = ""
    checked_against: int = 0  # how many earlier versions the new contract was checked against

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "breaking": self.breaking,
            "bump": self.bump,
            "summary": self.summary,
            "reasons": list(self.reasons),
            "unknown": list(self.unknown),
            "changes": [c.as_dict() for c in self.changes],
            "breaking_changes": [c.as_dict() for c in self.breaking_changes],
            "checked_against": self.checked_against,
        }


def breaking_reason(change: Change, directions: frozenset[str], mode: str) -> str:
    whys = []
    if "backward" in directions and change.backward_breaking:
        whys.append(f"backward: {_BACKWARD_WHY.get(change.kind, 'existing consumers are affected')}")
    if "forward" in directions and change.forward_breaking:
        whys.append(f"forward: {_FORWARD_WHY.get(change.kind, 'existing data is affected')}")
    prefix = f"Against {change.against}: " if change.against else ""
    return f"{prefix}{change.reason} Breaking under {mode} ({'; '.join(whys)})."


def _unknown_notes(new: ContractSpec, changes: list[Change]) -> list[str]:
    notes = [c.reason for c in changes if c.kind == "type_unknown"]
    seen = {c.column for c in changes if c.kind == "type_unknown"}
    for column in new.columns:
        if column.name in seen or not parse_type(column.data_type, new.adapter).is_unknown:
            continue
        if column.data_type.strip():
            notes.append(
                f"Column {column.name} has type '{column.data_type.strip()}', which is not recognised."
            )
        else:
            notes.append(f"Column {column.name} declares no type.")
    return notes


def _history_items(history: Sequence[HistoryItem]) -> list[tuple[str, ContractSpec]]:
    items = []
    total = len(history)
    for index, item in enumerate(history, start=1):
        if isinstance(item, tuple):
            label, spec = item
            items.append((f"version {label}", spec))
        else:
            items.append((f"earlier version #{index} of {total}", item))
    return items


def _bump(changes: list[Change], breaking: bool) -> Bump | None:
    if not changes and not breaking:
        return None
    if breaking:
        return "major"
    if any(c.is_schema_change for c in changes):
        return "minor"
    return "patch"


def evaluate(
    *,
    old: ContractSpec | None,
    new: ContractSpec,
    mode: str,
    history: Sequence[HistoryItem] = (),
    relation_changes: Sequence[Change] = (),
) -> Verdict:
    """Judge ``new`` against the active contract ``old`` under ``mode``.

    ``relation_changes`` come before the contract's own (see
    :func:`~contracts.compat.diff.relations.relation_moved`): a relation that moves is judged
    together with what changed in its columns and guarantees.

    ``history`` holds the earlier versions (oldest first, optionally as ``(semver, spec)``
    pairs so reasons can name them); only transitive modes look at it. ``old=None`` is the
    first version of an asset.
    """
    directions, transitive = mode_directions(mode)
    if old is None:
        return Verdict(
            mode=mode,
            breaking=False,
            bump="initial",
            reasons=list(new.notes),
            unknown=_unknown_notes(new, []),
            summary="First version of this contract.",
        )

    changes = [*relation_changes, *diff_contracts(old, new)]
    breaking_changes = [c for c in changes if breaks_under(c, directions)]
    checked = 1
    if transitive:
        breaking_changes += _breaking_against_history(new, history, directions, breaking_changes)
        checked += len(history)

    breaking = bool(breaking_changes)
    reasons = [breaking_reason(c, directions, mode) for c in breaking_changes]
    breaking_ids = {id(c) for c in breaking_changes}
    reasons.extend(c.reason for c in changes if id(c) not in breaking_ids)
    reasons.extend(note for note in new.notes if note not in reasons)  # e.g. constraints not counted
    bump = _bump(changes, breaking)
    return Verdict(
        mode=mode,
        breaking=breaking,
        bump=bump,
        changes=changes,
        breaking_changes=breaking_changes,
        reasons=reasons,
        unknown=_unknown_notes(new, changes),
        summary=_summary(mode, changes, breaking_changes, bump),
        checked_against=checked,
    )


def _breaking_against_history(
    new: ContractSpec, history: Sequence[HistoryItem], directions: frozenset[str], found_already: list[Change]
) -> list[Change]:
    """What breaks against each earlier version and was not found already, marked with the
    version it was found against."""
    found = {(c.kind, c.column, c.guarantee) for c in found_already}
    breaking: list[Change] = []
    for label, earlier in _history_items(history):
        for change in diff_contracts(earlier, new):
            signature = (change.kind, change.column, change.guarantee)
            if signature in found or not breaks_under(change, directions):
                continue
            found.add(signature)
            breaking.append(replace(change, against=label))
    return breaking


def _summary(mode: str, changes: list[Change], breaking_changes: list[Change], bump: Bump | None) -> str:
    if not changes and not breaking_changes:
        return "No change."
    if breaking_changes:
        return (
            f"Breaking under {mode}: {len(breaking_changes)} breaking change"
            f"{'s' if len(breaking_changes) != 1 else ''} (major version)."
        )
    if mode == "none":
        return f"{len(changes)} change{'s' if len(changes) != 1 else ''}; mode none checks nothing ({bump})."
    return f"Compatible under {mode}: {len(changes)} change{'s' if len(changes) != 1 else ''} ({bump})."


def bump_version(current: tuple[int, int, int] | None, bump: str | None) -> tuple[int, int, int]:
    """The next semantic version; the first version of a contract is 1.0.0."""
    if current is None:
        return (1, 0, 0)
    if bump == "initial":
        raise ValueError("an asset that already has a version cannot get an initial version")
    major, minor, patch = current
    if bump == "major":
        return (major + 1, 0, 0)
    if bump == "minor":
        return (major, minor + 1, 0)
    if bump == "patch":
        return (major, minor, patch + 1)
    if bump is None:
        return current
    raise ValueError(f"unknown bump {bump!r}")


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.3"`` → ``(1, 2, 3)``; ValueError on anything else."""
    parts = text.strip().split(".")
    # ASCII digits only ('²' is a digit to isdigit, not to int), and at most 9 of them: a version
    # part is stored in a 32-bit column.
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 9 for p in parts):
        raise ValueError(f"not a semantic version: {text!r}")
    return (int(parts[0]), int(parts[1]), int(parts[2]))


def format_version(version: tuple[int, int, int]) -> str:
    return ".".join(str(p) for p in version)


def evaluate_removal(*, old: ContractSpec, mode: str, relation: str, why: str = "deleted") -> Verdict:
    """Judge the removal of an asset's relation under its mode (breaking under backward and full)."""
    removal = relation_removed(relation=relation, why=why)
    directions, _ = mode_directions(mode)
    breaking = breaks_under(removal, directions)
    reason = breaking_reason(removal, directions, mode) if breaking else removal.reason
    return Verdict(
        mode=mode,
        breaking=breaking,
        bump="major" if breaking else "minor",
        changes=[removal],
        breaking_changes=[removal] if breaking else [],
        reasons=[reason],
        summary=f"Breaking under {mode}: {relation} is being removed."
        if breaking
        else f"{relation} is being removed; not breaking under {mode}.",
        checked_against=1,
    )
