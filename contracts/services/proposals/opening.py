"""Opening a proposal for a breaking change: the proposed version, the teams the change asks (the
rest are informed), the open proposals it supersedes, the answers that carry over from them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from contracts.compat.verdict import bump_version
from contracts.domain import ContractSpec
from contracts.models import Asset, ContractVersion, Guarantee, Proposal, SyncRun, Team
from contracts.services.events import asset_event_record
from contracts.services.impact import proposal_impact_apply
from contracts.services.outbox import outbox_record
from contracts.services.proposals.answering import proposal_status_recompute
from contracts.services.proposals.lifecycle import proposal_end
from contracts.services.proposals.publishing import proposal_publish
from contracts.services.relations import relation_change_hash
from contracts.services.supersession import answers_carry_over, since_previous
from contracts.services.versions import guarantee_rows, version_build
from tessera_site.lib.bulk import BULK_BATCH
from tessera_site.lib.errors import invalid

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


@transaction.atomic
def proposal_open(
    *,
    asset: Asset,
    base_version: ContractVersion | None,
    proposed_spec: ContractSpec,
    verdict: Any,
    origin: str,
    sync_run: SyncRun | None = None,
    actor: Actor | None,
    relation_change: dict[str, Any] | None = None,
) -> Proposal:
    """Open a proposal for a breaking change of ``asset`` (idempotent on the proposed content).

    An open proposal with the same content against the same base is returned as it is (a
    ``check`` proposal becomes a ``sync`` one when the change is now deployed). An open proposal
    with other content is superseded by the new one, which links to it, says what changed since,
    and keeps the answers of teams whose part of the change is the same (services.supersession).
    A ``check`` proposal never supersedes a ``sync`` one: the deployed change still needs answers.

    ``relation_change`` (contracts.services.relations) marks the removal or move of the asset's
    relation: it takes effect when the proposal publishes, never before.
    """
    if origin not in Proposal.Origin.values:
        raise invalid(f"origin must be one of {', '.join(Proposal.Origin.values)}")
    content_hash = relation_change_hash(proposed_spec.content_hash(), relation_change)
    asset = _asset_lock_for_open(asset=asset, origin=origin, content_hash=content_hash)
    open_proposals = _open_proposals_locked(asset)
    base_id = base_version.pk if base_version else None
    for existing in open_proposals:
        if existing.proposed_hash == content_hash and existing.base_version_id == base_id:
            return _reuse(existing, origin=origin, asset=asset, sync_run=sync_run, actor=actor)
    if origin == Proposal.Origin.CHECK:
        open_proposals = [p for p in open_proposals if p.origin == Proposal.Origin.CHECK]
    previous = open_proposals[-1] if open_proposals else None
    proposal = _proposal_create(
        asset=asset,
        base_version=base_version,
        proposed_spec=proposed_spec,
        content_hash=content_hash,
        verdict_dict=_verdict_dict(verdict),
        origin=origin,
        sync_run=sync_run,
        actor=actor,
        previous=previous,
        relation_change=relation_change,
    )
    # Consumer-aware: asks the teams whose reads the change touches (or whose reads are unknown).
    required = proposal_impact_apply(proposal=proposal, verdict=proposal.verdict)
    proposal.required_teams.set(required)
    _supersede(old=open_proposals, new=proposal, sync_run=sync_run, actor=actor)
    _opened_event_record(proposal=proposal, required=required, previous=previous, actor=actor)
    return _ask(proposal=proposal, required=required, previous=previous, actor=actor)


def _verdict_dict(verdict: Any) -> dict[str, Any]:
    if verdict is None:
        return {}
    if hasattr(verdict, "as_dict"):
        return verdict.as_dict()
    return dict(verdict)


def _asset_lock_for_open(*, asset: Asset, origin: str, content_hash: str) -> Asset:
    """Lock the asset; a sync proposal records the contract the warehouse reported (publish guard)."""
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    if origin == Proposal.Origin.SYNC and asset.deployed_hash != content_hash:
        # The warehouse reported this contract (publish guard); for a relation change, the removal
        # or move itself, so that only that change can publish.
        asset.deployed_hash = content_hash
        asset.save(update_fields=["deployed_hash"])
    return asset


def _open_proposals_locked(asset: Asset) -> list[Proposal]:
    return list(
        Proposal.objects.select_for_update(of=("self",))
        .select_related("proposed_version")
        .filter(asset=asset, status__in=Proposal.OPEN_STATUSES)
        .order_by("id")
    )


def _proposal_create(
    *,
    asset: Asset,
    base_version: ContractVersion | None,
    proposed_spec: ContractSpec,
    content_hash: str,
    verdict_dict: dict[str, Any],
    origin: str,
    sync_run: SyncRun | None,
    actor: Actor | None,
    previous: Proposal | None,
    relation_change: dict[str, Any] | None,
) -> Proposal:
    """The proposed version (a major bump over the base) and the open proposal carrying it."""
    base_semver = (base_version.major, base_version.minor, base_version.patch) if base_version else None
    semver = bump_version(base_semver, "major")
    version = version_build(
        asset=asset,
        spec=proposed_spec,
        semver=semver,
        status=ContractVersion.Status.PROPOSED,
        change_kind=ContractVersion.ChangeKind.MAJOR,
        verdict=verdict_dict,
        sync_run=sync_run,
    )
    version.save()
    Guarantee.objects.bulk_create(guarantee_rows([(version, proposed_spec)]), batch_size=BULK_BATCH)
    now = timezone.now()
    return Proposal.objects.create(
        asset=asset,
        base_version=base_version,
        proposed_version=version,
        proposed_hash=content_hash,
        verdict=verdict_dict,
        origin=origin,
        status=Proposal.Status.OPEN,
        deadline=now + dt.timedelta(days=asset.proposal_deadline_days),
        sync_run=sync_run,
        opened_by=actor.label if actor is not None else "system",
        created_at=now,
        since_previous=since_previous(previous=previous, spec=proposed_spec, verdict=verdict_dict)
        if previous
        else {},
        relation_change=relation_change or {},
    )


def _opened_event_record(
    *, proposal: Proposal, required: list[Team], previous: Proposal | None, actor: Actor | None
) -> None:
    base_version, proposed = proposal.base_version, proposal.proposed_version
    asset_event_record(
        kind="proposal.opened",
        actor=actor,
        asset=proposal.asset,
        proposal=proposal,
        sync_run=proposal.sync_run,
        payload={
            "origin": proposal.origin,
            "proposed_version": proposed.semver if proposed else None,
            "base_version": base_version.semver if base_version else None,
            "required_teams": [t.slug for t in required],
            "deadline": proposal.deadline.isoformat(),
            "reasons": proposal.verdict.get("reasons", []),
        }
        | ({"supersedes": previous.pk} if previous else {}),
    )


def _ask(
    *, proposal: Proposal, required: list[Team], previous: Proposal | None, actor: Actor | None
) -> Proposal:
    """Ask the required teams (carrying over the answers that still hold), or approve when none is asked."""
    if not required:
        outbox_record(kind="email.proposal_opened", proposal_id=proposal.pk)
        return _approve_unasked(proposal=proposal, actor=actor)
    if previous is not None:
        carried = answers_carry_over(previous=previous, proposal=proposal, actor=actor)
        proposal.since_previous |= {
            "carried_over": carried,
            "asked_again": [t.slug for t in required if t.slug not in carried],
        }
        proposal.save(update_fields=["since_previous"])
        proposal = proposal_status_recompute(proposal=proposal, actor=actor)
    if proposal.is_open:
        # Carried answers may have approved (and published) it already: then the resolution
        # email is the one notice the teams get.
        outbox_record(kind="email.proposal_opened", proposal_id=proposal.pk)
    return proposal


def _approve_unasked(*, proposal: Proposal, actor: Actor | None) -> Proposal:
    """Every consumer team was informed and none asked: there is no answer to wait for."""
    proposal.status = Proposal.Status.APPROVED
    proposal.save(update_fields=["status"])
    asset_event_record(
        kind="proposal.approved",
        actor=actor,
        asset=proposal.asset,
        proposal=proposal,
        payload={"previous_status": Proposal.Status.OPEN, "blocked_by": [],
                 "detail": "No consumer team reads what changes: every consumer was informed, none asked."},
    )  # fmt: skip
    if proposal.origin == Proposal.Origin.SYNC:
        return proposal_publish(proposal=proposal, actor=actor)
    return proposal


def _reuse(
    existing: Proposal, *, origin: str, asset: Asset, sync_run: SyncRun | None, actor: Actor | None
) -> Proposal:
    """The same question is already open: a deployed ``check`` proposal becomes a ``sync`` one."""
    if origin == Proposal.Origin.SYNC and existing.origin == Proposal.Origin.CHECK:
        existing.origin = Proposal.Origin.SYNC
        existing.sync_run = sync_run or existing.sync_run
        existing.save(update_fields=["origin", "sync_run"])
        asset_event_record(
            kind="proposal.deployed",
            actor=actor,
            asset=asset,
            proposal=existing,
            sync_run=sync_run,
            payload={"detail": "The change reviewed before merge is now deployed."},
        )
        if existing.status == Proposal.Status.APPROVED:
            return proposal_publish(proposal=existing, actor=actor, sync_run=sync_run)
    return existing


def _supersede(*, old: list[Proposal], new: Proposal, sync_run: SyncRun | None, actor: Actor | None) -> None:
    """Close the proposals ``new`` replaces, linked to it. Their teams hear of it through the new
    proposal's email (what changed since), not through a separate resolution email."""
    for proposal in old:
        proposal.superseded_by = new
        proposal.closed_by_sync = sync_run
        proposal.save(update_fields=["superseded_by", "closed_by_sync"])
        proposal_end(
            proposal=proposal,
            status=Proposal.Status.SUPERSEDED,
            reason=f"Superseded by proposal #{new.pk}"
            + (f": sync #{sync_run.pk} brought another breaking change" if sync_run else ""),
        )
        asset_event_record(
            kind="proposal.superseded",
            actor=actor,
            asset=new.asset,
            proposal=proposal,
            sync_run=sync_run,
            payload={"superseded_by": new.pk, "reason": proposal.resolution_reason},
        )
