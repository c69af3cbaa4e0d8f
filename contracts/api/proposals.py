"""The acknowledgment workflow's API: list proposals, read one, answer, withdraw, force.

Write scope for actions; a key acts only for its own team (the services enforce it: 403).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Router, Schema

from contracts.models import Acknowledgment, Event, Proposal, Team
from contracts.selectors.access import proposal_readable, proposals_readable, reader_for_actor
from contracts.services.proposals.answering import acknowledgment_record
from contracts.services.proposals.closing import proposal_withdraw
from contracts.services.proposals.publishing import proposal_force
from tessera_site.lib.errors import invalid, not_found

router = Router(tags=["proposals"])

MAX_LIST = 200


class AnswerIn(Schema):
    team: str
    answer: str
    ready_by: dt.date | None = None
    reason: str = ""


class WithdrawIn(Schema):
    reason: str = ""


class ForceIn(Schema):
    reason: str = ""


# Output schemas: the JSON the endpoints always returned, field for field and in the same order.
class ProposalAssetOut(Schema):
    id: int
    relation: str
    name: str
    owner_team: str


class ProposalSummaryOut(Schema):
    id: int
    status: str
    origin: str
    asset: ProposalAssetOut
    base_version: str | None
    proposed_version: str | None
    deadline: str
    created_at: str
    resolved_at: str | None
    summary: str | None = Field(description="The verdict's one-line summary")
    required_teams: list[str]
    waiting_for: list[str] = Field(description="Required teams that have not answered yet")
    answers: dict[str, str] = Field(description="team → its current answer")


class ProposalListOut(Schema):
    count: int
    items: list[ProposalSummaryOut]


class VerdictOut(Schema):
    mode: str | None
    breaking: bool | None
    summary: str | None
    reasons: list[Any]
    unknown: list[Any]
    changes: list[dict[str, Any]]


class AnswerOut(Schema):
    team: str
    answer: str
    ready_by: str | None
    reason: str
    via: str
    answered_by: str
    revision: int
    answered_at: str
    carried_from_proposal: int | None = Field(
        description="Set when the answer was given to the proposal this one superseded"
    )


class AnswerHistoryOut(Schema):
    answer: str | None
    ready_by: str | None
    reason: str | None
    via: str | None
    by: str
    at: str


class TeamAnswersOut(Schema):
    team: str
    answer: AnswerOut | None
    history: list[AnswerHistoryOut]


class ProposalDetailOut(ProposalSummaryOut):
    verdict: VerdictOut
    reasons: list[Any]
    already_deployed: bool
    resolution_reason: str
    superseded_by: int | None
    superseded_by_version: str | None
    supersedes: list[int]
    closed_by_sync: int | None
    since_previous: dict[str, Any] | None = Field(description="What changed since the superseded proposal")
    teams: list[TeamAnswersOut]


class AnswerRecordedOut(Schema):
    answer: AnswerOut
    proposal: ProposalDetailOut


def _team(slug: str) -> Team:
    team = Team.objects.filter(slug=(slug or "").strip()).first()
    if team is None:
        raise invalid(f"Unknown team '{slug}'", code="unknown_team")
    return team


def _proposal(proposal_id: int) -> Proposal:
    proposal = (
        Proposal.objects.select_related("asset", "asset__owner_team", "base_version", "proposed_version")
        .prefetch_related(
            "required_teams",
            Prefetch(
                "acknowledgments",
                queryset=Acknowledgment.objects.select_related("team").order_by("team__slug"),
            ),
        )
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise not_found(f"Proposal {proposal_id}")
    return proposal


def _ack_out(ack: Acknowledgment) -> dict[str, Any]:
    return {
        "team": ack.team.slug,
        "answer": ack.answer,
        "ready_by": ack.ready_by.isoformat() if ack.ready_by else None,
        "reason": ack.reason,
        "via": ack.via,
        "answered_by": ack.answered_by_label,
        "revision": ack.revision,
        "answered_at": ack.updated_at.isoformat(),
        # Set when the answer was given to the proposal this one superseded (same part of the change).
        "carried_from_proposal": ack.carried_from.proposal_id if ack.carried_from_id else None,
    }


def _summary(proposal: Proposal) -> dict[str, Any]:
    acks = {a.team_id: a for a in proposal.acknowledgments.all()}
    required = sorted(proposal.required_teams.all(), key=lambda t: t.slug)
    return {
        "id": proposal.pk,
        "status": proposal.status,
        "origin": proposal.origin,
        "asset": {
            "id": proposal.asset_id,
            "relation": proposal.asset.relation,
            "name": proposal.asset.display_name,
            "owner_team": proposal.asset.owner_team.slug,
        },
        "base_version": proposal.base_version.semver if proposal.base_version else None,
        "proposed_version": proposal.proposed_version.semver if proposal.proposed_version else None,
        "deadline": proposal.deadline.isoformat(),
        "created_at": proposal.created_at.isoformat(),
        "resolved_at": proposal.resolved_at.isoformat() if proposal.resolved_at else None,
        "summary": (proposal.verdict or {}).get("summary", ""),
        "required_teams": [t.slug for t in required],
        "waiting_for": [t.slug for t in required if t.pk not in acks],
        "answers": {t.slug: acks[t.pk].answer for t in required if t.pk in acks},
    }


def _detail(proposal: Proposal) -> dict[str, Any]:
    out = _summary(proposal)
    verdict = proposal.verdict or {}
    history: dict[str, list[dict[str, Any]]] = {}
    for event in Event.objects.filter(proposal=proposal, kind="proposal.answered").order_by(
        "created_at", "id"
    ):
        payload = event.payload or {}
        history.setdefault(payload.get("team", ""), []).append(
            {
                "answer": payload.get("answer"),
                "ready_by": payload.get("ready_by"),
                "reason": payload.get("reason", ""),
                "via": payload.get("via"),
                "by": event.actor_label,
                "at": event.created_at.isoformat(),
            }
        )
    acks = {a.team_id: a for a in proposal.acknowledgments.all()}
    out.update(
        {
            "verdict": {
                "mode": verdict.get("mode"),
                "breaking": verdict.get("breaking"),
                "summary": verdict.get("summary", ""),
                "reasons": verdict.get("reasons", []),
                "unknown": verdict.get("unknown", []),
                "changes": verdict.get("changes", []),
            },
            "reasons": verdict.get("reasons", []),
            "already_deployed": proposal.origin == Proposal.Origin.SYNC,
            "resolution_reason": proposal.resolution_reason,
            # Supersession: what replaced this proposal, what it replaced, and what changed since.
            "superseded_by": proposal.superseded_by_id,
            "superseded_by_version": proposal.superseded_by_version.semver
            if proposal.superseded_by_version_id
            else None,
            "supersedes": list(proposal.supersedes.values_list("pk", flat=True)),
            "closed_by_sync": proposal.closed_by_sync_id,
            "since_previous": proposal.since_previous or None,
            "teams": [
                {
                    "team": t.slug,
                    "answer": _ack_out(acks[t.pk]) if t.pk in acks else None,
                    "history": history.get(t.slug, []),
                }
                for t in sorted(proposal.required_teams.all(), key=lambda t: t.slug)
            ],
        }
    )
    return out


@router.get(
    "/proposals", response=ProposalListOut, summary="Proposals (with team=: that team's pending answers)"
)
def proposals_list(request: HttpRequest, status: str = "", team: str = "", limit: int = 50):
    """``status=`` filters by status (``open`` means any open status); ``team=SLUG`` alone lists the
    open proposals that still wait for that team's answer; with ``status=`` too, the proposals that
    team is asked about or owns."""
    request.auth.require_scope("read")
    limit = max(1, min(limit, MAX_LIST))
    qs = proposals_readable(
        reader=reader_for_actor(request.auth),
        proposals=Proposal.objects.select_related(
            "asset", "asset__owner_team", "base_version", "proposed_version"
        ),
    )
    if status:
        if status == "open":
            qs = qs.filter(status__in=Proposal.OPEN_STATUSES)
        elif status in Proposal.Status.values:
            qs = qs.filter(status=status)
        else:
            raise invalid(
                f"status must be 'open' or one of {', '.join(Proposal.Status.values)}", code="invalid_status"
            )
    if team:
        team_obj = _team(team)
        if status:
            asked = Proposal.objects.filter(required_teams=team_obj).values("pk")
            qs = qs.filter(pk__in=asked) | qs.filter(asset__owner_team=team_obj)
        else:
            answered = Acknowledgment.objects.filter(team=team_obj).values("proposal_id")
            qs = qs.filter(status__in=Proposal.OPEN_STATUSES, required_teams=team_obj).exclude(
                pk__in=answered
            )
    qs = (
        qs.prefetch_related(
            "required_teams",
            Prefetch("acknowledgments", queryset=Acknowledgment.objects.select_related("team")),
        )
        .order_by("-created_at", "-id")
        .distinct()
    )
    items = [_summary(p) for p in qs[:limit]]
    return {"count": len(items), "items": items}


@router.get(
    "/proposals/{proposal_id}",
    response=ProposalDetailOut,
    summary="One proposal: reasons, required teams, answers",
)
def proposal_detail(request: HttpRequest, proposal_id: int):
    request.auth.require_scope("read")
    proposal = _proposal(proposal_id)
    if not proposal_readable(reader=reader_for_actor(request.auth), proposal=proposal):
        raise not_found(f"Proposal {proposal_id}")
    return _detail(proposal)


@router.post(
    "/proposals/{proposal_id}/answers", response={200: AnswerRecordedOut}, summary="Answer for your team"
)
def proposal_answer(request: HttpRequest, proposal_id: int, body: AnswerIn):
    request.auth.require_scope("write")
    proposal = _proposal(proposal_id)
    ack = acknowledgment_record(
        proposal=proposal,
        team=_team(body.team),
        answer=body.answer,
        ready_by=body.ready_by,
        reason=body.reason,
        actor=request.auth,
        via=Acknowledgment.Via.API,
    )
    return {"answer": _ack_out(ack), "proposal": _detail(_proposal(proposal_id))}


@router.post(
    "/proposals/{proposal_id}/withdraw", response=ProposalDetailOut, summary="Withdraw (producer only)"
)
def proposal_withdraw_view(request: HttpRequest, proposal_id: int, body: WithdrawIn | None = None):
    request.auth.require_scope("write")
    proposal_withdraw(proposal=_proposal(proposal_id), actor=request.auth, reason=body.reason if body else "")
    return _detail(_proposal(proposal_id))


@router.post(
    "/proposals/{proposal_id}/force",
    response=ProposalDetailOut,
    summary="Force-publish with a reason (producer lead/admin)",
)
def proposal_force_view(request: HttpRequest, proposal_id: int, body: ForceIn | None = None):
    request.auth.require_scope("write")
    reason = (body.reason if body else "").strip()
    if not reason:
        raise invalid("Forcing a proposal needs a 'reason' the consumers will read", code="reason_required")
    proposal_force(proposal=_proposal(proposal_id), reason=reason, actor=request.auth)
    return _detail(_proposal(proposal_id))
