"""The acknowledgment workflow (SPEC §6): proposals open, collect answers, resolve, publish.

Who may do what is enforced here, not only in views: a team answers only for itself, the owner
team never approves its own proposal, only the producer withdraws, only a producer lead or an
admin forces. Emails are never sent from here: they are recorded in the outbox, in the change's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from contracts.compat.serialize import spec_from_version
from contracts.compat.types import normalize_type
from contracts.domain import ContractSpec
from contracts.models import (
    Acknowledgment,
    Asset,
    ContractVersion,
    Guarantee,
    Proposal,
    SyncRun,
    Team,
    TeamMembership,
)
from contracts.services.events import asset_event_record, event_record
from contracts.services.impact import proposal_impact_apply
from contracts.services.outbox import outbox_record
from contracts.services.relations import relation_change_apply, relation_change_hash
from contracts.services.supersession import answers_carry_over, publish_refusal, since_previous
from contracts.services.versions import version_publish
from tessera_site.lib.errors import Conflict, forbidden, invalid
from tessera_site.lib.gate import publish_allowed

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor

ANSWERS = tuple(Acknowledgment.Answer.values)
HELD_PREFIX = "Held by the publish gate: "


def _verdict_dict(verdict: Any) -> dict[str, Any]:
    if verdict is None:
        return {}
    if hasattr(verdict, "as_dict"):
        return verdict.as_dict()
    return dict(verdict)


# --- contract versions -----------------------------------------------------------------------------
def version_columns(spec: ContractSpec) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "data_type": c.data_type,
            "normalized_type": normalize_type(c.data_type, spec.adapter),
            "nullable": c.nullable,
            "description": c.description,
        }
        for c in spec.columns
    ]


def _guarantee_key(g: Any) -> str:
    from contracts.compat.diff import guarantee_key

    return guarantee_key(g)[:500]


def version_create_proposed(
    *,
    asset: Asset,
    spec: ContractSpec,
    semver: tuple[int, int, int],
    verdict: dict[str, Any],
    sync_run: SyncRun | None,
) -> ContractVersion:
    version = ContractVersion.objects.create(
        asset=asset,
        major=semver[0],
        minor=semver[1],
        patch=semver[2],
        status=ContractVersion.Status.PROPOSED,
        change_kind=ContractVersion.ChangeKind.MAJOR,
        columns=version_columns(spec),
        guarantees=[g.as_dict() for g in spec.guarantees],
        compatibility_mode=spec.mode,
        content_hash=spec.content_hash(),
        verdict=verdict,
        sync_run=sync_run,
    )
    Guarantee.objects.bulk_create(
        [
            Guarantee(
                version=version,
                asset=asset,
                key=_guarantee_key(g),
                kind=g.kind,
                column=g.column or "",
                arguments=g.arguments,
                severity=g.severity,
                test_unique_id=g.test_unique_id or "",
                name=g.name,
            )
            for g in spec.guarantees
        ]
    )
    return version


# --- opening -----------------------------------------------------------------------------------------
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
    semver = (base_semver[0] + 1, 0, 0) if base_semver else (1, 0, 0)
    version = version_create_proposed(
        asset=asset, spec=proposed_spec, semver=semver, verdict=verdict_dict, sync_run=sync_run
    )
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
    base_version = proposal.base_version
    asset_event_record(
        kind="proposal.opened",
        actor=actor,
        asset=proposal.asset,
        proposal=proposal,
        sync_run=proposal.sync_run,
        payload={
            "origin": proposal.origin,
            "proposed_version": proposal.proposed_version.semver,
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
        proposal = _status_recompute(proposal=proposal, actor=actor)
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
        _close(
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


def _close(*, proposal: Proposal, status: str, reason: str = "") -> None:
    """Move an open proposal to a terminal status; its proposed version is rejected unless published."""
    proposal.status = status
    proposal.resolved_at = timezone.now()
    proposal.resolution_reason = reason
    proposal.save(update_fields=["status", "resolved_at", "resolution_reason"])
    if status not in (Proposal.Status.PUBLISHED, Proposal.Status.FORCED) and proposal.proposed_version_id:
        ContractVersion.objects.filter(
            pk=proposal.proposed_version_id, status=ContractVersion.Status.PROPOSED
        ).update(status=ContractVersion.Status.REJECTED)


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
    _close(proposal=proposal, status=status, reason=reason)
    outbox_record(kind="email.proposal_resolved", proposal_id=proposal.pk)
    return proposal


def _lock(proposal: Proposal) -> Proposal:
    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("asset", "asset__owner_team")
        .get(pk=proposal.pk)
    )


def _require_open(proposal: Proposal) -> None:
    if not proposal.is_open:
        raise Conflict(
            f"Proposal #{proposal.pk} is {proposal.get_status_display()}; it takes no more changes",
            code="proposal_closed",
        )


# --- answers -------------------------------------------------------------------------------------------
def _parse_date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise invalid(
            f"ready_by must be a date like 2026-12-31, not {value!r}", code="invalid_ready_by"
        ) from exc


@transaction.atomic
def acknowledgment_record(
    *,
    proposal: Proposal,
    team: Team,
    answer: str,
    ready_by: Any = None,
    reason: str = "",
    actor: Actor,
    via: str,
) -> Acknowledgment:
    """Record (or change) ``team``'s answer to ``proposal`` and recompute the proposal's status."""
    ready, reason = _answer_validate(answer=answer, via=via, ready_by=ready_by, reason=reason)
    actor.require_team(team)
    proposal = _lock(proposal)
    _answerer_check(proposal=proposal, team=team)
    ack = Acknowledgment.objects.select_for_update().filter(proposal=proposal, team=team).first()
    if ack is not None and ack.answer == answer and ack.ready_by == ready and ack.reason == reason:
        return ack  # the same answer again (a double click, a retried call): nothing changes
    previous = _answer_previous(ack) if ack is not None else None
    ack = _acknowledgment_save(
        ack, proposal=proposal, team=team, answer=answer, ready=ready, reason=reason, via=via, actor=actor
    )
    event_record(
        kind="proposal.answered",
        actor=actor,
        team=team,
        asset=proposal.asset,
        proposal=proposal,
        payload={
            "team": team.slug,
            "answer": answer,
            "ready_by": ready.isoformat() if ready else None,
            "reason": reason,
            "via": via,
            "revision": ack.revision,
            "previous": previous,
        },
    )
    outbox_record(
        kind="email.answer_recorded", proposal_id=proposal.pk, team_id=team.pk, revision=ack.revision
    )
    _status_recompute(proposal=proposal, actor=actor)
    return ack


def _answer_validate(*, answer: str, via: str, ready_by: Any, reason: str) -> tuple[dt.date | None, str]:
    """The answer's ready-by date (only a 'migrating' answer keeps one) and its stripped reason."""
    if answer not in ANSWERS:
        raise invalid(f"answer must be one of {', '.join(ANSWERS)}, not {answer!r}", code="invalid_answer")
    if via not in Acknowledgment.Via.values:
        raise invalid(f"via must be one of {', '.join(Acknowledgment.Via.values)}")
    reason = (reason or "").strip()
    ready = _parse_date(ready_by)
    if answer == Acknowledgment.Answer.MIGRATING:
        if ready is None:
            raise invalid(
                "A 'migrating' answer needs ready_by: the date your team will be ready",
                code="ready_by_required",
            )
        if ready < timezone.localdate():
            raise invalid(f"ready_by {ready.isoformat()} is in the past", code="invalid_ready_by")
    else:
        ready = None
    if answer == Acknowledgment.Answer.BLOCKED and not reason:
        raise invalid("A 'blocked' answer needs a reason the producer can act on", code="reason_required")
    return ready, reason


def _answerer_check(*, proposal: Proposal, team: Team) -> None:
    """Only an asked team other than the owner answers, and only while the proposal is open."""
    if team.pk == proposal.asset.owner_team_id:
        raise forbidden(
            f"Team '{team.slug}' owns {proposal.asset.display_name}; it cannot answer its own proposal"
        )
    if not proposal.required_teams.filter(pk=team.pk).exists():
        raise forbidden(f"Team '{team.slug}' is not asked to acknowledge proposal #{proposal.pk}")
    _require_open(proposal)


def _answer_previous(ack: Acknowledgment) -> dict[str, Any]:
    return {
        "answer": ack.answer,
        "ready_by": ack.ready_by.isoformat() if ack.ready_by else None,
        "reason": ack.reason,
        "revision": ack.revision,
        "by": ack.answered_by_label,
        "at": ack.updated_at.isoformat(),
    }


def _acknowledgment_save(
    ack: Acknowledgment | None,
    *,
    proposal: Proposal,
    team: Team,
    answer: str,
    ready: dt.date | None,
    reason: str,
    via: str,
    actor: Actor,
) -> Acknowledgment:
    """Write the team's answer: a new row at revision 1, or the next revision of its row."""
    now = timezone.now()
    if ack is not None:
        ack.revision += 1
    else:
        ack = Acknowledgment(proposal=proposal, team=team, created_at=now, revision=1)
    ack.answer = answer
    ack.ready_by = ready
    ack.reason = reason
    ack.via = via
    ack.answered_by_user = actor.user if getattr(actor.user, "pk", None) else None
    ack.answered_by_key = actor.api_key
    ack.answered_by_label = actor.label[:200]
    ack.updated_at = now
    ack.save()
    return ack


def _status_recompute(*, proposal: Proposal, actor: Actor | None) -> Proposal:
    """blocked while any required team blocks; approved when every required team approved."""
    required = set(proposal.required_teams.values_list("pk", flat=True))
    answers = dict(Acknowledgment.objects.filter(proposal=proposal).values_list("team_id", "answer"))
    answers = {team_id: a for team_id, a in answers.items() if team_id in required}
    if any(a == Acknowledgment.Answer.BLOCKED for a in answers.values()):
        new_status = Proposal.Status.BLOCKED
    elif required and all(answers.get(t) == Acknowledgment.Answer.APPROVED for t in required):
        new_status = Proposal.Status.APPROVED
    else:
        new_status = Proposal.Status.OPEN
    if new_status == proposal.status:
        return proposal
    old_status = proposal.status
    proposal.status = new_status
    proposal.save(update_fields=["status"])
    if new_status in (Proposal.Status.BLOCKED, Proposal.Status.APPROVED):
        blockers = list(
            Acknowledgment.objects.filter(
                proposal=proposal, answer=Acknowledgment.Answer.BLOCKED
            ).values_list("team__slug", flat=True)
        )
        asset_event_record(
            kind=f"proposal.{new_status}",
            actor=actor,
            asset=proposal.asset,
            proposal=proposal,
            payload={"previous_status": old_status, "blocked_by": blockers},
        )
    else:
        asset_event_record(
            kind="proposal.reopened",
            actor=actor,
            asset=proposal.asset,
            proposal=proposal,
            payload={"previous_status": old_status},
        )
    if new_status == Proposal.Status.APPROVED and proposal.origin == Proposal.Origin.SYNC:
        # Already deployed: the contract catches up as soon as every consumer agreed.
        return proposal_publish(proposal=proposal, actor=actor)
    return proposal


# --- producer actions ----------------------------------------------------------------------------------------
@transaction.atomic
def proposal_withdraw(*, proposal: Proposal, actor: Actor, reason: str = "") -> Proposal:
    """The producer takes the change back; the proposed version is rejected."""
    proposal = _lock(proposal)
    owner = proposal.asset.owner_team
    if not actor.can_act_for(owner):
        raise forbidden(f"Only the producer team '{owner.slug}' may withdraw proposal #{proposal.pk}")
    _require_open(proposal)
    _close(proposal=proposal, status=Proposal.Status.WITHDRAWN, reason=(reason or "").strip())
    asset_event_record(
        kind="proposal.withdrawn",
        actor=actor,
        asset=proposal.asset,
        proposal=proposal,
        payload={"reason": proposal.resolution_reason},
    )
    outbox_record(kind="email.proposal_resolved", proposal_id=proposal.pk)
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
    proposal = _lock(proposal)
    owner = proposal.asset.owner_team
    if not actor_may_force(actor=actor, team=owner):
        raise forbidden(f"Only a lead of '{owner.slug}' or an admin may force proposal #{proposal.pk}")
    _require_open(proposal)
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
    proposal = _lock(proposal)
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

    _close(proposal=proposal, status=status, reason=reason)
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
                "version": proposal.proposed_version.semver if proposal.proposed_version_id else None,
            },
        )
    return proposal


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
            proposal = _lock(Proposal(pk=pk))
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
        _close(
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
