"""Resolution: an approved proposal publishes its version (a major bump), a producer lead or an
admin forces one, and what the publish gate held is released once an audit lets it through.

Never a contract the warehouse does not have (supersession.publish_refusal), and never past the
publish gate unless forced, on the record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from contracts.compat.serialize import spec_from_version
from contracts.models import Acknowledgment, Asset, ContractVersion, Proposal, SyncRun, Team, TeamMembership
from contracts.services.events import asset_event_record
from contracts.services.outbox import outbox_record
from contracts.services.proposals.lifecycle import proposal_end, proposal_lock, proposal_require_open
from contracts.services.relations import relation_change_apply
from contracts.services.supersession import publish_refusal
from contracts.services.versions import version_publish
from tessera_site.lib.errors import Conflict, forbidden, invalid
from tessera_site.lib.gate import publish_allowed

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


HELD_PREFIX = "Held by the publish gate: "


@transaction.atomic
def proposal_publish(
    *,
    proposal: Proposal,
    actor: Actor | None,
    sync_run: SyncRun | None = None,
    deployed_hash: str | None = None,
) -> Proposal:
    """Publish an approved proposal: its version becomes active with a major bump.

    ``deployed_hash``: the contract the calling sync brings (see supersession.publish_refusal).
    """
    proposal = proposal_lock(proposal)
    if proposal.status != Proposal.Status.APPROVED:
        raise Conflict(f"Proposal #{proposal.pk} is {proposal.status}, not approved", code="not_approved")
    return _publish(
        proposal=proposal,
        actor=actor,
        status=Proposal.Status.PUBLISHED,
        sync_run=sync_run,
        deployed_hash=deployed_hash,
    )


def _publish(
    *,
    proposal: Proposal,
    actor: Actor | None,
    status: str,
    reason: str = "",
    sync_run: SyncRun | None = None,
    deployed_hash: str | None = None,
) -> Proposal:
    """Make the proposed version active with a major bump over whatever is active now.

    Never a contract the warehouse does not have: the publish guard refuses (a forced publish
    with a Conflict, an approved proposal stays approved with the reason on it). An asset that
    requires a passing audit publishes only when the publish gate judges the proposed version
    ``publish``; otherwise the proposal stays approved, with the gate's reasons, until an audit
    releases it (proposals_release_held). Forcing bypasses the gate, on the record.
    """
    asset = (
        Asset.objects.select_for_update(of=("self",))
        .select_related("active_version", "owner_team")
        .get(pk=proposal.asset_id)
    )
    forced = status == Proposal.Status.FORCED
    refusal = publish_refusal(proposal=proposal, asset=asset, deployed_hash=deployed_hash)
    if refusal is not None:
        return _refuse(proposal=proposal, asset=asset, reason=refusal, actor=actor, forced=forced)
    if proposal.proposed_version_id is None:  # deleted (the key is SET_NULL): the error the lookup gives
        raise ContractVersion.DoesNotExist(f"Proposal #{proposal.pk} has no proposed version to publish")
    proposed = ContractVersion.objects.get(pk=proposal.proposed_version_id)
    previous = asset.active_version
    gate = publish_allowed(asset=asset, version=proposed)
    if gate is not None and not gate.publish and not forced:
        if deployed_hash and asset.deployed_hash != deployed_hash:
            asset.deployed_hash = deployed_hash  # held, but deployed: a later release may publish it
            asset.save(update_fields=["deployed_hash"])
        return _hold(proposal=proposal, asset=asset, reasons=gate.reasons, actor=actor, sync_run=sync_run)
    version = version_publish(
        asset=asset,
        spec=spec_from_version(proposed),
        verdict=proposal.verdict,
        bump="major",
        sync_run=sync_run,
        actor=actor,
    )
    asset.refresh_from_db()
    if proposal.relation_change:
        relation_change_apply(asset=asset, change=proposal.relation_change, actor=actor, sync_run=sync_run)

    proposal_end(proposal=proposal, status=status, reason=reason)
    proposal.asset = asset
    payload = {
        "version": version.semver,
        "previous_version": previous.semver if previous else None,
        "forced": forced,
        "reason": reason,
    }
    _published_event_record(proposal=proposal, payload=payload, gate=gate, actor=actor, sync_run=sync_run)
    outbox_record(kind="email.proposal_resolved", proposal_id=proposal.pk)
    return proposal


def _published_event_record(
    *, proposal: Proposal, payload: dict[str, Any], gate: Any, actor: Actor | None, sync_run: SyncRun | None
) -> None:
    """proposal.published, with the publish gate's judgement when the asset has a gate."""
    if gate:
        payload["publish_gate"] = {
            "decision": gate.decision,
            "reasons": gate.reasons,
            "bypassed": not gate.publish,
        }
    asset_event_record(
        kind="proposal.published",
        actor=actor,
        asset=proposal.asset,
        proposal=proposal,
        sync_run=sync_run,
        payload=payload,
    )


def _refuse(*, proposal: Proposal, asset: Asset, reason: str, actor: Actor | None, forced: bool) -> Proposal:
    """The publish guard said no: a forced publish is refused as a Conflict (nothing changes); an
    approved proposal stays approved, with the reason on it and on the record (once per reason)."""
    if forced:
        raise Conflict(reason, code="not_deployed")
    if proposal.resolution_reason != reason:
        proposal.resolution_reason = reason
        proposal.save(update_fields=["resolution_reason"])
        asset_event_record(
            kind="proposal.publish_refused",
            actor=actor,
            asset=asset,
            proposal=proposal,
            payload={"reason": reason, "proposed_hash": proposal.proposed_hash},
        )
    return proposal


def _hold(
    *, proposal: Proposal, asset: Asset, reasons: list[str], actor: Actor | None, sync_run: SyncRun | None
) -> Proposal:
    """The gate holds an approved proposal: it stays approved with the reasons on it (and on the
    record, once per distinct set of reasons, so retries after each audit do not repeat it)."""
    text = HELD_PREFIX + " ".join(reasons)
    fields = []
    if proposal.resolution_reason != text:
        proposal.resolution_reason = text
        fields.append("resolution_reason")
    if sync_run is not None and proposal.origin == Proposal.Origin.CHECK:
        # Deployed now: once the gate lets it through it publishes without waiting for another sync.
        proposal.origin = Proposal.Origin.SYNC
        proposal.sync_run = sync_run
        fields += ["origin", "sync_run"]
    if fields:
        proposal.save(update_fields=fields)
    if "resolution_reason" in fields:
        asset_event_record(
            kind="proposal.held",
            actor=actor,
            asset=asset,
            proposal=proposal,
            sync_run=sync_run,
            payload={
                "reason": text,
                "reasons": reasons,
                "version": proposed.semver if (proposed := proposal.proposed_version) else None,
            },
        )
    return proposal


def actor_may_force(*, actor: Actor, team: Team) -> bool:
    """A producer team lead, a superuser, an admin-scope key of the owner team (or the local open demo)."""
    if actor.is_open:
        return True
    user = actor.user
    if user is not None and getattr(user, "is_superuser", False):
        return True
    if actor.api_key is not None:
        return actor.team is not None and actor.team.pk == team.pk and "admin" in actor.scopes
    if user is not None and getattr(user, "pk", None):
        return TeamMembership.objects.filter(team=team, user=user, role=TeamMembership.Role.LEAD).exists()
    return False


@transaction.atomic
def proposal_force(*, proposal: Proposal, reason: str, actor: Actor) -> Proposal:
    """Publish without every consumer's approval, with a written reason (audited, consumers told)."""
    reason = (reason or "").strip()
    if not reason:
        raise invalid("Forcing a proposal needs a reason the consumers will read", code="reason_required")
    proposal = proposal_lock(proposal)
    owner = proposal.asset.owner_team
    if not actor_may_force(actor=actor, team=owner):
        raise forbidden(f"Only a lead of '{owner.slug}' or an admin may force proposal #{proposal.pk}")
    proposal_require_open(proposal)
    missing = [
        t.slug
        for t in proposal.required_teams.exclude(
            acknowledgments__proposal=proposal, acknowledgments__answer=Acknowledgment.Answer.APPROVED
        )
    ]
    asset_event_record(
        kind="proposal.forced",
        actor=actor,
        asset=proposal.asset,
        proposal=proposal,
        payload={"reason": reason, "without_approval_of": missing},
    )
    return _publish(proposal=proposal, actor=actor, status=Proposal.Status.FORCED, reason=reason)


def proposals_release_held(*, asset: Asset, actor: Actor | None) -> list[Proposal]:
    """Publish the approved, deployed proposals of ``asset`` the publish gate held, if it now says
    publish (called after an audit of the asset is recorded). Returns those published; safe to repeat."""
    published = []
    for pk in (
        Proposal.objects.filter(asset=asset, status=Proposal.Status.APPROVED, origin=Proposal.Origin.SYNC)
        .order_by("id")
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            proposal = proposal_lock(Proposal(pk=pk))
            if proposal.status != Proposal.Status.APPROVED:
                continue  # published by someone else meanwhile
            proposal = _publish(proposal=proposal, actor=actor, status=Proposal.Status.PUBLISHED)
        if proposal.status == Proposal.Status.PUBLISHED:
            published.append(proposal)
    return published


def proposal_publish_matching_check(
    *, asset: Asset, content_hash: str, sync_run: SyncRun | None, actor: Actor | None
) -> Proposal | None:
    """For the sync: a deployed schema that matches an approved ``check`` proposal publishes it.

    Returns the published proposal, or None when no approved check proposal has this content
    (the sync then opens a ``sync`` proposal as usual; proposal_open reuses a still-open check
    proposal with the same content).
    """
    with transaction.atomic():
        proposal = (
            Proposal.objects.select_for_update()
            .filter(
                asset=asset,
                origin=Proposal.Origin.CHECK,
                status=Proposal.Status.APPROVED,
                proposed_hash=content_hash,
                # Approved against the active contract: once another version published, the same
                # content is a different change, asked again (proposal_open supersedes it).
                base_version_id=asset.active_version_id,
            )
            .order_by("-id")
            .first()
        )
        if proposal is None:
            return None
        return proposal_publish(proposal=proposal, actor=actor, sync_run=sync_run, deployed_hash=content_hash)
