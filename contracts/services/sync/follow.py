"""Sync step: open proposals follow the warehouse.

A sync that brings a contract for an asset with an open proposal compares it with the
proposed contract (after the sync has written versions and opened proposals):

* the same contract → nothing changes: the proposal is still waiting;
* the active contract again (the producer reverted) → the proposal is withdrawn automatically,
  "reverted by sync #N", and the teams it asked are told once;
* a third contract → judged against the active version as usual, by the sync itself: if it still
  breaks, proposal_open has already replaced the old proposal with a new one, linked to it; if it
  no longer breaks, the sync published it, and the old proposal is closed here as superseded by
  that version (or by the version the publish gate holds), the teams told once.

``check`` proposals describe a pull request not merged yet: a sync that brings the active
contract is the normal state before the merge, so this step leaves them waiting; they publish only
when a sync brings exactly their contract (the publish guard), and a ``sync`` proposal replaces
them when the warehouse brings another breaking change.

While an asset has an open proposal, this step also records the contract the sync reported
(``Asset.deployed_hash``), which the publish guard compares with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from contracts.models import Asset, ContractVersion, Proposal, SyncRun
from contracts.services.events import asset_event_record
from contracts.services.proposals.closing import proposal_close
from contracts.services.relations import LATEST_MOVED
from contracts.services.sync.access import reported_hash

if TYPE_CHECKING:
    from contracts.services.sync.assets import AssetPlan
    from contracts.services.sync.context import SyncContext
    from tessera_site.lib.auth import Actor


def proposals_follow(ctx: SyncContext, plan: AssetPlan) -> None:
    """Compare the project's open proposals with the contracts this sync brought (the hashes of
    the few assets with an open proposal only: a sync without open proposals pays one query)."""
    asking = set(
        Proposal.objects.filter(asset__project=ctx.project, status__in=Proposal.OPEN_STATUSES).values_list(
            "asset_id", flat=True
        )
    )
    if not asking:
        return
    # An access narrowing waiting for its proposal is part of what the sync reports (sync.access).
    reported = {
        asset.pk: reported_hash(asset, spec) for asset, spec in plan.owned.values() if asset.pk in asking
    }
    ctx.out.proposals_closed = proposals_follow_sync(
        run=ctx.run, project_id=ctx.project.pk, reported=reported, actor=ctx.actor
    )


@transaction.atomic
def proposals_follow_sync(
    *, run: SyncRun, project_id: int, reported: dict[int, str], actor: Actor | None
) -> list[dict[str, Any]]:
    """Compare every open proposal of the project's assets with the contract ``reported`` for its
    asset (asset id → content hash) by ``run``; returns what was closed, for the sync summary."""
    proposals = list(
        Proposal.objects.select_for_update(of=("self",))
        .filter(asset__project_id=project_id, status__in=Proposal.OPEN_STATUSES)
        .select_related("asset", "asset__owner_team", "asset__active_version", "base_version")
        .order_by("id")
    )
    closed: list[dict[str, Any]] = []
    deployed: dict[int, str] = {}
    for proposal in proposals:
        content_hash = reported.get(proposal.asset_id)
        if content_hash is None or proposal.relation_change.get("kind") == LATEST_MOVED:
            continue  # this sync said nothing about the asset; a latest move is no contract change
        if content_hash == proposal.proposed_hash or proposal.origin == Proposal.Origin.CHECK:
            deployed[proposal.asset_id] = content_hash
            continue
        outcome = _follow(proposal=proposal, content_hash=content_hash, run=run, actor=actor)
        if outcome is not None:
            closed.append(outcome)
    for asset_id, content_hash in deployed.items():
        Asset.objects.filter(pk=asset_id).exclude(deployed_hash=content_hash).update(
            deployed_hash=content_hash
        )
    return closed


def _follow(
    *, proposal: Proposal, content_hash: str, run: SyncRun, actor: Actor | None
) -> dict[str, Any] | None:
    """Withdraw (reverted) or supersede (another contract published or held) one proposal."""
    asset = proposal.asset
    active = asset.active_version
    if active is not None and asset.content_hash == content_hash:
        if active.sync_run_id == run.pk and active.pk != proposal.base_version_id:
            return _close(
                proposal=proposal,
                status=Proposal.Status.SUPERSEDED,
                by_version=active,
                reason=f"Superseded by v{active.semver}, published by sync #{run.pk}: "
                "the contract the warehouse has now no longer breaks its consumers.",
                run=run,
                actor=actor,
            )
        return _close(
            proposal=proposal,
            status=Proposal.Status.WITHDRAWN,
            reason=f"Reverted by sync #{run.pk}: the warehouse has the active contract "
            f"v{active.semver} again, so the change was taken back.",
            run=run,
            actor=actor,
        )
    held = (
        ContractVersion.objects.filter(
            asset=asset, content_hash=content_hash, status=ContractVersion.Status.PROPOSED
        )
        .exclude(proposals__isnull=False)
        .order_by("-id")
        .first()
    )
    if held is not None:
        return _close(
            proposal=proposal,
            status=Proposal.Status.SUPERSEDED,
            by_version=held,
            reason=f"Superseded by v{held.semver} from sync #{run.pk}, which no longer breaks its "
            "consumers (the publish gate holds it until an audit passes).",
            run=run,
            actor=actor,
        )
    return None  # a new proposal replaced it in this sync already (proposal_open), or nothing to do


def _close(
    *,
    proposal: Proposal,
    status: str,
    reason: str,
    run: SyncRun,
    actor: Actor | None,
    by_version: ContractVersion | None = None,
) -> dict[str, Any]:
    proposal_close(proposal=proposal, status=status, reason=reason, sync_run=run, by_version=by_version)
    asset_event_record(
        kind=f"proposal.{status}",
        actor=actor,
        asset=proposal.asset,
        proposal=proposal,
        sync_run=run,
        payload={"reason": reason, "automatic": True}
        | ({"superseded_by_version": by_version.semver} if by_version else {}),
    )
    return {
        "relation": proposal.asset.relation,
        "proposal": proposal.pk,
        "status": status,
        "reason": reason,
    }
