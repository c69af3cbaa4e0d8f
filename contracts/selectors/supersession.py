"""Reading a proposal's lineage of supersessions (no writes here).

When the warehouse moves on, a proposal is superseded by a new one (``Proposal.superseded_by``),
which may be superseded in turn: the lineage is that chain, oldest first.
"""

from __future__ import annotations

from contracts.models import Proposal

# A chain longer than this would mean dozens of deploys during one open question; the page shows
# the nearest ones and says so rather than walking without end.
MAX_LINEAGE = 50


def proposal_lineage(*, proposal: Proposal) -> list[Proposal]:
    """The proposals ``proposal`` replaced and those that replaced it, oldest first (itself included)."""
    fields = ("asset", "proposed_version", "base_version", "superseded_by_version", "closed_by_sync")
    earlier: list[Proposal] = []
    current = proposal
    while len(earlier) < MAX_LINEAGE:
        previous = (
            Proposal.objects.filter(superseded_by=current).select_related(*fields).order_by("-id").first()
        )
        if previous is None:
            break
        earlier.append(previous)
        current = previous
    later: list[Proposal] = []
    current = proposal
    while current.superseded_by_id and len(later) < MAX_LINEAGE:
        current = Proposal.objects.select_related(*fields).get(pk=current.superseded_by_id)
        later.append(current)
    return [*reversed(earlier), proposal, *later]


def proposal_latest(*, proposal: Proposal) -> Proposal | None:
    """The newest proposal of the chain that replaced ``proposal`` (None if nothing replaced it)."""
    current = proposal
    for _ in range(MAX_LINEAGE):
        if not current.superseded_by_id:
            break
        current = Proposal.objects.select_related("asset").get(pk=current.superseded_by_id)
    return current if current.pk != proposal.pk else None
