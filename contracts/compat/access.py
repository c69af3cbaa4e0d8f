"""dbt model access in verdicts (pure).

``public`` models are meant to be read by other projects; ``protected`` ones only inside their
project, ``private`` ones only inside their group. A model going from ``public`` to ``protected``
or ``private`` while another project reads it breaks those readers: their ``ref`` stops compiling
(dbt Mesh), and a read through a source now reads what its producer no longer offers. It is judged
like a removed relation: breaking under backward (existing readers fail), not under forward (the
data is unchanged); ``none`` only tells. Without readers in another project it breaks nobody.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.compat.diff.change import Change
from contracts.compat.verdict import Verdict, breaking_reason, breaks_under, mode_directions

NARROWER = frozenset({"protected", "private"})
ACCESS_CHANGE = "access_narrowed"


def access_narrows(old: str, new: str) -> bool:
    """``public`` → ``protected`` / ``private`` (an unknown old access narrows nothing)."""
    return old == "public" and new in NARROWER


def access_narrowed(*, relation: str, old: str, new: str, readers: Sequence[str]) -> Change | None:
    """The change, when ``old`` → ``new`` narrows access; ``readers``: the other projects reading it."""
    if not access_narrows(old, new):
        return None
    read = f" Read by project{'s' if len(readers) != 1 else ''} {', '.join(readers)}." if readers else ""
    return Change(
        kind=ACCESS_CHANGE, column=None, guarantee=None, old=old, new=new,
        backward_breaking=bool(readers), forward_breaking=False,
        reason=f"dbt access of {relation} narrows from {old} to {new}: other projects may no longer read it.{read}",
    )  # fmt: skip


def evaluate_access(*, mode: str, change: Change) -> Verdict:
    """Judge an access change under the asset's mode (its contract is unchanged)."""
    directions, _ = mode_directions(mode)
    breaking = breaks_under(change, directions)
    return Verdict(
        mode=mode,
        breaking=breaking,
        bump="major" if breaking else "patch",
        changes=[change],
        breaking_changes=[change] if breaking else [],
        reasons=[breaking_reason(change, directions, mode) if breaking else change.reason],
        summary=f"Breaking under {mode}: dbt access narrows from {change.old} to {change.new}."
        if breaking
        else f"dbt access narrows from {change.old} to {change.new}; not breaking under {mode}.",
        checked_against=1,
    )
