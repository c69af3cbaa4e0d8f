"""The moves every step of the acknowledgment workflow shares: take a proposal's row lock, refuse
a proposal that is no longer open, end an open one with a terminal status."""

from __future__ import annotations

from django.utils import timezone

from contracts.models import ContractVersion, Proposal
from tessera_site.lib.errors import Conflict


def proposal_lock(proposal: Proposal) -> Proposal:
    """The proposal's row, locked for the rest of the transaction, with its asset and owner team."""
    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("asset", "asset__owner_team")
        .get(pk=proposal.pk)
    )


def proposal_require_open(proposal: Proposal) -> None:
    """A closed proposal takes no more answers, withdrawals or forcing: a Conflict."""
    if not proposal.is_open:
        raise Conflict(
            f"Proposal #{proposal.pk} is {proposal.get_status_display()}; it takes no more changes",
            code="proposal_closed",
        )


def proposal_end(*, proposal: Proposal, status: str, reason: str = "") -> None:
    """Move an open proposal to a terminal status; its proposed version is rejected unless published."""
    proposal.status = status
    proposal.resolved_at = timezone.now()
    proposal.resolution_reason = reason
    proposal.save(update_fields=["status", "resolved_at", "resolution_reason"])
    if status not in (Proposal.Status.PUBLISHED, Proposal.Status.FORCED) and proposal.proposed_version_id:
        ContractVersion.objects.filter(
            pk=proposal.proposed_version_id, status=ContractVersion.Status.PROPOSED
        ).update(status=ContractVersion.Status.REJECTED)
