"""Proposals that end without publishing: the producer withdraws one, its deadline passes, or the
warehouse overtakes it (the sync's proposals_follow step). Each time the producer and the asked
teams are told once, through a resolution email recorded in the outbox."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from contracts.models import Acknowledgment, ContractVersion, Proposal, SyncRun
from contracts.services.events import asset_event_record
from contracts.services.outbox import outbox_record
from contracts.services.proposals.lifecycle import proposal_end, proposal_lock, proposal_require_open
from tessera_site.lib.errors import forbidden

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


def proposal_close(
    *,
    proposal: Proposal,
    status: str,
    reason: str,
    sync_run: SyncRun | None,
    by_version: ContractVersion | None = None,
) -> Proposal:
    """Close an open proposal the warehouse overtook (withdrawn, or superseded by a version that no
    longer breaks); the producer and the asked teams are told once. The caller records the event."""
    proposal.closed_by_sync = sync_run
    proposal.superseded_by_version = by_version
    proposal.save(update_fields=["closed_by_sync", "superseded_by_version"])
    proposal_end(proposal=proposal, status=status, reason=reason)
    outbox_record(kind="email.proposal_resolved", proposal_id=proposal.pk)
    return proposal


@transaction.atomic
def proposal_withdraw(*, proposal: Proposal, actor: Actor, reason: str = "") -> Proposal:
    """The producer takes the change back; the proposed version is rejected."""
    proposal = proposal_lock(proposal)
    owner = proposal.asset.owner_team
    if not actor.can_act_for(owner):
        raise forbidden(f"Only the producer team '{owner.slug}' may withdraw proposal #{proposal.pk}")
    proposal_require_open(proposal)
    proposal_end(proposal=proposal, status=Proposal.Status.WITHDRAWN, reason=(reason or "").strip())
    asset_event_record(
        kind="proposal.withdrawn",
        actor=actor,
        asset=proposal.asset,
        proposal=proposal,
        payload={"reason": proposal.resolution_reason},
    )
    outbox_record(kind="email.proposal_resolved", proposal_id=proposal.pk)
    return proposal


@transaction.atomic
def proposal_expire_due(now: dt.datetime | None = None) -> list[int]:
    """Expire every open or blocked proposal past its deadline; returns their ids. Safe to run twice."""
    now = now or timezone.now()
    due = list(
        Proposal.objects.select_for_update(skip_locked=True)
        .select_related("asset", "asset__owner_team")
        # An approved (check-origin) proposal has every answer it needs; it waits for the deploy.
        .filter(status__in=(Proposal.Status.OPEN, Proposal.Status.BLOCKED), deadline__lte=now)
        .order_by("id")
    )
    for proposal in due:
        missing = list(
            proposal.required_teams.exclude(
                acknowledgments__proposal=proposal, acknowledgments__answer=Acknowledgment.Answer.APPROVED
            ).values_list("slug", flat=True)
        )
        proposal_end(
            proposal=proposal,
            status=Proposal.Status.EXPIRED,
            reason="The deadline passed without every approval",
        )
        asset_event_record(
            kind="proposal.expired",
            asset=proposal.asset,
            proposal=proposal,
            payload={"deadline": proposal.deadline.isoformat(), "without_approval_of": missing},
        )
        outbox_record(kind="email.proposal_resolved", proposal_id=proposal.pk)
    return [p.pk for p in due]
