"""A consumer team's answer to a proposal (approved, migrating with a ready-by date, blocked with a
reason), and the proposal status the answers add up to: blocked while any asked team blocks,
approved (and, once deployed, published) when every asked team approved."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from contracts.models import Acknowledgment, Proposal, Team
from contracts.services.events import asset_event_record, event_record
from contracts.services.outbox import outbox_record
from contracts.services.proposals.lifecycle import proposal_lock, proposal_require_open
from contracts.services.proposals.publishing import proposal_publish
from tessera_site.lib.errors import forbidden, invalid

if TYPE_CHECKING:
    from tessera_site.lib.auth import Actor


ANSWERS = tuple(Acknowledgment.Answer.values)


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
    proposal = proposal_lock(proposal)
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
    proposal_status_recompute(proposal=proposal, actor=actor)
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


def _answerer_check(*, proposal: Proposal, team: Team) -> None:
    """Only an asked team other than the owner answers, and only while the proposal is open."""
    if team.pk == proposal.asset.owner_team_id:
        raise forbidden(
            f"Team '{team.slug}' owns {proposal.asset.display_name}; it cannot answer its own proposal"
        )
    if not proposal.required_teams.filter(pk=team.pk).exists():
        raise forbidden(f"Team '{team.slug}' is not asked to acknowledge proposal #{proposal.pk}")
    proposal_require_open(proposal)


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


def proposal_status_recompute(*, proposal: Proposal, actor: Actor | None) -> Proposal:
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
