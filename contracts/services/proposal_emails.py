"""Who gets which workflow notice, with what in it. Called only by tasks (contracts.tasks.workflow).

One notice per team per event, by email and on the team's Slack (``contracts.services.notices``):
every notice has a dedupe key naming the event and the team, so a retried task sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.utils import timezone

from contracts.models import Acknowledgment, OutboundEmail, Proposal, Team
from contracts.presenters import slack as blocks
from contracts.services.notices import Notice, notice_send, notices_send_each
from tessera_site.lib.signing import answer_token
from tessera_site.lib.urls import absolute_url

ACTION_LABELS = {"approved": "Approve", "migrating": "Need time", "blocked": "Block"}


def _proposal(proposal_id: int) -> Proposal:
    return Proposal.objects.select_related(
        "asset", "asset__owner_team", "base_version", "proposed_version"
    ).get(pk=proposal_id)


def answer_links(*, proposal: Proposal, team: Team) -> list[dict[str, str]]:
    """The signed Approve / Need time / Block links for one team, bound to its current answer."""
    ack = Acknowledgment.objects.filter(proposal=proposal, team=team).first()
    revision = ack.revision if ack else 0
    return [
        {
            "action": action,
            "label": label,
            "url": absolute_url(
                "answer_link",
                answer_token(proposal_id=proposal.pk, team_id=team.pk, action=action, revision=revision),
            ),
        }
        for action, label in ACTION_LABELS.items()
    ]


def _base_context(proposal: Proposal) -> dict[str, Any]:
    verdict = proposal.verdict or {}
    return {
        "proposal": proposal,
        "asset": proposal.asset,
        "owner": proposal.asset.owner_team,
        "reasons": verdict.get("reasons") or [],
        "summary": verdict.get("summary", ""),
        "unknown": verdict.get("unknown") or [],
        "base_semver": proposal.base_version.semver if proposal.base_version else None,
        "proposed_semver": proposal.proposed_version.semver if proposal.proposed_version else None,
        "deployed": proposal.origin == Proposal.Origin.SYNC,
        "proposal_url": absolute_url(proposal.get_absolute_url()),
        "required_teams": list(proposal.required_teams.order_by("slug")),
        # A proposal that replaces one the warehouse overtook: what changed since that question.
        "since": proposal.since_previous or {},
        "relation_change": proposal.relation_change or {},
    }


def proposal_context(proposal_id: int) -> dict[str, Any]:
    """What every notice about one proposal says (the team-specific parts are added per team)."""
    return _base_context(_proposal(proposal_id))


def proposal_opened_notify(*, proposal_id: int) -> list[OutboundEmail]:
    """To each required team: what changes, why it breaks, who else is asked, the deadline, buttons."""
    proposal = _proposal(proposal_id)
    context = _base_context(proposal)

    def notice(team: Team) -> Notice:
        team_context = {
            **context,
            "team": team,
            "other_teams": [t for t in context["required_teams"] if t.pk != team.pk],
            "links": answer_links(proposal=proposal, team=team),
            "carried": team.slug in context["since"].get("carried_over", []),
        }
        return Notice(
            kind="proposal_opened",
            team=team,
            dedupe_key=f"proposal-opened:{proposal.pk}:team:{team.pk}",
            email_kind="proposal_opened",
            email_context=team_context,
            slack=partial(blocks.proposal_opened_message, team_context),
            proposal=proposal,
        )

    return notices_send_each(notice(team) for team in context["required_teams"])


def answer_recorded_notify(*, proposal_id: int, team_id: int, revision: int) -> OutboundEmail | None:
    """To the producer team on every answer (each revision of each team's answer once)."""
    proposal = _proposal(proposal_id)
    ack = Acknowledgment.objects.select_related("team").filter(proposal=proposal, team_id=team_id).first()
    if ack is None:
        return None
    owner = proposal.asset.owner_team
    answers = list(
        Acknowledgment.objects.filter(proposal=proposal).select_related("team").order_by("team__slug")
    )
    answered = {a.team_id for a in answers}
    context = {
        **_base_context(proposal),
        "ack": ack,
        "answers": answers,
        "waiting": [t for t in proposal.required_teams.order_by("slug") if t.pk not in answered],
    }
    return notice_send(
        Notice(
            kind="proposal_answered",
            team=owner,
            dedupe_key=f"answer:{proposal.pk}:team:{team_id}:rev:{revision}",
            email_kind="answer_recorded",
            email_context=context,
            slack=partial(blocks.answer_recorded_message, context),
            proposal=proposal,
        )
    ).email


def proposal_resolved_notify(*, proposal_id: int) -> list[OutboundEmail]:
    """To the producer and every required team once the proposal is published/expired/withdrawn/forced."""
    proposal = _proposal(proposal_id)
    if proposal.is_open:
        return []
    context = _base_context(proposal)
    context["active_semver"] = proposal.asset.active_version.semver if proposal.asset.active_version else None
    owner = proposal.asset.owner_team
    teams = [owner, *[t for t in context["required_teams"] if t.pk != owner.pk]]

    def notice(team: Team) -> Notice:
        team_context = {**context, "team": team, "is_producer": team.pk == owner.pk}
        return Notice(
            kind="proposal_resolved",
            team=team,
            dedupe_key=f"resolved:{proposal.pk}:{proposal.status}:team:{team.pk}",
            email_kind="proposal_resolved",
            email_context=team_context,
            slack=partial(blocks.proposal_resolved_message, team_context),
            proposal=proposal,
        )

    return notices_send_each(notice(team) for team in teams)


def proposal_reminders_send(*, today: dt.date | None = None) -> list[OutboundEmail]:
    """A daily digest per team of the open proposals still missing its answer (once per team per day)."""
    today = today or timezone.localdate()
    waiting: dict[int, list[Proposal]] = {}
    open_proposals = (
        Proposal.objects.filter(status__in=Proposal.OPEN_STATUSES)
        .select_related("asset", "asset__owner_team", "proposed_version", "base_version")
        .prefetch_related("required_teams")
        .order_by("deadline", "id")
    )
    answered = set(
        Acknowledgment.objects.filter(proposal__status__in=Proposal.OPEN_STATUSES).values_list(
            "proposal_id", "team_id"
        )
    )
    for proposal in open_proposals:
        for team in proposal.required_teams.all():
            if (proposal.pk, team.pk) not in answered:
                waiting.setdefault(team.pk, []).append(proposal)
    sent = []
    for team in Team.objects.filter(pk__in=waiting).order_by("slug"):
        items = [{**_base_context(p), "links": answer_links(proposal=p, team=team)} for p in waiting[team.pk]]
        team_url = absolute_url(team.get_absolute_url())
        sent.append(
            notice_send(
                Notice(
                    kind="proposal_reminder",
                    team=team,
                    dedupe_key=f"reminder:{today.isoformat()}:team:{team.pk}",
                    email_kind="reminder_digest",
                    email_context={"team": team, "items": items, "today": today},
                    slack=partial(
                        blocks.reminder_digest_message, team=team, items=items, today=today, team_url=team_url
                    ),
                )
            ).email
        )
    return [e for e in sent if e is not None]
